"""The migrations in migrations/ describe the models exactly (nobody forgot a makemigrations) and bring existing rows along."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from civic import db
from tests.peers import need

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


# The council table as it was before 0025 added contact details. The scenarios below start at older
# migrations and use today's models, which would write and read those columns: each makes its council here.
COUNCIL_BEFORE_0025 = (
    "INSERT INTO council (name, slug, hostnames, logo_url, brand_colour, emergency_phone, childrens_front_door_phone, duty_email, created_at)"
    " VALUES (?, ?, ?, '', '#1d70b8', '999', ?, ?, ?) RETURNING id"
)


async def _council_before_0025():
    """A council with its wards, as `tests.factories.create_council_ok` makes one, in the council table before 0025."""
    from tortoise import timezone

    from civic.councils import Council, import_wards
    from tests.factories import WARDS, outward

    slug = f"council-{uuid.uuid4().hex[:8]}"
    fields = {"name": "Testborough Council", "slug": slug, "hostnames": f"{slug}.test", "childrens_front_door_phone": "01632 960 000", "duty_email": f"duty@{slug}.test"}
    created_at = Council._meta.fields_map["created_at"].to_db_value(timezone.now(), Council)
    [row] = await db.rows(COUNCIL_BEFORE_0025, *fields.values(), created_at)
    council = Council(id=row["id"], **fields)
    council._saved_in_db = True
    await import_wards(council, "".join(f"{outward(council)} {digit},{name}\n" for digit, name in WARDS.items()))
    return council


async def _codes_across_0010(url: str) -> dict:
    from tortoise import Tortoise
    from tortoise.exceptions import IntegrityError
    from tortoise.migrations.api import migrate

    from civic import crypto, db, voting
    from civic.errors import Invalid
    from civic.voting.models import Ballot, CodeBatch, VotingCode
    from tests.factories import create_round_ok, create_user_ok, priorities_of, shares_form

    await migrate(config=db.tortoise_config(url), target="civic.0009_outgoing_email_council")
    await db.start(url)  # today's models: only voting_code differs from the tables at 0009
    council = await _council_before_0025()
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
            "raw": [bytes(row["code"]).hex() for row in rows],
            "digests": [row["digest"] for row in rows],
            "decrypted": [crypto.decrypt(bytes(row["code"])) for row in rows],
            "expected_digests": [crypto.digest("voting code", code) for code in CODES_BEFORE_0010],
            "ballots": await Ballot.filter(round=round_, voting_code_id__isnull=False).count(),
            "again": again,
        }
    finally:
        await db.stop()


def _across(scenario: str, tmp_path: Path) -> dict:
    """Run a scenario below in a process of its own (see `_main`), on SQLite or CIVIC_TEST_DATABASE_URL's server; what it found."""
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CIVIC_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "tests.civic.test_migrations", scenario, str(tmp_path)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_codes_printed_before_0010_are_encrypted_and_still_vote_once(tmp_path):
    found = _across("codes", tmp_path)
    assert found["decrypted"] == CODES_BEFORE_0010
    assert not any(code.encode().hex() in raw for code in CODES_BEFORE_0010 for raw in found["raw"])  # nothing readable left
    assert found["digests"] == found["expected_digests"]
    assert found["ballots"] == 1 and found["duplicate_refused"]
    assert "already been used" in found["again"]


