"""Volunteering: joining and leaving a scheme, organisers' people pages and checks, and a volunteer's own page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.errors import Invalid
from civic.schemes import calendars, help_requests, rota, safeguarding, volunteers
from civic.schemes.models import MEMBERSHIP_ROLES
from routes import times  # noqa: F401 - registers the date filters
from routes.web import current_council, current_user, flash, form_values, path_number, redirect, render, require_user

# Joining and leaving


async def _join(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    scheme, who = await volunteers.offer_page(current_user(request), current_council(request), request.path_params["slug"])
    context = {
        "scheme": scheme, "who": who, "values": values, "errors": errors, "wording": volunteers.consent_wording(scheme),
        "role_choices": list(volunteers.OFFER_ROLES.items()), "status_names": volunteers.STATUS_NAMES,
    }
    return render(request, "volunteering/join.html", context, status_code=status, block="form" if status == 422 else None)


async def join_form(request: Request) -> Response:
    require_user(request)
    return await _join(request, {"role": "volunteer"}, {})


async def join(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        await volunteers.offer(current_user(request), current_council(request), slug, values)
    except Invalid as error:
        return await _join(request, values, error.errors, status=422)
    flash(request, "Thank you. We have sent your offer to the organisers. We will email you when they reply.")
    return redirect(f"/schemes/{slug}")


async def leave(request: Request) -> Response:
    slug = request.path_params["slug"]
    await volunteers.leave(current_user(request), current_council(request), slug)
    flash(request, "You have left the scheme. Its organisers no longer see your contact details.")
    return redirect(f"/schemes/{slug}")


# The organisers' people pages


async def people_page(request: Request) -> Response:
    page = await volunteers.people_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "volunteering/people.html", {"page": page, "scheme": page.scheme, "role_names": volunteers.ROLE_NAMES})


async def _person(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    scheme, person, check = await volunteers.person_page(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "membership_id"))
    if not values and check is not None:
        values = {
            "level": check.level, "checked_by": check.checked_by,
            "certificate_date": check.certificate_date.strftime("%d/%m/%Y") if check.certificate_date else "",
        }
    context = {
        "scheme": scheme, "person": person, "values": values, "errors": errors,
        "level_choices": list(safeguarding.DBS_LEVELS.items()),
        "role_choices": [(role, volunteers.ROLE_NAMES[role]) for role in MEMBERSHIP_ROLES],
        "valid_for": safeguarding.valid_for(), "remind_before": safeguarding.REMIND_BEFORE.days,
    }
    return render(request, "volunteering/person.html", context, status_code=status, block="check_form" if status == 422 else None)


async def person_page(request: Request) -> Response:
    return await _person(request, {}, {})


async def accept(request: Request) -> Response:
    slug = request.path_params["slug"]
    membership = await volunteers.accept(current_user(request), current_council(request), slug, path_number(request, "membership_id"))
    flash(request, f"{membership.user} is now a {membership.role} of the scheme. We have emailed them.")
    return redirect(f"/schemes/{slug}/people")


async def decline(request: Request) -> Response:
    slug = request.path_params["slug"]
    values = form_values(await request.form())
    membership = await volunteers.decline(current_user(request), current_council(request), slug, path_number(request, "membership_id"), values.get("reason", ""))
    flash(request, f"You have declined {membership.user}’s offer. We have emailed them.")
    return redirect(f"/schemes/{slug}/people")


async def set_role(request: Request) -> Response:
    slug = request.path_params["slug"]
    values = form_values(await request.form())
    membership = await volunteers.set_role(current_user(request), current_council(request), slug, path_number(request, "membership_id"), values.get("role", ""))
    flash(request, f"{membership.user} is now {'an' if membership.role == 'organiser' else 'a'} {membership.role}.")
    return redirect(f"/schemes/{slug}/people/{membership.id}")


async def remove_form(request: Request) -> Response:
    scheme, person, _ = await volunteers.person_page(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "membership_id"))
    return render(request, "volunteering/remove.html", {"scheme": scheme, "person": person})


async def remove(request: Request) -> Response:
    slug = request.path_params["slug"]
    membership = await volunteers.remove(current_user(request), current_council(request), slug, path_number(request, "membership_id"))
    flash(request, f"{membership.user} is no longer part of the scheme.")
    return redirect(f"/schemes/{slug}/people")


async def record_check(request: Request) -> Response:
    slug = request.path_params["slug"]
    values = form_values(await request.form())
    try:
        await safeguarding.record_check(current_user(request), current_council(request), slug, path_number(request, "membership_id"), values)
    except Invalid as error:
        return await _person(request, values, error.errors, status=422)
    flash(request, "The check is recorded.")
    return redirect(f"/schemes/{slug}/people/{path_number(request, 'membership_id')}")


# The scheme's safeguarding rules


async def _rules(request: Request, values: dict[str, str] | None, errors: dict[str, str], status: int = 200) -> Response:
    page = await volunteers.people_page(current_user(request), current_council(request), request.path_params["slug"])
    scheme = page.scheme
    if values is None:
        values = {
            "safeguarding_lead_email": scheme.safeguarding_lead_email, "visit_in_pairs": "yes" if scheme.visit_in_pairs else "",
            "home_visit_dbs": scheme.home_visit_dbs,
        }
    context = {
        "scheme": scheme, "page": page, "values": values, "errors": errors, "valid_for": safeguarding.valid_for(),
        "level_choices": list(safeguarding.DBS_LEVELS.items()),
    }
    return render(request, "volunteering/safeguarding.html", context, status_code=status, block="form" if status == 422 else None)


async def safeguarding_page(request: Request) -> Response:
    return await _rules(request, None, {})


async def safeguarding_save(request: Request) -> Response:
    slug = request.path_params["slug"]
    values = form_values(await request.form())
    try:
        await safeguarding.update_rules(current_user(request), current_council(request), slug, values)
    except Invalid as error:
        return await _rules(request, values, error.errors, status=422)
    flash(request, "The scheme’s safeguarding rules are saved.")
    return redirect(f"/schemes/{slug}/safeguarding")


# A volunteer's own page


async def my_volunteering(request: Request) -> Response:
    user, council = require_user(request), current_council(request)
    context = {
        "memberships": await volunteers.my_memberships(user, council),
        "slots": await rota.my_slots(user, council),
        "jobs": await help_requests.my_jobs(user, council),
        "feed_url": await calendars.current_feed(user, council),
        "role_names": volunteers.ROLE_NAMES,
        "status_names": volunteers.STATUS_NAMES,
    }
    return render(request, "volunteering/mine.html", context)


async def calendar_create(request: Request) -> Response:
    await calendars.new_feed(current_user(request), current_council(request))
    flash(request, "Here is your calendar address. Any address you had before has stopped working.")
    return redirect("/volunteering#calendar")


async def calendar_revoke(request: Request) -> Response:
    await calendars.revoke_feed(current_user(request), current_council(request))
    flash(request, "Your calendar address has stopped working.")
    return redirect("/volunteering#calendar")


routes = [
    Route("/schemes/{slug}/join", join_form, methods=["GET"], name="join_form"),
    Route("/schemes/{slug}/join", join, methods=["POST"], name="join"),
    Route("/schemes/{slug}/leave", leave, methods=["POST"], name="leave"),
    Route("/schemes/{slug}/people", people_page, methods=["GET"], name="people_page"),
    Route("/schemes/{slug}/people/{membership_id}", person_page, methods=["GET"], name="person_page"),
    Route("/schemes/{slug}/people/{membership_id}/accept", accept, methods=["POST"], name="person_accept"),
    Route("/schemes/{slug}/people/{membership_id}/decline", decline, methods=["POST"], name="person_decline"),
    Route("/schemes/{slug}/people/{membership_id}/role", set_role, methods=["POST"], name="person_role"),
    Route("/schemes/{slug}/people/{membership_id}/remove", remove_form, methods=["GET"], name="person_remove_form"),
    Route("/schemes/{slug}/people/{membership_id}/remove", remove, methods=["POST"], name="person_remove"),
    Route("/schemes/{slug}/people/{membership_id}/check", record_check, methods=["POST"], name="person_check"),
    Route("/schemes/{slug}/safeguarding", safeguarding_page, methods=["GET"], name="safeguarding_page"),
    Route("/schemes/{slug}/safeguarding", safeguarding_save, methods=["POST"], name="safeguarding_save"),
    Route("/volunteering", my_volunteering, methods=["GET"], name="my_volunteering"),
    Route("/volunteering/calendar", calendar_create, methods=["POST"], name="calendar_create"),
    Route("/volunteering/calendar/revoke", calendar_revoke, methods=["POST"], name="calendar_revoke"),
]
