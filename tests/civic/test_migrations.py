"""The migrations in migrations/ describe the models exactly: nobody forgot a makemigrations."""

from __future__ import annotations

import json
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


# Voting codes printed before 0010 were stored as they read. The migration encrypts them and adds the
# digest they are found by; a code on a letter already posted must still vote, and once only.
CODES_BEFORE_0010 = ["ABCDEFGHJKMN", "PQRSTUVWXYZ2", "3456789ABCDE"]


async def _codes_across_0010(url: str) -> dict:
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate

    from civic import crypto, db, voting
    from civic.errors import Invalid
    from tortoise.exceptions import IntegrityError

    from civic.voting.models import Ballot, CodeBatch, VotingCode
    from tests.factories import create_council_ok, create_round_ok, create_user_ok, priorities_of, shares_form

    await migrate(config=db.tortoise_config(url), target="civic.0009_outgoing_email_council")
    await db.start(url)  # today's models: only voting_code differs from the tables at 0009
    council = await create_council_ok()
    round_ = await create_round_ok(council, status="draft", eligibility="codes")
    batch = await CodeBatch.create(council=council, round=round_, label="posted in November", size=len(CODES_BEFORE_0010))
    connection = Tortoise.get_connection("default")
    mark = "$1, $2, $3, $4" if db.is_postgres() else "?, ?, ?, ?"
    for code in CODES_BEFORE_0010:
        await connection.execute_query(f"INSERT INTO voting_code (council_id, round_id, batch_id, code) VALUES ({mark})", [council.id, round_.id, batch.id, code])
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        _, rows = await Tortoise.get_connection("default").execute_query("SELECT code, digest FROM voting_code ORDER BY id")
        officer = await create_user_ok(council, role="officer")
        await voting.open_round(officer, council, round_.id)
        priorities = await priorities_of(round_)
        await voting.cast_ballot(None, council, round_.id, shares_form(priorities, 100), code="abcd-efgh-jkmn")
        again = ""
        try:
            await voting.cast_ballot(None, council, round_.id, shares_form(priorities, 100), code="ABCDEFGHJKMN")
        except Invalid as error:
            again = error.errors.get("code", "")
        try:  # the digest is still unique after SQLite's table rebuilds
            await VotingCode.create(council=council, round=round_, batch=batch, code=CODES_BEFORE_0010[1], digest=VotingCode.digest_of(CODES_BEFORE_0010[1]))
            duplicate_refused = False
        except IntegrityError:
            duplicate_refused = True
        return {
            "duplicate_refused": duplicate_refused,
            "raw": [bytes(row["code"]) for row in rows],
            "digests": [row["digest"] for row in rows],
            "decrypted": [crypto.decrypt(bytes(row["code"])) for row in rows],
            "expected_digests": [crypto.digest("voting code", code) for code in CODES_BEFORE_0010],
            "ballots": await Ballot.filter(round=round_, voting_code_id__isnull=False).count(),
            "again": again,
        }
    finally:
        await db.stop()


def test_codes_printed_before_0010_are_encrypted_and_still_vote_once(tmp_path):
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CIVIC_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "tests.civic.test_migrations", str(tmp_path)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["decrypted"] == CODES_BEFORE_0010
    assert not any(code.encode().hex() in raw for code in CODES_BEFORE_0010 for raw in found["raw"])  # nothing readable left
    assert found["digests"] == found["expected_digests"]
    assert found["ballots"] == 1 and found["duplicate_refused"]
    assert "already been used" in found["again"]


def _main(data_dir: str) -> None:
    """Run by the test above in a process of its own, on SQLite or on a PostgreSQL database made for it."""
    import asyncio
    import uuid

    import asyncpg

    from civic import config

    server = os.environ.get("CIVIC_TEST_DATABASE_URL", "").replace("postgresql://", "postgres://")
    name = f"civic_migration_{uuid.uuid4().hex[:10]}"
    url = server.rsplit("/", 1)[0] + "/" + name if server else f"sqlite://{data_dir}/before-0010.sqlite3"
    config.use(config.load({"CIVIC_ENV": "test", "CIVIC_DATABASE_URL": url, "CIVIC_DATA_DIR": data_dir}, env_file=Path(data_dir) / "none.env"))

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(server.replace("postgres://", "postgresql://").rsplit("/", 1)[0] + "/postgres")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def run() -> dict:
        if server:
            await admin(f'CREATE DATABASE "{name}"')
        try:
            found = await _codes_across_0010(url)
        finally:
            if server:
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return {key: [value.hex() if isinstance(value, bytes) else value for value in values] if isinstance(values, list) and key == "raw" else values for key, values in found.items()}

    print(json.dumps(asyncio.run(run())))


if __name__ == "__main__":
    _main(sys.argv[1])