# E-mail queued or kept before 0013 was stored as written: sign-in links, receipts, messages to people who
# raised concerns. The migration encrypts it in place; what was waiting must still go, and on SQLite the
# table must keep its indexes and the concern_email rows that cascade from it.
SIGNIN_TOKEN = "Zq3xK9wPpT0vYb7LmN2cR5sD8fG1hJ4kA6eU0iO3yQ"
SHIFT_ICS = {"filename": "shift.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR\r\nSUMMARY:Lifts to the Orchard Lane surgery\r\nEND:VCALENDAR\r\n"}
EMAIL_BEFORE_0013 = [
    # to, subject, body, attachments, status, topic
    ("pat@example.test", "Your link to sign in", f"Use this link to sign in:\n\nhttp://c.test/signin/link/{SIGNIN_TOKEN}\n", [], "pending", ""),
    ("sam@example.test", "Your shift tomorrow", "Meet Zofia at the library at 10.\n", [SHIFT_ICS], "pending", ""),
    ("lee@example.test", "Your ballot", "You gave 60 shares to Parks.\nYour receipt code: ABCD-EFGH-JKMN\n", [], "sent", "receipt 1 1"),
    ("lee@example.test", "Your ballot", "", [], "superseded", "receipt 1 1"),
    ("reporter@example.test", "Your concern", "Follow it at http://c.test/concerns/status/ABC-123/kept-secret-status-key\n", [], "pending", ""),
]
SECRETS_BEFORE_0013 = [SIGNIN_TOKEN, "Meet Zofia", "VCALENDAR", "Orchard Lane", "60 shares", "ABCD-EFGH-JKMN", "kept-secret-status-key"]


async def _email_across_0013(url: str) -> dict:
    import dataclasses

    from tortoise import Tortoise, timezone
    from tortoise.migrations.api import migrate

    from civic import config, db, mail
    from civic.concerns.models import ConcernEmail
    from civic.mail import OutgoingEmail
    from tests.factories import create_concern_ok
    from tests.peers import start_smtp_server

    async def indexes() -> list[str]:
        if db.is_postgres():
            found = await db.rows("SELECT indexdef AS sql FROM pg_indexes WHERE tablename = 'outgoing_email'")
        else:
            found = await db.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outgoing_email'")
        return sorted(str(row["sql"]) for row in found)

    await migrate(config=db.tortoise_config(url), target="civic.0012_endpoints_paused_after_failures")
    await db.start(url)  # today's models: of the tables used here, only outgoing_email differs from 0012's
    council = await _council_before_0025()
    concern, _ = await create_concern_ok(council, history=False)  # concern_event gained a column after 0012
    now = OutgoingEmail._meta.fields_map["created_at"].to_db_value(timezone.now(), OutgoingEmail)
    ids = []
    for to, subject, body, attachments, status, topic in EMAIL_BEFORE_0013:
        [row] = await db.rows(
            'INSERT INTO outgoing_email ("to", subject, body, attachments, status, topic, council_id, attempts, last_error, next_attempt_at, created_at)'
            " VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?) RETURNING id",
            to, subject, body, json.dumps(attachments), status, topic, council.id, now, now,
        )
        ids.append(row["id"])
    await ConcernEmail.create(concern=concern, email_id=ids[-1])
    indexes_before = await indexes()
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        _, stored = await Tortoise.get_connection("default").execute_query(f"SELECT body, attachments FROM outgoing_email WHERE id IN ({', '.join(map(str, ids))}) ORDER BY id")
        rows = await OutgoingEmail.filter(id__in=ids).order_by("id")
        found = {
            "stored": [[bytes(row[column]).decode("latin-1") for column in ("body", "attachments")] for row in stored],
            "bodies": [row.body for row in rows],
            "attachments": [row.attachments for row in rows],
            "indexes_before": indexes_before,
            "indexes_after": await indexes(),
            "concern_link_kept": await ConcernEmail.filter(concern=concern, email_id=ids[-1]).exists(),
        }
        box, controller = start_smtp_server()  # a real relay for what was waiting to go
        try:
            config.use(dataclasses.replace(config.current(), smtp_host="127.0.0.1", smtp_port=box.port))
            found["sent"] = await mail.deliver_due()
        finally:
            controller.stop()
        found["delivered"] = {
            str(message["To"]): [box.body(message), [[a.get_filename(), a.get_content()] for a in message.iter_attachments()]] for message in box.messages
        }
        found["statuses"] = [row.status for row in await OutgoingEmail.filter(id__in=ids).order_by("id")]
        await OutgoingEmail.filter(id=ids[-1]).delete()  # the foreign key still cascades
        found["concern_link_after_delete"] = await ConcernEmail.filter(email_id=ids[-1]).exists()
        return found
    finally:
        await db.stop()


