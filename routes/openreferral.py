"""The Open Referral UK API: the council's approved schemes as HSDS 3 services, for other directories."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from civic.councils import site_url
from civic.schemes import oruk
from routes.web import current_council

# Other directories poll this; five minutes old is fresh enough, and it is public data.
CACHE = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}


def _site_url(request: Request) -> str:
    """The council's public address, not the Host this request came in by: other sites keep the feed for 5 minutes."""
    return site_url(current_council(request))


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 7 else default


async def api_about(request: Request) -> Response:
    return JSONResponse(oruk.about(), headers=CACHE)


async def api_services(request: Request) -> Response:
    params = request.query_params
    body = await oruk.services_page(
        current_council(request),
        _site_url(request),
        page=_int(params.get("page"), 1),
        per_page=_int(params.get("per_page"), oruk.DEFAULT_PER_PAGE),
        search=params.get("search", "")[:200],
        taxonomy_term_id=params.get("taxonomy_term_id", ""),
    )
    return JSONResponse(body, headers=CACHE)


async def api_service(request: Request) -> Response:
    body = await oruk.service_by_id(current_council(request), _site_url(request), request.path_params["id"])
    return JSONResponse(body, headers=CACHE)


routes = [
    Route("/api/openreferral", api_about, methods=["GET"], name="openreferral_about"),
    Route("/api/openreferral/services", api_services, methods=["GET"], name="openreferral_services"),
    Route("/api/openreferral/services/{id}", api_service, methods=["GET"], name="openreferral_service"),
]
