"""Help requests: asking a scheme for help, the requester's page, organisers matching volunteers, jobs, the offers board."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.errors import Invalid, RateLimited
from civic.schemes import access, board, help_requests, safeguarding
from routes import times  # noqa: F401 - registers the date filters
from routes.web import current_council, current_user, flash, form_values, path_number, redirect, render, require_user


def _names() -> dict[str, object]:
    return {"status_names": help_requests.STATUS_NAMES, "status_text": help_requests.STATUS_TEXT}


# Asking for help


async def _ask(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    scheme, who = await access.find(current_user(request), current_council(request), request.path_params["slug"])
    context = {"scheme": scheme, "values": values, "errors": errors, "contact_choices": list(help_requests.CONTACT_CHOICES.items())}
    return render(request, "help_requests/ask.html", context, status_code=status, block="form" if status == 422 else None)


async def ask_form(request: Request) -> Response:
    user = require_user(request)
    first = str(user.display_name or "").split(" ")[0]
    return await _ask(request, {"first_name": first, "postcode": user.postcode}, {})


async def ask(request: Request) -> Response:
    values = form_values(await request.form())
    try:
        help_request = await help_requests.ask(current_user(request), current_council(request), request.path_params["slug"], values)
    except Invalid as error:
        return await _ask(request, values, error.errors, status=422)
    flash(request, "Your request has been sent to the organisers. We have emailed you a link to this page.")
    return redirect(f"/help-requests/{help_request.id}")


# The requester's own pages


async def my_requests(request: Request) -> Response:
    requests = await help_requests.my_requests(require_user(request), current_council(request))
    return render(request, "help_requests/mine.html", {"requests": requests, **_names()})


async def _status(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    help_request = await help_requests.requester_page(current_user(request), current_council(request), path_number(request, "request_id"))
    context = {"help_request": help_request, "scheme": help_request.scheme, "values": values, "errors": errors, **_names()}
    return render(request, "help_requests/status.html", context, status_code=status, block="cancel_form" if status == 422 else None)


async def status_page(request: Request) -> Response:
    require_user(request)
    return await _status(request, {}, {})


async def requester_cancel(request: Request) -> Response:
    values = form_values(await request.form())
    request_id = path_number(request, "request_id")
    try:
        await help_requests.cancel_as_requester(current_user(request), current_council(request), request_id, values.get("reason", ""))
    except Invalid as error:
        return await _status(request, values, error.errors, status=422)
    flash(request, "Your request is cancelled. The organisers have been told.")
    return redirect(f"/help-requests/{request_id}")


# The organisers' pages


async def scheme_requests(request: Request) -> Response:
    scheme, grouped = await help_requests.scheme_requests(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "help_requests/list.html", {"scheme": scheme, "grouped": grouped, **_names()})


async def _request_page(request: Request, values: dict[str, object], errors: dict[str, str], status: int = 200) -> Response:
    page = await help_requests.request_page(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "request_id"))
    context = {
        "page": page, "scheme": page.scheme, "help_request": page.request, "values": values, "errors": errors,
        "needs_phrase": safeguarding.needs_phrase, **_names(),
    }
    return render(request, "help_requests/request.html", context, status_code=status)


async def request_page(request: Request) -> Response:
    return await _request_page(request, {}, {})


async def assign(request: Request) -> Response:
    form = await request.form()
    slug, request_id = request.path_params["slug"], path_number(request, "request_id")
    chosen = [str(v) for v in form.getlist("volunteers")]
    confirmed = form.get("confirm_unchecked") == "yes"
    try:
        await help_requests.assign(current_user(request), current_council(request), slug, request_id, chosen, confirm_unchecked=confirmed)
    except Invalid as error:
        return await _request_page(request, {"volunteers": chosen, "confirm_unchecked": "yes" if confirmed else ""}, error.errors, status=422)
    flash(request, "Matched. We have emailed the volunteers and the person who asked.")
    return redirect(f"/schemes/{slug}/requests/{request_id}")


async def organiser_done(request: Request) -> Response:
    slug, request_id = request.path_params["slug"], path_number(request, "request_id")
    await help_requests.mark_done(current_user(request), current_council(request), slug, request_id)
    flash(request, "The request is marked done. We have emailed the person who asked.")
    return redirect(f"/schemes/{slug}/requests/{request_id}")


async def organiser_cancel(request: Request) -> Response:
    values = form_values(await request.form())
    slug, request_id = request.path_params["slug"], path_number(request, "request_id")
    try:
        await help_requests.cancel_as_organiser(current_user(request), current_council(request), slug, request_id, values.get("reason", ""))
    except Invalid as error:
        return await _request_page(request, values, error.errors, status=422)
    flash(request, "The request is cancelled. We have told the person who asked.")
    return redirect(f"/schemes/{slug}/requests/{request_id}")


async def take_back(request: Request) -> Response:
    slug, request_id = request.path_params["slug"], path_number(request, "request_id")
    assignment = await help_requests.take_back(current_user(request), current_council(request), slug, request_id, path_number(request, "assignment_id"))
    flash(request, f"You have taken the job back from {assignment.volunteer}. We have emailed them to say they are no longer needed.")
    return redirect(f"/schemes/{slug}/requests/{request_id}")


# A matched volunteer's job


async def job_page(request: Request) -> Response:
    job = await help_requests.job_page(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "request_id"))
    return render(request, "help_requests/job.html", {"job": job, "scheme": job.scheme})


async def job_accept(request: Request) -> Response:
    slug, request_id = request.path_params["slug"], path_number(request, "request_id")
    await help_requests.accept_job(current_user(request), current_council(request), slug, request_id)
    flash(request, "Thank you. You have accepted the job: the full address is below.")
    return redirect(f"/schemes/{slug}/jobs/{request_id}")


async def job_decline(request: Request) -> Response:
    slug = request.path_params["slug"]
    await help_requests.decline_job(current_user(request), current_council(request), slug, path_number(request, "request_id"))
    flash(request, "Thank you for letting us know. The organisers will ask someone else.")
    return redirect("/volunteering")


async def job_done(request: Request) -> Response:
    slug = request.path_params["slug"]
    await help_requests.mark_done(current_user(request), current_council(request), slug, path_number(request, "request_id"))
    flash(request, "Thank you. The job is marked done.")
    return redirect("/volunteering")


# The offers board


async def _board(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    scheme, who, offers = await board.board(current_user(request), current_council(request), request.path_params["slug"])
    context = {"scheme": scheme, "who": who, "offers": offers, "values": values, "errors": errors, "why_kept": board.why_offer_is_kept}
    return render(request, "help_requests/offers.html", context, status_code=status, block="form" if status != 200 else None)


async def offers_page(request: Request) -> Response:
    return await _board(request, {}, {})


async def offer_create(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        offer = await board.post_offer(current_user(request), current_council(request), slug, values.get("text", ""))
    except Invalid as error:
        return await _board(request, values, error.errors, status=422)
    except RateLimited as error:
        return await _board(request, values, {"text": error.message}, status=429)
    flash(request, "Your offer is on the board.")
    return redirect(f"/schemes/{slug}/offers#offer-{offer.id}")


async def offer_remove(request: Request) -> Response:
    slug = request.path_params["slug"]
    await board.remove_offer(current_user(request), current_council(request), slug, path_number(request, "offer_id"))
    flash(request, "The offer is taken down.")
    return redirect(f"/schemes/{slug}/offers")


routes = [
    Route("/schemes/{slug}/ask", ask_form, methods=["GET"], name="ask_form"),
    Route("/schemes/{slug}/ask", ask, methods=["POST"], name="ask"),
    Route("/help-requests", my_requests, methods=["GET"], name="my_requests"),
    Route("/help-requests/{request_id}", status_page, methods=["GET"], name="help_request_status"),
    Route("/help-requests/{request_id}/cancel", requester_cancel, methods=["POST"], name="help_request_cancel"),
    Route("/schemes/{slug}/requests", scheme_requests, methods=["GET"], name="scheme_requests"),
    Route("/schemes/{slug}/requests/{request_id}", request_page, methods=["GET"], name="request_page"),
    Route("/schemes/{slug}/requests/{request_id}/assign", assign, methods=["POST"], name="request_assign"),
    Route("/schemes/{slug}/requests/{request_id}/done", organiser_done, methods=["POST"], name="request_done"),
    Route("/schemes/{slug}/requests/{request_id}/cancel", organiser_cancel, methods=["POST"], name="request_cancel"),
    Route("/schemes/{slug}/requests/{request_id}/assignments/{assignment_id}/take-back", take_back, methods=["POST"], name="request_take_back"),
    Route("/schemes/{slug}/jobs/{request_id}", job_page, methods=["GET"], name="job_page"),
    Route("/schemes/{slug}/jobs/{request_id}/accept", job_accept, methods=["POST"], name="job_accept"),
    Route("/schemes/{slug}/jobs/{request_id}/decline", job_decline, methods=["POST"], name="job_decline"),
    Route("/schemes/{slug}/jobs/{request_id}/done", job_done, methods=["POST"], name="job_done"),
    Route("/schemes/{slug}/offers", offers_page, methods=["GET"], name="offers_page"),
    Route("/schemes/{slug}/offers", offer_create, methods=["POST"], name="offer_create"),
    Route("/schemes/{slug}/offers/{offer_id}/remove", offer_remove, methods=["POST"], name="offer_remove"),
]
