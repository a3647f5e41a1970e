"""Delivering referrals to a real receiver process through real faults: down, 500, slow, 429, 410, never up."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import jsonschema
import pytest

from civic import config
from civic.concerns import handover
from civic.concerns.models import Referral
from civic.db import in_transaction
from civic.officers import attention
from civic.webhooks import contract, delivery, endpoints, signing
from civic.webhooks.models import KeyWorkerEndpoint, WebhookAttempt, WebhookDelivery
from tests.factories import create_concern_ok, create_endpoint_ok, create_team_ok, create_user_ok, refer_ok, use_settings
from tests.peers import free_port
from tests.peers.webhook_receiver import Receiver

FAST = "0,0.1,0.1,0.1"


async def run_worker_until(done: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Run the worker's delivery job, as `civic worker` would, until `done` says so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await delivery.deliver_due()
        if await done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker did not get there in time")


async def status_of(row: WebhookDelivery) -> str:
    await row.refresh_from_db()
    return row.status


def validate_event(payload: dict) -> None:
    """The payload matches the event's schema in /api/openapi.json."""
    document = contract.document("http://civic.test")
    name = {"concern.referred": "ConcernReferred", "concern.updated": "ConcernUpdated", "concern.withdrawn": "ConcernWithdrawn", "ping": "Ping"}[payload["type"]]
    schema = {**document["components"]["schemas"][name], "components": document["components"]}
    jsonschema.validate(payload, schema)


@pytest.fixture
def secret() -> str:
    return signing.new_secret()


async def test_receiver_down_for_100_referrals_then_up_gets_each_exactly_once_after_dedup(council, secret):
    port = free_port()
    team = await create_team_ok(council)
    await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{port}/civic/webhooks", secret=secret)
    with use_settings(webhook_retry_schedule="0,0.2,0.2,0.5,0.5,1,1,1,2,2,2"):
        references = {(await refer_ok(council, team))[0].reference for _ in range(100)}
        rows = WebhookDelivery.filter(reference__in=list(references))
        assert await rows.count() == 100  # each written with its referral
        for _ in range(2):  # attempts while nobody is listening: refused connections, all retried
            await delivery.deliver_due()
            await asyncio.sleep(0.25)
        assert await rows.filter(status="pending", attempts__gte=1).count() == 100
        with Receiver([secret], port=port) as receiver:
            await run_worker_until(lambda: _all(rows, 100))
            accepted = await receiver.accepted()
    assert {entry["payload"]["data"]["reference"] for entry in accepted} == references
    assert len({entry["webhook_id"] for entry in accepted}) == 100
    assert {entry["webhook_id"] for entry in accepted} == set(await rows.values_list("webhook_id", flat=True))


async def _all(rows, count: int) -> bool:
    return await rows.filter(status="delivered").count() == count


async def test_a_500_is_retried_and_the_200_that_follows_delivers_it(council, secret):
    team = await create_team_ok(council)
    with Receiver([secret], script={"responses": [{"status": 500, "body": {"error": "database down"}}]}) as receiver, use_settings(webhook_retry_schedule=FAST):
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, _ = await refer_ok(council, team)
        row = await WebhookDelivery.get(reference=concern.reference)
        await run_worker_until(lambda: _is(row, "delivered"))
        arrivals = await receiver.arrivals()
        accepted = await receiver.accepted()
    assert [a["status"] for a in arrivals] == [500, 200]
    assert {a["webhook_id"] for a in arrivals} == {row.webhook_id}  # the same webhook-id on the retry
    attempts = await WebhookAttempt.filter(delivery=row).order_by("number")
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 200)]
    assert "database down" in attempts[0].response_excerpt
    assert row.attempts == 2 and row.delivered_at is not None
    assert accepted[0]["type"] == "concern.referred"
    validate_event(accepted[0]["payload"])


async def _is(row: WebhookDelivery, status: str) -> bool:
    return await status_of(row) == status


