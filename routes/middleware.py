"""ASGI middleware: whom a request is from, server-side sessions, the council a request is for, security headers, and admission under load."""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from civic import accounts, mail
from civic.config import Settings, trusted_proxies
from civic.councils import Council, Hosts, council_for_host, host_name, read_hosts
from civic.kept import Kept
from civic.schemes.text import typable
from routes.web import static_url, templates

log = logging.getLogger("civic.proxies")

SESSION_COOKIE = "civic_session"
# Host names that are no council's, remembered per process (a few hundred bytes each).
OTHER_HOSTS = 256


def _cookies(scope: Scope) -> dict[str, str]:
    """civic's own cookies on this request, as OwnCookiesMiddleware read them (none if it has not run)."""
    return scope.get("civic.cookies", {})


class OwnCookiesMiddleware:
    """Reads the Cookie header once, as browsers write it, and passes on only civic's own cookies.

    A council's main site on the same domain may leave cookies of its own, such as a cookie banner's
    choices written as JSON (GOV.UK sites do). Python's http.cookies stops reading at such a value, and
    asgi-csrf reads with it: the CSRF cookie after it went unseen and every form answered 403. So the
    header is read with Starlette's parser, which passes over what it cannot read, and what goes on
    holds only the session and CSRF cookies.
    """

    OWN = (SESSION_COOKIE, "csrftoken")

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = next((value for name, value in scope["headers"] if name == b"cookie"), None)
            if header is not None:
                everything = cookie_parser(header.decode("latin-1"))
                own = {name: value for name, value in everything.items() if name in self.OWN}
                scope = {**scope, "civic.cookies": own}
                if len(own) != len(everything):
                    headers = [(name, value) for name, value in scope["headers"] if name != b"cookie"]
                    if own:
                        headers.append((b"cookie", "; ".join(f"{name}={value}" for name, value in own.items()).encode("latin-1")))
                    scope["headers"] = headers
        await self.app(scope, receive, send)


