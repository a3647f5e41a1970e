"""The migrations in migrations/ describe the models exactly: nobody forgot a makemigrations."""

from __future__ import annotations

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from civic import db
from civic.db import tortoise_config


async def test_models_and_migrations_agree(tmp_path, database):
    config = tortoise_config(f"sqlite://{tmp_path / 'check.sqlite3'}")
    apps = {label: dict(app) for label, app in config["apps"].items()}
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, apps).changes()
        pending = [(w.name, [type(op).__name__ for op in w.operations]) for w in writers]
    # The check bound the model classes to its own SQLite database: bind them back to the test database,
    # or every later query is built for SQLite (and PostgreSQL refuses it).
    await db.stop()
    await db.start(database)
    assert not pending, f"models changed without a migration (run tortoise makemigrations): {pending}"
