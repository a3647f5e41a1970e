"""Concerns in the domain: encryption at rest, key rotation, retention purge, escalation and routing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tortoise import Tortoise, timezone

from civic import config, crypto
from civic.concerns import escalation, intake, purge, routing, triage
from civic.concerns.models import Category, Concern, ConcernAccess, ConcernEvent, ConcernTally, Referral, RoutingRule
from civic.concerns.triage import open_concern
from civic.concerns.vocabulary import EVENT
from civic.officers import attention
from tests.factories import create_concern_ok, create_council_ok, create_team_ok, create_user_ok, ward

SECRET_TEXT = "Kai, aged 9, sleeps in the car with his dad on Orchard Lane."


async def _raw(sql: str, *values: object) -> list[dict]:
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect == "postgres":
        for n in range(len(values)):
            sql = sql.replace("?", f"${n + 1}", 1)
    return [dict(row) for row in await connection.execute_query_dict(sql, list(values))]


def _as_text(value: object) -> str:
    return bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview)) else str(value)


# Encryption at rest


async def test_a_raw_read_of_a_concern_row_shows_no_plaintext(council):
    concern, key = await create_concern_ok(
        council,
        details=SECRET_TEXT,
        subject_name="Kai Turner",
        postcode="NM1 4AB",
        reporter_name="Nell Ashdown",
        reporter_email="nell.ashdown@example.test",
        reporter_phone="07700 900 123",
        contact_by="email",
    )
    [row] = await _raw("SELECT * FROM concern WHERE id = ?", concern.id)
    values = [_as_text(v) for v in row.values()]
    # Whole phrases hold a space, '.' or '@', which no Fernet token (URL-safe base64) can, so they are
    # looked for everywhere. Single words are looked for outside the tokens only: a three-letter word
    # such as "Kai" turns up inside random base64 about once in a few hundred runs.
    everything = " ".join(values)
    for secret in (SECRET_TEXT, "Kai Turner", "Orchard Lane", "Nell Ashdown", "nell.ashdown@", "07700 900", "NM1 4AB", key):
        assert secret not in everything, secret
    outside_tokens = " ".join(v for v in values if not v.startswith("gAAAAA"))
    for secret in ("Kai", "Turner", "Orchard", "Nell", "Ashdown", "07700", "NM1"):
        assert secret not in outside_tokens, secret
    assert _as_text(row["details"]).startswith("gAAAAA")  # a Fernet token
    again = await Concern.get(id=concern.id)
    assert again.details == SECRET_TEXT and again.reporter_email == "nell.ashdown@example.test"


async def test_notes_and_drafts_are_encrypted_too(council):
    concern, _ = await create_concern_ok(council)
    await ConcernEvent.create(concern=concern, kind="note", text="Dad says he lost the flat in May.")
    draft_id = await intake.save_step(council, None, "details", {"details": SECRET_TEXT})
    notes = await _raw("SELECT text FROM concern_event WHERE concern_id = ? AND kind = 'note'", concern.id)
    drafts = await _raw("SELECT answers FROM concern_draft WHERE id = ?", draft_id)
    assert "lost the flat" not in _as_text(notes[0]["text"])
    assert "Orchard" not in _as_text(drafts[0]["answers"])
    assert (await intake.load_draft(council, draft_id))["details"] == SECRET_TEXT


async def test_rotating_keys_reencrypts_with_the_new_key_and_the_old_key_can_go(council, settings):
    concern, _ = await create_concern_ok(council, details=SECRET_TEXT)
    old_key = crypto.keys_from(settings.encryption_keys)[0]
    new_key = crypto.new_key()
    try:
        config.use(dataclasses.replace(settings, encryption_keys=f"{new_key},{old_key}"))
        assert (await Concern.get(id=concern.id)).details == SECRET_TEXT  # the old key still reads
        counts = await crypto.rotate()
        assert counts["Concern"] >= 1
        config.use(dataclasses.replace(settings, encryption_keys=new_key))
        assert (await Concern.get(id=concern.id)).details == SECRET_TEXT  # only the new key now
    finally:
        # Put every row back under the test run's key, so other tests read them.
        config.use(dataclasses.replace(settings, encryption_keys=f"{old_key},{new_key}"))
        await crypto.rotate()
        config.use(settings)


# Retention


async def test_purge_removes_personal_data_after_the_period_keeps_counts_and_is_idempotent(council, settings):
    team = await create_team_ok(council)
    old, _ = await create_concern_ok(council, category="caring", status="closed", ward=await ward(council, "Castlefields"))
    recent, _ = await create_concern_ok(council, category="caring", status="closed")
    still_open, _ = await create_concern_ok(council, category="caring")
    await ConcernEvent.create(concern=old, kind="note", text="Carer is exhausted.")
    await Referral.create(council=council, concern=old, team=team)
    await ConcernAccess.create(council=council, concern=old, reference=old.reference, action="viewed")
    long_ago = timezone.now() - timedelta(days=settings.concern_purge_days + 1)
    await Concern.filter(id=old.id).update(closed_at=long_ago, created_at=long_ago - timedelta(days=10))
    await Concern.filter(id=recent.id).update(closed_at=timezone.now() - timedelta(days=settings.concern_purge_days - 1))

    assert await purge.purge_closed_concerns() == 1
    assert not await Concern.filter(id=old.id).exists()
    assert not await ConcernEvent.filter(concern_id=old.id).exists()
    assert not await Referral.filter(concern_id=old.id).exists()
    assert await Concern.filter(id__in=[recent.id, still_open.id]).count() == 2
    access = await ConcernAccess.get(reference=old.reference)
    assert access.concern_id is None  # type: ignore[attr-defined] # who looked is kept; what they saw is gone

    month = (long_ago - timedelta(days=10)).date().replace(day=1)
    tally = await ConcernTally.get(council=council, month=month)
    assert (tally.category_name, tally.ward_name, tally.count) == ("Pressure from caring for someone", "Castlefields", 1)

    assert await purge.purge_closed_concerns() == 0  # idempotent
    assert (await ConcernTally.get(id=tally.id)).count == 1
    officer = await create_user_ok(council, role="officer")
    counts = await purge.counts(officer, council)
    assert sum(r.count for r in counts) == 3
    assert any(r.month == month and r.ward == "Castlefields" and r.count == 1 for r in counts)


async def test_unsent_drafts_are_forgotten_after_a_day(council):
    draft_id = await intake.save_step(council, None, "about", {"about": "myself"})
    from civic.concerns.models import ConcernDraft

    await ConcernDraft.filter(id=draft_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert await intake.load_draft(council, draft_id) == {}
    assert await purge.purge_expired_drafts() >= 1
    assert not await ConcernDraft.filter(id=draft_id).exists()


# Escalation


async def test_escalation_emails_the_duty_address_once_for_an_unopened_concern_past_its_time(council, mailbox):
    late, _ = await create_concern_ok(council, urgency="day", details=SECRET_TEXT)
    referred, _ = await create_concern_ok(council, urgency="day")
    closed, _ = await create_concern_ok(council, urgency="day", status="closed", closed_reason="no-further-action")
    in_time, _ = await create_concern_ok(council, urgency="week")
    past = timezone.now() - timedelta(hours=1)
    await Concern.filter(id__in=[late.id, referred.id, closed.id]).update(due_at=past)
    officer = await create_user_ok(council, role="officer")
    await triage.refer(officer, council, referred.reference, str((await create_team_ok(council)).id))

    await escalation.escalate_overdue()
    await escalation.escalate_overdue()  # a second run, as the worker would

    messages = await mailbox.wait_for(council.duty_email)
    assert len(messages) == 1
    assert late.reference in messages[0]["Subject"] and "not been opened" in messages[0]["Subject"]
    body = mailbox.body(messages[0])
    assert f"/officer/concerns/{late.reference}" in body
    assert "Orchard" not in body and late.reporter_email not in body
    others = (referred.reference, closed.reference, in_time.reference)
    assert not any(ref in m["Subject"] for ref in others for m in mailbox.messages)
    assert (await Concern.get(id=late.id)).escalated_at is not None
    assert await ConcernEvent.filter(concern=late, kind="escalated").count() == 1

    sections = await attention(officer, council)
    concerns = next(s for s in sections if s.title == "Concerns")
    assert [item.tag for item in concerns.items if late.reference in item.text] == ["Overdue"]
    assert not any(ref in item.text for ref in others for item in concerns.items)


async def test_a_concern_opened_then_left_past_its_time_stays_overdue_and_is_escalated_once(council, mailbox):
    # Opening a concern used to hide it for good: no flag, no escalation, though nobody had answered it.
    left, _ = await create_concern_ok(council, urgency="day", details=SECRET_TEXT)
    officer = await create_user_ok(council, role="officer")
    await open_concern(officer, council, left.reference)
    await Concern.filter(id=left.id).update(due_at=timezone.now() - timedelta(minutes=5))

    page = await open_concern(officer, council, left.reference)
    assert page.overdue
    queue = await triage.queue(officer, council, triage.Filters())
    assert [item.overdue for item in queue.items if item.concern.id == left.id] == [True]
    concerns = next(s for s in await attention(officer, council) if s.title == "Concerns")
    [item] = [item for item in concerns.items if left.reference in item.text]
    assert item.tag == "Overdue" and "opened but not referred or closed" in item.text

    await escalation.escalate_overdue()
    await escalation.escalate_overdue()
    [message] = await mailbox.wait_for(council.duty_email)
    assert left.reference in message["Subject"] and "not been answered in time" in message["Subject"]
    assert "Orchard" not in mailbox.body(message)
    assert [e.kind for e in await ConcernEvent.filter(concern=left, kind__startswith="escalated")] == ["escalated-unanswered"]

    # Referring it is an answer: it is no longer overdue.
    await triage.refer(officer, council, left.reference, str((await create_team_ok(council)).id))
    queue = await triage.queue(officer, council, triage.Filters(status="all"))
    assert [item.overdue for item in queue.items if item.concern.id == left.id] == [False]
    concerns = next(s for s in await attention(officer, council) if s.title == "Concerns")
    assert not any(left.reference in item.text for item in concerns.items)


async def test_many_concerns_past_their_time_at_once_are_one_email_to_the_duty_address(council, mailbox):
    # After an outage, or the day opened-but-unanswered concerns started to count: a list, not a flood.
    late = [(await create_concern_ok(council, urgency="day", details=SECRET_TEXT))[0] for _ in range(3)]
    officer = await create_user_ok(council, role="officer")
    await open_concern(officer, council, late[0].reference)
    await Concern.filter(id__in=[c.id for c in late]).update(due_at=timezone.now() - timedelta(hours=1))

    await escalation.escalate_overdue()

    [message] = await mailbox.wait_for(council.duty_email)
    assert message["Subject"] == "3 concerns are past their time"
    body = mailbox.body(message)
    assert all(f"/officer/concerns/{c.reference}" in body for c in late)
    assert f"{late[0].reference}: opened, but not referred, signposted or closed." in body
    assert f"{late[1].reference}: not opened yet." in body
    assert "Orchard" not in body
    assert await ConcernEvent.filter(concern_id__in=[c.id for c in late], kind__startswith="escalated").count() == 3


async def test_concerns_past_their_time_while_there_was_no_duty_address_are_told_once_one_is_set(database, mailbox):
    from civic import council_settings

    council = await create_council_ok(duty_email="")
    late, _ = await create_concern_ok(council, urgency="day")
    await Concern.filter(id=late.id).update(due_at=timezone.now() - timedelta(hours=1))
    await escalation.escalate_overdue()  # nobody to tell
    admin = await create_user_ok(council, role="admin")
    settings = {"name": council.name, "brand_colour": "#1d70b8", "emergency_phone": "999", "duty_email": "duty@later.example"}
    await council_settings.change(admin, council, settings)

    await escalation.escalate_overdue()
    await escalation.escalate_overdue()

    [message] = await mailbox.wait_for("duty@later.example")
    assert late.reference in message["Subject"]
    assert [e.kind for e in await ConcernEvent.filter(concern=late, kind__startswith="escalated").order_by("id")] == ["escalated-untold", "escalated"]


async def test_without_a_duty_address_the_history_says_nobody_was_emailed_and_the_home_says_it_is_missing(database, mailbox):
    council = await create_council_ok(duty_email="")
    late, _ = await create_concern_ok(council, urgency="day")
    opened, _ = await create_concern_ok(council, urgency="day")
    officer = await create_user_ok(council, role="officer")
    await open_concern(officer, council, opened.reference)
    await Concern.filter(id__in=[late.id, opened.id]).update(due_at=timezone.now() - timedelta(hours=1))
    before = len(mailbox.messages)

    await escalation.escalate_overdue()

    assert len(mailbox.messages) == before
    assert [e.kind for e in await ConcernEvent.filter(concern=late, kind__startswith="escalated")] == ["escalated-untold"]
    assert [e.kind for e in await ConcernEvent.filter(concern=opened, kind__startswith="escalated")] == ["escalated-unanswered-untold"]
    assert EVENT["escalated-untold"] == "Not opened in time: no duty address is set, so nobody was emailed"
    assert "duty address was told" not in EVENT["escalated-unanswered-untold"]
    sections = {s.title: s for s in await attention(officer, council)}
    assert [item.tag for item in sections["Duty address"].items] == ["No duty address"]


async def test_with_a_duty_address_the_home_says_where_alerts_go(council):
    officer = await create_user_ok(council, role="officer")
    sections = {s.title: s for s in await attention(officer, council)}
    assert sections["Duty address"].items == [] and council.duty_email in sections["Duty address"].empty


async def test_an_administrator_is_not_shown_concerns_on_the_officer_home(council):
    concern, _ = await create_concern_ok(council)
    admin, officer = await create_user_ok(council, role="admin"), await create_user_ok(council, role="officer")
    duplicate, _ = await create_concern_ok(council)
    await triage.merge(officer, council, duplicate.reference, concern.reference)  # audited with the reference
    # Administrators cannot open concerns (special-category data), so their home names none, nor
    # what was done with one.
    admins = await attention(admin, council)
    assert "Concerns" not in [s.title for s in admins]
    assert not any(c.reference in item.text for c in (concern, duplicate) for s in admins for item in s.items)
    assert "Recent activity" in [s.title for s in admins]
    officers = {s.title: s for s in await attention(officer, council)}
    assert any("1 new concern" in item.text for item in officers["Concerns"].items)


# Routing


async def test_adding_someone_who_is_not_a_key_worker_to_a_team_says_who_can_give_the_role(council):
    from civic.errors import Invalid

    team = await create_team_ok(council)
    resident = await create_user_ok(council)
    said = {}
    for role in ("officer", "admin"):
        try:
            await routing.add_member(await create_user_ok(council, role=role), council, team.id, resident.email)
        except Invalid as error:
            said[role] = error.errors[f"member_email_{team.id}"]
    # Only administrators can open the Roles page.
    assert said["officer"] == "They are not a key worker yet. Ask an administrator to give them the key worker role, then add them to a team"
    assert said["admin"] == "Give them the key worker role first, on the Roles page, then add them to a team"


async def test_routing_prefers_category_and_ward_then_category_then_the_default(council):
    default = await create_team_ok(council, default=True)
    by_category = await create_team_ok(council)
    by_ward = await create_team_ok(council)
    await routing.categories(council)
    caring = await Category.get(council=council, slug="caring")
    isolation = await Category.get(council=council, slug="isolation")
    abbey, harbourside = await ward(council, "Abbey"), await ward(council, "Harbourside")
    await RoutingRule.create(council=council, category=caring, ward=None, team=by_category)
    await RoutingRule.create(council=council, category=caring, ward=abbey, team=by_ward)
    assert await routing.route(council, caring, abbey) == by_ward
    assert await routing.route(council, caring, harbourside) == by_category
    assert await routing.route(council, caring, None) == by_category
    assert await routing.route(council, isolation, abbey) == default


async def test_councils_get_the_default_categories_and_can_add_their_own(council):
    officer = await create_user_ok(council, role="officer")
    names = [c.name for c in await routing.categories(council)]
    assert names[0] == "Isolation or loneliness" and names[-1] == "Something else"
    await routing.add_category(officer, council, "Cost of school uniform")
    names = [c.name for c in await routing.categories(council)]
    assert names[-2:] == ["Cost of school uniform", "Something else"]


def test_references_use_only_unambiguous_characters():
    for _ in range(200):
        reference = intake.new_reference()
        assert len(reference) == 9 and reference[4] == "-"
        assert not set(reference) & set("01OIL")


# Demo data and the command line


async def test_demo_has_concerns_in_every_state_and_a_second_run_changes_nothing(database):
    from civic import demo
    from civic.concerns.models import Team
    from civic.councils import Council
    from civic.demo.foundation import COUNCIL

    # Made first at a host of its own: the demo's "127.0.0.1" would take over the browser tests' council.
    await Council.get_or_create(slug="northmere", defaults={**COUNCIL, "hostnames": "northmere.test"})
    await demo.seed()
    council = await Council.get(slug="northmere")
    before = await Concern.filter(council=council).count()
    assert {c.status for c in await Concern.filter(council=council)} == {"new", "open", "referred", "closed"}
    assert await Team.filter(council=council).count() == 2
    assert await RoutingRule.filter(council=council).count() == 3
    assert await Referral.filter(concern__council=council, automatic=True).exists()
    await demo.seed()
    assert await Concern.filter(council=council).count() == before
    assert await Referral.filter(concern__council=council).count() == 2


def test_civic_keys_new_prints_a_fernet_key():
    import subprocess
    import sys

    from cryptography.fernet import Fernet

    from tests.conftest import ROOT

    result = subprocess.run([sys.executable, "-m", "civic.cli", "keys", "new"], cwd=ROOT, capture_output=True, text=True, check=True)
    Fernet(result.stdout.strip().encode())  # raises if it is not a key
