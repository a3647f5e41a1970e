"""The Open Referral UK feed, checked against the UK profile's own compiled schemas."""

from __future__ import annotations

import copy
import datetime
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from civic.councils import Ward
from civic.schemes.models import Scheme
from civic.schemes.taxonomy import CATEGORIES
from tests.factories import create_council_ok, create_scheme_ok, create_user_ok

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "openreferral-uk"
PAGE_FIELDS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"}


def _strict(schema: Any) -> Any:
    """The schema, refusing any field the profile does not define (it allows extras; we publish none)."""
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if schema.get("type") == "object" and "properties" in schema:
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [_strict(item) for item in schema]
    return schema


def _format_checker() -> jsonschema.FormatChecker:
    # jsonschema checks uuid and email itself; uri and date-time need optional packages, so check them here.
    checker = copy.deepcopy(Draft202012Validator.FORMAT_CHECKER)

    @checker.checks("uri", raises=ValueError)
    def is_uri(value: object) -> bool:
        parts = urlsplit(str(value))
        return bool(parts.scheme in {"http", "https"} and parts.netloc)

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).tzinfo is not None

    return checker


def _validator(name: str) -> Draft202012Validator:
    schema = _strict(json.loads((SCHEMAS / name).read_text()))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker())


@pytest.fixture(scope="module")
def service_schema() -> Draft202012Validator:
    return _validator("compiled_service.json")


@pytest.fixture(scope="module")
def list_item_schema() -> Draft202012Validator:
    return _validator("compiled_service_list.json")


@pytest.fixture(scope="module")
def page_schema() -> Draft202012Validator:
    page = json.loads((SCHEMAS / "openapi.json").read_text())["components"]["schemas"]["Page"]
    return Draft202012Validator(page)


def _errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_checks_accept_the_profiles_own_example_and_refuse_a_broken_one(service_schema):
    example = json.loads((SCHEMAS / "example_service_full.json").read_text())
    assert _errors(service_schema, example) == []
    for breakage in ({"status": "open"}, {"id": "42"}, {"url": "not a url"}, {"invented": "field"}, {"last_modified": "yesterday"}):
        assert _errors(service_schema, {**example, **breakage}), breakage


async def test_the_feed_lists_approved_schemes_a_page_at_a_time_as_uk_profile_services(client, council, list_item_schema, page_schema):
    for name in ("Alpha", "Bravo", "Charlie"):
        await create_scheme_ok(council, name=name)
    await create_scheme_ok(council, name="Delta", status="paused")
    await create_scheme_ok(council, name="Echo", status="closed")
    await create_scheme_ok(council, name="Pending", status="pending")
    await create_scheme_ok(council, name="Declined", status="declined")
    hidden = await create_scheme_ok(council, name="Hidden")
    await Scheme.filter(id=hidden.id).update(hidden=True)
    await create_scheme_ok(await create_council_ok(), name="Elsewhere")

    names, statuses = [], {}
    for number in (1, 2, 3):
        response = await client.get(f"/api/openreferral/services?page={number}&per_page=2")
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == PAGE_FIELDS
        assert _errors(page_schema, body) == []
        assert (body["total_items"], body["total_pages"], body["page_number"]) == (5, 3, number)
        assert (body["first_page"], body["last_page"], body["empty"]) == (number == 1, number == 3, False)
        assert body["size"] == len(body["contents"]) == (1 if number == 3 else 2)
        for item in body["contents"]:
            assert _errors(list_item_schema, item) == []
            names.append(item["name"])
            statuses[item["name"]] = item["status"]
    assert names == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert statuses == {"Alpha": "active", "Bravo": "active", "Charlie": "active", "Delta": "temporarily closed", "Echo": "defunct"}
    beyond = (await client.get("/api/openreferral/services?page=4&per_page=2")).json()
    assert (beyond["empty"], beyond["size"], beyond["contents"]) == (True, 0, [])


