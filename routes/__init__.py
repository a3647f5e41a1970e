"""The HTTP side of civic: the Starlette application and its routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from asgi_csrf import asgi_csrf
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount
from starlette.types import ASGIApp

from civic import config, db, worker
from civic.config import Settings
from routes import accounts, admin, api, calendars, concerns, council_settings, errors, events, help_requests, home, moderation, officers, oidc, openreferral, rota, routing, schemes, volunteering, voting, webhooks
from routes.access_log import hide_secrets_from
from routes.middleware import (
    AdmissionMiddleware,
    CouncilMiddleware,
    ForwardedForMiddleware,
    HtmxRedirectMiddleware,
    MailAfterAnswerMiddleware,
    MultipartCSRFMiddleware,
    OwnCookiesMiddleware,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    TypableURLMiddleware,
)
from routes.web import GZIP_MINIMUM, STATIC, PrecompressedStaticFiles, templates

log = logging.getLogger("civic")

# uvicorn writes each request's URL to this log; sign-in links, status keys and voting codes travel in URLs.
hide_secrets_from(logging.getLogger("uvicorn.access"))

# Paths that take no CSRF token: the JSON API, authenticated by bearer keys and never by cookies.
CSRF_EXEMPT_PREFIXES = ("/api/",)


class _EveryPathExceptAPI:
    """For asgi-csrf's `always_protect`: check the token even when a request carries no cookies."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not path.startswith(CSRF_EXEMPT_PREFIXES)


def csrf_protection(app: ASGIApp, settings: Settings) -> ASGIApp:
    """asgi-csrf around the app: a token on every form and htmx request, the API excepted."""
    return asgi_csrf(
        app,
        signing_secret=settings.secret_key,
        cookie_secure=settings.production,
        always_protect=_EveryPathExceptAPI(),
        skip_if_scope=lambda scope: scope["path"].startswith(CSRF_EXEMPT_PREFIXES),
        send_csrf_failed=errors.csrf_failed,
    )


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> Starlette:
    """The application for these settings; `run_worker` runs the background loop in-process."""
    settings = config.use(settings or config.load())
    # Re-reading templates from disk on every render is for development only.
    templates.env.auto_reload = not settings.production

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.start(settings.database_url)
        # Objects alive after start-up (modules, templates, the ORM's metadata) live as long as the
        # process: moving them out of the collector's reach keeps its pauses short under load.
        gc.collect()
        gc.freeze()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run_forever(settings.worker_interval, stop)) if run_worker else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await db.stop()

    # Routes are filed by their path's first word (routes.routing): a request tries only its own
    # word's routes, in this order. No URL is matched by two areas' routes
    # (test_routes_of_one_area_never_shadow_anothers), so the order of areas changes nothing.
    routes = [
        *schemes.routes,
        *voting.routes,
        *concerns.routes,
        *accounts.routes,
        *home.routes,
        *oidc.routes,
        *officers.routes,
        *admin.routes,
        *council_settings.routes,
        *volunteering.routes,
        *help_requests.routes,
        *rota.routes,
        *events.routes,
        *calendars.routes,
        *moderation.routes,
        *openreferral.routes,
        *webhooks.routes,
        *api.routes,
        Mount("/static", PrecompressedStaticFiles(directory=STATIC), name="static"),
    ]
    allowed_hosts = [h.strip() for h in settings.trusted_hosts.split(",") if h.strip()] or ["*"]
    middleware = [
        # First, and before any middleware copies the scope: uvicorn's access log then shows the visitor too.
        Middleware(ForwardedForMiddleware, settings=settings),
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts),
        Middleware(TypableURLMiddleware),
        Middleware(OwnCookiesMiddleware),
        Middleware(MailAfterAnswerMiddleware),
        # Pages at level 2: a 28.7 KB ballot page compresses to 3.37 KB in 44 µs, against 3.20 KB in 96 µs
        # at level 4 and 3.04 KB in 128 µs at 6 (Starlette's default is 9). Static assets come
        # compressed at level 9, once (PrecompressedStaticFiles).
        Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM, compresslevel=2),
        Middleware(SecurityHeadersMiddleware, settings=settings),
        Middleware(AdmissionMiddleware, settings=settings),
        Middleware(MultipartCSRFMiddleware),
        Middleware(csrf_protection, settings=settings),
        Middleware(HtmxRedirectMiddleware),
        Middleware(SessionMiddleware, settings=settings),
        Middleware(CouncilMiddleware, settings=settings),
    ]
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=middleware,
        exception_handlers=errors.handlers,
        lifespan=lifespan,
    )
    routing.index(app.router)
    app.state.settings = settings
    app.state.oauth = oidc.registry(settings)
    return app


def app_factory() -> Starlette:
    """What `civic serve` hands to uvicorn: the app, with the worker loop when serving alone."""
    import os

    return create_app(run_worker=os.environ.get("_CIVIC_IN_PROCESS_WORKER") == "1")