def test_e_mail_queued_before_0013_is_encrypted_still_goes_and_keeps_its_indexes_and_concern_links(tmp_path):
    found = _across("email", tmp_path)
    for body, attachments in found["stored"]:
        assert body.startswith("gAAAAA") and attachments.startswith("gAAAAA")  # Fernet tokens
    everything = " ".join(value for row in found["stored"] for value in row)
    for secret in SECRETS_BEFORE_0013:
        assert secret not in everything, secret
    assert found["bodies"] == [body for _, _, body, _, _, _ in EMAIL_BEFORE_0013]
    assert found["attachments"] == [attachments for _, _, _, attachments, _, _ in EMAIL_BEFORE_0013]
    kept = [index for index in found["indexes_after"] if "to_digest" not in index]  # 0024 adds that one
    assert kept == found["indexes_before"] and len(kept) >= 3
    assert found["concern_link_kept"] and not found["concern_link_after_delete"]
    # What was waiting went, once; what had gone or been superseded did not go again.
    assert found["sent"] == 3 and found["statuses"] == ["sent", "sent", "sent", "superseded", "sent"]
    delivered = found["delivered"]
    assert set(delivered) == {"pat@example.test", "sam@example.test", "reporter@example.test"}
    assert f"/signin/link/{SIGNIN_TOKEN}" in delivered["pat@example.test"][0]
    assert delivered["sam@example.test"][1] == [["shift.ics", SHIFT_ICS["content"]]]
    assert "kept-secret-status-key" in delivered["reporter@example.test"][0]


# Schemes written before 0019 had no search text: the migration gives them theirs, so a search without
# accents or capitals finds them straight away rather than after their organiser next edits them.
SCHEMES_BEFORE_0019 = [
    # name, summary, description, venue
    ("Community Café", "Tea and toast", "Everyone welcome.", "The Old Chapel"),
    ("Little Ones", "Stay and play", "A CRÈCHE while you shop.", "Library"),
    ("Walkers", "Walks", "Gentle walks.", "Meet at Łódź Street"),
]


async def _schemes_across_0019(url: str) -> dict:
    from tortoise import timezone
    from tortoise.migrations.api import migrate

    from civic import db
    from civic.schemes import directory
    from civic.schemes.models import Scheme
    
    await migrate(config=db.tortoise_config(url), target="civic.0018_information_from_duplicates")
    await db.start(url)  # today's models: of the tables used here, only scheme differs from 0018's
    council = await _council_before_0025()
    now = Scheme._meta.fields_map["created_at"].to_db_value(timezone.now(), Scheme)
    for number, (name, summary, description, venue) in enumerate(SCHEMES_BEFORE_0019):
        await db.rows(
            "INSERT INTO scheme (uuid, council_id, slug, name, summary, description, times, venue, how_to_get_help, how_to_volunteer,"
            " who_for_details, safeguarding_lead_name, safeguarding_lead_role, safeguarding_lead_email, visit_in_pairs, home_visit_dbs,"
            " contact_phone, status, decline_reason, hidden, hidden_reason, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'Mondays', ?, 'Ask', '', '', 'Gwen', 'Lead', '', ?, 'none', '', 'active', '', ?, '', ?, ?)",
            Scheme._meta.fields_map["uuid"].to_db_value(uuid.uuid4(), Scheme), council.id, f"scheme-{number}", name, summary, description, venue, False, False, now, now,
        )
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        async def found(words: str) -> list[str]:
            return [scheme.name for scheme in (await directory.search(council, directory.Filters(words=words))).schemes]

        return {words: await found(words) for words in ("cafe", "creche", "lodz", "old chapel", "TOAST")}
    finally:
        await db.stop()


def test_schemes_from_before_0019_are_found_without_accents_or_capitals(tmp_path):
    found = _across("schemes", tmp_path)
    assert found == {"cafe": ["Community Café"], "creche": ["Little Ones"], "lodz": ["Walkers"], "old chapel": ["Community Café"], "TOAST": ["Community Café"]}