async def test_an_answer_slower_than_the_timeout_counts_as_a_failure_and_is_retried(council, secret):
    team = await create_team_ok(council)
    with Receiver([secret], script={"responses": [{"delay": 2.0}]}) as receiver, use_settings(webhook_retry_schedule=FAST, webhook_timeout=0.5, webhook_lease_seconds=5):
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, _ = await refer_ok(council, team)
        row = await WebhookDelivery.get(reference=concern.reference)
        await run_worker_until(lambda: _is(row, "delivered"))
    first, second = await WebhookAttempt.filter(delivery=row).order_by("number")
    assert first.status_code is None and first.error == "No answer within 0.5 seconds"
    assert 400 <= first.duration_ms < 2000
    assert second.status_code == 200


async def test_a_429_with_retry_after_is_not_retried_before_it_says(council, secret):
    team = await create_team_ok(council)
    with Receiver([secret], script={"responses": [{"status": 429, "retry_after": "2"}]}) as receiver, use_settings(webhook_retry_schedule=FAST):
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, _ = await refer_ok(council, team)
        row = await WebhookDelivery.get(reference=concern.reference)
        await delivery.deliver_due()
        await row.refresh_from_db()
        first = await WebhookAttempt.get(delivery=row)
        assert first.status_code == 429 and row.status == "pending"
        # The schedule alone would retry after 0.1 s; Retry-After asks for 2 s.
        assert row.next_attempt_at - first.attempted_at >= timedelta(seconds=2)
        await delivery.deliver_due()
        assert len(await receiver.arrivals()) == 1  # not due yet, so not sent
        await run_worker_until(lambda: _is(row, "delivered"))
    second = await WebhookAttempt.filter(delivery=row).order_by("-number").first()
    assert second.attempted_at - first.attempted_at >= timedelta(seconds=2)


async def test_a_410_pauses_the_endpoint_and_its_deliveries_wait_for_a_successful_ping(council, secret, mailbox):
    team = await create_team_ok(council)
    admin = await create_user_ok(council, role="admin")
    with Receiver([secret], script={"responses": [{"status": 410}]}) as receiver, use_settings(webhook_retry_schedule=FAST):
        endpoint, _, _ = await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, _ = await refer_ok(council, team)
        row = await WebhookDelivery.get(reference=concern.reference)
        await delivery.deliver_due()
        await endpoint.refresh_from_db()
        assert endpoint.status == "paused" and "410" in endpoint.disabled_reason
        message = (await mailbox.wait_for(council.duty_email))[-1]
        assert endpoint.name in message["Subject"] and "1 deliveries are waiting" in mailbox.body(message)
        await delivery.deliver_due()
        assert await status_of(row) == "pending" and len(await receiver.arrivals()) == 1  # nothing sent while off

        await receiver.set_script([{"status": 500}])
        failed = await endpoints.enable(admin, council, endpoint.id)
        assert failed.status_code == 500
        await endpoint.refresh_from_db()
        assert endpoint.status == "paused"  # a failed ping leaves it off

        switched_on = await endpoints.enable(admin, council, endpoint.id)
        assert switched_on.succeeded
        await endpoint.refresh_from_db()
        assert endpoint.status == "active" and endpoint.disabled_reason == ""
        await run_worker_until(lambda: _is(row, "delivered"))
        types = [entry["type"] for entry in await receiver.accepted()]
    assert types == ["ping", "concern.referred"]


async def test_when_retries_run_out_it_is_dead_the_duty_address_is_told_and_a_replay_delivers_it_with_the_same_id(council, secret, mailbox):
    team = await create_team_ok(council)
    officer = await create_user_ok(council, role="officer")
    port = free_port()
    with use_settings(webhook_retry_schedule="0,0.05,0.05"):
        endpoint, _, _ = await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{port}/hooks", secret=secret)
        concern, _, _ = await refer_ok(council, team)
        row = await WebhookDelivery.get(reference=concern.reference)
        await run_worker_until(lambda: _is(row, "dead"))
    assert row.attempts == 3 and row.dead_at is not None
    assert await WebhookAttempt.filter(delivery=row).count() == 3
    message = (await mailbox.wait_for(council.duty_email))[-1]
    body = mailbox.body(message)
    assert concern.reference in message["Subject"]
    assert f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}" in body
    assert concern.details not in body  # never the concern's words in e-mail
    home = {s.title: s for s in await attention(officer, council)}["Referrals to key workers' systems"]
    assert [item.tag for item in home.items] == ["Not delivered"]
    assert f"1 delivery to {endpoint.name} failed" in home.items[0].text

    await endpoints.replay(officer, council, endpoint.id, row.id)
    with Receiver([secret], port=port) as receiver:
        await run_worker_until(lambda: _is(row, "delivered"))
        accepted = await receiver.accepted()
    assert [entry["webhook_id"] for entry in accepted] == [row.webhook_id]
    assert row.replays == 1 and row.attempts == 4
    home = {s.title: s for s in await attention(officer, council)}["Referrals to key workers' systems"]
    assert home.items == []


