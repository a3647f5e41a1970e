"""The JSON API for key-worker systems (bearer API key of their endpoint), and its OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from civic import config
from civic.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from civic.webhooks import callbacks, contract
from civic.webhooks.models import KeyWorkerEndpoint
from routes.web import client_ip

BODY_LIMIT = 16 * 1024


def _json(payload: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(payload, status_code=status_code, headers={"Cache-Control": "no-store", **(headers or {})})


def api(work: Callable[[Request, KeyWorkerEndpoint], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate by API key, run the call, answer JSON with the right status, and log the call."""

    async def handler(request: Request) -> Response:
        endpoint: KeyWorkerEndpoint | None = None
        try:
            endpoint = await callbacks.authenticate(request.headers.get("authorization"), client_ip(request))
            response = _json(await work(request, endpoint))
        except callbacks.NotAuthenticated as error:
            response = _json({"error": str(error)}, 401, {"WWW-Authenticate": 'Bearer realm="civic"'})
        except Forbidden as error:
            response = _json({"error": error.message}, 403)
        except NotFound as error:
            response = _json({"error": error.message}, 404)
        except Conflict as error:
            response = _json({"error": error.message}, 409)
        except Invalid as error:
            response = _json({"errors": error.errors}, 422)
        except RateLimited as error:
            response = _json({"error": error.message}, 429, {"Retry-After": "60"})
        await callbacks.log_call(endpoint, request.method, request.url.path, request.path_params.get("reference", ""), response.status_code, client_ip(request))
        return response

    return handler


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > BODY_LIMIT:
        raise Invalid({"body": f"The body must be {BODY_LIMIT // 1024} KB or less"})
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Invalid({"body": "Send a JSON object with Content-Type: application/json"}) from None


async def _whoami(request: Request, endpoint: KeyWorkerEndpoint) -> Any:
    return await callbacks.whoami(endpoint)


async def _concern(request: Request, endpoint: KeyWorkerEndpoint) -> Any:
    return await callbacks.fetch(endpoint, request.path_params["reference"])


async def _status(request: Request, endpoint: KeyWorkerEndpoint) -> Any:
    return await callbacks.post_status(endpoint, request.path_params["reference"], await _body(request))


async def openapi(request: Request) -> Response:
    return JSONResponse(contract.document(config.current().base_url), headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


routes = [
    Route("/api/openapi.json", openapi, methods=["GET"], name="api_openapi"),
    Route("/api/v1/me", api(_whoami), methods=["GET"], name="api_whoami"),
    Route("/api/v1/concerns/{reference}", api(_concern), methods=["GET"], name="api_concern"),
    Route("/api/v1/concerns/{reference}/status", api(_status), methods=["POST"], name="api_concern_status"),
]
