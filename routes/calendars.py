"""Calendar feeds: a scheme's public shifts and events, and a volunteer's own shifts at their private address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.schemes import calendars
from routes.web import current_council

CALENDAR = "text/calendar; charset=utf-8"


async def scheme_feed(request: Request) -> Response:
    body = await calendars.scheme_feed(current_council(request), request.path_params["slug"])
    return Response(body, media_type=CALENDAR, headers={"Cache-Control": "public, max-age=900"})


async def personal_feed(request: Request) -> Response:
    body = await calendars.personal_feed(current_council(request), request.path_params["token"])
    # The address is the secret: keep it out of shared caches.
    return Response(body, media_type=CALENDAR, headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"})


routes = [
    Route("/schemes/{slug}/calendar.ics", scheme_feed, methods=["GET"], name="scheme_calendar"),
    Route("/calendars/{token}.ics", personal_feed, methods=["GET"], name="personal_calendar"),
]
