"""Events: a scheme's coming events, adding and changing one, one event's page, saying you are coming, and cancelling."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.errors import Invalid
from civic.schemes import access, events
from routes import times  # noqa: F401 - registers the date filters
from routes.web import current_council, current_user, flash, form_values, path_number, redirect, render


async def events_page(request: Request) -> Response:
    scheme, who, coming = await events.events_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "events/list.html", {"scheme": scheme, "who": who, "events": coming})


async def _form(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    scheme, _ = await access.find_for_organiser(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "events/form.html", {"scheme": scheme, "values": values, "errors": errors}, status_code=status, block="form" if status == 422 else None)


async def event_form(request: Request) -> Response:
    return await _form(request, {}, {})


async def event_create(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        event = await events.create_event(current_user(request), current_council(request), slug, values)
    except Invalid as error:
        return await _form(request, values, error.errors, status=422)
    flash(request, f"{event.title} is on the scheme’s page.")
    return redirect(f"/schemes/{slug}/events/{event.id}")


async def _edit_form(request: Request, values: dict[str, str] | None, errors: dict[str, str], status: int = 200) -> Response:
    scheme, event = await events.event_for_change(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "event_id"))
    context = {"scheme": scheme, "event": event, "values": events.form_values_of(event) if values is None else values, "errors": errors}
    return render(request, "events/form.html", context, status_code=status, block="form" if status == 422 else None)


async def event_edit_form(request: Request) -> Response:
    return await _edit_form(request, None, {})


async def event_update(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        event = await events.update_event(current_user(request), current_council(request), slug, path_number(request, "event_id"), values)
    except Invalid as error:
        return await _edit_form(request, values, error.errors, status=422)
    flash(request, "Your changes are saved. If the date, time or place changed, everyone coming has been emailed.")
    return redirect(f"/schemes/{slug}/events/{event.id}")


async def _event(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    page = await events.event_page(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "event_id"))
    return render(request, "events/event.html", {"page": page, "scheme": page.scheme, "event": page.event, "values": values, "errors": errors}, status_code=status)


async def event_page(request: Request) -> Response:
    return await _event(request, {}, {})


async def reply(request: Request) -> Response:
    slug, event_id = request.path_params["slug"], path_number(request, "event_id")
    await events.reply(current_user(request), current_council(request), slug, event_id)
    flash(request, "Thank you. You are on the list.")
    return redirect(f"/schemes/{slug}/events/{event_id}")


async def reply_cancel(request: Request) -> Response:
    slug, event_id = request.path_params["slug"], path_number(request, "event_id")
    await events.cancel_reply(current_user(request), current_council(request), slug, event_id)
    flash(request, "You are no longer on the list.")
    return redirect(f"/schemes/{slug}/events/{event_id}")


async def event_cancel(request: Request) -> Response:
    values = form_values(await request.form())
    slug, event_id = request.path_params["slug"], path_number(request, "event_id")
    try:
        await events.cancel_event(current_user(request), current_council(request), slug, event_id, values.get("reason", ""))
    except Invalid as error:
        return await _event(request, values, error.errors, status=422)
    flash(request, "The event is cancelled. Everyone coming has been told.")
    return redirect(f"/schemes/{slug}/events/{event_id}")


routes = [
    Route("/schemes/{slug}/events", events_page, methods=["GET"], name="events_page"),
    Route("/schemes/{slug}/events", event_create, methods=["POST"], name="event_create"),
    Route("/schemes/{slug}/events/new", event_form, methods=["GET"], name="event_form"),
    Route("/schemes/{slug}/events/{event_id}", event_page, methods=["GET"], name="event_page"),
    Route("/schemes/{slug}/events/{event_id}/edit", event_edit_form, methods=["GET"], name="event_edit_form"),
    Route("/schemes/{slug}/events/{event_id}/edit", event_update, methods=["POST"], name="event_update"),
    Route("/schemes/{slug}/events/{event_id}/reply", reply, methods=["POST"], name="event_reply"),
    Route("/schemes/{slug}/events/{event_id}/reply/cancel", reply_cancel, methods=["POST"], name="event_reply_cancel"),
    Route("/schemes/{slug}/events/{event_id}/cancel", event_cancel, methods=["POST"], name="event_cancel"),
]
