"""Schemes: the directory, a scheme's page, starting and running one, news, messages and reports."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.errors import Invalid, RateLimited
from civic.schemes import directory, invitations, moderation, organising, proposals
from civic.schemes.models import REPORT_REASONS
from civic.schemes.taxonomy import audience_choices, category_choices
from routes.web import current_council, current_user, flash, form_values, is_fragment_request, path_number, public_page, redirect, render, require_user

LIST_FIELDS = ("categories", "audiences", "wards")


def _scheme_values(form: FormData) -> dict[str, Any]:
    return {**form_values(form), **{name: form.getlist(name) for name in LIST_FIELDS}}


async def _choices(request: Request) -> dict[str, Any]:
    return {
        "category_choices": category_choices(),
        "audience_choices": audience_choices(),
        "ward_choices": await directory.ward_choices(current_council(request)),
    }


# The directory and a scheme's page


@public_page
async def scheme_directory(request: Request) -> Response:
    filters = directory.Filters.from_query(request.query_params)
    results = await directory.search(current_council(request), filters)
    context = {"results": results, "filters": filters, "fragment": is_fragment_request(request), **await _choices(request)}
    return render(request, "schemes/directory.html", context, block="results")


@public_page
async def scheme_page(request: Request) -> Response:
    page = await organising.scheme_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "schemes/scheme.html", {"page": page, "scheme": page.scheme, "who": page.who})


async def my_schemes(request: Request) -> Response:
    page = await organising.my_schemes_page(require_user(request), current_council(request))
    return render(request, "schemes/mine.html", {"schemes": page.schemes, "invitations": page.invitations})


# Starting and editing a scheme


async def scheme_form(request: Request) -> Response:
    require_user(request)
    context = {"values": {}, "errors": {}, "scheme": None, **await _choices(request)}
    return render(request, "schemes/form.html", context)


async def scheme_create(request: Request) -> Response:
    values = _scheme_values(await request.form())
    try:
        scheme = await proposals.propose(current_user(request), current_council(request), values)
    except Invalid as error:
        context = {"values": values, "errors": error.errors, "scheme": None, **await _choices(request)}
        return render(request, "schemes/form.html", context, status_code=422, block="form")
    flash(request, "Thank you. Your scheme is waiting for a council officer to approve it. We will email you when they decide.")
    return redirect(f"/schemes/{scheme.slug}")


async def scheme_edit_form(request: Request) -> Response:
    scheme, values = await organising.form_values(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "schemes/form.html", {"values": values, "errors": {}, "scheme": scheme, **await _choices(request)})


async def scheme_update(request: Request) -> Response:
    values = _scheme_values(await request.form())
    slug = request.path_params["slug"]
    try:
        scheme = await proposals.update(current_user(request), current_council(request), slug, values)
    except Invalid as error:
        scheme, _ = await organising.form_values(current_user(request), current_council(request), slug)
        context = {"values": values, "errors": error.errors, "scheme": scheme, **await _choices(request)}
        return render(request, "schemes/form.html", context, status_code=422, block="form")
    flash(request, "Your changes are saved." + (" The scheme is waiting for approval again." if scheme.status == "pending" else ""))
    return redirect(f"/schemes/{scheme.slug}")


async def scheme_status(request: Request) -> Response:
    action = (await request.form()).get("action", "")
    scheme = await organising.change_status(current_user(request), current_council(request), request.path_params["slug"], str(action))
    flash(request, {"paused": "The scheme is paused.", "active": "The scheme is running again.", "closed": "The scheme is closed. We have told everyone with an open request, a shift or an event."}[scheme.status])
    return redirect(f"/schemes/{scheme.slug}")


async def close_form(request: Request) -> Response:
    page = await organising.closing_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "schemes/close.html", {"page": page})


# Officers decide on a proposed scheme


async def scheme_approve(request: Request) -> Response:
    scheme = await proposals.approve(current_user(request), current_council(request), request.path_params["slug"])
    flash(request, f"{scheme.name} is approved and in the directory. Its organisers have been told.")
    return redirect(f"/schemes/{scheme.slug}")


async def decline_form(request: Request) -> Response:
    page = await organising.decision_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "schemes/decline.html", {"scheme": page.scheme, "values": {}, "errors": {}})


async def scheme_decline(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        scheme = await proposals.decline(current_user(request), current_council(request), slug, values.get("decline_reason", ""))
    except Invalid as error:
        page = await organising.decision_page(current_user(request), current_council(request), slug)
        return render(request, "schemes/decline.html", {"scheme": page.scheme, "values": values, "errors": error.errors}, status_code=422, block="form")
    flash(request, f"{scheme.name} is declined. Its organisers have been told why.")
    return redirect(f"/schemes/{scheme.slug}")


# Co-organisers


async def _organisers(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    page = await organising.organisers_page(current_user(request), current_council(request), request.path_params["slug"])
    context = {"page": page, "scheme": page.scheme, "values": values, "errors": errors, "lifetime": invitations.LIFETIME_WORDS}
    return render(request, "schemes/organisers.html", context, status_code=status, block="form" if status in (422, 429) else None)


async def organisers_page(request: Request) -> Response:
    return await _organisers(request, {}, {})


async def organiser_invite(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        invitation = await invitations.invite(current_user(request), current_council(request), slug, values.get("email", ""))
    except Invalid as error:
        return await _organisers(request, values, error.errors, status=422)
    except RateLimited as error:
        return await _organisers(request, values, {"email": error.message}, status=429)
    flash(request, f"We have emailed {invitation.email} an invitation. They will become an organiser when they sign in with that address and accept it.")
    return redirect(f"/schemes/{slug}/organisers")


async def invitation_withdraw(request: Request) -> Response:
    slug = request.path_params["slug"]
    invitation = await invitations.withdraw(current_user(request), current_council(request), slug, path_number(request, "invitation_id"))
    if invitation.status == "lapsed":
        flash(request, f"The lapsed invitation to {invitation.email} is no longer on the list.")
    else:
        flash(request, f"The invitation to {invitation.email} is withdrawn. Its link no longer works.")
    return redirect(f"/schemes/{slug}/organisers")


async def invitation_page(request: Request) -> Response:
    page = await invitations.invitation_page(require_user(request), current_council(request), request.path_params["slug"])
    context = {"page": page, "scheme": page.scheme, "invitation": page.invitation, "lifetime": invitations.LIFETIME_WORDS}
    return render(request, "schemes/invitation.html", context)


async def invitation_accept(request: Request) -> Response:
    slug = request.path_params["slug"]
    await invitations.accept(current_user(request), current_council(request), slug)
    flash(request, "You are now an organiser of this scheme.")
    return redirect(f"/schemes/{slug}")


async def invitation_decline(request: Request) -> Response:
    await invitations.decline(current_user(request), current_council(request), request.path_params["slug"])
    flash(request, "You have declined the invitation. Nothing has changed for you.")
    return redirect("/schemes/mine")


async def organiser_remove_form(request: Request) -> Response:
    scheme, membership = await organising.organiser_to_remove(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "membership_id"))
    return render(request, "schemes/organiser_remove.html", {"scheme": scheme, "membership": membership})


async def organiser_remove(request: Request) -> Response:
    slug, user = request.path_params["slug"], current_user(request)
    removed = await organising.remove_organiser(user, current_council(request), slug, path_number(request, "membership_id"))
    if user is not None and removed.user_id == user.id:  # type: ignore[attr-defined]
        flash(request, "You are no longer an organiser of this scheme.")
        return redirect(f"/schemes/{slug}")
    flash(request, "They are no longer an organiser.")
    return redirect(f"/schemes/{slug}/organisers")


# News


async def _news(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    page = await organising.news_page(current_user(request), current_council(request), request.path_params["slug"])
    context = {"page": page, "scheme": page.scheme, "who": page.who, "values": values, "errors": errors}
    return render(request, "schemes/news.html", context, status_code=status, block="form" if status == 422 else None)


async def news_page(request: Request) -> Response:
    return await _news(request, {}, {})


async def news_create(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        post = await organising.post_news(current_user(request), current_council(request), slug, values.get("title", ""), values.get("body", ""))
    except Invalid as error:
        return await _news(request, values, error.errors, status=422)
    flash(request, "Your news is on the scheme's page.")
    return redirect(f"/schemes/{slug}/news#post-{post.id}")


async def _news_post_form(request: Request, values: dict[str, str] | None, errors: dict[str, str], status: int = 200) -> Response:
    scheme, post = await organising.news_post_to_change(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "post_id"))
    context = {"scheme": scheme, "post": post, "values": {"title": post.title, "body": post.body} if values is None else values, "errors": errors}
    return render(request, "schemes/news_edit.html", context, status_code=status, block="form" if status == 422 else None)


async def news_edit_form(request: Request) -> Response:
    return await _news_post_form(request, None, {})


async def news_update(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        post = await organising.update_news(current_user(request), current_council(request), slug, path_number(request, "post_id"), values.get("title", ""), values.get("body", ""))
    except Invalid as error:
        return await _news_post_form(request, values, error.errors, status=422)
    flash(request, "Your changes to the news are saved.")
    return redirect(f"/schemes/{slug}/news#post-{post.id}")


async def news_delete_form(request: Request) -> Response:
    scheme, post, fixed = await organising.news_post_to_delete(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "post_id"))
    return render(request, "schemes/news_delete.html", {"scheme": scheme, "post": post, "fixed": fixed})


async def news_delete(request: Request) -> Response:
    slug = request.path_params["slug"]
    post = await organising.delete_news(current_user(request), current_council(request), slug, path_number(request, "post_id"))
    flash(request, f"“{post.title}” is deleted.")
    return redirect(f"/schemes/{slug}/news")


# Messages to the organisers


async def _contact(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    page = await organising.contact_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "schemes/contact.html", {"scheme": page.scheme, "values": values, "errors": errors}, status_code=status, block="form" if status != 200 else None)


async def contact_form(request: Request) -> Response:
    require_user(request)
    return await _contact(request, {}, {})


async def contact_send(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        await organising.message_organisers(current_user(request), current_council(request), slug, values.get("message", ""), values.get("share_email") == "yes")
    except Invalid as error:
        return await _contact(request, values, error.errors, status=422)
    except RateLimited as error:
        return await _contact(request, values, {"message": error.message}, status=429)
    flash(request, "Your message has been sent to the organisers.")
    return redirect(f"/schemes/{slug}")


# Reports


def _post_id(request: Request) -> int | None:
    return path_number(request, "post_id") if "post_id" in request.path_params else None


def _offer_id(request: Request) -> int | None:
    return path_number(request, "offer_id") if "offer_id" in request.path_params else None


async def _report(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    target = await moderation.report_target(current_user(request), current_council(request), request.path_params["slug"], _post_id(request), _offer_id(request))
    context = {"scheme": target.scheme, "post": target.post, "offer": target.offer, "values": values, "errors": errors, "reasons": list(REPORT_REASONS.items())}
    return render(request, "schemes/report.html", context, status_code=status, block="form" if status != 200 else None)


async def report_form(request: Request) -> Response:
    require_user(request)
    return await _report(request, {}, {})


async def report_create(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        row = await moderation.report(
            current_user(request), current_council(request), slug, _post_id(request), values.get("reason", ""), values.get("details", ""), offer_id=_offer_id(request)
        )
    except Invalid as error:
        return await _report(request, values, error.errors, status=422)
    except RateLimited as error:
        return await _report(request, values, {"details": error.message}, status=429)
    flash(request, "Thank you. A council officer will look at your report and email you what they decide.")
    return redirect(f"/schemes/{slug}/offers" if row.about_offer else f"/schemes/{slug}")


routes = [
    Route("/schemes", scheme_directory, methods=["GET"], name="scheme_directory"),
    Route("/schemes", scheme_create, methods=["POST"], name="scheme_create"),
    Route("/schemes/new", scheme_form, methods=["GET"], name="scheme_form"),
    Route("/schemes/mine", my_schemes, methods=["GET"], name="my_schemes"),
    Route("/schemes/{slug}", scheme_page, methods=["GET"], name="scheme_page"),
    Route("/schemes/{slug}/edit", scheme_edit_form, methods=["GET"], name="scheme_edit_form"),
    Route("/schemes/{slug}/edit", scheme_update, methods=["POST"], name="scheme_update"),
    Route("/schemes/{slug}/status", scheme_status, methods=["POST"], name="scheme_status"),
    Route("/schemes/{slug}/close", close_form, methods=["GET"], name="scheme_close_form"),
    Route("/schemes/{slug}/approve", scheme_approve, methods=["POST"], name="scheme_approve"),
    Route("/schemes/{slug}/decline", decline_form, methods=["GET"], name="decline_form"),
    Route("/schemes/{slug}/decline", scheme_decline, methods=["POST"], name="scheme_decline"),
    Route("/schemes/{slug}/organisers", organisers_page, methods=["GET"], name="organisers_page"),
    Route("/schemes/{slug}/organisers", organiser_invite, methods=["POST"], name="organiser_invite"),
    Route("/schemes/{slug}/organisers/invitations/{invitation_id}/withdraw", invitation_withdraw, methods=["POST"], name="invitation_withdraw"),
    Route("/schemes/{slug}/invitation", invitation_page, methods=["GET"], name="invitation_page"),
    Route("/schemes/{slug}/invitation/accept", invitation_accept, methods=["POST"], name="invitation_accept"),
    Route("/schemes/{slug}/invitation/decline", invitation_decline, methods=["POST"], name="invitation_decline"),
    Route("/schemes/{slug}/organisers/{membership_id}/remove", organiser_remove_form, methods=["GET"], name="organiser_remove_form"),
    Route("/schemes/{slug}/organisers/{membership_id}/remove", organiser_remove, methods=["POST"], name="organiser_remove"),
    Route("/schemes/{slug}/news", news_page, methods=["GET"], name="news_page"),
    Route("/schemes/{slug}/news", news_create, methods=["POST"], name="news_create"),
    Route("/schemes/{slug}/news/{post_id}/edit", news_edit_form, methods=["GET"], name="news_edit_form"),
    Route("/schemes/{slug}/news/{post_id}/edit", news_update, methods=["POST"], name="news_update"),
    Route("/schemes/{slug}/news/{post_id}/delete", news_delete_form, methods=["GET"], name="news_delete_form"),
    Route("/schemes/{slug}/news/{post_id}/delete", news_delete, methods=["POST"], name="news_delete"),
    Route("/schemes/{slug}/contact", contact_form, methods=["GET"], name="contact_form"),
    Route("/schemes/{slug}/contact", contact_send, methods=["POST"], name="contact_send"),
    Route("/schemes/{slug}/report", report_form, methods=["GET"], name="report_form"),
    Route("/schemes/{slug}/report", report_create, methods=["POST"], name="report_create"),
    Route("/schemes/{slug}/news/{post_id}/report", report_form, methods=["GET"], name="post_report_form"),
    Route("/schemes/{slug}/news/{post_id}/report", report_create, methods=["POST"], name="post_report_create"),
    Route("/schemes/{slug}/offers/{offer_id}/report", report_form, methods=["GET"], name="offer_report_form"),
    Route("/schemes/{slug}/offers/{offer_id}/report", report_create, methods=["POST"], name="offer_report_create"),
]