# Before 0021, what an officer typed when marking a delivery handled was the audit entry's reason, in plain
# text. The migration moves it, encrypted, onto the delivery; the audit entry keeps only that one was given.
HANDLED_NOTE_BEFORE_0021 = "Phoned Sam: Kai, aged 9, sleeps in the car on Orchard Lane"


async def _handled_notes_across_0021(url: str) -> dict:
    from tortoise import Tortoise, timezone
    from tortoise.migrations.api import migrate

    from civic import db
    from civic.audit import AuditLog
    from civic.webhooks.models import WebhookDelivery
    from tests.factories import create_endpoint_ok

    await migrate(config=db.tortoise_config(url), target="civic.0020_offers_reported_and_hidden")
    await db.start(url)  # today's models: of the tables used here, only webhook_delivery differs from 0020's
    council = await _council_before_0025()
    endpoint, _, _ = await create_endpoint_ok(council)
    now = WebhookDelivery._meta.fields_map["created_at"].to_db_value(timezone.now(), WebhookDelivery)
    [row] = await db.rows(
        "INSERT INTO webhook_delivery (council_id, endpoint_id, reference, event_type, webhook_id, body_bytes, status, attempts, next_attempt_at,"
        " claimed_by, last_error, replays, replay_base, created_at) VALUES (?, ?, 'ABC-123', 'concern.referred', 'msg_1', 0, 'cancelled', 8, ?, '', '', 0, 0, ?) RETURNING id",
        council.id, endpoint.id, now, now,
    )
    kept = await AuditLog.create(council=council, action="webhook.cancelled", target_type="WebhookDelivery", target_id=str(row["id"]), reason=HANDLED_NOTE_BEFORE_0021)
    # A delivery purged with its concern since: its note is in the audit log alone.
    gone = await AuditLog.create(council=council, action="webhook.cancelled", target_type="WebhookDelivery", target_id=str(row["id"] + 1000), reason="Told Kai's school")
    other = await AuditLog.create(council=council, action="endpoint.disabled", target_type="KeyWorkerEndpoint", target_id=str(endpoint.id), reason="laptop stolen")
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        _, stored = await Tortoise.get_connection("default").execute_query(f"SELECT handled_note FROM webhook_delivery WHERE id = {int(row['id'])}")
        _, audit = await Tortoise.get_connection("default").execute_query(f"SELECT id, reason FROM audit_log WHERE id IN ({kept.id}, {gone.id}, {other.id}) ORDER BY id")
        return {
            "stored": bytes(stored[0]["handled_note"]).decode("latin-1"),
            "note": (await WebhookDelivery.get(id=row["id"])).handled_note,
            "reasons": [entry["reason"] for entry in audit],
        }
    finally:
        await db.stop()


def test_notes_of_deliveries_marked_handled_before_0021_leave_the_audit_log_and_are_kept_encrypted(tmp_path):
    found = _across("handled", tmp_path)
    assert found["stored"].startswith("gAAAAA") and "Orchard Lane" not in found["stored"]
    assert found["note"] == HANDLED_NOTE_BEFORE_0021
    assert found["reasons"] == ["how the team was told is noted on the delivery", "how the team was told is noted on the delivery", "laptop stolen"]


# Before 0022, the first 300 bytes of each answer were kept as they came, and a receiver that echoes what
# it was sent put the concern there. The migration encrypts them in place and records their length.
ANSWERS_BEFORE_0022 = ['{"error": "could not file", "echo": "Kai sleeps in the car on Orchard Lane"}', "", "Accepted — merci"]


