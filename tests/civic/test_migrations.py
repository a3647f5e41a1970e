"""The migrations in migrations/ describe the models exactly (nobody forgot a makemigrations) and bring existing rows along."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_models_and_migrations_agree(tmp_path):
    # In its own process: initialising Tortoise for another database rebinds the models globally.
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CIVIC_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "civic.cli", "migrate", "--check"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Every model change has a migration." in result.stdout


def _migrate(tmp_path: Path, target: str = "") -> subprocess.CompletedProcess[str]:
    """`civic migrate` on a SQLite database of its own, or only up to `target` (as an older civic would)."""
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CIVIC_DATABASE_URL", None)
    if not target:
        command = [sys.executable, "-m", "civic.cli", "migrate"]
    else:
        upto = (
            "import asyncio, sys\n"
            "from tortoise import Tortoise\n"
            "from tortoise.migrations.api import migrate\n"
            "from civic import config, db\n"
            "async def main():\n"
            "    await migrate(config=db.tortoise_config(config.load().database_url), target=sys.argv[1])\n"
            "    await Tortoise.close_connections()\n"
            "asyncio.run(main())\n"
        )
        command = [sys.executable, "-c", upto, f"civic.{target}"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _before(migration: str) -> str:
    """The migration that `migration` comes after."""
    import importlib

    return importlib.import_module(f"migrations.{migration}").Migration.dependencies[0][1]


@pytest.fixture(scope="module")
def database_before_0011(tmp_path_factory) -> Path:
    """A data folder whose database an older civic migrated, made once (migrating from nothing is slow)."""
    folder = tmp_path_factory.mktemp("before-0011")
    _migrate(folder, target=_before("0011_email_addresses_lower_case"))
    return folder


@pytest.fixture
def older(database_before_0011: Path, tmp_path: Path) -> Path:
    shutil.copytree(database_before_0011, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_addresses_differing_only_in_case_become_lower_case_and_two_accounts_are_never_merged(older):
    people = [
        "Solo.Person@example.test",  # alone: simply lower-cased
        "Officer.Name@example.test",  # older, but the newer one already has the lower-case address
        "officer.name@example.test",
        "Twin@example.test",  # neither lower-case: the older one gets it
        "TWIN@example.test",
    ]
    with sqlite3.connect(older / "civic.sqlite3") as database:
        database.executemany(
            "INSERT INTO \"user\" (email, display_name, postcode, email_verified, identity_verified, suspended, created_at) VALUES (?, '', '', 1, 0, 0, '2025-01-01 00:00:00')",
            [(email,) for email in people],
        )
        database.execute("INSERT INTO login_token (token_hash, email, next_path, created_at, expires_at) VALUES ('h', 'Solo.Person@example.test', '/', '2025-01-01', '2099-01-01')")
    result = _migrate(older)
    with sqlite3.connect(older / "civic.sqlite3") as database:
        emails = [row[0] for row in database.execute('SELECT email FROM "user" ORDER BY id')]
        token = database.execute("SELECT email FROM login_token").fetchone()[0]
    assert emails == ["solo.person@example.test", "Officer.Name@example.test", "officer.name@example.test", "twin@example.test", "TWIN@example.test"]
    assert token == "solo.person@example.test"
    assert "2 user accounts have the e-mail address of another account but for capital letters" in result.stderr
    assert "user ids 2, 5" in result.stderr


def test_endpoints_civic_switched_off_become_paused_and_an_administrators_switch_off_stays(older):
    _migrate(older, target=_before("0012_endpoints_paused_after_failures"))
    reasons = ["", "Switched off by Pat Admin: laptop stolen", "The receiving system answered 410 Gone: it no longer takes webhooks at this address.", "Every delivery has failed for 3 days, since 01 May 2025 09:00 UTC."]
    with sqlite3.connect(older / "civic.sqlite3") as database:
        database.execute("INSERT INTO council (name, slug, hostnames, logo_url, brand_colour, emergency_phone, childrens_front_door_phone, duty_email, created_at) VALUES ('C', 'c', 'c.test', '', '#000000', '999', '', '', '2025-01-01')")
        database.execute("INSERT INTO team (council_id, name, is_default, created_at) VALUES (1, 'Early help', 1, '2025-01-01')")
        database.executemany(
            "INSERT INTO keyworker_endpoint (council_id, team_id, name, url, event_types, payload_style, secret, api_key_hash, api_key_hint, status, disabled_reason, created_at, updated_at)"
            " VALUES (1, 1, 'S', 'https://x.test', '[]', 'full', x'00', ?, 'civic_kw_', ?, ?, '2025-01-01', '2025-01-01')",
            [(f"hash{n}", "disabled" if reason else "active", reason) for n, reason in enumerate(reasons)],
        )
    _migrate(older)
    with sqlite3.connect(older / "civic.sqlite3") as database:
        statuses = [row[0] for row in database.execute("SELECT status FROM keyworker_endpoint ORDER BY id")]
    assert statuses == ["active", "disabled", "paused", "paused"]


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
