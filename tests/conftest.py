"""Test fixtures: a fresh database per run, the real app over HTTP, a real SMTP server, and peers."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from civic import config, db, ratelimit
from tests.peers import Mailbox, need, start_smtp_server

ROOT = Path(__file__).resolve().parent.parent


def _admin_url(url: str) -> str:
    base, _, _ = url.rpartition("/")
    return base + "/postgres"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database made for this run and dropped after it: SQLite, or PostgreSQL if CIVIC_TEST_DATABASE_URL is set."""
    server = os.environ.get("CIVIC_TEST_DATABASE_URL", "")
    if not server:
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'civic.sqlite3'}"
        return
    import asyncpg

    name = f"civic_test_{uuid.uuid4().hex[:12]}"
    server = server.replace("postgresql://", "postgres://")

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(_admin_url(server).replace("postgres://", "postgresql://"))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free local port, collecting every message."""
    box, controller = start_smtp_server()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory) -> config.Settings:
    data_dir = tmp_path_factory.mktemp("data")
    environ = {
        "CIVIC_ENV": "test",
        "CIVIC_DATABASE_URL": database_url,
        "CIVIC_DATA_DIR": str(data_dir),
        "CIVIC_BASE_URL": "http://civic.test",
        "CIVIC_SMTP_HOST": "127.0.0.1",
        "CIVIC_SMTP_PORT": str(mailbox.port),
        "CIVIC_RATE_LIMIT_STORAGE": "memory://",
        "CIVIC_ALLOW_PRIVATE_WEBHOOK_URLS": "true",
        # Tests read back what they have just changed; test_schemes covers the kept search results.
        "CIVIC_PUBLIC_CACHE_SECONDS": "0",
    }
    return config.use(config.load(environ, env_file=data_dir / "none.env"))


@pytest.fixture(scope="session")
async def database(settings: config.Settings) -> AsyncIterator[str]:
    """The migrated test database, connected for the whole run."""
    await db.migrate(settings.database_url)
    await db.start(settings.database_url)
    yield settings.database_url
    await db.stop()


@pytest.fixture(scope="session")
def app(settings: config.Settings, database: str):
    from routes import create_app

    return create_app(settings)


@pytest.fixture
async def clean_limits() -> AsyncIterator[None]:
    await ratelimit.reset()
    yield


@pytest.fixture
async def council(database: str):
    """A council of its own for each test, with wards, reached at its own host name."""
    from tests.factories import create_council_ok

    return await create_council_ok()


@pytest.fixture
async def client(app, council):
    """A browser-like HTTP client for the test's council, talking to the real app."""
    from tests.factories import Browser

    async with Browser(app, council) as browser:
        yield browser


@pytest.fixture(scope="session")
def node_peers() -> Path:
    """tests/peers/node_modules, installed with npm on first use."""
    peers = ROOT / "tests" / "peers"
    if not (peers / "node_modules" / "oidc-provider").is_dir() or not (peers / "node_modules" / "axe-core").is_dir():
        need(shutil.which("npm") is not None and shutil.which("node") is not None, "Node.js and npm")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=peers, check=True)
    return peers