async def _answers_across_0022(url: str) -> dict:
    from tortoise import Tortoise, timezone
    from tortoise.migrations.api import migrate

    from civic import db
    from civic.webhooks.models import WebhookAttempt, WebhookDelivery
    from tests.factories import create_endpoint_ok

    async def indexes() -> list[str]:
        if db.is_postgres():
            found = await db.rows("SELECT indexdef AS sql FROM pg_indexes WHERE tablename = 'webhook_attempt'")
        else:
            found = await db.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_attempt' AND sql IS NOT NULL")
        return sorted(str(row["sql"]) for row in found)

    await migrate(config=db.tortoise_config(url), target="civic.0021_webhook_handled_notes_encrypted")
    await db.start(url)  # today's models: of the tables used here, only webhook_attempt differs from 0021's
    council = await _council_before_0025()
    endpoint, _, _ = await create_endpoint_ok(council)
    delivery = await WebhookDelivery.create(council=council, endpoint=endpoint, event_type="concern.referred", webhook_id="msg_1", next_attempt_at=timezone.now())
    now = WebhookAttempt._meta.fields_map["attempted_at"].to_db_value(timezone.now(), WebhookAttempt)
    ids = []
    for number, excerpt in enumerate(ANSWERS_BEFORE_0022, start=1):
        [row] = await db.rows(
            "INSERT INTO webhook_attempt (delivery_id, number, attempted_at, status_code, duration_ms, response_excerpt, error, worker) VALUES (?, ?, ?, 500, 12, ?, '', 'w') RETURNING id",
            delivery.id, number, now, excerpt,
        )
        ids.append(row["id"])
    indexes_before = await indexes()
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        stored = [dict(row) for row in await Tortoise.get_connection("default").execute_query_dict(f"SELECT * FROM webhook_attempt WHERE id IN ({', '.join(map(str, ids))}) ORDER BY id")]
        rows = await WebhookAttempt.filter(id__in=ids).order_by("id")
        return {
            "stored": [" ".join(bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview)) else str(v) for v in row.values()) for row in stored],
            "columns": sorted(stored[0].keys()),
            "excerpts": [row.response_excerpt for row in rows],
            "lengths": [row.response_bytes for row in rows],
            "indexes_before": indexes_before,
            "indexes_after": await indexes(),
        }
    finally:
        await db.stop()


def test_answers_kept_before_0022_are_encrypted_with_their_length(tmp_path):
    found = _across("answers", tmp_path)
    assert "response_excerpt_plain" not in found["columns"]
    assert not any(words in row for row in found["stored"] for words in ("Orchard Lane", "could not file", "merci"))
    assert found["excerpts"] == [ANSWERS_BEFORE_0022[0], None, ANSWERS_BEFORE_0022[2]]
    assert found["lengths"] == [len(excerpt.encode()) for excerpt in ANSWERS_BEFORE_0022]
    assert found["indexes_after"] == found["indexes_before"]


# Before 0023, a date cancelled because its series ended looked like one an organiser cancelled on purpose,
# but for the words civic wrote as its reason. The migration marks those, so a later last date opens them.
SHIFT_DATES_BEFORE_0023 = [
    # day, cancelled, reason
    (13, True, "The shift has stopped."),
    (20, True, "The shift no longer has this date."),
    (27, True, "Bank holiday"),
    (3, False, ""),
]


async def _shift_dates_across_0023(url: str) -> dict:
    from datetime import date, datetime, timezone

    from tortoise.migrations.api import migrate

    from civic import db
    from civic.schemes import rota
    from civic.schemes.running import ShiftOccurrence
    from tests.factories import SHIFT, create_scheme_ok, organiser_of

    await migrate(config=db.tortoise_config(url), target="civic.0022_webhook_answers_encrypted")
    await db.start(url)  # today's models: of the tables used here, scheme_shift_occurrence and council differ from 0022's
    council = await _council_before_0025()
    scheme = await create_scheme_ok(council)
    values = {**SHIFT, "starts_on": "2031-05-06", "repeat": "weekly"}  # as create_shift_ok, which reads the council back
    shift = await rota.create_shift(await organiser_of(scheme), council, scheme.slug, values, now=datetime(2031, 5, 1, tzinfo=timezone.utc))
    ids = []
    for day, cancelled, reason in SHIFT_DATES_BEFORE_0023:
        on = date(2031, 5 if day > 6 else 6, day)
        starts = ShiftOccurrence._meta.fields_map["starts_at"].to_db_value(datetime(on.year, on.month, on.day, 9, tzinfo=timezone.utc), ShiftOccurrence)
        [row] = await db.rows(
            'INSERT INTO scheme_shift_occurrence (shift_id, "on", starts_at, ends_at, place, moved, cancelled, cancel_reason) VALUES (?, ?, ?, ?, \'\', ?, ?, ?) RETURNING id',
            shift.id, on, starts, starts, False, cancelled, reason,
        )
        ids.append(row["id"])
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        return {"off_the_series": [row.off_the_series for row in sorted(await ShiftOccurrence.filter(id__in=ids), key=lambda row: ids.index(row.id))]}
    finally:
        await db.stop()


