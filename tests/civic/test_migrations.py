"""The migrations in migrations/ describe the models exactly: nobody forgot a makemigrations."""

from __future__ import annotations

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from civic.db import tortoise_config


async def test_models_and_migrations_agree(tmp_path):
    config = tortoise_config(f"sqlite://{tmp_path / 'check.sqlite3'}")
    apps = {label: dict(app) for label, app in config["apps"].items()}
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, apps).changes()
        pending = [(w.name, [type(op).__name__ for op in w.operations]) for w in writers]
    assert not pending, f"models changed without a migration (run tortoise makemigrations): {pending}"
