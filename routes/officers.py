"""The officer home: what needs a council officer's attention."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic import officers
from routes.web import current_council, current_user, render


async def officer_home(request: Request) -> Response:
    sections = await officers.attention(current_user(request), current_council(request))
    return render(request, "officers/home.html", {"sections": sections})


routes = [Route("/officer", officer_home, name="officer_home")]