def test_dates_cancelled_before_0023_because_their_series_ended_are_told_from_those_cancelled_on_purpose(tmp_path):
    assert _across("shift_dates", tmp_path) == {"off_the_series": [True, True, False, False]}


# Before 0024 the address and subject of every queued or kept message were stored as written: who it is
# for, and what about. The migration encrypts them in place with a keyed digest of the address to find a
# person's messages by; what was waiting must still go, and on SQLite the table keeps its indexes and the
# concern_email rows that cascade from it.
EMAIL_BEFORE_0024 = [
    # to, subject, status
    ("Pat.Jones@example.test", "Your link to sign in", "pending"),
    ("lee@example.test", "Your ballot for Parks and Libraries", "sent"),
    ("reporter@example.test", "Your concern about a neighbour: an update", "pending"),
]


async def _addresses_across_0024(url: str) -> dict:
    import dataclasses

    from tortoise import timezone
    from tortoise.migrations.api import migrate

    from civic import config, crypto, db, erasure, mail
    from civic.concerns.models import ConcernEmail
    from civic.mail import OutgoingEmail
    from tests.factories import create_concern_ok, create_user_ok, mail_to
    from tests.peers import start_smtp_server

    async def indexes() -> list[str]:
        if db.is_postgres():
            found = await db.rows("SELECT indexdef AS sql FROM pg_indexes WHERE tablename = 'outgoing_email'")
        else:
            found = await db.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outgoing_email' AND sql IS NOT NULL")
        return sorted(str(row["sql"]) for row in found)

    await migrate(config=db.tortoise_config(url), target="civic.0023_shift_dates_off_the_series")
    await db.start(url)  # today's models: of the tables used here, only outgoing_email differs from 0023's
    council = await _council_before_0025()
    concern, _ = await create_concern_ok(council)
    now = OutgoingEmail._meta.fields_map["created_at"].to_db_value(timezone.now(), OutgoingEmail)
    ids = []
    for to, subject, status in EMAIL_BEFORE_0024:
        [row] = await db.rows(
            'INSERT INTO outgoing_email ("to", subject, body, attachments, status, topic, council_id, attempts, last_error, next_attempt_at, created_at)'
            " VALUES (?, ?, ?, ?, ?, '', ?, 0, '', ?, ?) RETURNING id",
            to, subject, crypto.encrypt("See you at 10."), crypto.encrypt("[]"), status, council.id, now, now,
        )
        ids.append(row["id"])
    await ConcernEmail.create(concern=concern, email_id=ids[-1])
    indexes_before = await indexes()
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        stored = [dict(row) for row in await db.rows(f"SELECT * FROM outgoing_email WHERE id IN ({', '.join(map(str, ids))}) ORDER BY id")]
        rows = await OutgoingEmail.filter(id__in=ids).order_by("id")
        found = {
            "stored": [" ".join(bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview)) else str(v) for v in row.values()) for row in stored],
            "columns": sorted(stored[0].keys()),
            "to": [row.to for row in rows],
            "subjects": [row.subject for row in rows],
            "digests": [row["to_digest"] for row in stored],
            "expected_digests": [crypto.digest("e-mail address", to.lower()) for to, _, _ in EMAIL_BEFORE_0024],
            "found_by_address": [[row.id for row in await mail_to(to)] == [id] for (to, _, _), id in zip(EMAIL_BEFORE_0024, ids)],
            "ids": ids,
            "indexes_before": indexes_before,
            "indexes_after": await indexes(),
            "concern_link_kept": await ConcernEmail.filter(concern=concern, email_id=ids[-1]).exists(),
        }
        box, controller = start_smtp_server()  # a real relay for what was waiting to go
        try:
            config.use(dataclasses.replace(config.current(), smtp_host="127.0.0.1", smtp_port=box.port))
            found["sent"] = await mail.deliver_due()
        finally:
            controller.stop()
        found["delivered"] = sorted([str(message["To"]), str(message["Subject"])] for message in box.messages)
        # Deleting an account finds the messages queued to it before the upgrade.
        await erasure.delete_account(await create_user_ok(council, email="pat.jones@example.test"))
        found["left_after_erasure"] = list(await OutgoingEmail.filter(id__in=ids).order_by("id").values_list("id", flat=True))
        return found
    finally:
        await db.stop()