async def test_during_a_secret_rotation_receivers_with_only_the_old_or_only_the_new_secret_both_verify(council, secret):
    team = await create_team_ok(council)
    admin = await create_user_ok(council, role="admin")
    old_port, new_port = free_port(), free_port()
    endpoint, _, _ = await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{old_port}/hooks", secret=secret)
    new_secret = (await endpoints.rotate_secret(admin, council, endpoint.id)).secret
    assert new_secret != secret and new_secret.startswith("whsec_")
    with Receiver([secret], port=old_port) as old_receiver, Receiver([new_secret], port=new_port) as new_receiver:
        concern, _, _ = await refer_ok(council, team)
        await run_worker_until(lambda: _all(WebhookDelivery.filter(reference=concern.reference), 1))
        await KeyWorkerEndpoint.filter(id=endpoint.id).update(url=new_receiver.url, confirmed_url=new_receiver.url)
        second, _, _ = await refer_ok(council, team)
        await run_worker_until(lambda: _all(WebhookDelivery.filter(reference=second.reference), 1))
        old_got, new_got = await old_receiver.accepted(), await new_receiver.accepted()
        assert [e["payload"]["data"]["reference"] for e in old_got] == [concern.reference]
        assert [e["payload"]["data"]["reference"] for e in new_got] == [second.reference]
        assert len(old_got[0]["signature"].split(" ")) == 2  # signed with both

        # Once the overlap is over only the new secret signs: the old-secret receiver refuses.
        with use_settings(webhook_secret_overlap=0):
            await KeyWorkerEndpoint.filter(id=endpoint.id).update(url=old_receiver.url, confirmed_url=old_receiver.url)
            third, _, _ = await refer_ok(council, team)
            row = await WebhookDelivery.get(reference=third.reference)
            await delivery.deliver_due()
            await row.refresh_from_db()
        assert row.last_status_code == 401 and row.status == "pending"
        assert len(await old_receiver.accepted()) == 1


async def test_the_delivery_row_commits_or_rolls_back_with_its_referral(council):
    team = await create_team_ok(council)
    await create_endpoint_ok(council, team)
    concern, _ = await create_concern_ok(council)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await handover.refer_concern(concern, team, None)
            assert await WebhookDelivery.filter(reference=concern.reference).count() == 1
            raise RuntimeError("the referral fails after the outbox row was written")
    assert not await Referral.filter(concern_id=concern.id).exists()
    assert not await WebhookDelivery.filter(reference=concern.reference).exists()


async def test_an_endpoint_failing_longer_than_allowed_is_paused_with_notice(council, mailbox):
    team = await create_team_ok(council)
    port = free_port()
    # Attempts keep failing for longer than the 0.3 s allowed, before their retries run out.
    with use_settings(webhook_retry_schedule="0" + ",0.1" * 8, webhook_endpoint_disable_after=0.3):
        endpoint, _, _ = await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{port}/hooks")
        await refer_ok(council, team)
        await run_worker_until(lambda: _endpoint_off(endpoint))
    assert "Every delivery has failed for 0.3 seconds" in endpoint.disabled_reason
    message = (await mailbox.wait_for(council.duty_email))[-1]
    assert message["Subject"] == f"Webhooks to {endpoint.name} are paused"


