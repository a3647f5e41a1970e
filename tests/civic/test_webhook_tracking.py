"""Whether referrals reached their teams: stuck ones on the officer home, and each delivery's state for the concern page."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from civic import crypto
from civic.concerns import handover
from civic.concerns.models import Concern, Referral
from civic.officers import attention
from civic.webhooks.models import WebhookDelivery
from tests.factories import create_council_ok, create_endpoint_ok, create_team_ok, create_user_ok, refer_ok

LONG_AGO = timedelta(hours=30)


async def _referred(council, team, *, ago: timedelta = timedelta(0), delivery: dict | None = None, **referral):
    concern, _, row = await refer_ok(council, team)
    when = timezone.now() - ago
    await Referral.filter(id=row.id).update(created_at=when, **referral)
    if delivery is not None:
        await WebhookDelivery.filter(concern=concern).update(created_at=when, **delivery)
    return concern


def _items(sections, title):
    return {s.title: s for s in sections}[title].items


async def test_the_officer_home_lists_each_referral_that_has_not_reached_its_team(council):
    officer, admin = await create_user_ok(council, role="officer"), await create_user_ok(council, role="admin")
    key_worker = await create_user_ok(council, role="key-worker")
    nobody = await create_team_ok(council, "Young People's Team")
    only_civic = await create_team_ok(council, "Family Support South", members=[key_worker])
    with_system = await create_team_ok(council, "Family Support North")
    await create_endpoint_ok(council, with_system, name="North case system")

    unseen = await _referred(council, nobody)
    in_civic_only = await _referred(council, only_civic)
    dead = await _referred(council, with_system, ago=timedelta(days=2), delivery={"status": "dead", "attempts": 8})
    retrying = await _referred(council, with_system, ago=timedelta(hours=1), delivery={"attempts": 4, "last_status_code": 500})
    just_sent = await _referred(council, with_system, delivery={"attempts": 1, "last_status_code": 500})
    unacknowledged = await _referred(council, with_system, ago=LONG_AGO, delivery={"status": "delivered", "attempts": 1})
    received = await _referred(council, with_system, ago=LONG_AGO, delivery={"status": "delivered", "attempts": 1}, status="received")
    fresh = await _referred(council, with_system, delivery={"status": "delivered", "attempts": 1})
    closed = await _referred(council, nobody)
    await Concern.filter(id=closed.id).update(status="closed")

    items = _items(await attention(officer, council), "Referrals")
    tags = {c.reference: item.tag for item in items for c in (unseen, in_civic_only, dead, retrying, just_sent, unacknowledged, received, fresh, closed) if c.reference in item.text}
    assert tags == {
        unseen.reference: "Nobody can see it",
        in_civic_only.reference: "No case system",
        dead.reference: "Not delivered",
        retrying.reference: "Retrying",
        unacknowledged.reference: "Not acknowledged",
    }
    assert items[0].tag == "Nobody can see it" and items[0].href == f"/officer/concerns/{unseen.reference}"
    assert "North case system" in next(i.text for i in items if retrying.reference in i.text)

    # Administrators may not see concerns: their section names none, but counts what is retrying.
    admins = await attention(admin, council)
    assert "Referrals" not in [s.title for s in admins]
    systems = _items(admins, "Referrals to key workers' systems")
    assert [item.tag for item in systems] == ["Not delivered", "Still retrying"]
    assert not any(c.reference in item.text for item in systems for c in (dead, retrying))


async def test_with_nothing_stuck_the_home_does_not_claim_more_than_it_knows(council):
    officer = await create_user_ok(council, role="officer")
    team = await create_team_ok(council)
    await create_endpoint_ok(council, team)
    await _referred(council, team, delivery={"status": "delivered", "attempts": 1})
    sections = {s.title: s for s in await attention(officer, council)}
    assert sections["Referrals"].items == [] and "said it received it" in sections["Referrals"].empty
    assert sections["Referrals to key workers' systems"].items == []
    assert sections["Referrals to key workers' systems"].empty == "No delivery to a team's case system has failed or is being retried."


async def test_each_referral_says_how_it_is_reaching_its_team(council):
    key_worker = await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, members=[key_worker])
    endpoint, _, _ = await create_endpoint_ok(council, team, name="North case system")
    second, _, _ = await create_endpoint_ok(council, team, name="Backup system")
    concern, _, referral = await refer_ok(council, team)
    rows = {row.endpoint_id: row for row in await WebhookDelivery.filter(concern=concern)}
    await WebhookDelivery.filter(id=rows[endpoint.id].id).update(status="dead", attempts=8, last_status_code=503)
    await WebhookDelivery.filter(id=rows[second.id].id).update(status="cancelled", handled_note=crypto.encrypt("Phoned Sam, the duty key worker"))
    unsent_team = await create_team_ok(council)
    _, _, unsent_referral = await refer_ok(council, unsent_team)

    progress = await handover.progress([referral, unsent_referral])
    lines = {line.tag: line for line in progress[referral.id]}
    assert set(lines) == {"Not delivered", "Handled"}
    assert "North case system" in lines["Not delivered"].text and "HTTP 503" in lines["Not delivered"].text
    assert lines["Not delivered"].href == f"/admin/endpoints/{endpoint.id}/deliveries/{rows[endpoint.id].id}"
    assert "How the team was told: Phoned Sam, the duty key worker" in lines["Handled"].text
    [nobody] = progress[unsent_referral.id]
    assert nobody.tag == "Nobody can see it"

    await WebhookDelivery.filter(id=rows[endpoint.id].id).update(status="pending", attempts=3)
    [retrying] = [line for line in (await handover.progress([referral]))[referral.id] if line.tag not in ("Handled",)]
    assert retrying.tag == "Retrying" and "3 tries so far" in retrying.text



async def test_a_referral_waiting_for_an_officer_to_confirm_the_system_says_so_on_the_officer_home(council):
    # The worker skips a system whose address nobody has confirmed: it was listed as "still not delivered after 0 tries".
    officer = await create_user_ok(council, role="officer")
    team = await create_team_ok(council, "Family Support North")
    await create_endpoint_ok(council, team, name="North case system", confirmed_url="")
    waiting = await _referred(council, team, ago=timedelta(hours=1), delivery={})
    [item] = [i for i in _items(await attention(officer, council), "Referrals") if waiting.reference in i.text]
    assert item.tag == "Waiting"
    assert item.text.endswith("not sent: no council officer has confirmed North case system's web address yet")


async def test_only_members_who_may_open_a_referral_count_as_a_teams_key_workers(council):
    from civic.concerns import access

    key_worker = await create_user_ok(council, role="key-worker")
    suspended = await create_user_ok(council, role="key-worker", suspended=True)
    officer = await create_user_ok(council, role="officer")  # sees every concern as an officer, not as the team's
    elsewhere = await create_user_ok(await create_council_ok(), role="key-worker")  # a key worker of another council only
    team = await create_team_ok(council, members=[key_worker, suspended, officer, elsewhere])
    empty = await create_team_ok(council, members=[suspended])
    assert await access.key_workers_by_team([team.id, empty.id]) == {team.id: 1, empty.id: 0}
    concern, _, referral = await refer_ok(council, empty)
    [line] = (await handover.progress([referral]))[referral.id]
    assert line.tag == "Nobody can see it"