def test_addresses_and_subjects_of_e_mail_from_before_0024_are_encrypted_found_by_digest_and_still_go(tmp_path):
    found = _across("addresses", tmp_path)
    assert "to_plain" not in found["columns"] and "subject_plain" not in found["columns"]
    everything = " ".join(found["stored"])
    for to, subject, _ in EMAIL_BEFORE_0024:
        for secret in (to, to.lower(), subject):
            assert secret not in everything, secret
    assert found["to"] == [to for to, _, _ in EMAIL_BEFORE_0024]
    assert found["subjects"] == [subject for _, subject, _ in EMAIL_BEFORE_0024]
    assert found["digests"] == found["expected_digests"] and all(found["found_by_address"])
    assert [i for i in found["indexes_after"] if "to_digest" not in i] == found["indexes_before"] and len(found["indexes_before"]) >= 3
    assert len([i for i in found["indexes_after"] if "to_digest" in i]) == 1
    assert found["concern_link_kept"]
    # What was waiting went, to the address and with the subject it had.
    assert found["sent"] == 2
    assert found["delivered"] == [["Pat.Jones@example.test", "Your link to sign in"], ["reporter@example.test", "Your concern about a neighbour: an update"]]
    pat, lee, reporter = found["ids"]
    assert found["left_after_erasure"] == [lee, reporter]

# 0025 gives each council a phone number, email address and contact page for residents. A council made
# before it has none (the sign-in page then says where to find them), and an older civic still running
# during a rolling upgrade, inserting councils without these columns, must not fail.
async def _council_contact_across_0025(url: str) -> dict:
    from tortoise import timezone
    from tortoise.migrations.api import migrate

    from civic import db
    from civic.councils import Council

    await migrate(config=db.tortoise_config(url), target="civic.0024_outgoing_email_addresses_encrypted")
    await db.start(url)
    now = Council._meta.fields_map["created_at"].to_db_value(timezone.now(), Council)
    [before] = await db.rows(COUNCIL_BEFORE_0025, "Oldtown Council", "oldtown", "", "", "", now)
    await db.stop()

    await db.migrate(url)
    await db.start(url)
    try:
        [after] = await db.rows(COUNCIL_BEFORE_0025, "Newtown Council", "newtown", "", "", "", now)  # as a civic from before 0025 would
        councils = await Council.filter(id__in=[before["id"], after["id"]]).order_by("id")
        return {"contact": [[c.name, c.contact_phone, c.contact_email, c.contact_url] for c in councils]}
    finally:
        await db.stop()


def test_councils_from_before_0025_and_those_an_older_civic_makes_have_no_contact_details_yet(tmp_path):
    assert _across("council_contact", tmp_path) == {"contact": [["Oldtown Council", "", "", ""], ["Newtown Council", "", "", ""]]}


SCENARIOS = {
    "codes": _codes_across_0010, "email": _email_across_0013, "schemes": _schemes_across_0019,
    "handled": _handled_notes_across_0021, "answers": _answers_across_0022, "shift_dates": _shift_dates_across_0023,
    "addresses": _addresses_across_0024, "council_contact": _council_contact_across_0025,
}