class ForwardedForMiddleware:
    """Whom a request is from: X-Forwarded-For (and X-Forwarded-Proto) when a trusted proxy sends it.

    uvicorn's own ProxyHeadersMiddleware, with CIVIC_TRUSTED_PROXIES, run here rather than by uvicorn so
    this sees the peer before it is replaced. Rate limits count per address: behind a proxy civic does not
    trust, every resident shares the proxy's, and in a surge one limit would lock everyone out. So in
    production the first request carrying the header from a peer not trusted is logged, once per process.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.setting = settings.trusted_proxies
        self.proxy = ProxyHeadersMiddleware(app, trusted_hosts=trusted_proxies(self.setting))
        self.warn = settings.production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.warn and scope["type"] == "http":
            peer = scope["client"][0] if scope.get("client") else None
            if peer not in self.proxy.trusted_hosts and any(name == b"x-forwarded-for" for name, _ in scope["headers"]):
                self.warn = False
                # Not the header's value: it holds residents' addresses.
                log.warning(
                    "A request from %s carried X-Forwarded-For, but %s is not in CIVIC_TRUSTED_PROXIES (%s), so the header was "
                    "ignored: everyone who comes through it counts as %s, and they share one rate limit for signing in, "
                    "concerns and invitations. If %s is your reverse proxy or load balancer, add it to CIVIC_TRUSTED_PROXIES. "
                    "This is said once; restart to hear it again.",
                    peer, peer, self.setting, peer, peer,
                )
        await self.proxy(scope, receive, send)


class SessionMiddleware:
    """Loads the session row named by the cookie into scope['session'] (a dict) and scope['user'].

    A route signs someone in by setting scope['civic.signin'] to a user, and out by setting
    scope['civic.signout']; both are carried out before the response's headers go out.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.secure = settings.production

    def _cookie(self, value: str, max_age: int) -> str:
        parts = [f"{SESSION_COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax", f"Max-Age={max_age}"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/static/", "/api/", "/healthz")):
            await self.app(scope, receive, send)
            return
        token = _cookies(scope).get(SESSION_COOKIE, "")
        session = await accounts.load_session(token) if token else None
        data: dict[str, Any] = dict(session.data) if session else {}
        scope["session"] = data
        scope["user"] = session.user if session else None
        scope["civic.session"] = session
        before = repr(sorted(data.items()))

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                lifetime = int(accounts.SESSION_LIFETIME.total_seconds())
                user_agent = dict(scope["headers"]).get(b"user-agent", b"").decode("latin-1")
                if scope.get("civic.signin") is not None:
                    new_token = await accounts.signin(token, scope["civic.signin"], scope["session"], user_agent)
                    headers.append("set-cookie", self._cookie(new_token, lifetime))
                elif scope.get("civic.signout"):
                    if token:
                        await accounts.signout(token)
                    headers.append("set-cookie", self._cookie("", 0))
                elif repr(sorted(scope["session"].items())) != before:
                    if session is not None:
                        await accounts.save_session_data(session, scope["session"])
                    else:
                        new_token, _ = await accounts.open_session(scope["session"], user_agent=user_agent)
                        headers.append("set-cookie", self._cookie(new_token, lifetime))
            await send(message)

        await self.app(scope, receive, send_with_session)


# Percent-encoded characters no one types (as civic.schemes.text.typable), in a query string.
_UNTYPABLE_ESCAPE = re.compile(rb"%(?:0[0-8bcef]|1[0-9a-f]|7f)", re.IGNORECASE)


class TypableURLMiddleware:
    """Drops characters no one types (NUL and the other control characters) from the path and query.

    No page has one in its address, and a NUL that reached PostgreSQL (in a scheme's slug, or the
    officer's concern search) was refused there: a 500. What is left is an address anyone could have
    typed, and is answered as that (usually a 404).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, query = scope["path"], scope.get("query_string", b"")
            clean_path, clean_query = typable(path), _UNTYPABLE_ESCAPE.sub(b"", query)
            if clean_path != path or clean_query != query:
                scope = {**scope, "path": clean_path, "query_string": clean_query}
        await self.app(scope, receive, send)


class MailAfterAnswerMiddleware:
    """E-mail a page sends goes once the page has answered (`civic.mail.after_answer`), not before it.

    Outside the admission queue, so a slow relay holds no place that pages need either.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with mail.after_answer():
            await self.app(scope, receive, send)


class CouncilMiddleware:
    """Puts the council this request is for into scope['council'], and the user's roles there.

    Councils' own host names are read together, at most every CIVIC_COUNCIL_CACHE_SECONDS (council rows
    change rarely: an admin edits branding). Any other Host
    header (anyone can send any, and CIVIC_TRUSTED_HOSTS allows every one by default) is for the
    fallback council; the last OTHER_HOSTS of those are remembered, so that a council made a moment
    ago is found at once, while junk Host headers cannot grow the process without bound.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.default_slug = settings.default_council
        self._hosts: Kept[Hosts] = Kept(1, lifetime=settings.council_cache_seconds)
        self._other_hosts: Kept[bool] = Kept(OTHER_HOSTS, lifetime=settings.council_cache_seconds)

    async def _read_hosts(self) -> Hosts:
        return self._hosts.put("hosts", await read_hosts(self.default_slug))

    async def _council(self, host: str) -> Council | None:
        host = host_name(host)  # once: Hosts takes names as this gives them
        hosts = self._hosts.get("hosts")
        if hosts is None or not (hosts.knows(host) or self._other_hosts.get(host)):
            hosts = await self._read_hosts()
            if not hosts.knows(host):
                self._other_hosts.put(host, True)
        return hosts.council_for(host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        scope["council"] = await self._council(host)
        user = scope.get("user")
        roles: set[str] = set()
        if user is not None and scope["council"] is not None:
            session = scope.get("civic.session")
            known = session.roles if session is not None and session.user is user else await accounts.roles_of(user)
            roles = known.get(scope["council"].id, set())
        scope["roles"] = roles
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy (no inline script or style) and the other protective headers."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        csp = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self' data: https:",
                "connect-src 'self'",
                "font-src 'self'",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        protective = {
            "content-security-policy": csp,
            "x-content-type-options": "nosniff",
            "referrer-policy": "strict-origin-when-cross-origin",
            "x-frame-options": "DENY",
            "permissions-policy": "camera=(), microphone=(), geolocation=()",
        }
        if settings.production:
            protective["strict-transport-security"] = "max-age=63072000; includeSubDomains"
        # Added as raw headers where a response has not set its own: one pass over its headers, where
        # setting each through MutableHeaders searched them once per header.
        self.headers = [(name.encode(), value.encode()) for name, value in protective.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        immutable = scope["path"].startswith("/static/") and b"v=" in scope.get("query_string", b"")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                if not isinstance(headers, list):
                    headers = message["headers"] = list(headers)
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in self.headers if header[0] not in present)
                if immutable:
                    headers[:] = [h for h in headers if h[0].lower() != b"cache-control"]
                    headers.append((b"cache-control", b"public, max-age=31536000, immutable"))
                elif b"cache-control" not in present:
                    # Pages may carry personal data and CSRF tokens: never keep them in a shared cache.
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HtmxRedirectMiddleware:
    """After an htmx form post, a 303 becomes HX-Redirect: the browser, not the XHR, follows it.

    Without this, htmx would follow the redirect inside its request and swap the next page into
    the form's target, leaving the address bar behind.

    A redirect to the page the form is on, at an anchor (news posted: `/schemes/x/news#post-6`), is
    only a jump within the page to a browser, which would leave the form filled in, no message and
    no new post: people posted again. HX-Refresh then has htmx load the page afresh at that anchor.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        if headers.get(b"hx-request") != b"true" or headers.get(b"hx-boosted") == b"true":
            await self.app(scope, receive, send)
            return

        async def send_hx_redirect(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (302, 303):
                response_headers = MutableHeaders(scope=message)
                location = response_headers.get("location", "/")
                del response_headers["location"]
                response_headers["HX-Redirect"] = location
                if _only_the_anchor_moves(headers.get(b"hx-current-url", b"").decode("latin-1"), location):
                    response_headers["HX-Refresh"] = "true"
                message["status"] = 200
            await send(message)

        await self.app(scope, receive, send_hx_redirect)


def _only_the_anchor_moves(current: str, location: str) -> bool:
    """Whether going from the page at `current` to `location` would only move to an anchor on it."""
    if "#" not in location or not current:
        return False
    here, there = urlsplit(current), urlsplit(location)
    if not there.path and not there.query:  # "#post-6"
        return True
    return (there.path, there.query) == (here.path, here.query) and there.netloc in ("", here.netloc)


class MultipartCSRFMiddleware:
    """Hands asgi-csrf the token of a multipart form (a file upload) as the X-CSRFToken header it accepts.

    asgi-csrf 0.11 reads multipart bodies with an API python-multipart 0.0.34 no longer has, so
    every upload would fail with a 500. The body is read here (up to MAX_BYTES) and its csrftoken
    field compared with the cookie, as asgi-csrf would; then the body is replayed.
    """

    MAX_BYTES = 25 * 1024 * 1024
    TOKEN = re.compile(rb'name="csrftoken"\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z0-9_.\-]+)\r\n')

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        if scope["type"] != "http" or scope["method"] != "POST" or b"x-csrftoken" in headers or not headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body") or size > self.MAX_BYTES:
                break
        found = self.TOKEN.search(b"".join(m.get("body", b"") for m in messages))
        cookie = _cookies(scope).get("csrftoken", "").encode()
        if found and cookie and secrets.compare_digest(found.group(1), cookie):
            scope = {**scope, "headers": [*scope["headers"], (b"x-csrftoken", found.group(1))]}
        elif not scope["path"].startswith("/api/"):
            # Left as multipart, asgi-csrf would crash reading it; as an unknown type it refuses with a 403.
            scope = {**scope, "headers": [(k, b"application/x-unchecked-multipart" if k == b"content-type" else v) for k, v in scope["headers"]]}

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def busy_page(council: Council | None) -> bytes:
    """The "very busy" page: no session, user or CSRF token, so one copy serves everyone at a host."""
    return templates.env.get_template("errors/busy.html").render(council=council, static_url=static_url).encode()


class AdmissionMiddleware:
    """Past capacity, concerns go first and anonymous browsing is turned away.

    When a local story sends a crowd, every request would join one queue per process, and someone
    telling the council about a child at risk would wait behind hundreds of people reading the
    directory. So each process works on at most `in_hand` requests at once (CIVIC_MAX_IN_HAND);
    others wait their turn in order of arrival, except:

    - concerns (`/concerns...`, the form and officers' triage) go straight in, never waiting;
    - signing in goes straight in too: it waits on the mail relay or the identity provider, and a
      slow one must not hold places that pages need;
    - while `shed_at` requests are already waiting (CIVIC_SHED_AT), a page requested by someone not
      signed in gets a short 503 "very busy" page with Retry-After instead of joining the queue.
      Forms sent (POST), signed-in people (voters on a round's last evening, officers) and the API
      wait their turn rather than being turned away.

    Work is CPU-bound once it is in hand (templates, the ORM), so a few places keep the processor
    as busy as many: more places only make each answer, a concern's included, wait behind more
    others. A request holds its place while its body arrives, so a client uploading slowly holds
    one. CIVIC_MAX_IN_HAND=0 turns all this off.
    """

    STRAIGHT_IN = ("/concerns", "/signin", "/static/", "/healthz")
    KEPT_OPEN = ("/api/",)
    RETRY_AFTER = "30"

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.in_hand = settings.max_in_hand
        self.shed_at = settings.shed_at
        self.default_slug = settings.default_council
        self.working = 0
        self.waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._pages: Kept[bytes] = Kept(64, lifetime=300)  # per host name: the council's phone numbers

    def _sheddable(self, scope: Scope) -> bool:
        if scope["method"] not in ("GET", "HEAD") or scope["path"].startswith(self.KEPT_OPEN):
            return False
        return SESSION_COOKIE not in _cookies(scope)

    async def _busy_page(self, scope: Scope) -> bytes:
        async def render() -> bytes:
            return busy_page(await council_for_host(host, self.default_slug))

        host = host_name(dict(scope["headers"]).get(b"host", b"").decode("latin-1"))
        return await self._pages.fetch(host, render)

    async def _turn_away(self, scope: Scope, send: Send) -> None:
        body = await self._busy_page(scope)
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", self.RETRY_AFTER.encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.in_hand or scope["path"].startswith(self.STRAIGHT_IN):
            await self.app(scope, receive, send)
            return
        if self.working >= self.in_hand or self.waiting:
            if len(self.waiting) >= self.shed_at and self._sheddable(scope):
                await self._turn_away(scope, send)
                return
            turn = asyncio.get_running_loop().create_future()
            self.waiting.append(turn)
            try:
                await turn  # the finishing request hands its place over: `working` stays counted
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._next()  # given a place just as the client went: pass it on
                elif turn in self.waiting:  # (_next may already have dropped it)
                    self.waiting.remove(turn)
                raise
        else:
            self.working += 1

        async def receive_or_gone() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()  # asgi-csrf would fail an assertion on it, as a 500
            return message

        try:
            await self.app(scope, receive_or_gone, send)
        except ClientDisconnect:
            pass  # they gave up while waiting their turn: nobody is left to answer
        finally:
            self._next()

    def _next(self) -> None:
        """Give this request's place to the longest waiting, or free it."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.working -= 1
