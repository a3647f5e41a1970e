"""What the benchmarks share: a PostgreSQL database of their own, and bulk loading of realistic rows."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg

from civic import config, db

SERVER = os.environ.get("CIVIC_BENCH_DATABASE_URL", os.environ.get("CIVIC_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))


def _admin(url: str) -> str:
    return url.replace("postgres://", "postgresql://").rsplit("/", 1)[0] + "/postgres"


@contextlib.asynccontextmanager
async def bench_database(data_dir: Path) -> AsyncIterator[str]:
    """A fresh PostgreSQL database, migrated and connected, dropped afterwards."""
    name = f"civic_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_admin(SERVER))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = SERVER.replace("postgresql://", "postgres://").rsplit("/", 1)[0] + "/" + name
    config.use(config.load({"CIVIC_DATABASE_URL": url, "CIVIC_DATA_DIR": str(data_dir)}, env_file=data_dir / "none.env"))
    try:
        await db.migrate(url)
        await db.start(url)
        yield url
    finally:
        await db.stop()
        admin = await asyncpg.connect(_admin(SERVER))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def copy_rows(url: str, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Load rows with PostgreSQL's COPY: seconds for hundreds of thousands of rows."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
    try:
        await connection.copy_records_to_table(table, records=rows, columns=columns)
        # Keep the id sequence ahead of the rows we numbered ourselves.
        if "id" in columns:
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))")
        await connection.execute(f'ANALYZE "{table}"')
    finally:
        await connection.close()


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    import time

    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