# Two servers started together each migrate at start. On PostgreSQL the second waits on an advisory lock
# for the first to finish, then finds nothing to do (it once died with DuplicateColumnError).
async def _fresh_postgres_database() -> str:
    import asyncpg

    server = os.environ["CIVIC_TEST_DATABASE_URL"].replace("postgresql://", "postgres://")
    name = f"civic_migration_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(server.rsplit("/", 1)[0] + "/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.rsplit("/", 1)[0] + "/" + name


async def _drop_postgres_database(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


async def _civic_migrate(url: str, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path), "CIVIC_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "civic.cli", "migrate", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def _schema_of(url: str) -> dict:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        applied = [row["name"] for row in await connection.fetch("SELECT name FROM tortoise_migrations WHERE app = 'civic' ORDER BY name")]
        search_text = await connection.fetchval("SELECT count(*) FROM information_schema.columns WHERE table_name = 'scheme' AND column_name = 'search_text'")
        return {"applied": applied, "search_text": search_text}
    finally:
        await connection.close()


MIGRATIONS = sorted(path.stem for path in (ROOT / "migrations").glob("0*.py"))


async def test_two_servers_migrating_one_postgresql_database_at_once_both_start_and_the_schema_is_complete(database, tmp_path):
    need(db.is_postgres(), "PostgreSQL")
    url = await _fresh_postgres_database()
    try:
        first, second = await _civic_migrate(url, tmp_path), await _civic_migrate(url, tmp_path)
        outcomes = await asyncio.gather(first.communicate(), second.communicate())
        assert [first.returncode, second.returncode] == [0, 0], [err.decode()[-2000:] for _, err in outcomes]
        assert await _schema_of(url) == {"applied": MIGRATIONS, "search_text": 1}
    finally:
        await _drop_postgres_database(url)


async def test_a_migration_waits_while_another_holds_the_migration_lock_and_then_finds_nothing_left_to_do(database, tmp_path):
    import asyncpg

    need(db.is_postgres(), "PostgreSQL")
    url = await _fresh_postgres_database()
    try:
        holder = await asyncpg.connect(url)  # stands for a server in the middle of migrating
        await holder.execute("SELECT pg_advisory_lock($1)", db.MIGRATION_LOCK)
        waiting = await _civic_migrate(url, tmp_path)
        try:
            for _ in range(600):  # until its connection waits on the lock, or it finished without waiting
                waits = await holder.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
                if waits or waiting.returncode is not None:
                    break
                await asyncio.sleep(0.1)
            assert waiting.returncode is None and waits == 1, "the second migration went ahead while the first held the lock"
            tables = await holder.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            assert tables == 0  # nothing was touched while it waited
            await holder.execute("SELECT pg_advisory_unlock($1)", db.MIGRATION_LOCK)
        finally:
            await holder.close()
            _, err = await waiting.communicate()
        assert waiting.returncode == 0, err.decode()[-2000:]
        assert await _schema_of(url) == {"applied": MIGRATIONS, "search_text": 1}
        again = await _civic_migrate(url, tmp_path)  # the lock was let go: a later start migrates at once
        _, err = await again.communicate()
        assert again.returncode == 0, err.decode()[-2000:]
    finally:
        await _drop_postgres_database(url)


def _main(scenario: str, data_dir: str) -> None:
    """Run by `_across` in a process of its own, on SQLite or on a PostgreSQL database made for it."""
    import asyncio
    import uuid

    import asyncpg

    from civic import config

    server = os.environ.get("CIVIC_TEST_DATABASE_URL", "").replace("postgresql://", "postgres://")
    name = f"civic_migration_{uuid.uuid4().hex[:10]}"
    url = server.rsplit("/", 1)[0] + "/" + name if server else f"sqlite://{data_dir}/{scenario}.sqlite3"
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
            return await SCENARIOS[scenario](url)
        finally:
            if server:
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(json.dumps(asyncio.run(run())))


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
