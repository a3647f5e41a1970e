"""The officers' side of concerns: the queue, its export, the concern page and its actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.concerns import access, triage
from civic.concerns.vocabulary import (
    CLOSED_REASONS,
    EVENT,
    FROM_DUPLICATE,
    NOTE_LIMIT,
    OFFICER_ABOUT,
    OFFICER_CONTACT,
    OFFICER_KNOWS,
    REFERRAL_STATUS,
    STATUS,
    URGENCY,
)
from civic.errors import Conflict, Invalid
from civic.webhooks import callbacks
from routes.web import current_council, flash, form_values, redirect, render, require_user

WORDS = {
    "ABOUT": OFFICER_ABOUT, "CONTACT": OFFICER_CONTACT, "KNOWS": OFFICER_KNOWS, "URGENCY": URGENCY, "STATUS": STATUS,
    "EVENT": EVENT, "FROM_DUPLICATE": FROM_DUPLICATE, "CLOSED_REASONS": CLOSED_REASONS, "STATUS_FILTERS": triage.STATUS_FILTERS, "NOTE_LIMIT": NOTE_LIMIT,
    "REFERRAL_STATUS": REFERRAL_STATUS, "OUTCOMES": callbacks.OUTCOMES, "STATUS_WORDS": callbacks.STATUS_WORDS,
}


async def queue(request: Request) -> Response:
    page = await triage.queue(require_user(request), current_council(request), triage.Filters.parse(request.query_params))
    options = {
        "status": [(key, label) for key, (label, _) in triage.STATUS_FILTERS.items()],
        "category": [("", "All categories")] + [(c.slug, c.name) for c in page.categories],
        "ward": [("", "All wards")] + [(str(w.id), w.name) for w in page.wards],
        # Officers look for what nobody has taken on yet. A key worker sees only what their teams hold (and
        # duplicates merged into it), so "not assigned" is no choice for them.
        "team": [("", "All teams" if page.viewer.is_officer else "All your teams")]
        + ([("none", "Not assigned to a team")] if page.viewer.is_officer else [])
        + [(str(t.id), t.name) for t in page.teams],
    }
    return render(request, "concerns/officer/queue.html", {"queue": page, "options": options, **WORDS}, block="results")


async def export(request: Request) -> Response:
    council = current_council(request)
    body = await triage.export_csv(require_user(request), council, triage.Filters.parse(request.query_params))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="concerns-{council.slug}.csv"'},
    )


async def _concern_page(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200, contact=None, conflict: str = ""
) -> Response:
    page = await triage.open_concern(require_user(request), current_council(request), request.path_params["reference"])
    team_options = [(str(t.id), t.name) for t in page.teams]
    # Each team with what stops a referral reaching it by itself beside it: the officer may still choose it.
    warn, routed = page.team_warnings, page.suggested_team
    refer_options = [("", f"The team routing chooses: {routed.name}", warn.get(routed.id, ""))] if routed else []
    refer_options += [(str(t.id), t.name, warn.get(t.id, "")) for t in page.teams]
    context = {
        "page": page, "values": values, "errors": errors, "contact": contact, "conflict": conflict,
        "team_options": team_options, "refer_options": refer_options, **WORDS,
    }
    return render(request, "concerns/officer/concern.html", context, status_code=status_code)


async def concern(request: Request) -> Response:
    return await _concern_page(request, {}, {})


def _action(
    do: Callable[..., Awaitable[object]],
    fields: tuple[str, ...],
    done: Callable[[object], str],
) -> Callable[[Request], Awaitable[Response]]:
    """A POST on the concern page: call the domain function with the form's fields, then back to the page."""

    async def handler(request: Request) -> Response:
        user = require_user(request)
        values = form_values(await request.form())
        reference = request.path_params["reference"]
        try:
            result = await do(user, current_council(request), reference, *(values.get(f, "") for f in fields))
        except Invalid as error:
            return await _concern_page(request, values, error.errors, status_code=422)
        except Conflict as error:
            # Someone else got there first, or it was already done: the concern as it is now, and why nothing happened.
            return await _concern_page(request, values, {}, status_code=409, conflict=error.message)
        flash(request, done(result))
        return redirect(f"/officer/concerns/{access.normalise_reference(reference)}")

    return handler


def _told(sent: object) -> str:
    return "" if sent else " They gave no email address, so they will see it only if they look at their status page."


assign = _action(triage.assign, ("team",), lambda c: "Assigned.")
note = _action(triage.add_note, ("note",), lambda e: "Note added.")
ask = _action(triage.ask_for_information, ("question",), lambda sent: "Question sent. It is on their status page." + _told(sent))
signpost = _action(triage.signpost, ("scheme_name", "scheme_url"), lambda sent: "Signposted and closed." + _told(sent))
close = _action(triage.close_no_further_action, ("reason",), lambda c: "Closed with no further action.")
merge = _action(triage.merge, ("into",), lambda into: f"Merged into {into.reference}.")  # type: ignore[attr-defined]
refer = _action(triage.refer, ("refer_team",), lambda r: "Referred to early help.")
referral_status = _action(
    callbacks.record_status, ("status", "key_worker_first_name", "key_worker_role", "outcome"),
    lambda r: f"Recorded: {callbacks.STATUS_WORDS[r.status].lower()}.",  # type: ignore[attr-defined]
)


async def contact(request: Request) -> Response:
    _, details = await triage.show_contact(require_user(request), current_council(request), request.path_params["reference"])
    return await _concern_page(request, {}, {}, contact=details)


async def access_log(request: Request) -> Response:
    concern, entries = await access.access_log(require_user(request), current_council(request), request.path_params["reference"])
    return render(request, "concerns/officer/access.html", {"concern": concern, "entries": entries})


ACTIONS = {"assign": assign, "note": note, "ask": ask, "signpost": signpost, "close": close, "merge": merge, "refer": refer, "referral-status": referral_status}

routes = [
    Route("/officer/concerns", queue, methods=["GET"], name="concern_queue"),
    Route("/officer/concerns/export.csv", export, methods=["GET"], name="concern_export"),
    Route("/officer/concerns/{reference}", concern, methods=["GET"], name="concern_page"),
    Route("/officer/concerns/{reference}/access", access_log, methods=["GET"], name="concern_access_log"),
    Route("/officer/concerns/{reference}/contact", contact, methods=["POST"], name="concern_contact"),
    *(Route(f"/officer/concerns/{{reference}}/{name}", handler, methods=["POST"], name=f"concern_{name}") for name, handler in ACTIONS.items()),
]
