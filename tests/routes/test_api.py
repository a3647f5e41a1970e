"""The key-worker API: bearer keys, status updates and their rules, fetching thin-payload concerns, the access log."""

from __future__ import annotations

import jsonschema
import pytest

from civic.concerns.models import ConcernAccess, ConcernEvent, Referral
from civic.webhooks import contract, delivery, endpoints, signing
from civic.webhooks.models import KeyWorkerApiCall, ReferralUpdate
from tests.factories import Browser, create_endpoint_ok, create_team_ok, create_user_ok, refer_ok, text_of
from tests.peers.webhook_receiver import Receiver


def schema(name: str) -> dict:
    document = contract.document("http://civic.test")
    return {**document["components"]["schemas"][name], "components": document["components"]}


@pytest.fixture
async def system(app, council):
    """A key-worker system: its team, endpoint and a client holding the endpoint's API key."""
    team = await create_team_ok(council)
    endpoint, _, api_key = await create_endpoint_ok(council, team)
    async with Browser(app, council) as browser:
        browser.http.headers["authorization"] = f"Bearer {api_key}"
        browser.team, browser.endpoint = team, endpoint  # type: ignore[attr-defined]
        yield browser


async def post_status(system: Browser, reference: str, body: object):
    return await system.http.post(f"/api/v1/concerns/{reference}/status", json=body)


async def test_without_a_key_or_with_a_wrong_one_the_api_answers_401(app, council, system):
    concern, _, _ = await refer_ok(council, system.team)
    async with Browser(app, council) as stranger:
        missing = await stranger.get(f"/api/v1/concerns/{concern.reference}")
        wrong = await stranger.get(f"/api/v1/concerns/{concern.reference}", headers={"authorization": "Bearer civic_kw_not-a-real-key"})
        basic = await stranger.get("/api/v1/me", headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert [missing.status_code, wrong.status_code, basic.status_code] == [401, 401, 401]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.json() == {"error": "That API key is not recognised. An administrator can issue a new one."}
    calls = await KeyWorkerApiCall.filter(reference=concern.reference).order_by("id")
    assert [(c.endpoint_id, c.status_code) for c in calls] == [(None, 401), (None, 401)]


async def test_a_system_fetches_a_concern_referred_to_its_team_and_the_view_is_logged(council, system):
    concern, _, referral = await refer_ok(council, system.team)
    response = await system.get(f"/api/v1/concerns/{concern.reference}")
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, schema("Concern"))
    assert body["reference"] == concern.reference and body["details"] == concern.details
    assert body["referral"]["id"] == referral.id and body["team"]["name"] == system.team.name
    access = await ConcernAccess.filter(concern_id=concern.id).first()
    assert access.user_id is None and access.action == f"read by API: {system.endpoint.name}"
    call = await KeyWorkerApiCall.get(reference=concern.reference)
    assert (call.endpoint_id, call.method, call.status_code) == (system.endpoint.id, "GET", 200)


async def test_a_system_with_a_long_name_is_named_in_full_in_the_concerns_access_log(app, council):
    name = "Northmere Children's Services Multi-Agency Safeguarding Hub case management system (early help)"
    assert len(name) > 40
    team = await create_team_ok(council)
    endpoint, _, api_key = await create_endpoint_ok(council, team, name=name)
    concern, _, _ = await refer_ok(council, team)
    async with Browser(app, council) as system:
        system.http.headers["authorization"] = f"Bearer {api_key}"
        assert (await system.get(f"/api/v1/concerns/{concern.reference}")).status_code == 200
        assert (await post_status(system, concern.reference, {"status": "received"})).status_code == 200
    actions = {entry.action for entry in await ConcernAccess.filter(concern_id=concern.id)}
    assert actions == {f"read by API: {name}", f"received by API: {name}"}
    async with Browser(app, council) as officer:
        await officer.signin_as(await create_user_ok(council, role="officer"))
        log = await officer.get(f"/officer/concerns/{concern.reference}/access")
    assert f"Read by API: {name}" in text_of(log, "tbody td")


async def test_another_teams_concern_is_not_found(council, system):
    other_team = await create_team_ok(council)
    theirs, _, _ = await refer_ok(council, other_team)
    unreferred, _, _ = await refer_ok(council, other_team)
    for reference in (theirs.reference, unreferred.reference, "ZZZZ-9999"):
        assert (await system.get(f"/api/v1/concerns/{reference}")).status_code == 404
        assert (await post_status(system, reference, {"status": "received"})).status_code == 404
    assert not await ConcernAccess.filter(concern_id=theirs.id).exists()


