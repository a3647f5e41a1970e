"""Every route as anonymous, resident, officer, key worker and admin, and as staff of another council."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from starlette.routing import Mount, Route

from tests.factories import Browser, create_council_ok, create_user_ok
from tests.routes import permissions
from tests.routes.permissions import ROLES, World

AREAS = sorted(m.name for m in pkgutil.iter_modules(permissions.__path__))


async def _world(council) -> World:
    other = await create_council_ok()
    people = {
        "resident": await create_user_ok(council),
        "officer": await create_user_ok(council, role="officer"),
        "key-worker": await create_user_ok(council, role="key-worker"),
        "admin": await create_user_ok(council, role="admin"),
        "other-officer": await create_user_ok(other, role="officer"),
        "other-admin": await create_user_ok(other, role="admin"),
    }
    return World(council=council, other_council=other, people=people)


@pytest.mark.parametrize("area", AREAS)
async def test_each_route_answers_each_role_as_it_should(app, council, area):
    module = importlib.import_module(f"tests.routes.permissions.{area}")
    world = await _world(council)
    values = await module.setup(world)
    mismatches = []
    for case in module.CASES:
        for role in ROLES:
            if case.fresh:
                values = await module.setup(world)
            async with Browser(app, council) as browser:
                if role != "anonymous":
                    await browser.signin_as(world.people[role])
                path = case.path.format(**values)
                if case.method == "GET":
                    response = await browser.get(path)
                else:
                    data = {k: str(v).format(role=role, **values) for k, v in case.data.items()}
                    response = await browser.post(path, data)
            if response.status_code != case.expect[role]:
                mismatches.append(f"{case.method} {path} as {role}: {response.status_code}, expected {case.expect[role]}")
            if response.headers.get("content-type", "").startswith("text/html"):
                inline = _inline_script_or_style(response.text)
                if inline:
                    mismatches.append(f"{case.method} {path} as {role}: inline {inline}, which the CSP blocks")
    assert not mismatches, "\n".join(mismatches)


TOO_BIG = "9" * 30  # more than any id column holds: the database refuses it rather than finding nothing


@pytest.mark.parametrize("area", AREAS)
async def test_no_route_answers_500_to_an_id_too_big_for_its_column(app, council, area):
    """Every id in a path or a form, and every page number, swapped for 30 digits, as staff (who reach most)."""
    module = importlib.import_module(f"tests.routes.permissions.{area}")
    world = await _world(council)
    values = await module.setup(world)
    huge = {key: (TOO_BIG if key.endswith("_id") else value) for key, value in values.items()}
    failures = []
    for role in ("officer", "admin"):
        async with Browser(app, council) as browser:
            await browser.signin_as(world.people[role])
            for case in module.CASES:
                path = case.path.format(**huge)
                data = {k: str(v).format(role=role, **huge) for k, v in case.data.items()}
                if case.method == "GET":
                    path += ("&" if "?" in path else "?") + f"page={TOO_BIG}"
                elif path == case.path.format(**values) and data == {k: str(v).format(role=role, **values) for k, v in case.data.items()}:
                    continue  # no id to swap: the matrix already tries it
                failures += await _unless_answered(browser, case.method, path, data, role)
    assert not failures, "\n".join(failures)


# What people paste, mistype or send on purpose. A browser cannot send a lone surrogate, so none here.
ODD_TEXT = ["\x00", "a\x00b", "²", "9" * 30, "x" * 10_000, " ", "-1", "1e999", "😀" * 50, "\u202e"]


@pytest.mark.parametrize("area", AREAS)
async def test_no_form_answers_500_to_odd_text_in_any_field(app, council, area):
    """Each field of each form, in turn, as someone the form is for: NUL, '²', 30 digits, 10,000 characters..."""
    module = importlib.import_module(f"tests.routes.permissions.{area}")
    world = await _world(council)
    failures = []
    for case in module.CASES:
        role = next((r for r in ROLES if r != "anonymous" and case.expect[r] in (200, 303)), None)
        if case.method != "POST" or not case.data or role is None:
            continue
        values = await module.setup(world)
        async with Browser(app, council) as browser:
            await browser.signin_as(world.people[role])
            path = case.path.format(**values)
            form = {k: str(v).format(role=role, **values) for k, v in case.data.items()}
            for field in form:
                for odd in ODD_TEXT:
                    failures += await _unless_answered(browser, "POST", path, {**form, field: odd}, role)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("area", AREAS)
async def test_no_address_answers_500_to_a_nul_in_its_path_or_query(app, council, area):
    module = importlib.import_module(f"tests.routes.permissions.{area}")
    world = await _world(council)
    values = await module.setup(world)
    odd = {key: "a%00b" for key in values}
    query = "&".join(f"{name}=%00" for name in ("q", "ward", "category", "status", "team", "who", "postcode", "receipt", "next", "page"))
    failures = []
    for role in ("officer", "resident"):
        async with Browser(app, council) as browser:
            await browser.signin_as(world.people[role])
            for case in module.CASES:
                path = case.path.format(**odd)
                if case.method == "GET":
                    path += ("&" if "?" in path else "?") + query
                failures += await _unless_answered(browser, case.method, path, {k: str(v).format(role=role, **values) for k, v in case.data.items()}, role)
    assert not failures, "\n".join(failures)


async def _unless_answered(browser, method: str, path: str, data: dict, role: str) -> list[str]:
    """[] if the app answered, else what went wrong (a 500 arrives in-process as the app's exception)."""
    try:
        status = (await (browser.get(path) if method == "GET" else browser.post(path, data))).status_code
    except Exception as error:  # noqa: BLE001
        status = f"{type(error).__name__}: {error}"[:160]  # type: ignore[assignment]
    if status == 500 or not isinstance(status, int):
        return [f"{method} {path[:90]} {str(data)[:60]} as {role}: {status}"]
    return []


def _inline_script_or_style(text: str) -> str:
    """What on the page our Content-Security-Policy would refuse: inline scripts, styles or handlers."""
    from selectolax.lexbor import LexborHTMLParser

    page = LexborHTMLParser(text)
    if any(not node.attributes.get("src") for node in page.css("script")):
        return "<script>"
    if page.css("style") or page.css("[style]"):
        return "style"
    for node in page.css("*"):
        if any(name.startswith("on") for name in node.attributes):
            return "event handler attribute"
    return ""


def test_every_route_is_in_the_matrix(app):
    covered = set()
    for area in AREAS:
        for case in importlib.import_module(f"tests.routes.permissions.{area}").CASES:
            covered.add((case.method, case.path))
    missing = []
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            if (method, route.path) not in covered:
                missing.append(f"{method} {route.path}")
    assert not missing, "routes missing from tests/routes/permissions/: " + ", ".join(missing)
