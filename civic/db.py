"""The database: Tortoise configuration, start-up, migrations and transactions."""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as _migrate
from tortoise.models import Model
from tortoise.transactions import in_transaction

from civic import config

# Every module holding models. The single app label "civic" keeps one migration history.
MODEL_MODULES = [
    "civic.councils",
    "civic.accounts",
    "civic.audit",
    "civic.mail",
    "civic.concerns.models",
    "civic.schemes.models",
    "civic.schemes.running",
    "civic.voting.models",
    "civic.webhooks.models",
]

__all__ = ["in_transaction", "tortoise_config", "start", "stop", "migrate", "TORTOISE_ORM", "rows", "columns", "from_row", "as_id", "page_number"]  # noqa: F822 (TORTOISE_ORM comes from __getattr__, built when asked)

M = TypeVar("M", bound=Model)

INT_ID_MAX = 2**31 - 1  # the ids of IntField primary keys
BIGINT_ID_MAX = 2**63 - 1  # the ids of BigIntField primary keys (outgoing e-mail, webhook deliveries)


def as_id(raw: object, largest: int = INT_ID_MAX) -> int:
    """A row id from a path, a form or a query; anything else, or more than the column holds, is 0.

    No row has id 0, so a lookup finds nothing and a choice is refused as any unknown one is. Handing
    the database a 30-digit number instead is refused by it (OverflowError on SQLite, out of range on
    PostgreSQL): a 500.
    """
    text = str(raw).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= largest else 0


PAGE_MAX = 100_000  # further than anyone pages, and an offset the database takes


def page_number(raw: object) -> int:
    """A page number from a query; anything else is the first page."""
    number = as_id(raw)
    return number if 0 < number <= PAGE_MAX else 1


def tortoise_config(database_url: str, pool_size: int | None = None) -> dict[str, Any]:
    """Tortoise configuration for one database URL (and, on PostgreSQL, the most connections to pool)."""
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    if pool_size and database_url.startswith("postgres://") and "maxsize=" not in database_url:
        # Tortoise pools 5 connections by default: too few when requests wait on row locks.
        database_url += ("&" if "?" in database_url else "?") + f"maxsize={pool_size}"
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("postgres://"):
        connection = expand_db_url(database_url)
        connection["credentials"]["reset"] = _release_connection
    return {
        "connections": {"default": connection},
        "apps": {
            "civic": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def _release_connection(connection: Any) -> None:
    """What asyncpg runs as a pooled connection goes back, after rolling back any open transaction.

    Tortoise takes a connection from the pool for every query outside a transaction, and asyncpg's
    default reset then sends a second query (unlock advisory locks, close cursors, UNLISTEN, RESET ALL)
    to undo session state. civic sets none of that state, so the round trip is skipped: every query
    outside a transaction costs one round trip instead of two. Code that sets session state (SET,
    LISTEN, session advisory locks, cursors outside a transaction) must bring the reset back.
    """


def _tortoise_orm() -> dict[str, Any]:
    # The `tortoise` command (makemigrations) reads this; CIVIC_DATABASE_URL picks the database.
    url = os.environ.get("CIVIC_DATABASE_URL") or config.load().database_url
    return tortoise_config(url)


def __getattr__(name: str) -> Any:
    if name == "TORTOISE_ORM":
        return _tortoise_orm()
    raise AttributeError(name)


async def start(database_url: str) -> None:
    """Open the connection pool for this process."""
    pool_size = config.current().database_pool_size
    await Tortoise.init(config=tortoise_config(database_url, pool_size), _enable_global_fallback=True)


async def stop() -> None:
    await Tortoise.close_connections()


# The PostgreSQL advisory lock `migrate` holds (a fixed key, in the database migrated: advisory locks are
# per database). Two servers starting together would otherwise both apply the same migration, and one
# dies (DuplicateColumnError).
MIGRATION_LOCK = 0x6369766963  # "civic" in ASCII


async def migrate(database_url: str) -> None:
    """Apply every pending migration; on PostgreSQL, one process at a time (the others wait, then find nothing to do)."""
    config = tortoise_config(database_url)
    async with _migration_lock(config["connections"]["default"]):
        await _migrate(config=config)
        await Tortoise.close_connections()


@contextlib.asynccontextmanager
async def _migration_lock(connection: str | dict[str, Any]) -> AsyncIterator[None]:
    """Hold MIGRATION_LOCK on a connection of its own, outside Tortoise's pool. SQLite needs none: one file, one writer."""
    if isinstance(connection, str):
        yield
        return
    import asyncpg

    credentials = connection["credentials"]
    holder = await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database=credentials.get("database"),
        ssl=credentials.get("ssl"),
    )
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            yield
        finally:
            await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    finally:
        await holder.close()


async def unmigrated_changes(database_url: str) -> list[str]:
    """Model changes that no migration in migrations/ describes yet (empty when all is written down)."""
    from tortoise.context import TortoiseContext
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = tortoise_config(database_url)
    apps = {label: dict(app) for label, app in config["apps"].items()}
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, apps).changes()
        return [f"{type(op).__name__} in {w.name}" for w in writers for op in w.operations]


def is_postgres() -> bool:
    return Tortoise.get_connection("default").capabilities.dialect == "postgres"


# Hand-written statements, for the few queries every signed-in request runs (the session, the round, the
# ballot). Tortoise builds each query anew through pypika, which costs several times what running it
# does; these run a fixed SQL text, which asyncpg also prepares once per connection. Everything else
# goes through the ORM.


@functools.lru_cache(maxsize=256)
def _placeholders(sql: str, postgres: bool) -> str:
    """`?` placeholders as the database wants them: `$1, $2, ...` on PostgreSQL."""
    if not postgres:
        return sql
    numbers = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


async def rows(sql: str, *values: Any) -> list[dict[str, Any]]:
    """The rows a hand-written statement returns (`?` placeholders), inside the current transaction if there is one."""
    connection = connections.get("default")
    return await connection.execute_query_dict(_placeholders(sql, is_postgres()), list(values))


@functools.lru_cache(maxsize=64)
def columns(model: type[Model], alias: str, prefix: str = "") -> str:
    """A model's columns for a SELECT list, from table alias `alias`, each named `prefix` + column."""
    return ", ".join(f'"{alias}"."{c}" AS "{prefix}{c}"' for c in model._meta.db_fields)


def from_row(model: type[M], row: dict[str, Any], prefix: str = "") -> M:
    """A model instance from a row read with `columns(model, alias, prefix)`, converted as Tortoise would."""
    if prefix:
        row = {c: row[prefix + c] for c in model._meta.db_fields}
    return model._init_from_db(**row)
