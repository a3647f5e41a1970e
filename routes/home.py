"""The home page, the health check and the council's branding."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import Tortoise

from routes.web import current_council, public_page, render


@public_page
async def home(request: Request) -> Response:
    return render(request, "home.html")


async def healthz(request: Request) -> Response:
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def branding_css(request: Request) -> Response:
    """The council's colour as a stylesheet, so pages need no inline style."""
    council = current_council(request)
    colour = council.brand_colour if council else "#1d70b8"
    return Response(
        f":root{{--civic-brand:{colour}}}\n",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=86400"},
    )


routes = [
    Route("/", home, name="home"),
    Route("/healthz", healthz, name="healthz"),
    Route("/branding.css", branding_css, name="branding_css"),
]
