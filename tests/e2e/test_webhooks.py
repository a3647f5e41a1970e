"""Journeys on a phone: a referral reaches the team's system, which says it is allocated; an admin sets up a system."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from civic.webhooks import signing
from civic.webhooks.models import KeyWorkerEndpoint
from tests.e2e.conftest import PHONE, signin_in_browser
from tests.factories import create_concern_ok, create_endpoint_ok, create_team_ok, create_user_ok
from tests.peers import free_port
from tests.peers.webhook_receiver import Receiver


async def _wait_for_delivery(receiver: Receiver, reference: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in await receiver.accepted():
            if entry["type"] == "concern.referred" and entry["payload"]["data"]["reference"] == reference:
                return entry
        await asyncio.sleep(0.1)
    raise AssertionError(f"{reference} never reached the receiver")


async def test_an_officer_refers_the_team_system_gets_it_and_allocates_and_the_reporter_is_told(phone, chromium, live_server, e2e_council, check_accessibility):
    secret = signing.new_secret()
    team = await create_team_ok(e2e_council, f"Family Hub {uuid.uuid4().hex[:4]}")
    concern, key = await create_concern_ok(e2e_council, urgency="day")
    officer = await create_user_ok(e2e_council, role="officer", display_name="Olu Officer")
    with Receiver([secret]) as receiver:
        _, _, api_key = await create_endpoint_ok(e2e_council, team, url=receiver.url, secret=secret, name="Family Hub case system")
        context = await chromium.new_context(viewport=PHONE, base_url=live_server, device_scale_factor=2, is_mobile=True, has_touch=True)
        try:
            desk = await context.new_page()
            await signin_in_browser(desk, live_server, officer)
            await desk.goto(f"/officer/concerns/{concern.reference}")
            await desk.locator("summary", has_text="Refer to early help").click()
            await desk.get_by_label(team.name, exact=True).check()
            await desk.get_by_role("button", name="Refer to early help").click()
            await desk.get_by_text("Referred to early help.").wait_for()
        finally:
            await context.close()

        # The live server's worker delivers it; the receiver verified the signature before accepting it.
        delivered = await _wait_for_delivery(receiver, concern.reference)
        assert delivered["payload"]["data"]["details"] == concern.details

        # The team's system, having read it, says who has it.
        async with httpx.AsyncClient(base_url=live_server, headers={"authorization": f"Bearer {api_key}"}) as system:
            for body in ({"status": "received"}, {"status": "allocated", "key_worker": {"role": "Family support worker", "first_name": "Sam"}}):
                answer = await system.post(f"/api/v1/concerns/{concern.reference}/status", json=body)
                assert answer.status_code == 200, answer.text

    await phone.goto(f"/concerns/status/{concern.reference}/{key}")
    assert await phone.locator("#concern-status").inner_text() == "A key worker has been allocated"
    assert "Sam" not in await phone.locator("main").inner_text()
    await check_accessibility(phone)


async def test_an_admin_sets_up_a_system_copies_its_secret_and_sends_a_test_event_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    admin = await create_user_ok(e2e_council, role="admin", display_name="Ada Admin")
    team = await create_team_ok(e2e_council, f"Youth Support {uuid.uuid4().hex[:4]}")
    port = free_port()
    await signin_in_browser(phone, live_server, admin)
    await phone.goto("/admin/endpoints")
    await check_accessibility(phone)
    await phone.get_by_role("link", name="Add a system").click()
    await phone.wait_for_url("**/admin/endpoints/new")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Add system").click()  # empty: htmx swaps the errors in
    await phone.locator(".govuk-error-summary").wait_for()
    await check_accessibility(phone)
    name = f"Youth case system {uuid.uuid4().hex[:4]}"
    await phone.get_by_label("Name of the system").fill(name)
    await phone.get_by_label("Team", exact=True).select_option(label=team.name)
    await phone.get_by_label("Web address that receives webhooks").fill(f"http://127.0.0.1:{port}/civic/webhooks")
    await phone.get_by_label("The person who raised a referred concern added information").uncheck()
    await phone.get_by_label("The council closed or merged a concern it had referred").uncheck()
    await phone.get_by_label("Thin: its reference and a link to fetch it through the API").check()
    await phone.get_by_role("button", name="Add system").click()
    await phone.wait_for_url("**/admin/endpoints/*")
    secret = (await phone.locator("#signing-secret").inner_text()).strip()
    assert secret.startswith("whsec_")
    await check_accessibility(phone)
    endpoint = await KeyWorkerEndpoint.get(name=name)
    assert endpoint.payload_style == "thin" and endpoint.event_types == ["concern.referred"]

    with Receiver([secret], port=port) as receiver:
        await phone.get_by_role("button", name="Send test event").click()
        await phone.get_by_text("Test event delivered").wait_for()
        assert [entry["type"] for entry in await receiver.accepted()] == ["ping"]
    assert await phone.locator("#signing-secret").count() == 0  # shown once only
    await check_accessibility(phone)
    await phone.get_by_role("link", name="Every delivery").click()
    await phone.wait_for_url("**/deliveries")
    await check_accessibility(phone)
    await phone.locator("#deliveries a").first.click()
    await phone.wait_for_url("**/deliveries/*")
    assert "HTTP 200" in await phone.locator("#attempts").inner_text()
    await check_accessibility(phone)


async def test_the_delivery_tables_fit_a_phone_and_an_officer_confirms_a_new_address_there(phone, live_server, e2e_council, check_accessibility):
    from civic.webhooks.models import WebhookDelivery
    from tests.factories import refer_ok

    officer = await create_user_ok(e2e_council, role="officer", display_name="Olu Officer")
    team = await create_team_ok(e2e_council, f"Family Hub {uuid.uuid4().hex[:4]}")
    # Nothing listens, and the worker is kept away (the address is not confirmed): the rows stay as they are.
    endpoint, _, _ = await create_endpoint_ok(e2e_council, team, url=f"http://127.0.0.1:{free_port()}/a-long-path/for-civic/webhooks", name="Family Hub case management system", confirmed_url="")
    for _ in range(3):
        await refer_ok(e2e_council, team)
    rows = list(await WebhookDelivery.filter(endpoint=endpoint).order_by("id"))
    # The longest event names and status wording there are.
    await WebhookDelivery.filter(id=rows[0].id).update(status="dead", attempts=12, event_type="concern.withdrawn")
    await WebhookDelivery.filter(id=rows[1].id).update(status="delivering", attempts=10, event_type="concern.updated")
    await WebhookDelivery.filter(id=rows[2].id).update(status="cancelled", attempts=8)
    await signin_in_browser(phone, live_server, officer)
    for path in (f"/admin/endpoints/{endpoint.id}", f"/admin/endpoints/{endpoint.id}/deliveries", f"/admin/endpoints/{endpoint.id}/deliveries?status=dead"):
        await phone.goto(path)
        assert rows[0].reference in await phone.locator("#deliveries").inner_text()
        await check_accessibility(phone)  # axe-core, and no sideways scrolling at 360 px

    await phone.goto(f"/admin/endpoints/{endpoint.id}")
    await phone.get_by_role("button", name="Confirm this web address").click()
    await phone.get_by_text("Web address confirmed.").wait_for()
    assert await phone.locator("#url-unconfirmed").count() == 0
    await check_accessibility(phone)
