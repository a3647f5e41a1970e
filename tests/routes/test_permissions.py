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
                try:
                    response = await (browser.get(path) if case.method == "GET" else browser.post(path, data))
                    status = response.status_code
                except Exception as error:  # noqa: BLE001 - a 500 arrives as the app's exception
                    status = f"{type(error).__name__}: {error}"[:160]
                if status == 500 or not isinstance(status, int):
                    failures.append(f"{case.method} {path[:90]} as {role}: {status}")
    assert not failures, "\n".join(failures)


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