async def _endpoint_off(endpoint: KeyWorkerEndpoint) -> bool:
    await endpoint.refresh_from_db()
    return endpoint.status == "paused"


async def test_an_address_that_resolves_to_a_private_network_is_refused_at_delivery_time(council):
    team = await create_team_ok(council)
    with use_settings(allow_private_webhook_urls=False, webhook_retry_schedule=FAST):
        await create_endpoint_ok(council, team, url="http://localhost:9/hooks")  # e.g. DNS changed after it was saved
        concern, _, _ = await refer_ok(council, team)
        row = await WebhookDelivery.get(reference=concern.reference)
        await delivery.deliver_due()
    attempt = await WebhookAttempt.get(delivery=row)
    assert attempt.status_code is None
    assert attempt.error.startswith("Not sent: localhost resolves to a loopback address")


async def test_events_are_minimised_thin_on_request_and_follow_the_concern(council, secret):
    team = await create_team_ok(council)
    officer = await create_user_ok(council, role="officer")
    with Receiver([secret]) as receiver:
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret, payload_style="thin", event_types=["concern.referred"])
        anonymous, _, _ = await refer_ok(council, team, contact_by="none", reporter_name=None, reporter_email=None)
        named, key, _ = await refer_ok(council, team, contact_by="phone", reporter_name="Ola", reporter_email=None, reporter_phone="01632 960 111")
        from civic.concerns import intake, triage

        await intake.add_information(council, named.reference, key, "They have moved to their gran's.", "10.9.9.9")
        await triage.close_no_further_action(officer, council, anonymous.reference, "Duplicate of a phone call")
        await run_worker_until(lambda: _all(WebhookDelivery.filter(concern_id__in=[anonymous.id, named.id]), 6))
        accepted = await receiver.accepted()
    by_kind: dict[tuple[str, str, str], dict] = {}
    for entry in accepted:
        data = entry["payload"]["data"]
        validate_event(entry["payload"])
        style = "full" if "details" in data or "added_information" in data or "reason" in data else "thin"
        by_kind[(entry["type"], data["reference"], style)] = data
    assert set(by_kind) == {
        ("concern.referred", anonymous.reference, "full"),
        ("concern.referred", anonymous.reference, "thin"),
        ("concern.referred", named.reference, "full"),
        ("concern.referred", named.reference, "thin"),
        ("concern.updated", named.reference, "full"),
        ("concern.withdrawn", anonymous.reference, "full"),
    }
    assert by_kind[("concern.referred", anonymous.reference, "full")]["reporter"] is None
    assert by_kind[("concern.referred", named.reference, "full")]["reporter"] == {"name": "Ola", "contact_by": "phone", "phone": "01632 960 111"}
    assert set(by_kind[("concern.referred", named.reference, "thin")]) == {"id", "reference", "url"}
    assert by_kind[("concern.referred", named.reference, "thin")]["url"] == f"http://civic.test/api/v1/concerns/{named.reference}"
    assert by_kind[("concern.updated", named.reference, "full")]["added_information"]["text"] == "They have moved to their gran's."
    assert by_kind[("concern.withdrawn", anonymous.reference, "full")]["reason"] == "closed"
    assert all(len(json.dumps(entry["payload"]).encode()) < 20 * 1024 for entry in accepted)


async def test_only_the_worker_holding_the_claim_moves_a_delivery_on(council, secret):
    team = await create_team_ok(council)
    await create_endpoint_ok(council, team, url="http://127.0.0.1:9/hooks", secret=secret)
    concern, _, _ = await refer_ok(council, team)
    row = await WebhookDelivery.get(reference=concern.reference)
    with use_settings(webhook_lease_seconds=0.2, webhook_timeout=0.1):
        first = [d for d in await delivery.claim(worker="worker-a") if d.id == row.id]
        assert first
        assert row.id not in [d.id for d in await delivery.claim(worker="worker-b")]
        await asyncio.sleep(0.3)  # worker-a's lease runs out, as if it had died
        retaken = [d for d in await delivery.claim(worker="worker-b") if d.id == row.id]
    assert retaken
    late = delivery.Outcome(200, 5)
    await delivery.record(first[0], first[0].endpoint, first[0].created_at, late, "worker-a")
    await row.refresh_from_db()
    assert row.status == "delivering" and row.claimed_by == "worker-b"  # worker-a's late answer is only logged
    assert await WebhookAttempt.filter(delivery=row, worker="worker-a").count() == 1