async def test_a_service_is_fully_nested_and_valid_against_the_uk_profile(client, council, service_schema):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(
        council, organiser, name="Abbey Pantry", wards=("Abbey", "Castlefields"), categories=["food", "families"], audiences=["families"],
        times="Fridays 4pm to 6pm", venue="Abbey Community Centre",
    )
    await Ward.filter(council=council, name="Abbey").update(code="E05000001")
    response = await client.get(f"/api/openreferral/services/{scheme.uuid}")
    assert response.status_code == 200
    service = response.json()
    assert _errors(service_schema, service) == []
    assert service["id"] == str(scheme.uuid) and service["status"] == "active"
    assert service["url"] == f"http://{council.hostnames}/schemes/abbey-pantry"
    assert service["organization"]["id"] == service["organization_id"]
    assert [area["name"] for area in service["service_areas"]] == ["Abbey", "Castlefields"]
    assert service["service_areas"][0]["uri"] == "http://statistics.data.gov.uk/id/statistical-geography/E05000001"
    assert [s["description"] for s in service["schedules"]] == ["Fridays 4pm to 6pm"]
    assert service["service_at_locations"][0]["location"]["name"] == "Abbey Community Centre"
    assert service["contacts"] == [
        {"id": service["contacts"][0]["id"], "service_id": str(scheme.uuid), "name": "Gwen Roberts", "title": "Safeguarding lead (Chair of the committee)"}
    ]
    terms = {(a["taxonomy_term"]["taxonomy"], a["taxonomy_term"]["term"]) for a in service["attributes"]}
    assert terms == {("civic-scheme-category", "food"), ("civic-scheme-category", "families"), ("civic-scheme-audience", "families")}
    assert organiser.email not in response.text and "email" not in service
    again = (await client.get(f"/api/openreferral/services/{scheme.uuid}")).json()
    assert again == service  # every id is stable


async def test_text_with_markup_and_any_letters_comes_through_the_feed_unchanged(client, council, service_schema):
    name = "<script>alert(1)</script> \"Cwtch\" Ŵŷ Łódź 🎉"
    scheme = await create_scheme_ok(council, name=name)
    service = (await client.get(f"/api/openreferral/services/{scheme.uuid}")).json()
    assert service["name"] == name and service["organization"]["name"] == name
    assert _errors(service_schema, service) == []


async def test_the_feed_can_be_searched_and_filtered_by_taxonomy_term(client, council):
    await create_scheme_ok(council, name="Pantry", summary="Free food", categories=["food"])
    await create_scheme_ok(council, name="Lifts", summary="Drivers", categories=["transport"])
    await create_scheme_ok(council, name="Crèche Café", summary="Coffee while they play", categories=["families"])
    searched = (await client.get("/api/openreferral/services?search=food")).json()
    assert [item["name"] for item in searched["contents"]] == ["Pantry"]
    accents = (await client.get("/api/openreferral/services?search=CRECHE+cafe")).json()
    assert [item["name"] for item in accents["contents"]] == ["Crèche Café"]
    transport = str(CATEGORIES["transport"].id)
    filtered = (await client.get(f"/api/openreferral/services?taxonomy_term_id={transport}")).json()
    assert [item["name"] for item in filtered["contents"]] == ["Lifts"]
    unknown = (await client.get(f"/api/openreferral/services?taxonomy_term_id={uuid.uuid4()}")).json()
    assert unknown["total_items"] == 0 and unknown["empty"] is True


async def test_unknown_pending_and_malformed_service_ids_answer_404_in_json(client, council):
    pending = await create_scheme_ok(council, status="pending")
    for raw in (str(uuid.uuid4()), str(pending.uuid), "not-a-uuid"):
        response = await client.get(f"/api/openreferral/services/{raw}")
        assert response.status_code == 404, raw
        assert response.headers["content-type"] == "application/json" and set(response.json()) == {"error"}


async def test_the_api_says_which_version_and_profile_it_follows(client):
    body = (await client.get("/api/openreferral")).json()
    assert body["version"] == "3.0" and "uk-profile" in body["profile"]


async def test_the_feed_links_to_the_councils_own_address_whatever_host_it_was_asked_at(client):
    slug = f"feed-{uuid.uuid4().hex[:6]}"
    council = await create_council_ok(slug=slug, hostnames=f"{slug}.test,{slug}-old.test")
    scheme = await create_scheme_ok(council, await create_user_ok(council), name="Feed Lunch Club")
    for host in (f"{slug}-old.test", f"{slug}.test:8443"):  # another of its host names; its own with a port
        listed = await client.get("/api/openreferral/services", headers={"Host": host})
        one = await client.get(f"/api/openreferral/services/{scheme.uuid}", headers={"Host": host})
        assert listed.status_code == one.status_code == 200, host
        assert [item["url"] for item in listed.json()["contents"]] == [f"http://{slug}.test/schemes/{scheme.slug}"], host
        assert one.json()["url"] == f"http://{slug}.test/schemes/{scheme.slug}", host
