"""Page weight on a cheap phone: bytes over the wire for the main resident pages, first and repeat visit."""

from __future__ import annotations

from collections import defaultdict

import pytest

# Budgets from the performance issue: compressed bytes, images excluded.
FIRST_VISIT_BUDGET = 50 * 1024
REPEAT_VISIT_BUDGET = 10 * 1024
KINDS = {"Document": "html", "Stylesheet": "css", "Script": "js", "Image": "images", "Fetch": "html", "XHR": "html"}

# The main resident pages: home, directory, a scheme, a ballot, the concern form and sign-in.
PAGES = ["/", "/schemes", "scheme", "ballot", "/concerns/new/about", "/signin"]


@pytest.fixture(scope="session")
async def weighed(e2e_council):
    """A scheme and an open round on the live server's council, and a resident who may vote in it."""
    from tests.factories import create_round_ok, create_scheme_ok, create_user_ok

    scheme = await create_scheme_ok(e2e_council, name="Page Weight Pantry")
    round_ = await create_round_ok(e2e_council, priorities=8)
    return {"scheme": f"/schemes/{scheme.slug}", "ballot": f"/rounds/{round_.id}/ballot", "voter": await create_user_ok(e2e_council)}


async def _transferred(page, url: str) -> dict[str, int]:
    """Bytes received per kind of resource while loading `url` (headers and compressed bodies)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    kinds: dict[str, str] = {}
    totals: dict[str, int] = defaultdict(int)
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], KINDS.get(e["type"], "other")))
    cdp.on("Network.loadingFinished", lambda e: totals.__setitem__(kinds.get(e["requestId"], "other"), totals[kinds.get(e["requestId"], "other")] + int(e["encodedDataLength"])))
    await page.goto(url, wait_until="networkidle")
    await cdp.detach()
    return dict(totals)


@pytest.mark.parametrize("path", PAGES)
async def test_page_fits_the_budget_for_a_cheap_phone(chromium, live_server, weighed, path, record_property):
    from tests.e2e.conftest import signin_in_browser

    context = await chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    page = await context.new_page()
    if path == "ballot":
        await signin_in_browser(page, live_server, weighed["voter"])
    path = weighed.get(path, path)
    first = await _transferred(page, path)
    repeat = await _transferred(page, path)
    await context.close()
    first_total = sum(v for k, v in first.items() if k != "images")
    repeat_total = sum(v for k, v in repeat.items() if k != "images")
    record_property("first_visit", first)
    record_property("repeat_visit", repeat)
    print(f"\n{path}: first visit {first_total} B {first}; repeat visit {repeat_total} B {repeat}")
    assert first.get("css", 0) > 0 and first.get("js", 0) > 0, "the page should load our CSS and JS"
    assert first_total <= FIRST_VISIT_BUDGET, f"{path} first visit {first_total} B > {FIRST_VISIT_BUDGET} B: {first}"
    assert repeat_total <= REPEAT_VISIT_BUDGET, f"{path} repeat visit {repeat_total} B > {REPEAT_VISIT_BUDGET} B: {repeat}"
