"""What every page shares: templates, htmx fragments, forms, flash messages and the current user."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2_fragments.starlette import Jinja2Blocks
from starlette.datastructures import FormData, Headers
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from civic import accounts
from civic.accounts import User
from civic.councils import Council
from civic.db import BIGINT_ID_MAX, INT_ID_MAX, as_id, page_number  # noqa: F401 - routes take ids and pages through here
from civic.errors import Forbidden
from civic.kept import Kept
from civic.schemes.text import typable

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"

# htmx 2 does not swap 4xx answers by default; our forms answer 422 (or 429 when rate-limited) with
# the form and its errors, which must replace the form. Any other error (an expired form's 403, a 404,
# a 409, a 500) is a whole error page: its main content replaces the page's, and its title the title,
# where before nothing on screen changed. htmx must never inject inline styles either, which our CSP forbids.
HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "422", "swap": True},
            {"code": "429", "swap": True},
            {"code": "[45]..", "swap": True, "error": True, "target": "#main-content", "select": "#main-content", "swapOverride": "outerHTML"},
        ],
    }
)

_static_versions: dict[str, str] = {}


def static_url(path: str) -> str:
    """A URL that changes when the file does, so it can be cached for a year."""
    if path not in _static_versions:
        file = STATIC / path
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "0"
        _static_versions[path] = digest
    return f"/static/{path}?v={_static_versions[path]}"


class PrecompressedStaticFiles(StaticFiles):
    """Text assets gzipped once per process at the smallest level, not by GZipMiddleware on every request.

    In a surge most visitors are new and fetch the CSS and JS once each: compressing 110 KB of CSS took
    about 2 ms a time. GZipMiddleware leaves a response that already has a Content-Encoding alone.
    """

    TEXT = (".css", ".js", ".svg", ".json", ".txt")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._gzipped: dict[tuple[str, float], bytes] = {}

    def file_response(self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        wants_gzip = "gzip" in Headers(scope=scope).get("accept-encoding", "")
        if not (isinstance(response, FileResponse) and status_code == 200 and scope["method"] == "GET" and wants_gzip and str(full_path).endswith(self.TEXT)):
            return response
        key = (str(full_path), stat_result.st_mtime)
        if key not in self._gzipped:
            self._gzipped[key] = gzip.compress(Path(full_path).read_bytes(), compresslevel=9, mtime=0)
        headers = {name: value for name, value in response.headers.items() if name != "content-length"}
        return Response(self._gzipped[key], headers={**headers, "content-encoding": "gzip", "vary": "Accept-Encoding"})


def current_user(request: Request) -> User | None:
    return request.scope.get("user")


def current_council(request: Request) -> Council:
    return request.scope["council"]


def flash(request: Request, message: str, kind: str = "success") -> None:
    """A message shown once on the next page."""
    request.session.setdefault("flash", []).append({"message": message, "kind": kind})


def _pop_flash(request: Request) -> list[dict[str, str]]:
    if "session" not in request.scope or not request.session.get("flash"):
        return []
    return request.session.pop("flash")


def _csrf_token(request: Request) -> str:
    get = request.scope.get("csrftoken")
    return get() if get else ""


def _context(request: Request) -> dict[str, Any]:
    return {
        "user": current_user(request),
        "council": request.scope.get("council"),
        "roles": request.scope.get("roles", set()),
        "csrf_token": lambda: _csrf_token(request),
        "static_url": static_url,
        "htmx_config": HTMX_CONFIG,
        "flashes": lambda: _pop_flash(request),
        "path": request.url.path,
    }


templates = Jinja2Blocks(directory=str(TEMPLATES), context_processors=[_context])
templates.env.globals["ROLE_NAMES"] = accounts.ROLE_NAMES
templates.env.globals["signin_link_lifetime"] = accounts.signin_link_lifetime_words


def is_fragment_request(request: Request) -> bool:
    """htmx asked for part of a page (not a boosted navigation or a history restore)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200, block: str | None = None
) -> Response:
    """Render a page, or only its named block when htmx asks for a fragment."""
    if block and is_fragment_request(request):
        response = templates.TemplateResponse(request, name, context or {}, status_code=status_code, block_name=block)
    else:
        response = templates.TemplateResponse(request, name, context or {}, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response


# Pages that are the same for everyone not signed in (the directory, a scheme's page) are kept rendered,
# as their data already is, for CIVIC_PUBLIC_CACHE_SECONDS: in a surge most visitors are anonymous and
# read the same few pages, and rendering was half the work of each. The one part that is each
# visitor's own, the CSRF token, is left out and filled in for every visitor.
GZIP_MINIMUM = 500  # bytes: smaller answers go uncompressed (GZipMiddleware's minimum_size too)


class KeptPage:
    """A rendered page without its CSRF token, kept plain and gzipped, each visitor's token filled in.

    Once rendering was kept, compressing each copy became the largest cost of these pages: zlib sets
    up afresh for every answer. So the parts between the token's places are compressed once, at level 6
    (an 11.7 KB directory page: 112 µs and 2,593 bytes, against 137 µs and 2,591 at 9 and 54 µs and 2,893
    at 2), each ending on a byte boundary (a sync flush), and each answer puts its token between them as
    stored (uncompressed) deflate blocks: one gzip stream, which only needs its checksum worked out.
    """

    def __init__(self, body: bytes, token: bytes, headers: list[tuple[bytes, bytes]]):
        self.parts = body.split(token)
        self.headers = headers
        self.size = len(body) - (len(self.parts) - 1) * len(token)
        self.compressed = []
        for n, part in enumerate(self.parts):
            deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, framed by hand below
            self.compressed.append(deflate.compress(part) + deflate.flush(zlib.Z_FINISH if n == len(self.parts) - 1 else zlib.Z_SYNC_FLUSH))
        vary = ", ".join([*(value.decode("latin-1") for name, value in headers if name == b"vary"), "Accept-Encoding"])
        self.gzip_headers = [*(h for h in headers if h[0] != b"vary"), (b"vary", vary.encode("latin-1")), (b"content-encoding", b"gzip")]

    def plain(self, token: bytes) -> bytes:
        return token.join(self.parts)

    def gzipped(self, token: bytes) -> bytes:
        # A stored block: not the last (BFINAL 0, BTYPE 00), then its length and that length's complement.
        stored = struct.pack("<BHH", 0, len(token), len(token) ^ 0xFFFF) + token
        checksum = 0
        for n, part in enumerate(self.parts):
            checksum = zlib.crc32(part, zlib.crc32(token, checksum) if n else checksum)
        size = self.size + (len(self.parts) - 1) * len(token)
        # The gzip header (no name, no time, unknown OS) and trailer (CRC-32 and length), RFC 1952.
        return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + stored.join(self.compressed) + struct.pack("<II", checksum, size & 0xFFFFFFFF)

    def response(self, request: Request, token: str) -> Response:
        wanted = "gzip" in request.headers.get("accept-encoding", "")
        # A stored block holds at most 65,535 bytes; a token is about 50 (a forged huge cookie gets it plain).
        if not wanted or self.size < GZIP_MINIMUM or len(token) > 0xFFFF:
            body, headers = self.plain(token.encode()), self.headers
        else:
            body, headers = self.gzipped(token.encode()), self.gzip_headers
        response = Response(body)
        response.raw_headers = [*headers, (b"content-length", str(len(body)).encode())]
        return response


_kept_pages: Kept[KeptPage] = Kept(300)


def _shared_view(request: Request) -> bool:
    """This visitor sees the page everyone not signed in sees: no user, nothing in their session."""
    return request.method in ("GET", "HEAD") and current_user(request) is None and not request.scope.get("session") and request.scope.get("council") is not None


def public_page(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Keep the rendered page for visitors who are not signed in (see `KeptPage`); others get it afresh.

    Only for a page whose context depends on nothing but the council and the URL (path and query).
    """

    @functools.wraps(endpoint)
    async def keep(request: Request) -> Response:
        token = _csrf_token(request) if _shared_view(request) else ""
        if not token:
            return await endpoint(request)
        key = (current_council(request).id, request.url.path, request.url.query, is_fragment_request(request))
        kept = _kept_pages.get(key)
        if kept is not None:
            return kept.response(request, token)
        response = await endpoint(request)
        if _kept_pages.keeping() and response.status_code == 200 and not request.scope.get("session") and b"set-cookie" not in dict(response.raw_headers):
            headers = [(name, value) for name, value in response.raw_headers if name != b"content-length"]
            return _kept_pages.put(key, KeptPage(bytes(response.body), token.encode(), headers)).response(request, token)
        return response

    return keep


def redirect(url: str) -> RedirectResponse:
    """Post/redirect/get: always 303 after a successful POST."""
    return RedirectResponse(url, status_code=303)


def require_user(request: Request) -> User:
    """The signed-in user; anonymous visitors are sent to sign in (see the Forbidden handler)."""
    user = current_user(request)
    if user is None:
        raise Forbidden("Sign in to continue.")
    return user


def form_values(form: FormData) -> dict[str, str]:
    """Single-valued fields, stripped of the CSRF token, to refill a form after an error.

    Characters no one types are dropped from every field (`typable`): a NUL in any field that reached
    PostgreSQL was a 500.
    """
    return {k: typable(v) for k, v in form.items() if k != "csrftoken" and isinstance(v, str)}


def path_number(request: Request, name: str) -> int:
    """A numeric id from the path (see `as_id`)."""
    return as_id(request.path_params[name])


def client_ip(request: Request) -> str:
    """The visitor's address, which rate limits count by: from X-Forwarded-For only when a trusted proxy sent it (ForwardedForMiddleware)."""
    return request.client.host if request.client else "unknown"