def test_retry_after_is_read_as_seconds_or_as_a_date():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)
    assert delivery.parse_retry_after("120", now) == timedelta(seconds=120)
    assert delivery.parse_retry_after("Mon, 23 Nov 2026 12:05:00 GMT", now) == timedelta(minutes=5)
    assert delivery.parse_retry_after("999999999", now) == delivery.RETRY_AFTER_CAP
    assert delivery.parse_retry_after("9" * 30, now) == delivery.RETRY_AFTER_CAP  # no OverflowError
    assert delivery.parse_retry_after("soon", now) is None
    assert delivery.parse_retry_after(None, now) is None


def test_the_retry_schedule_and_lease_are_checked_at_start_up(tmp_path):
    with pytest.raises(config.ConfigError, match="CIVIC_WEBHOOK_RETRY_SCHEDULE"):
        config.load({"CIVIC_DATA_DIR": str(tmp_path), "CIVIC_WEBHOOK_RETRY_SCHEDULE": "0,soon"}, env_file=tmp_path / "none")
    with pytest.raises(config.ConfigError, match="must be longer than"):
        config.load({"CIVIC_DATA_DIR": str(tmp_path), "CIVIC_WEBHOOK_LEASE_SECONDS": "10", "CIVIC_WEBHOOK_TIMEOUT": "15"}, env_file=tmp_path / "none")
    assert config.retry_schedule("0,5,300") == [0.0, 5.0, 300.0]


async def test_a_payload_over_20_kb_is_sent_thin_rather_than_dropped(council, secret):
    from civic.concerns.models import ConcernEvent

    team = await create_team_ok(council)
    concern, _ = await create_concern_ok(council)
    for _ in range(20):  # the person who raised it kept adding to it
        await ConcernEvent.create(concern=concern, kind="info-added", text="More detail. " * 90)
    await create_endpoint_ok(council, team, secret=secret)
    await handover.refer_concern(concern, team, None)
    row = await WebhookDelivery.get(reference=concern.reference)
    body = json.loads(row.body)
    assert row.body_bytes < 20 * 1024
    assert body["type"] == "concern.referred" and set(body["data"]) == {"id", "reference", "url"}


async def test_old_delivered_payloads_are_emptied_and_a_purged_concern_takes_its_deliveries_with_it(council):
    from tortoise import timezone

    from civic.concerns.models import Concern
    from civic.concerns.purge import purge_closed_concerns

    team = await create_team_ok(council)
    await create_endpoint_ok(council, team)
    old, _, _ = await refer_ok(council, team)
    recent, _, _ = await refer_ok(council, team)
    await WebhookDelivery.filter(reference=old.reference).update(status="delivered", delivered_at=timezone.now() - timedelta(days=31))
    await WebhookDelivery.filter(reference=recent.reference).update(status="delivered", delivered_at=timezone.now())
    # What the receiver answered sits beside the payload, and may echo it: it goes with the payload.
    for concern in (old, recent):
        row = await WebhookDelivery.get(reference=concern.reference)
        await WebhookAttempt.create(delivery=row, number=1, attempted_at=timezone.now(), status_code=200, response_excerpt=f"filed {concern.reference}", response_bytes=20)
    assert await delivery.purge_bodies() >= 1
    emptied = await WebhookDelivery.get(reference=old.reference)
    kept = await WebhookDelivery.get(reference=recent.reference)
    assert emptied.body is None and emptied.body_bytes == 0 and emptied.webhook_id  # the log line stays
    assert kept.body and kept.body_bytes > 0
    [emptied_answer] = await WebhookAttempt.filter(delivery=emptied)
    [kept_answer] = await WebhookAttempt.filter(delivery=kept)
    assert emptied_answer.response_excerpt is None and (emptied_answer.status_code, emptied_answer.response_bytes) == (200, 20)
    assert kept_answer.response_excerpt == f"filed {recent.reference}"
    assert await delivery.purge_bodies() == 0  # nothing left to empty: running again changes nothing

    await Concern.filter(id=recent.id).update(status="closed", closed_at=timezone.now() - timedelta(days=400))
    await purge_closed_concerns()
    assert not await WebhookDelivery.filter(reference=recent.reference).exists()


