"""The endpoint pages: setting one up, its secrets shown once, test events, switching off and on, the log and replays."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tortoise import Tortoise

from civic import accounts, crypto
from civic.audit import AuditLog
from civic.concerns.models import ConcernAccess, Referral, TeamMembership
from civic.webhooks import delivery, endpoints, signing
from civic.webhooks.models import KeyWorkerEndpoint, WebhookAttempt, WebhookDelivery
from tests.factories import Browser, create_endpoint_ok, create_team_ok, create_user_ok, field_error, html, refer_ok, stored_row, text_of, use_settings
from tests.peers import free_port
from tests.peers.webhook_receiver import Receiver


@pytest.fixture
async def admin_browser(app, council):
    admin = await create_user_ok(council, role="admin")
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        yield browser


def form(team_id: int, url: str, **overrides: str) -> list[tuple[str, str]]:
    values = {"name": "Family Hub case system", "team": str(team_id), "url": url, "payload_style": "full", **overrides}
    items = [(k, v) for k, v in values.items()]
    return items + [("event_types", "concern.referred"), ("event_types", "concern.updated")]


async def test_admin_adds_a_system_and_sees_its_secret_and_key_once_and_they_are_not_stored_in_clear(admin_browser, council):
    team = await create_team_ok(council, "Family Hub")
    response = await admin_browser.post("/admin/endpoints", form(team.id, "http://127.0.0.1:9/hooks"))
    assert response.status_code == 303
    endpoint = await KeyWorkerEndpoint.get(council=council)
    assert response.headers["location"] == f"/admin/endpoints/{endpoint.id}"
    page = await admin_browser.follow(response)
    secret, api_key = text_of(page, "#signing-secret")[0], text_of(page, "#api-key")[0]
    assert secret == endpoint.secret and secret.startswith("whsec_") and len(signing.base64.b64decode(secret[6:])) == 32
    assert endpoint.api_key_hash == signing.hash_api_key(api_key) and api_key.startswith("civic_kw_")
    assert endpoint.event_types == ["concern.referred", "concern.updated"] and endpoint.team_id == team.id
    again = await admin_browser.get(f"/admin/endpoints/{endpoint.id}")
    assert text_of(again, "#signing-secret") == [] and text_of(again, "#api-key") == []
    assert api_key[:13] in text_of(again, "#endpoint-details")[0] and api_key not in again.text

    connection = Tortoise.get_connection("default")
    _, rows = await connection.execute_query(f"SELECT secret, api_key_hash FROM keyworker_endpoint WHERE id = {endpoint.id}")
    stored = bytes(rows[0]["secret"])
    assert secret.encode() not in stored and crypto.decrypt(stored) == secret
    assert api_key not in str(rows[0]["api_key_hash"])
    _, sessions = await connection.execute_query("SELECT data FROM session")
    assert not any(secret in str(row["data"]) or api_key in str(row["data"]) for row in sessions)


async def test_every_mistake_in_the_form_is_shown_next_to_its_field_and_what_was_typed_stays(admin_browser, council):
    response = await admin_browser.post("/admin/endpoints", [("name", ""), ("team", ""), ("url", "ftp://cases.example/x"), ("payload_style", "")])
    assert response.status_code == 422
    assert field_error(response, "name").startswith("Enter a name")
    assert field_error(response, "team") == "Choose the team whose system this is"
    assert field_error(response, "url") == "The web address must start with https://"
    assert field_error(response, "event_types") == "Choose at least one event to send"
    assert field_error(response, "payload_style") == "Choose what each event carries"
    assert html(response).css_first("#url").attributes["value"] == "ftp://cases.example/x"
    assert not await KeyWorkerEndpoint.filter(council=council).exists()


@pytest.mark.parametrize(
    "url, why",
    [
        ("https://127.0.0.1/hooks", "resolves to a loopback address"),
        ("https://10.1.2.3/hooks", "resolves to a private address"),
        ("https://169.254.169.254/latest/meta-data", "resolves to a link-local address"),
        ("https://[::1]:8443/hooks", "resolves to a loopback address"),
        ("https://[::ffff:192.168.0.1]/hooks", "resolves to a private address"),
        ("https://[::ffff:127.0.0.1]/hooks", "resolves to a loopback address"),
        ("https://[fec0::1]/hooks", "resolves to a site-local address"),
        ("https://[2002:7f00:0001::]/hooks", "resolves to a loopback address"),  # 6to4 around 127.0.0.1
        ("https://[2002:c0a8:0101::1]/hooks", "resolves to a private address"),  # 6to4 around 192.168.1.1
        ("https://[2002:a9fe:a9fe::]/hooks", "resolves to a link-local address"),  # 6to4 around 169.254.169.254
        ("https://[64:ff9b::7f00:1]/hooks", "resolves to a loopback address"),  # NAT64 around 127.0.0.1
        ("https://[64:ff9b::a01:203]/hooks", "resolves to a private address"),  # NAT64 around 10.1.2.3
        ("https://[64:ff9b:1::a01:203]/hooks", "webhooks go only to public addresses"),  # NAT64 for local use
        ("https://localhost/hooks", "resolves to a loopback address"),
        ("https://user:pw@cases.example/hooks", "must not contain a user name or password"),
    ],
)
async def test_addresses_inside_private_networks_are_refused_unless_configured(admin_browser, council, url, why):
    team = await create_team_ok(council)
    with use_settings(allow_private_webhook_urls=False):
        response = await admin_browser.post("/admin/endpoints", form(team.id, url))
    assert response.status_code == 422
    assert why in field_error(response, "url")


@pytest.mark.parametrize("url", ["https://8.8.8.8/hooks", "https://[::ffff:8.8.8.8]/hooks", "https://[2002:808:808::]/hooks", "https://[2606:4700::1111]/hooks"])
async def test_public_addresses_are_accepted_also_when_an_ipv6_address_carries_one(admin_browser, council, url):
    team = await create_team_ok(council)
    with use_settings(allow_private_webhook_urls=False):
        response = await admin_browser.post("/admin/endpoints", form(team.id, url))
    assert response.status_code == 303
    assert (await KeyWorkerEndpoint.get(council=council)).url == url


async def test_in_production_only_https_is_accepted(admin_browser, council):
    team = await create_team_ok(council)
    with use_settings(env="production"):
        response = await admin_browser.post("/admin/endpoints", form(team.id, "http://127.0.0.1:9/hooks"))
    assert response.status_code == 422
    assert field_error(response, "url") == "The web address must start with https://"


async def test_send_test_event_posts_a_signed_ping_and_says_what_came_back(admin_browser, council):
    secret = signing.new_secret()
    with Receiver([secret]) as receiver:
        endpoint, _, _ = await create_endpoint_ok(council, url=receiver.url, secret=secret)
        response = await admin_browser.post(f"/admin/endpoints/{endpoint.id}/ping")
        page = await admin_browser.follow(response)
        accepted = await receiver.accepted()
    assert [entry["type"] for entry in accepted] == ["ping"]
    assert accepted[0]["payload"]["data"]["endpoint"] == {"id": endpoint.id, "name": endpoint.name}
    assert text_of(page, ".govuk-notification-banner__heading")[0].startswith("Test event delivered: HTTP 200 in")
    row = await WebhookDelivery.get(endpoint=endpoint, event_type="ping")
    assert row.status == "delivered"


async def test_an_answer_echoing_the_concern_is_stored_encrypted_and_only_officers_read_it(app, council, settings):
    # A receiver that answers with what it was sent puts the concern into the attempt log.
    echoed = "Kai, aged 9, sleeps in the car on Orchard Lane"
    secret = signing.new_secret()
    officer, admin = await create_user_ok(council, role="officer"), await create_user_ok(council, role="admin")
    team = await create_team_ok(council)
    with Receiver([secret], script={"responses": [{"status": 500, "body": {"error": "could not file", "echo": echoed}}]}) as receiver:
        endpoint, _, _ = await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, _ = await refer_ok(council, team)
        await delivery.deliver_due()
    row = await WebhookDelivery.get(concern=concern)
    [attempt] = await WebhookAttempt.filter(delivery=row)
    stored = await stored_row("webhook_attempt", attempt.id)
    everything = " ".join(stored.values())
    for words in (echoed, "Orchard Lane", "could not file"):
        assert words not in everything, words
    assert stored["response_excerpt"].startswith("gAAAAA")  # a Fernet token
    length = len(json.dumps({"error": "could not file", "echo": echoed}))
    assert attempt.status_code == 500 and attempt.response_bytes == length and echoed in attempt.response_excerpt

    async def attempts_seen_by(person) -> tuple[str, bool]:
        async with Browser(app, council) as browser:
            await browser.signin_as(person)
            page = await browser.get(f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}")
        assert page.status_code == 200
        return " ".join(text_of(page, "#attempts li")), bool(html(page).css("#answers-hidden"))

    # Administrators may not read concerns: the status code and the length, not the words.
    seen, hidden = await attempts_seen_by(admin)
    assert "HTTP 500" in seen and f"{length} bytes back" in seen and echoed not in seen and "could not file" not in seen and hidden

    # Rotation moves it to the new key; an officer still reads it with only that key.
    old_key = crypto.keys_from(settings.encryption_keys)[0]
    new_key = crypto.new_key()
    try:
        with use_settings(encryption_keys=f"{new_key},{old_key}"):
            assert (await crypto.rotate())["WebhookAttempt"] >= 1
        with use_settings(encryption_keys=new_key):
            seen, hidden = await attempts_seen_by(officer)
        assert "HTTP 500" in seen and echoed in seen and not hidden
    finally:
        with use_settings(encryption_keys=f"{old_key},{new_key}"):
            await crypto.rotate()


async def test_a_failed_test_event_is_reported_and_not_retried(admin_browser, council):
    endpoint, _, _ = await create_endpoint_ok(council, url=f"http://127.0.0.1:{free_port()}/hooks")
    page = await admin_browser.follow(await admin_browser.post(f"/admin/endpoints/{endpoint.id}/ping"))
    assert text_of(page, ".govuk-notification-banner__heading")[0].startswith("Test event not delivered: Could not connect")
    row = await WebhookDelivery.get(endpoint=endpoint, event_type="ping")
    assert row.status == "dead" and row.attempts == 1


async def test_a_paused_endpoint_says_its_key_still_works_and_can_be_switched_off(admin_browser, council):
    endpoint, _, _ = await create_endpoint_ok(council, status="paused", disabled_reason="The receiving system answered 410 Gone.")
    page = await admin_browser.get(f"/admin/endpoints/{endpoint.id}")
    # A 410 is not a delivery that kept failing: the status says who paused it, the warning says why.
    assert text_of(page, "#endpoint-status") == ["Paused by civic"]
    assert "410 Gone" in text_of(page, ".govuk-warning-text__text")[0]
    assert "Its API key still works" in text_of(page, ".govuk-warning-text__text")[0]
    off = await admin_browser.post(f"/admin/endpoints/{endpoint.id}/disable", {"reason": "Their supplier has gone bust"})
    assert off.status_code == 303
    page = await admin_browser.follow(off)
    assert text_of(page, "#endpoint-status") == ["Switched off"]
    assert "its API key does not work" in text_of(page, ".govuk-warning-text__text")[0]


async def test_switching_off_needs_a_reason_and_switching_on_needs_a_ping_that_works(admin_browser, council):
    secret = signing.new_secret()
    port = free_port()
    endpoint, _, _ = await create_endpoint_ok(council, url=f"http://127.0.0.1:{port}/hooks", secret=secret)
    empty = await admin_browser.post(f"/admin/endpoints/{endpoint.id}/disable", {"reason": " "})
    assert empty.status_code == 422 and field_error(empty, "reason") == "Say why you are switching it off"
    off = await admin_browser.post(f"/admin/endpoints/{endpoint.id}/disable", {"reason": "Their server is being moved"})
    assert off.status_code == 303
    page = await admin_browser.follow(off)
    assert text_of(page, "#endpoint-status") == ["Switched off"]
    assert await AuditLog.filter(action="endpoint.disabled", target_id=str(endpoint.id), reason="Their server is being moved").exists()

    still_off = await admin_browser.follow(await admin_browser.post(f"/admin/endpoints/{endpoint.id}/enable"))
    assert text_of(still_off, "#endpoint-status") == ["Switched off"]
    assert "Not switched on" in text_of(still_off, ".govuk-notification-banner__heading")[0]
    with Receiver([secret], port=port):
        on = await admin_browser.follow(await admin_browser.post(f"/admin/endpoints/{endpoint.id}/enable"))
    assert text_of(on, "#endpoint-status") == ["On"]


async def test_the_delivery_log_lists_each_delivery_and_its_attempts_without_the_payload(app, council):
    officer = await create_user_ok(council, role="officer")
    team = await create_team_ok(council)
    with use_settings(webhook_retry_schedule="0"):
        endpoint, _, _ = await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{free_port()}/hooks")
        concern, _, _ = await refer_ok(council, team)
        from civic.webhooks import delivery

        await delivery.deliver_due()
    row = await WebhookDelivery.get(reference=concern.reference)
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        log = await browser.get(f"/admin/endpoints/{endpoint.id}/deliveries?status=dead")
        assert log.status_code == 200
        assert text_of(log, "#deliveries tbody tr td a") == [f"concern.referred {concern.reference}"]
        page = await browser.get(f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}")
        assert text_of(page, "#webhook-id") == [row.webhook_id]
        assert "no answer" in text_of(page, "#attempts li")[0] and "Could not connect" in text_of(page, "#attempts li")[0]
        assert concern.details not in page.text and concern.details not in log.text
        empty = await browser.get(f"/admin/endpoints/{endpoint.id}/deliveries?status=delivered")
        assert text_of(empty, "main p.govuk-body")[-1] == "No deliveries with this status."


async def test_an_officer_replays_every_failed_delivery_of_an_endpoint_or_settles_one(app, council):
    officer = await create_user_ok(council, role="officer")
    team = await create_team_ok(council)
    endpoint, _, _ = await create_endpoint_ok(council, team)
    rows = []
    for _ in range(3):
        concern, _, _ = await refer_ok(council, team)
        rows.append(await WebhookDelivery.get(reference=concern.reference))
    await WebhookDelivery.filter(id__in=[r.id for r in rows]).update(status="dead", attempts=8)
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        settled = await browser.post(f"/admin/endpoints/{endpoint.id}/deliveries/{rows[0].id}/cancel", {"reason": "Phoned the duty key worker"})
        assert settled.status_code == 303
        assert text_of(await browser.follow(settled), ".govuk-notification-banner__heading") == ["Marked as handled: it will not be sent."]
        replayed = await browser.follow(await browser.post(f"/admin/endpoints/{endpoint.id}/replay"))
        assert text_of(replayed, ".govuk-notification-banner__heading") == ["2 failed deliveries will be sent again shortly."]
        conflict = await browser.post(f"/admin/endpoints/{endpoint.id}/deliveries/{rows[1].id}/replay")
        assert conflict.status_code == 409
    for row in rows:
        await row.refresh_from_db()
    assert [r.status for r in rows] == ["cancelled", "pending", "pending"]
    assert [(r.replays, r.replay_base) for r in rows[1:]] == [(1, 8), (1, 8)]
    # The audit log says a note was given; the note itself is kept, encrypted, with the delivery.
    [entry] = await AuditLog.filter(action="webhook.cancelled", target_id=str(rows[0].id))
    assert entry.actor_id == officer.id and entry.reason == "how the team was told is noted on the delivery"
    assert rows[0].handled_note == "Phoned the duty key worker"


async def test_the_concern_page_shows_how_the_referral_reached_its_team_and_how_the_team_was_told(app, council):
    officer, key_worker = await create_user_ok(council, role="officer"), await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, members=[key_worker])
    endpoint, _, _ = await create_endpoint_ok(council, team, name="North case system")
    concern, _, referral = await refer_ok(council, team)
    row = await WebhookDelivery.get(concern=concern)
    await WebhookDelivery.filter(id=row.id).update(status="dead", attempts=8, last_status_code=500)
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        page = await browser.get(f"/officer/concerns/{concern.reference}")
        assert text_of(page, f"#referral-{referral.id} .govuk-tag") == ["Not delivered"]
        assert text_of(page, f"#referral-{referral.id} .app-referral__status") == ["Referred: the team has not yet said it received it"]
        assert f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}" in [a.attributes["href"] for a in html(page).css(f"#referral-{referral.id} a")]
        await browser.post(f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}/cancel", {"reason": "Phoned the duty key worker"})
        page = await browser.get(f"/officer/concerns/{concern.reference}")
    [line] = text_of(page, f"#referral-{referral.id} .app-referral__progress li")
    assert line.startswith("Handled") and "How the team was told: Phoned the duty key worker" in line
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        page = await browser.get(f"/officer/concerns/{concern.reference}")
    assert text_of(page, f"#referral-{referral.id} .govuk-tag") == ["Handled"]
    assert not html(page).css(f"#referral-{referral.id} a")  # the delivery log is for officers


async def test_how_the_team_was_told_is_stored_encrypted_and_still_shown_on_the_concern_page(app, council, settings):
    # An officer may say there what the concern is about: it is special-category data like the concern.
    note = "Phoned Sam at the hub: Kai, aged 9, is sleeping in the car on Orchard Lane."
    officer, key_worker = await create_user_ok(council, role="officer"), await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, members=[key_worker])
    endpoint, _, _ = await create_endpoint_ok(council, team)
    concern, _, referral = await refer_ok(council, team)
    row = await WebhookDelivery.get(concern=concern)
    await WebhookDelivery.filter(id=row.id).update(status="dead", attempts=8)
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        settled = await browser.post(f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}/cancel", {"reason": note})
        assert settled.status_code == 303
    stored = [await stored_row("webhook_delivery", row.id)] + [await stored_row("audit_log", entry.id) for entry in await AuditLog.filter(council=council)]
    everything = " ".join(value for found in stored for value in found.values())
    for words in ("Kai, aged 9", "Orchard Lane", "Phoned Sam"):
        assert words not in everything, words
    assert stored[0]["handled_note"].startswith("gAAAAA")  # a Fernet token

    # Rotation moves it to the new key, and it still reads with only that key.
    old_key = crypto.keys_from(settings.encryption_keys)[0]
    new_key = crypto.new_key()
    try:
        with use_settings(encryption_keys=f"{new_key},{old_key}"):
            assert (await crypto.rotate())["WebhookDelivery"] >= 1
        with use_settings(encryption_keys=new_key):
            for person in (officer, key_worker):
                async with Browser(app, council) as browser:
                    await browser.signin_as(person)
                    page = await browser.get(f"/officer/concerns/{concern.reference}")
                [line] = text_of(page, f"#referral-{referral.id} .app-referral__progress li")
                assert line.startswith("Handled") and f"How the team was told: {note}" in line
    finally:
        with use_settings(encryption_keys=f"{old_key},{new_key}"):
            await crypto.rotate()


async def test_changing_an_endpoint_keeps_its_secret_and_key(admin_browser, council):
    endpoint, secret, api_key = await create_endpoint_ok(council)
    response = await admin_browser.post(f"/admin/endpoints/{endpoint.id}", form(endpoint.team_id, "http://127.0.0.1:9/new", name="Youth case system", payload_style="thin"))
    assert response.status_code == 303
    await endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.url, endpoint.payload_style) == ("Youth case system", "http://127.0.0.1:9/new", "thin")
    assert endpoint.secret == secret and endpoint.api_key_hash == signing.hash_api_key(api_key)


async def test_an_endpoint_stays_with_its_team_so_its_key_never_reads_another_teams_concerns(admin_browser, council, app):
    endpoint, _, api_key = await create_endpoint_ok(council)
    own, _, _ = await refer_ok(council, await endpoint.team)
    other_team = await create_team_ok(council, "Youth Support")
    theirs, _, _ = await refer_ok(council, other_team)
    edit = await admin_browser.get(f"/admin/endpoints/{endpoint.id}/edit")
    assert html(edit).css_first("select#team") is None and (await endpoint.team).name in text_of(edit, "#team")[0]
    response = await admin_browser.post(f"/admin/endpoints/{endpoint.id}", form(other_team.id, endpoint.url, name="Renamed"))
    assert response.status_code == 422
    assert field_error(response, "team").startswith("A system stays with the team it was added for")
    await endpoint.refresh_from_db()
    assert endpoint.team_id != other_team.id and endpoint.name != "Renamed"
    async with Browser(app, council) as system:
        key = {"authorization": f"Bearer {api_key}"}
        assert (await system.get(f"/api/v1/concerns/{own.reference}", headers=key)).status_code == 200
        assert (await system.get(f"/api/v1/concerns/{theirs.reference}", headers=key)).status_code == 404


async def test_only_an_officer_can_send_concerns_to_a_new_address_so_an_administrator_alone_cannot_redirect_them(app, council, mailbox):
    secret = signing.new_secret()
    admin = await create_user_ok(council, role="admin")
    officer = await create_user_ok(council, role="officer")
    team = await create_team_ok(council)
    endpoint, _, _ = await create_endpoint_ok(council, team, url=f"http://127.0.0.1:{free_port()}/old", secret=secret)
    concern, _, _ = await refer_ok(council, team)
    row = await WebhookDelivery.get(reference=concern.reference)
    await WebhookDelivery.filter(id=row.id).update(status="dead", attempts=8)
    from civic.concerns.models import ConcernAccess
    from civic.webhooks import delivery

    with Receiver([secret]) as receiver:
        async with Browser(app, council) as browser:
            await browser.signin_as(admin)
            changed = await browser.post(f"/admin/endpoints/{endpoint.id}", form(team.id, receiver.url))
            assert changed.status_code == 303
            page = await browser.follow(changed)
            assert "No concerns are sent to" in text_of(page, "#url-unconfirmed")[0] and html(page).css_first("#confirm-url") is None
            assert (await browser.post(f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}/replay")).status_code == 303
            assert (await browser.post(f"/admin/endpoints/{endpoint.id}/confirm-url", {"url": receiver.url})).status_code == 403
            pinged = await browser.follow(await browser.post(f"/admin/endpoints/{endpoint.id}/ping"))
            assert text_of(pinged, ".govuk-notification-banner__heading")[0].startswith("Test event delivered")
        await delivery.deliver_due()
        assert [entry["type"] for entry in await receiver.accepted()] == ["ping"]
        assert await status_of(row) == "pending" and not await ConcernAccess.filter(concern_id=concern.id).exists()
        asked = mailbox.body((await mailbox.wait_for(council.duty_email))[-1])
        assert receiver.url in asked and f"/admin/endpoints/{endpoint.id}" in asked and concern.details not in asked

        async with Browser(app, council) as browser:
            await browser.signin_as(officer)
            page = await browser.get(f"/admin/endpoints/{endpoint.id}")
            assert html(page).css_first("#confirm-url input[name=url]").attributes["value"] == receiver.url
            stale = await browser.post(f"/admin/endpoints/{endpoint.id}/confirm-url", {"url": "http://127.0.0.1:9/other"})
            assert stale.status_code == 409
            confirmed = await browser.post(f"/admin/endpoints/{endpoint.id}/confirm-url", {"url": receiver.url})
            assert confirmed.status_code == 303
            assert text_of(await browser.follow(confirmed), "#url-unconfirmed") == []
            await delivery.deliver_due()
            log = await browser.get(f"/officer/concerns/{concern.reference}/access")
        accepted = [entry for entry in await receiver.accepted() if entry["type"] != "ping"]
    host = receiver.url.split("/")[2]
    assert f"Sent by webhook to Family Hub case system ({host}), answered HTTP 200" in text_of(log, "main tbody td")
    assert [entry["payload"]["data"]["reference"] for entry in accepted] == [concern.reference]
    assert await status_of(row) == "delivered"
    changes = await AuditLog.filter(target_type="KeyWorkerEndpoint", target_id=str(endpoint.id)).order_by("id").values_list("action", "actor_id")
    assert ("endpoint.url_changed", admin.id) in changes and ("endpoint.url_confirmed", officer.id) in changes
    assert await AuditLog.filter(action="endpoint.url_changed", reason__contains=receiver.url).exists()


async def test_a_system_an_administrator_adds_waits_for_an_officer_unless_they_are_one(app, council):
    team = await create_team_ok(council)
    admin = await create_user_ok(council, role="admin")
    both = await create_user_ok(council, role="admin")
    await accounts.assign_role(council, both.email, "officer")
    for person, name in [(admin, "Added by an administrator"), (both, "Added by an officer")]:
        async with Browser(app, council) as browser:
            await browser.signin_as(person)
            assert (await browser.post("/admin/endpoints", form(team.id, "http://127.0.0.1:9/hooks", name=name))).status_code == 303
    added = {e.name: e for e in await KeyWorkerEndpoint.filter(council=council)}
    assert added["Added by an administrator"].confirmed_url == ""
    assert added["Added by an officer"].confirmed_url == "http://127.0.0.1:9/hooks"
    await refer_ok(council, team)
    from civic.webhooks import delivery

    claimed = await delivery.claim()
    assert [row.endpoint_id for row in claimed] == [added["Added by an officer"].id]


async def test_the_api_key_of_a_system_an_administrator_added_reads_no_concern_until_an_officer_confirms_it(app, council):
    team = await create_team_ok(council)
    key_worker = await create_user_ok(council, role="key-worker")
    await TeamMembership.create(team=team, user=key_worker)
    async with Browser(app, council) as admin:
        await admin.signin_as(await create_user_ok(council, role="admin"))
        page = await admin.follow(await admin.post("/admin/endpoints", form(team.id, "http://127.0.0.1:9/hooks")))
        api_key = text_of(page, "#api-key")[0]
        assert "its API key cannot read or update any" in text_of(page, "#url-unconfirmed")[0]
    endpoint = await KeyWorkerEndpoint.get(api_key_hint=signing.api_key_hint(api_key))
    concern, _, referral = await refer_ok(council, team)
    async with Browser(app, council) as holder:
        # Administrators do not read concerns, and the one who added the system holds its key.
        holder.http.headers["authorization"] = f"Bearer {api_key}"
        read = await holder.get(f"/api/v1/concerns/{concern.reference}")
        told = await holder.http.post(f"/api/v1/concerns/{concern.reference}/status", json={"status": "closed", "outcome": "no-role"})
        assert [read.status_code, told.status_code] == [403, 403]
        assert "has not yet confirmed this system" in read.json()["error"]
        assert "reporter_email" not in read.text and concern.details not in read.text
        assert not await ConcernAccess.filter(concern_id=concern.id).exists()
        assert (await Referral.get(id=referral.id)).status == "sent"
        # Meanwhile the team's key workers record what happened on the concern's page, as with no system.
        async with Browser(app, council) as worker:
            await worker.signin_as(key_worker)
            page = await worker.get(f"/officer/concerns/{concern.reference}")
            assert html(page).css("#action-referral-status input[name=status]") != []
        async with Browser(app, council) as officer:
            await officer.signin_as(await create_user_ok(council, role="officer"))
            assert (await officer.post(f"/admin/endpoints/{endpoint.id}/confirm-url", {"url": "http://127.0.0.1:9/hooks"})).status_code == 303
        assert (await holder.get(f"/api/v1/concerns/{concern.reference}")).status_code == 200


async def status_of(row: WebhookDelivery) -> str:
    await row.refresh_from_db()
    return row.status


async def test_making_a_new_api_key_asks_first_and_says_the_old_one_stops(admin_browser, council):
    endpoint, _, _ = await create_endpoint_ok(council)
    page = await admin_browser.get(f"/admin/endpoints/{endpoint.id}")
    assert html(page).css("form[action$='/api-key']") == []
    link = html(page).css_first("a.govuk-button--warning[href$='/api-key']")
    assert link is not None and link.text().strip() == "Make a new API key"
    confirm = await admin_browser.get(link.attributes["href"])
    assert text_of(confirm, "h1") == ["Are you sure you want to make a new API key?"]
    assert "will stop working straight away" in text_of(confirm, "main")[0]
    assert text_of(confirm, f"main form[action='/admin/endpoints/{endpoint.id}/api-key'] button.govuk-button--warning") == ["Make a new API key"]
    before = endpoint.api_key_hash
    await endpoint.refresh_from_db()
    assert endpoint.api_key_hash == before  # asking changes nothing


async def test_a_new_api_key_an_administrator_alone_makes_reads_no_concern_until_an_officer_confirms_the_system_again(app, council, mailbox):
    team = await create_team_ok(council, "Family Hub")
    endpoint, _, _ = await create_endpoint_ok(council, team, url="http://127.0.0.1:9/hooks")
    concern, _, _ = await refer_ok(council, team)
    await WebhookDelivery.filter(endpoint=endpoint).update(status="dead")  # the first delivery is not what this is about
    async with Browser(app, council) as admin:
        await admin.signin_as(await create_user_ok(council, role="admin"))
        asked = await admin.get(f"/admin/endpoints/{endpoint.id}/api-key")
        assert "A council officer will need to confirm the system again" in text_of(asked, "#needs-confirming")[0]
        page = await admin.follow(await admin.post(f"/admin/endpoints/{endpoint.id}/api-key"))
        new_key = text_of(page, "#api-key")[0]
        assert text_of(page, "#url-unconfirmed") != []
    [told] = await mailbox.wait_for(council.duty_email)
    assert "made a new API key for" in mailbox.body(told) and "/admin/endpoints/" in mailbox.body(told)
    async with Browser(app, council) as holder:
        holder.http.headers["authorization"] = f"Bearer {new_key}"
        assert (await holder.get("/api/v1/me")).status_code == 200
        refused = await holder.get(f"/api/v1/concerns/{concern.reference}")
        assert refused.status_code == 403 and concern.details not in refused.text
        await refer_ok(council, team)
        from civic.webhooks import delivery

        assert endpoint.id not in [row.endpoint_id for row in await delivery.claim()]  # nor is any concern sent meanwhile
        async with Browser(app, council) as officer:
            await officer.signin_as(await create_user_ok(council, role="officer"))
            assert (await officer.post(f"/admin/endpoints/{endpoint.id}/confirm-url", {"url": "http://127.0.0.1:9/hooks"})).status_code == 303
        assert (await holder.get(f"/api/v1/concerns/{concern.reference}")).status_code == 200


async def test_a_new_api_key_replaces_the_old_one_at_once(admin_browser, council, app):
    endpoint, _, old_key = await create_endpoint_ok(council)
    page = await admin_browser.follow(await admin_browser.post(f"/admin/endpoints/{endpoint.id}/api-key"))
    new_key = text_of(page, "#api-key")[0]
    assert text_of(page, "#signing-secret") == []
    async with Browser(app, council) as system:
        assert (await system.get("/api/v1/me", headers={"authorization": f"Bearer {old_key}"})).status_code == 401
        assert (await system.get("/api/v1/me", headers={"authorization": f"Bearer {new_key}"})).status_code == 200


async def test_an_administrator_repairs_deliveries_without_learning_which_concern_each_was_about(app, council):
    # Administrators do not read concerns: a reference (with when it was sent) says a concern exists and
    # whom it may be about. They see what repairing delivery needs; officers also see the reference.
    officer, admin = await create_user_ok(council, role="officer"), await create_user_ok(council, role="admin")
    team = await create_team_ok(council)
    secret = signing.new_secret()
    with Receiver([secret], script={"responses": [{"status": 503}]}) as receiver:
        endpoint, _, api_key = await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, _ = await refer_ok(council, team)
        await delivery.deliver_due()
    row = await WebhookDelivery.get(concern=concern)
    async with Browser(app, council) as system:
        system.http.headers["authorization"] = f"Bearer {api_key}"
        assert (await system.get(f"/api/v1/concerns/{concern.reference.replace('-', '').lower()}")).status_code == 200
    written = {concern.reference, concern.reference.replace("-", ""), concern.reference.replace("-", "").lower()}

    async def pages_seen_by(person) -> dict[str, Any]:
        async with Browser(app, council) as browser:
            await browser.signin_as(person)
            pages = {
                "endpoint": await browser.get(f"/admin/endpoints/{endpoint.id}"),
                "log": await browser.get(f"/admin/endpoints/{endpoint.id}/deliveries"),
                "delivery": await browser.get(f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}"),
            }
        assert [p.status_code for p in pages.values()] == [200, 200, 200]
        return pages

    seen = await pages_seen_by(admin)
    for name, page in seen.items():
        assert not any(ref in page.text for ref in written), name
    assert text_of(seen["log"], "#deliveries tbody tr td a") == ["concern.referred"]
    tried = text_of(seen["log"], "#deliveries tbody tr td span")[0]
    assert "1 try" in tried
    assert "HTTP 503" in text_of(seen["delivery"], "#attempts li")[0]
    assert text_of(seen["delivery"], "#delivery-status") == [row.status_text]
    assert text_of(seen["endpoint"], "#api-calls li")[0].endswith("answered 200")
    assert "GET /api/v1/concerns/" in text_of(seen["endpoint"], "#api-calls li")[0]

    # Where the log is built, not only in the page: the domain functions leave the concern out.
    _, rows, _ = await endpoints.deliveries(admin, council, endpoint.id)
    detail = await endpoints.delivery_detail(admin, council, endpoint.id, row.id)
    calls = await endpoints.api_calls(admin, council, endpoint)
    for found in rows + [detail.delivery]:
        assert (found.reference, found.concern_id, found.body) == ("", None, None)
        assert (found.event_type, found.status, found.attempts, found.last_status_code) == ("concern.referred", row.status, 1, 503)
    assert [(c.reference, c.path) for c in calls] == [("", "/api/v1/concerns/…")]

    seen = await pages_seen_by(officer)
    assert text_of(seen["log"], "#deliveries tbody tr td a") == [f"concern.referred {concern.reference}"]
    assert concern.reference in text_of(seen["delivery"], "h1")[0]
    assert f"/api/v1/concerns/{concern.reference.replace('-', '').lower()}" in text_of(seen["endpoint"], "#api-calls li")[0]
