"""The migrations in migrations/ describe the models exactly: nobody forgot a makemigrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_models_and_migrations_agree(tmp_path):
    # In its own process: initialising Tortoise for another database rebinds the models globally.
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CIVIC_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "civic.cli", "migrate", "--check"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Every model change has a migration." in result.stdout
