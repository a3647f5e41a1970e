"""Friendly error pages, and turning domain errors into the right answer."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from civic import config
from civic.councils import council_for_host
from civic.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from routes.access_log import without_secrets
from routes.web import redirect, render

log = logging.getLogger("civic.errors")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _page(request: Request, status: int, title: str, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "errors/error.html", {"status": status, "title": title, "message": message}, status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    if exc.status_code == 405:
        message = f"This address does not take {request.method}." if _wants_json(request) else "This page cannot be used that way."
        response = _page(request, 405, "That did not work", message)
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]  # which methods it does take
        return response
    return _page(request, exc.status_code, "Something went wrong", str(exc.detail))


async def not_found(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": "Nothing is at this address, or this key may not see it."}, status_code=404)
    return _page(request, 404, "Page not found", "If you typed the web address, check it is correct.")


def _same_site_referer(headers: Headers) -> str:
    """The path (and query) of the page a form was sent from, if it is on this site; else ''."""
    referer = urlsplit(headers.get("referer", ""))
    if referer.netloc != headers.get("host") or not referer.path.startswith("/") or referer.path.startswith("//"):
        return ""
    return referer.path + (f"?{referer.query}" if referer.query else "")


async def forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    signed_out = request.scope.get("user") is None and not _wants_json(request)
    if signed_out and request.method == "GET":
        return redirect(f"/signin?next={quote(request.url.path + ('?' + request.url.query if request.url.query else ''))}")
    if signed_out:
        # A button pressed after the session ended: its address takes only POST, so after signing in
        # they go back to the page the button was on, to press it again.
        context = {"status": 403, "title": "You cannot do that", "message": exc.message, "signin_next": _same_site_referer(request.headers) or "/"}
        return render(request, "errors/error.html", context, status_code=403)
    return _page(request, 403, "You cannot do that", exc.message)


async def conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Conflict)
    return _page(request, 409, "That cannot be done now", exc.message)


async def rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    response = _page(request, 429, "Please wait a moment", exc.message)
    response.headers["Retry-After"] = "60"
    return response


async def invalid(request: Request, exc: Exception) -> Response:
    # Routes re-render their own forms; this catches an Invalid a route did not expect.
    assert isinstance(exc, Invalid)
    if _wants_json(request):
        return JSONResponse({"errors": exc.errors}, status_code=422)
    return _page(request, 422, "Please check what you entered", " ".join(exc.errors.values()))


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %s", request.method, without_secrets(request.url.path), type(exc).__name__, exc_info=exc)
    if _wants_json(request):
        return JSONResponse({"error": "Something went wrong on our side."}, status_code=500)
    try:
        return render(
            request,
            "errors/error.html",
            {
                "status": 500,
                "title": "Sorry, there is a problem with the service",
                "message": "Try again later. What you entered has not been lost if you go back.",
            },
            status_code=500,
        )
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        return HTMLResponse("<h1>Sorry, there is a problem with the service</h1>", status_code=500)


async def csrf_failed(scope, send, message_id) -> None:
    """A form sent without its security token, or with an old one: said in the site's own page, with a way back.

    It runs outside the middleware that finds the council and the session, so it finds the council itself.
    """
    headers = Headers(scope=scope)
    council = await council_for_host(headers.get("host", ""), config.current().default_council)
    page = {**scope, "council": council, "user": None, "roles": set(), "session": {}}
    back = _same_site_referer(headers)
    response = render(
        Request(page),
        "errors/error.html",
        {
            "status": 403,
            "title": "This form has expired",
            "message": "For your security, a form works for a limited time. Go back to it, reload the page and send it again.",
            "back": back,
        },
        status_code=403,
    )
    await response(page, _nothing_to_read, send)


async def _nothing_to_read() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


handlers = {
    HTTPException: http_error,
    NotFound: not_found,
    Forbidden: forbidden,
    Conflict: conflict,
    RateLimited: rate_limited,
    Invalid: invalid,
    Exception: server_error,
}