async def test_every_attempt_that_carries_a_concern_is_in_its_access_log_naming_the_system_and_host_never_the_text(council, secret):
    from civic.concerns.models import ConcernAccess

    team = await create_team_ok(council)
    port = free_port()
    full, _, _ = await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{port}/civic/webhooks", secret=secret, name="Family Hub cases")
    await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{port}/civic/thin", secret=secret, payload_style="thin")
    with use_settings(webhook_retry_schedule=FAST):
        concern, _, _ = await refer_ok(council, team)
        await delivery.deliver_due()  # nobody listening: the first attempts fail
        with Receiver([secret], port=port) as receiver:
            await run_worker_until(lambda: _all(WebhookDelivery.filter(reference=concern.reference), 2))
            assert len(await receiver.accepted()) == 2
    entries = list(await ConcernAccess.filter(concern_id=concern.id).order_by("id"))
    # Both attempts of the full payload, the failed one too (it may have arrived); the thin one
    # carries only the reference and where to fetch it, and fetching it is logged by the API.
    assert len(entries) == 2
    failed, delivered = (entry.action for entry in entries)
    assert failed.startswith(f"sent by webhook to {full.name} (127.0.0.1:{port}), answered Could not connect")
    assert delivered == f"sent by webhook to {full.name} (127.0.0.1:{port}), answered HTTP 200"
    assert all(entry.user_id is None and entry.reference == concern.reference for entry in entries)
    assert not any(concern.details in entry.action for entry in entries)


async def test_a_duplicate_merged_into_a_referred_concern_reaches_its_team_and_so_do_its_reporters_additions(council, secret):
    # The team never heard of the duplicate: no event, and later additions read as the kept concern's own reporter's.
    from civic.concerns import intake, triage

    team = await create_team_ok(council)
    officer = await create_user_ok(council, role="officer")
    with Receiver([secret]) as receiver:
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret, payload_style="thin", event_types=["concern.updated"])
        kept, _, _ = await refer_ok(council, team)
        duplicate, key = await create_concern_ok(council, details="I saw the children outside at midnight again.", contact_by="phone",
                                                 reporter_name="Ola", reporter_email=None, reporter_phone="01632 960 222")
        await triage.merge(officer, council, duplicate.reference, kept.reference)
        written = await WebhookDelivery.filter(concern_id=kept.id, event_type="concern.updated").count()
        await intake.add_information(council, duplicate.reference, key, "They were out again last night.", "10.9.9.8")
        await run_worker_until(lambda: _all(WebhookDelivery.filter(concern_id=kept.id), 5))
        accepted = await receiver.accepted()
    assert written == 2  # with the merge itself, one for each endpoint
    updates = [entry["payload"] for entry in accepted if entry["type"] == "concern.updated"]
    for payload in updates:
        validate_event(payload)
    full = [p["data"] for p in updates if "duplicate" in p["data"]]
    merged, added = sorted(full, key=lambda data: data["added_information"] is not None)
    assert merged["reference"] == kept.reference and merged["added_information"] is None
    assert merged["duplicate"]["reference"] == duplicate.reference
    assert merged["duplicate"]["details"] == "I saw the children outside at midnight again."
    assert merged["duplicate"]["reporter"] == {"name": "Ola", "contact_by": "phone", "phone": "01632 960 222"}
    assert added["duplicate"] is None
    assert added["added_information"]["text"] == "They were out again last night."
    assert added["added_information"]["from_duplicate"] == duplicate.reference
    assert [set(p["data"]) for p in updates if "duplicate" not in p["data"]] == [{"id", "reference", "url"}] * 2
