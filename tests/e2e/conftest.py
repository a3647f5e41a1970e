"""Browser journeys: the real app served by uvicorn, Debian's Chromium driven by Playwright, axe-core."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.peers import free_port, need

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CIVIC_TEST_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}
# axe-core rule sets: WCAG 2.0, 2.1 and 2.2 at A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def pytest_collection_modifyitems(session, config, items) -> None:
    """Run the browser journeys last: the live server's worker loop writes to the same SQLite file, and a
    second process writing while in-process tests do makes SQLite answer "database is locked"."""
    here = str(Path(__file__).parent)
    items.sort(key=lambda item: str(item.path).startswith(here))


@pytest.fixture(scope="session")
async def e2e_council(database: str):
    """The council the live server serves by default (the browser visits it at 127.0.0.1)."""
    from tests.factories import create_council_ok

    return await create_council_ok(name="Eastbrook District Council", brand_colour="#6f2c91")


async def _leave_the_worker_nothing_to_catch_up() -> None:
    """Do here, before the live server starts, the background work earlier tests left due.

    Tests run no worker, so hundreds of e-mails (and rounds past their closing time) wait when the live
    server starts. On SQLite its worker's writes while it catches up would meet a journey's own first
    writes, and a transaction that read before the other process wrote is refused at once ("database
    is locked"), however long it would wait. One pass in this process, and the rest of the e-mail if
    there is more than one pass sends, leaves the server's worker only the journeys' work.
    """
    from civic import mail, worker

    await worker.run_once()
    while await mail.deliver_due():
        pass


@contextlib.contextmanager
def _serving(settings, e2e_council, mailbox, **extra_env: str) -> Iterator[str]:
    """`civic`'s app served by uvicorn in its own process, on the test database; yields its address."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CIVIC_ENV": "test",
        "CIVIC_DATABASE_URL": settings.database_url,
        "CIVIC_DATA_DIR": settings.data_dir,
        "CIVIC_SECRET_KEY": settings.secret_key,
        "CIVIC_ENCRYPTION_KEYS": settings.encryption_keys,
        "CIVIC_BASE_URL": base_url,
        "CIVIC_SMTP_HOST": "127.0.0.1",
        "CIVIC_SMTP_PORT": str(mailbox.port),
        "CIVIC_DEFAULT_COUNCIL": e2e_council.slug,
        "CIVIC_WORKER_INTERVAL": "0.2",
        "CIVIC_ALLOW_PRIVATE_WEBHOOK_URLS": "true",
        # schemathesis sends hundreds of bad keys from 127.0.0.1; the limit has its own test in tests/routes.
        "CIVIC_API_FAILED_KEY_RATE": "100000/minute",
        "CIVIC_PUBLIC_CACHE_SECONDS": "0",  # journeys search for what they have just approved
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }
    log = open(Path(settings.data_dir) / f"live-server-{port}.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "routes:app_factory", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the live server did not start: " + Path(log.name).read_text()[-2000:])
        time.sleep(0.1)
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
async def live_server(settings, e2e_council, mailbox) -> AsyncIterator[str]:
    """The live server the journeys use, with the worker loop."""
    await _leave_the_worker_nothing_to_catch_up()
    with _serving(settings, e2e_council, mailbox, _CIVIC_IN_PROCESS_WORKER="1") as base_url:
        yield base_url


@pytest.fixture(scope="session")
async def kept_pages_server(settings, e2e_council, mailbox) -> AsyncIterator[str]:
    """A second server that keeps public pages as production does (and runs no worker: one is enough)."""
    with _serving(settings, e2e_council, mailbox, CIVIC_PUBLIC_CACHE_SECONDS="3600") as base_url:
        yield base_url


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[object]:
    need(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, "Debian's chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        await browser.close()


@pytest.fixture
async def phone(chromium, live_server) -> AsyncIterator[object]:
    """A new page on a 360×740 phone screen, JavaScript on."""
    context = await chromium.new_context(viewport=PHONE, base_url=live_server, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def phone_without_js(chromium, live_server) -> AsyncIterator[object]:
    """The same phone with JavaScript turned off: every form must still work."""
    context = await chromium.new_context(viewport=PHONE, base_url=live_server, java_script_enabled=False)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture(scope="session")
def axe_source(node_peers: Path) -> str:
    return (node_peers / "node_modules" / "axe-core" / "axe.min.js").read_text()


@pytest.fixture
def check_accessibility(axe_source: str):
    """Run axe-core on the page as it is now; fail with every violation listed."""

    async def check(page) -> None:
        if not await page.evaluate("typeof axe !== 'undefined'"):
            await page.evaluate(axe_source)  # DevTools evaluation: our CSP rightly forbids injected scripts
        result = await page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(json.dumps(n["target"]) for n in v["nodes"][:5])
            for v in result["violations"]
        ]
        assert not violations, f"axe-core found on {page.url}:\n" + "\n".join(violations)
        # WCAG reflow: on a phone the page never scrolls sideways.
        # (Against the screen's width: a mobile browser widens window.innerWidth to fit what overflows.)
        width, screen = await page.evaluate("document.documentElement.scrollWidth"), page.viewport_size["width"]
        assert width <= screen, f"{page.url} is {width} px wide on a {screen} px screen: it scrolls sideways"
        return None

    return check


async def signin_in_browser(page, base_url: str, user) -> None:
    """Give the browser a signed-in session for this user (the sign-in journey has its own test)."""
    from civic import accounts
    from routes.middleware import SESSION_COOKIE

    token, _ = await accounts.open_session(user=user)
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url}])
