"""Key-worker endpoints for administrators, and their delivery logs and replays for officers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.errors import Invalid
from civic.webhooks import endpoints
from civic.webhooks.models import DELIVERY_STATUS, EVENT_TYPES, PAYLOAD_STYLES
from routes.web import current_council, current_user, flash, form_values, page_number, redirect, render

BASE = "/admin/endpoints"
REVEAL = "endpoint_reveal"


def _args(request: Request) -> tuple[Any, Any]:
    return current_user(request), current_council(request)


def _id(request: Request, name: str = "endpoint_id") -> str:
    return request.path_params[name]


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    values: dict[str, Any] = form_values(form)
    values["event_types"] = [v for v in form.getlist("event_types") if isinstance(v, str)]
    return values


async def _form_page(request: Request, values: dict[str, Any], errors: dict[str, str], endpoint: Any = None, status_code: int = 200) -> Response:
    context = {
        "endpoint": endpoint,
        "values": values,
        "errors": errors,
        "team_options": [("", "Choose a team")] + [(str(t.id), t.name) for t in await endpoints.teams(current_council(request))],
        "event_options": list(EVENT_TYPES.items()),
        "style_options": list(PAYLOAD_STYLES.items()),
    }
    return render(request, "webhooks/endpoint_form.html", context, status_code=status_code, block="form")


async def endpoint_list(request: Request) -> Response:
    summaries = await endpoints.list_endpoints(*_args(request))
    return render(request, "webhooks/endpoints.html", {"summaries": summaries})


async def endpoint_form(request: Request) -> Response:
    await endpoints.require_admin(*_args(request))
    values = {"event_types": list(EVENT_TYPES), "payload_style": "full"}
    return await _form_page(request, values, {})


async def endpoint_create(request: Request) -> Response:
    values = await _form(request)
    try:
        endpoint, credentials = await endpoints.create_endpoint(*_args(request), values)
    except Invalid as error:
        return await _form_page(request, values, error.errors, status_code=422)
    request.session[REVEAL] = endpoints.seal(credentials)
    flash(request, f"{endpoint.name} added. Copy its signing secret and API key now: they are shown only once.")
    return redirect(f"{BASE}/{endpoint.id}")


async def _endpoint_page(request: Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    endpoint = await endpoints.get_endpoint(*_args(request), _id(request))
    _, recent, _ = await endpoints.deliveries(*_args(request), endpoint.id)
    credentials = endpoints.unseal(request.session.pop(REVEAL, None), endpoint.id)
    context = {
        "endpoint": endpoint,
        "recent": recent[:10],
        "calls": await endpoints.api_calls(*_args(request), endpoint),
        "credentials": credentials,
        "event_names": EVENT_TYPES,
        "style_names": PAYLOAD_STYLES,
        "is_admin": "admin" in request.scope.get("roles", set()),
        "is_officer": "officer" in request.scope.get("roles", set()),
        "errors": errors or {},
        "values": values or {},
    }
    return render(request, "webhooks/endpoint.html", context, status_code=status_code)


async def endpoint_page(request: Request) -> Response:
    return await _endpoint_page(request)


async def endpoint_edit_form(request: Request) -> Response:
    endpoint = await endpoints.get_endpoint_for_admin(*_args(request), _id(request))
    values = {"name": endpoint.name, "team": str(endpoint.team_id), "url": endpoint.url, "event_types": endpoint.event_types, "payload_style": endpoint.payload_style}
    return await _form_page(request, values, {}, endpoint=endpoint)


async def endpoint_update(request: Request) -> Response:
    values = await _form(request)
    try:
        endpoint = await endpoints.update_endpoint(*_args(request), _id(request), values)
    except Invalid as error:
        return await _form_page(request, values, error.errors, endpoint=await endpoints.get_endpoint_for_admin(*_args(request), _id(request)), status_code=422)
    flash(request, "Changes saved.")
    return redirect(f"{BASE}/{endpoint.id}")


async def url_confirm(request: Request) -> Response:
    values = form_values(await request.form())
    endpoint = await endpoints.confirm_url(*_args(request), _id(request), values.get("url", ""))
    flash(request, f"Web address confirmed. Concerns referred to {endpoint.team.name} now go to {endpoint.url}.")
    return redirect(f"{BASE}/{endpoint.id}")


async def secret_rotate(request: Request) -> Response:
    credentials = await endpoints.rotate_secret(*_args(request), _id(request))
    request.session[REVEAL] = endpoints.seal(credentials)
    flash(request, "New signing secret made. Copy it now. Until the overlap ends we sign with both the new and the old one.")
    return redirect(f"{BASE}/{credentials.endpoint_id}")


async def api_key_replace_form(request: Request) -> Response:
    endpoint = await endpoints.get_endpoint_for_admin(*_args(request), _id(request))
    return render(request, "webhooks/api_key_replace.html", {"endpoint": endpoint})


async def api_key_replace(request: Request) -> Response:
    credentials = await endpoints.replace_api_key(*_args(request), _id(request))
    request.session[REVEAL] = endpoints.seal(credentials)
    flash(request, "New API key made, and the old one no longer works. Copy the new one now.")
    return redirect(f"{BASE}/{credentials.endpoint_id}")


async def endpoint_ping(request: Request) -> Response:
    outcome = await endpoints.send_ping(*_args(request), _id(request))
    if outcome.succeeded:
        flash(request, f"Test event delivered: {outcome.describe()} in {outcome.duration_ms} ms.")
    else:
        flash(request, f"Test event not delivered: {outcome.describe()}.", "important")
    return redirect(f"{BASE}/{_id(request)}")


async def endpoint_enable(request: Request) -> Response:
    outcome = await endpoints.enable(*_args(request), _id(request))
    if outcome.succeeded:
        flash(request, "Switched on: the test event was delivered. Waiting deliveries are being sent.")
    else:
        flash(request, f"Not switched on: the test event was not delivered ({outcome.describe()}).", "important")
    return redirect(f"{BASE}/{_id(request)}")


async def endpoint_disable(request: Request) -> Response:
    values = form_values(await request.form())
    try:
        await endpoints.disable(*_args(request), _id(request), values.get("reason", ""))
    except Invalid as error:
        return await _endpoint_page(request, error.errors, values, status_code=422)
    flash(request, "Switched off. New deliveries wait until it is switched on again.")
    return redirect(f"{BASE}/{_id(request)}")


async def delivery_log(request: Request) -> Response:
    status = request.query_params.get("status", "")
    status = status if status in DELIVERY_STATUS else ""
    page = page_number(request.query_params.get("page", "1"))
    endpoint, rows, more = await endpoints.deliveries(*_args(request), _id(request), status, page)
    context = {"endpoint": endpoint, "rows": rows, "more": more, "page": page, "status": status, "statuses": DELIVERY_STATUS}
    return render(request, "webhooks/deliveries.html", context)


async def _delivery_page(request: Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    detail = await endpoints.delivery_detail(*_args(request), _id(request), _id(request, "delivery_id"))
    context = {
        "endpoint": detail.endpoint, "row": detail.delivery, "attempts": detail.attempts, "answers_shown": detail.answers_shown,
        "errors": errors or {}, "values": values or {},
    }
    return render(request, "webhooks/delivery.html", context, status_code=status_code)


async def delivery_page(request: Request) -> Response:
    return await _delivery_page(request)


async def delivery_replay(request: Request) -> Response:
    row = await endpoints.replay(*_args(request), _id(request), _id(request, "delivery_id"))
    flash(request, f"It will be sent again shortly, with the same webhook-id ({row.webhook_id}).")
    return redirect(f"{BASE}/{_id(request)}/deliveries/{row.id}")


async def delivery_cancel(request: Request) -> Response:
    values = form_values(await request.form())
    try:
        row = await endpoints.cancel(*_args(request), _id(request), _id(request, "delivery_id"), values.get("reason", ""))
    except Invalid as error:
        return await _delivery_page(request, error.errors, values, status_code=422)
    flash(request, "Marked as handled: it will not be sent.")
    return redirect(f"{BASE}/{_id(request)}/deliveries/{row.id}")


async def replay_all(request: Request) -> Response:
    count = await endpoints.replay_all(*_args(request), _id(request))
    noun = "delivery" if count == 1 else "deliveries"
    flash(request, f"{count} failed {noun} will be sent again shortly." if count else "There were no failed deliveries to send again.")
    return redirect(f"{BASE}/{_id(request)}/deliveries")


routes = [
    Route(BASE, endpoint_list, methods=["GET"], name="endpoint_list"),
    Route(BASE, endpoint_create, methods=["POST"], name="endpoint_create"),
    Route(f"{BASE}/new", endpoint_form, methods=["GET"], name="endpoint_form"),
    Route(BASE + "/{endpoint_id}", endpoint_page, methods=["GET"], name="endpoint_page"),
    Route(BASE + "/{endpoint_id}", endpoint_update, methods=["POST"], name="endpoint_update"),
    Route(BASE + "/{endpoint_id}/edit", endpoint_edit_form, methods=["GET"], name="endpoint_edit_form"),
    Route(BASE + "/{endpoint_id}/confirm-url", url_confirm, methods=["POST"], name="endpoint_url_confirm"),
    Route(BASE + "/{endpoint_id}/secret", secret_rotate, methods=["POST"], name="endpoint_secret_rotate"),
    Route(BASE + "/{endpoint_id}/api-key", api_key_replace_form, methods=["GET"], name="endpoint_api_key_replace_form"),
    Route(BASE + "/{endpoint_id}/api-key", api_key_replace, methods=["POST"], name="endpoint_api_key_replace"),
    Route(BASE + "/{endpoint_id}/ping", endpoint_ping, methods=["POST"], name="endpoint_ping"),
    Route(BASE + "/{endpoint_id}/enable", endpoint_enable, methods=["POST"], name="endpoint_enable"),
    Route(BASE + "/{endpoint_id}/disable", endpoint_disable, methods=["POST"], name="endpoint_disable"),
    Route(BASE + "/{endpoint_id}/replay", replay_all, methods=["POST"], name="endpoint_replay_all"),
    Route(BASE + "/{endpoint_id}/deliveries", delivery_log, methods=["GET"], name="endpoint_deliveries"),
    Route(BASE + "/{endpoint_id}/deliveries/{delivery_id}", delivery_page, methods=["GET"], name="delivery_page"),
    Route(BASE + "/{endpoint_id}/deliveries/{delivery_id}/replay", delivery_replay, methods=["POST"], name="delivery_replay"),
    Route(BASE + "/{endpoint_id}/deliveries/{delivery_id}/cancel", delivery_cancel, methods=["POST"], name="delivery_cancel"),
]
