"""The floor for the load benchmark: a bare Starlette route rendering a trivial Jinja page."""

from __future__ import annotations

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.DictLoader({"floor.html": "<!DOCTYPE html><title>{{ title }}</title><p>Hello from the floor.</p>"}), autoescape=True))


async def floor(request: Request) -> Response:
    return templates.TemplateResponse(request, "floor.html", {"title": "Floor"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def app_factory() -> Starlette:
    return Starlette(routes=[Route("/", floor), Route("/healthz", healthz)])