async def test_another_councils_concern_is_not_found_even_with_the_same_team_name(app, council, system):
    from tests.factories import create_council_ok

    elsewhere = await create_council_ok()
    concern, _, _ = await refer_ok(elsewhere, await create_team_ok(elsewhere, system.team.name))
    assert (await system.get(f"/api/v1/concerns/{concern.reference}")).status_code == 404


async def test_statuses_move_forward_received_allocated_closed_and_the_history_says_so(council, system):
    concern, _, referral = await refer_ok(council, system.team)
    received = await post_status(system, concern.reference, {"status": "received"})
    assert received.status_code == 200
    jsonschema.validate(received.json(), schema("StatusResult"))
    allocated = await post_status(system, concern.reference.replace("-", "").lower(), {"status": "allocated", "key_worker": {"role": "Family support worker", "first_name": "Sam"}})
    assert allocated.status_code == 200 and allocated.json()["status"] == "allocated"
    closed = await post_status(system, concern.reference, {"status": "closed", "outcome": "support-provided"})
    assert closed.status_code == 200
    await referral.refresh_from_db()
    await concern.refresh_from_db()
    assert referral.status == "closed"
    assert (concern.status, concern.closed_reason) == ("closed", "closed-by-team")
    updates = await ReferralUpdate.filter(referral=referral).order_by("id")
    assert [(u.status, u.key_worker_first_name, u.key_worker_role, u.outcome) for u in updates] == [
        ("received", "", "", ""),
        ("allocated", "Sam", "Family support worker", ""),
        ("closed", "", "", "support-provided"),
    ]
    history = [e.text for e in await ConcernEvent.filter(concern_id=concern.id, kind="status").order_by("id")]
    assert history == [
        f"Received by the team (from {system.endpoint.name})",
        f"Allocated to a key worker: Sam (Family support worker) (from {system.endpoint.name})",
        f"Closed by the team: Early help support was given (from {system.endpoint.name})",
    ]
    assert await ConcernAccess.filter(concern_id=concern.id).count() == 3


async def test_what_a_team_did_with_a_referral_is_for_officers_not_on_an_administrators_home_page(app, council, system):
    concern, _, _ = await refer_ok(council, system.team)
    await post_status(system, concern.reference, {"status": "allocated", "key_worker": {"role": "Family support worker", "first_name": "Sam"}})
    await post_status(system, concern.reference, {"status": "closed", "outcome": "stepped-up"})
    async with Browser(app, council) as admin:
        await admin.signin_as(await create_user_ok(council, role="admin"))
        home = " ".join(text_of(await admin.get("/officer"), "main"))
    # Administrators do not read concerns: not even what became of one, or the name of its key worker.
    assert "gave someone a role" in home  # the rest of what happened is there
    assert "statutory social care" not in home and "Sam" not in home
    async with Browser(app, council) as officer:
        await officer.signin_as(await create_user_ok(council, role="officer"))
        page = " ".join(text_of(await officer.get(f"/officer/concerns/{concern.reference}"), "main"))
    assert "Closed by the team: Passed to statutory social care" in page and "Sam (Family support worker)" in page


@pytest.mark.parametrize(
    "steps, last, message",
    [
        (["received"], "received", "A referral that is received cannot become received. Allowed next: allocated, closed."),
        (["closed"], "allocated", "This referral is already closed."),
        (["allocated"], "received", "A referral that is allocated cannot become received. Allowed next: allocated, closed."),
    ],
)
async def test_a_move_the_referral_cannot_make_is_refused_with_409_and_a_reason(council, system, steps, last, message):
    concern, _, referral = await refer_ok(council, system.team)
    bodies = {"received": {"status": "received"}, "allocated": {"status": "allocated"}, "closed": {"status": "closed", "outcome": "no-role"}}
    for step in steps:
        assert (await post_status(system, concern.reference, bodies[step])).status_code == 200
    refused = await post_status(system, concern.reference, bodies[last])
    assert refused.status_code == 409
    assert refused.json() == {"error": message}


async def test_a_concern_the_council_took_back_takes_no_more_updates(council, system):
    from civic.concerns import triage
    from tests.factories import create_user_ok

    officer = await create_user_ok(council, role="officer")
    concern, _, _ = await refer_ok(council, system.team)
    await triage.close_no_further_action(officer, council, concern.reference, "Handled by the school")
    refused = await post_status(system, concern.reference, {"status": "received"})
    assert refused.status_code == 409
    assert "The council has closed this concern" in refused.json()["error"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "done"}, "status"),
        ({"status": "closed"}, "outcome"),
        ({"status": "closed", "outcome": "fixed"}, "outcome"),
        ({"status": "received", "outcome": "no-role"}, "outcome"),
        ({"status": "received", "key_worker": {"first_name": "Sam"}}, "key_worker"),
        ({"status": "allocated", "key_worker": {"first_name": "S" * 41}}, "key_worker.first_name"),
        ({"status": "allocated", "key_worker": {"surname": "Jones"}}, "key_worker"),
        ({"status": "received", "note": "hello"}, "body"),
        (["received"], "body"),
    ],
)
async def test_a_body_that_is_not_a_valid_status_update_gets_422_naming_the_field(council, system, body, field):
    concern, _, referral = await refer_ok(council, system.team)
    response = await post_status(system, concern.reference, body)
    assert response.status_code == 422
    jsonschema.validate(response.json(), schema("ValidationErrors"))
    assert field in response.json()["errors"]
    await referral.refresh_from_db()
    assert referral.status == "sent"


