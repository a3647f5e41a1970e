"""The `civic` command, run as a real process: clear one-line errors, an idempotent demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "CIVIC_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CIVIC_DATABASE_URL", None)

    def civic(*args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "civic.cli", *args], capture_output=True, text=True, env={**env, **(environ or {})}, cwd=tmp_path, timeout=120)

    return civic


def test_demo_twice_changes_nothing_the_second_time(run, tmp_path):
    import sqlite3

    first = run("demo")
    assert first.returncode == 0, first.stderr
    assert "Northmere Borough Council" in first.stdout

    def counts() -> dict[str, int]:
        with sqlite3.connect(tmp_path / "civic.sqlite3") as db:
            tables = [r[0] for r in db.execute("select name from sqlite_master where type='table' and name not like 'tortoise%'")]
            return {t: db.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables if t not in {"outgoing_email", "session"}}

    before = counts()
    assert before["council"] == 1 and before["ward"] == 6 and before["role_grant"] >= 3
    second = run("demo")
    assert second.returncode == 0, second.stderr
    assert "already there" in second.stdout
    assert counts() == before


def test_demo_schemes_each_have_their_own_words_and_no_label_repeats_its_ward(run, tmp_path):
    import sqlite3

    assert run("demo").returncode == 0
    with sqlite3.connect(tmp_path / "civic.sqlite3") as db:
        schemes = db.execute("select name, summary, description from scheme").fetchall()
        batches = db.execute("select b.label, w.name from voting_code_batch b join ward w on w.id = b.ward_id").fetchall()
    assert len(schemes) == 10
    descriptions = [description for _, _, description in schemes]
    assert len(set(descriptions)) == len(schemes) and len({summary for _, summary, _ in schemes}) == len(schemes)
    # No shared paragraph either: the old demo gave every scheme the same second one.
    paragraphs = [p for description in descriptions for p in description.split("\n\n")]
    assert len(set(paragraphs)) == len(paragraphs)
    for name, summary, description in schemes:
        assert not description.startswith(summary), name  # a description says more than the summary above it
    assert batches and all(ward not in label for label, ward in batches)


def test_user_mistakes_are_one_clear_line(run):
    assert run("migrate").returncode == 0
    bad_email = run("user", "create", "--email", "not-an-address")
    assert bad_email.returncode == 1
    assert bad_email.stderr.strip().splitlines() == ["civic: Enter an email address in the correct format, like name@example.com"]
    unknown = run("user", "grant", "--email", "a@example.test", "--role", "officer", "--council", "atlantis")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "civic: No council with slug 'atlantis'"
    missing = run("wards", "import", "nowhere.csv", "--council", "atlantis")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr and "No such file" in missing.stderr


def test_several_app_processes_refuse_to_start_while_each_would_keep_its_own_rate_limit_counts(run):
    # Never reached: the refusal comes before the database is touched.
    postgres = {"CIVIC_DATABASE_URL": "postgres://nobody@127.0.0.1:1/civic", "CIVIC_RATE_LIMIT_STORAGE": "memory://"}
    refused = run("serve", "--workers", "2", environ=postgres)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == ["civic: Several app processes must share rate limits: set CIVIC_RATE_LIMIT_STORAGE=redis://host:6379/0"]
    shared = run("serve", "--workers", "2", environ={**postgres, "CIVIC_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/15"})
    assert "CIVIC_RATE_LIMIT_STORAGE" not in shared.stderr and "connect" in shared.stderr.lower()  # it went on, to the database
    on_sqlite = run("serve", "--workers", "2", environ={"CIVIC_RATE_LIMIT_STORAGE": "memory://"})
    assert on_sqlite.stderr.strip().splitlines() == ["civic: Several app processes need PostgreSQL: set CIVIC_DATABASE_URL=postgres://..."]


def test_council_wards_and_roles_from_the_command_line(run, tmp_path):
    assert run("council", "create", "--slug", "westvale", "--name", "Westvale Council", "--hosts", "westvale.test").returncode == 0
    csv = tmp_path / "wards.csv"
    csv.write_text("sector,ward\nWV1 1,Riverside\nWV1 2,Riverside\nWV2 1,Hilltop\n")
    result = run("wards", "import", str(csv), "--council", "westvale")
    assert result.returncode == 0 and "3 postcode sectors imported for Westvale Council (2 new wards)" in result.stdout
    csv.write_text("sector,ward\nWV1 1,Riverside\nnot a sector,Hilltop\nWV3 1,\n")
    bad = run("wards", "import", str(csv), "--council", "westvale")
    assert bad.returncode == 1
    assert "line 3" in bad.stderr and "line 4" in bad.stderr
    granted = run("user", "create", "--email", "chief@westvale.test", "--role", "admin", "--council", "westvale")
    assert granted.returncode == 0 and "admin of Westvale Council" in granted.stdout


def test_the_operator_can_give_an_administrator_another_role_from_the_command_line(run, tmp_path):
    import sqlite3

    # An administrator cannot give themselves a role on the site; whoever runs the server can.
    assert run("council", "create", "--slug", "eastmoor", "--name", "Eastmoor Council", "--hosts", "eastmoor.test").returncode == 0
    assert run("user", "create", "--email", "chief@eastmoor.test", "--role", "admin", "--council", "eastmoor").returncode == 0
    granted = run("user", "grant", "--email", "Chief@Eastmoor.test", "--role", "officer", "--council", "eastmoor")
    assert granted.returncode == 0, granted.stderr
    assert "officer of Eastmoor Council" in granted.stdout
    with sqlite3.connect(tmp_path / "civic.sqlite3") as db:
        grants = db.execute('select u.email, g.role from role_grant g join "user" u on u.id = g.user_id order by g.role').fetchall()
    assert grants == [("chief@eastmoor.test", "admin"), ("chief@eastmoor.test", "officer")]


def test_a_council_made_from_the_command_line_can_have_its_duty_address_and_front_door_number(run, tmp_path):
    made = run("council", "create", "--slug", "eastvale", "--name", "Eastvale Council", "--duty-email", "Duty@Eastvale.test", "--front-door-phone", "01632 960 777")
    assert made.returncode == 0, made.stderr
    bad = run("council", "create", "--slug", "southvale", "--name", "Southvale Council", "--duty-email", "duty at southvale")
    assert bad.returncode == 1 and "duty address: Enter the duty address in the correct format" in bad.stderr
    pale = run("council", "create", "--slug", "southvale", "--name", "Southvale Council", "--colour", "yellow")
    assert pale.returncode == 1 and "colour: Enter a colour as # and six hex digits, like #1d70b8" in pale.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "civic.sqlite3") as database:
        rows = database.execute("SELECT slug, duty_email, childrens_front_door_phone FROM council WHERE slug IN ('eastvale', 'southvale')").fetchall()
    assert rows == [("eastvale", "duty@eastvale.test", "01632 960 777")]
