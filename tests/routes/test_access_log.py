"""The logs keep no secret that travelled in a URL: sign-in links, status keys, voting codes, private feeds."""

from __future__ import annotations

import logging

import pytest

import routes  # noqa: F401 - building the app's package puts the filter on uvicorn's access log

SECRET = "AbCdEf0123456789s3cr3t-KEY_x"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def access_log_line(path: str) -> str:
    """What uvicorn writes for one request to `path`, through its own logger and format."""
    logger = logging.getLogger("uvicorn.access")
    lines = Lines()
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", path, "1.1", 200)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    return lines.lines[0]


@pytest.mark.parametrize(
    "path, kept",
    [
        (f"/signin/link/{SECRET}", "/signin/link/[hidden] "),
        (f"/concerns/status/ABCD-2345/{SECRET}?sent=1", "/concerns/status/ABCD-2345/[hidden]?sent=1"),
        (f"/calendars/{SECRET}.ics", "/calendars/[hidden].ics"),
        (f"/rounds/report/stop/{SECRET}", "/rounds/report/stop/[hidden] "),
        (f"/account/email/confirm/{SECRET}", "/account/email/confirm/[hidden] "),
        (f"/rounds/7/ballot?code={SECRET}", "/rounds/7/ballot?code=[hidden] "),
        (f"/rounds/7/ballot?lang=en&code={SECRET}&x=1", "/rounds/7/ballot?lang=en&code=[hidden]&x=1"),
        (f"/rounds/7/ballots?receipt={SECRET}&page=2", "/rounds/7/ballots?receipt=[hidden]&page=2"),
        (f"/signin/oidc/staff/callback?code={SECRET}&state={SECRET}", "/signin/oidc/staff/callback?code=[hidden]&state=[hidden] "),
    ],
)
def test_the_access_log_never_keeps_a_secret_that_travelled_in_a_url(path, kept):
    line = access_log_line(path)
    assert "s3cr3t" not in line
    assert kept in line


@pytest.mark.parametrize("path", ["/rounds/7/ballot?page=2", "/schemes/allotments/calendar.ics", "/concerns/new/about?change=1", "/signin?next=/rounds/7"])
def test_the_access_log_keeps_urls_that_carry_no_secret_as_they_are(path):
    assert access_log_line(path) == f'10.0.0.1:5000 - "GET {path} HTTP/1.1" 200'


async def test_an_unexpected_errors_log_line_keeps_no_secret_from_the_url(settings, database, council, caplog):
    import httpx
    from starlette.routing import Route

    from civic import config
    from routes import create_app

    async def broken(request):
        raise RuntimeError("a bug")

    app = create_app(settings)
    app.router.routes.insert(0, Route("/signin/link/{token}", broken))
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{council.hostnames}") as browser:
            with caplog.at_level(logging.ERROR, logger="civic.errors"):
                response = await browser.get(f"/signin/link/{SECRET}")
    finally:
        config.use(settings)
    assert response.status_code == 500
    logged = [r.getMessage() for r in caplog.records if r.name == "civic.errors"]
    assert logged == ["unhandled error on GET /signin/link/[hidden]: RuntimeError"]