async def test_a_body_that_is_not_json_gets_422(council, system):
    concern, _, _ = await refer_ok(council, system.team)
    response = await system.http.post(f"/api/v1/concerns/{concern.reference}/status", content=b"status=received", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422
    assert response.json() == {"errors": {"body": "Send a JSON object with Content-Type: application/json"}}


async def test_the_person_who_raised_it_reads_safe_wording_as_the_team_reports(council, system, app):
    concern, key, _ = await refer_ok(council, system.team)
    async with Browser(app, council) as reporter:
        async def status_text() -> str:
            return text_of(await reporter.get(f"/concerns/status/{concern.reference}/{key}"), "#concern-status")[0]

        assert await status_text() == "Passed to the early help team"
        await post_status(system, concern.reference, {"status": "received"})
        assert await status_text() == "Passed to the early help team"
        await post_status(system, concern.reference, {"status": "allocated", "key_worker": {"first_name": "Sam", "role": "Family support worker"}})
        page = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
        assert text_of(page, "#concern-status") == ["A key worker has been allocated"]
        assert "Sam" not in page.text and "Family support worker" not in page.text
        await post_status(system, concern.reference, {"status": "closed", "outcome": "stepped-up"})
        page = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
        assert text_of(page, "#concern-status") == ["Closed"]
        assert "social care" not in page.text and "stepped" not in page.text  # never the outcome


async def test_whoami_tells_a_system_which_endpoint_and_team_its_key_is_for(council, system):
    response = await system.get("/api/v1/me")
    assert response.status_code == 200
    jsonschema.validate(response.json(), schema("Whoami"))
    assert response.json()["team"] == {"id": system.team.id, "name": system.team.name}
    assert response.json()["council"]["slug"] == council.slug


async def test_the_openapi_document_is_valid_openapi_3_1_with_the_events_as_webhooks(app, council):
    from schemathesis.openapi import from_dict

    async with Browser(app, council) as anyone:
        response = await anyone.get("/api/openapi.json")
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert set(document["webhooks"]) == {"concern.referred", "concern.updated", "concern.withdrawn", "ping"}
    assert {op["operationId"] for path in document["paths"].values() for op in path.values()} == {"whoami", "getConcern", "postStatus"}
    # The events' schemas are checked against real deliveries in tests/civic/test_webhook_delivery.py.
    loaded = from_dict(document)
    loaded.validate()  # against the OpenAPI 3.1 meta-schema schemathesis carries
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert sorted(op.label for op in operations) == ["GET /api/v1/concerns/{reference}", "GET /api/v1/me", "POST /api/v1/concerns/{reference}/status"]


async def test_an_address_guessing_api_keys_is_refused_for_a_while(app, council):
    from tests.factories import Browser

    async with Browser(app, council) as guesser:
        answers = [
            (await guesser.get("/api/v1/me", headers={"Authorization": f"Bearer civic_kw_guess{n}"})).status_code
            for n in range(21)
        ]
    assert answers[:20] == [401] * 20
    assert answers[20] == 429


async def test_a_burst_of_unknown_keys_from_an_address_never_locks_out_a_valid_key_from_it(app, council):
    _, _, api_key = await create_endpoint_ok(council)
    async with Browser(app, council) as gateway:  # an old integration retrying with a replaced key, and the new one
        old = [(await gateway.get("/api/v1/me", headers={"Authorization": "Bearer civic_kw_replaced"})).status_code for _ in range(25)]
        valid = [(await gateway.get("/api/v1/me", headers={"Authorization": f"Bearer {api_key}"})).status_code for _ in range(3)]
        still = (await gateway.get("/api/v1/me", headers={"Authorization": "Bearer civic_kw_replaced"})).status_code
    assert old[:20] == [401] * 20 and set(old[20:]) == {429}
    assert valid == [200, 200, 200]
    assert still == 429


async def test_the_key_of_an_endpoint_an_administrator_switched_off_is_refused_like_a_wrong_one_until_it_is_switched_on(app, council):
    admin = await create_user_ok(council, role="admin")
    team = await create_team_ok(council)
    secret = signing.new_secret()
    with Receiver([secret]) as receiver:
        endpoint, _, api_key = await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, referral = await refer_ok(council, team)
        await endpoints.disable(admin, council, endpoint.id, "The supplier's laptop was stolen")
        async with Browser(app, council) as thief:
            thief.http.headers["authorization"] = f"Bearer {api_key}"
            answers = [
                await thief.get("/api/v1/me"),
                await thief.get(f"/api/v1/concerns/{concern.reference}"),
                await post_status(thief, concern.reference, {"status": "received"}),
            ]
            assert [a.status_code for a in answers] == [401, 401, 401]
            assert {a.json()["error"] for a in answers} == {"That API key is not recognised. An administrator can issue a new one."}
            assert not await ConcernAccess.filter(concern_id=concern.id).exists()
            assert (await Referral.get(id=referral.id)).status == "sent"

            assert (await endpoints.enable(admin, council, endpoint.id)).succeeded
            assert (await thief.get(f"/api/v1/concerns/{concern.reference}")).status_code == 200


async def test_an_endpoint_paused_after_its_deliveries_failed_can_still_post_status_back(app, council):
    team = await create_team_ok(council)
    secret = signing.new_secret()
    with Receiver([secret], script={"responses": [{"status": 410}]}) as receiver:
        endpoint, _, api_key = await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        concern, _, referral = await refer_ok(council, team)
        await delivery.deliver_due()
    await endpoint.refresh_from_db()
    assert endpoint.status == "paused"
    async with Browser(app, council) as recovered:
        recovered.http.headers["authorization"] = f"Bearer {api_key}"
        me = await recovered.get("/api/v1/me")
        answer = await post_status(recovered, concern.reference, {"status": "received"})
    assert me.status_code == 200 and me.json()["endpoint"]["status"] == "paused"
    jsonschema.validate(me.json(), schema("Whoami"))
    assert answer.status_code == 200
    assert (await Referral.get(id=referral.id)).status == "received"
    # What the OpenAPI document promises a receiver answering 410 is what happened.
    said = contract.document("http://civic.test")["webhooks"]["concern.referred"]["post"]["responses"]["410"]["description"]
    assert "civic pauses the endpoint" in said and "API key keeps working" in said


async def test_switching_off_a_paused_endpoint_stops_its_key_too(app, council):
    admin = await create_user_ok(council, role="admin")
    endpoint, _, api_key = await create_endpoint_ok(council, status="paused", disabled_reason="The receiving system answered 410 Gone.")
    await endpoints.disable(admin, council, endpoint.id, "Their contract has ended")
    async with Browser(app, council) as former:
        answer = await former.get("/api/v1/me", headers={"authorization": f"Bearer {api_key}"})
    assert answer.status_code == 401


async def test_a_key_workers_name_or_role_with_a_control_character_is_refused_with_a_message(council, system):
    # A NUL reached PostgreSQL, which refused it: a 500 the receiving system could not act on.
    concern, _, referral = await refer_ok(council, system.team)
    for worker in ({"role": "Family\x00support", "first_name": "Sam"}, {"role": "Family support", "first_name": "S\x00m"}):
        refused = await post_status(system, concern.reference, {"status": "allocated", "key_worker": worker})
        assert refused.status_code == 422
        assert any("no control characters" in message for message in refused.json()["errors"].values())
    assert not await ReferralUpdate.filter(referral=referral).exists()


async def test_a_wrong_method_or_address_gets_an_answer_written_for_a_program(council, system):
    concern, _, _ = await refer_ok(council, system.team)
    wrong_method = await system.http.get(f"/api/v1/concerns/{concern.reference}/status")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert wrong_method.json() == {"error": "This address does not take GET."}
    nowhere = await system.http.get("/api/v1/nope")
    assert nowhere.status_code == 404 and "web address" not in nowhere.json()["error"]  # it read as a web page's advice


async def test_a_fetched_concern_carries_its_duplicates_and_each_is_logged_as_read(council, system):
    from civic.concerns import triage
    from tests.factories import create_concern_ok

    concern, _, _ = await refer_ok(council, system.team)
    duplicate, _ = await create_concern_ok(council, details="Same children, seen from the bus stop.")
    await triage.merge(await create_user_ok(council, role="officer"), council, duplicate.reference, concern.reference)
    response = await system.get(f"/api/v1/concerns/{concern.reference}")
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, schema("Concern"))
    assert [(d["reference"], d["details"]) for d in body["duplicates"]] == [(duplicate.reference, "Same children, seen from the bus stop.")]
    assert await ConcernAccess.filter(concern_id=duplicate.id, action=f"read by API: {system.endpoint.name}").exists()
