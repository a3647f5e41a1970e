"""Kept public pages in a real browser: the gzip stream built around each visitor's CSRF token (routes.web.KeptPage)."""

from __future__ import annotations

from tests.e2e.conftest import PHONE


async def test_a_phone_reads_a_kept_directory_page_with_its_own_token(chromium, kept_pages_server, e2e_council, check_accessibility):
    from tests.factories import create_scheme_ok

    await create_scheme_ok(e2e_council, name="Kept Knitting Circle", summary="Knitting and a natter for neighbours")
    pages = []
    for _ in range(2):  # the first visitor's answer is rendered and kept; the second's is built from it
        context = await chromium.new_context(viewport=PHONE, base_url=kept_pages_server)
        page = await context.new_page()
        response = await page.goto("/schemes?q=knitting")
        assert response is not None and response.ok
        pages.append((context, page, await response.all_headers()))
    context, page, headers = pages[1]
    # Chromium refuses a broken deflate stream (the page never loads); it does not check the gzip
    # trailer's CRC-32, which tests/routes/test_kept_pages.py does.
    assert headers.get("content-encoding") == "gzip"
    assert await page.locator(".app-card__title").all_inner_texts() == ["Kept Knitting Circle"]
    cookie = {c["name"]: c["value"] for c in await context.cookies()}["csrftoken"]
    assert await page.locator('meta[name="csrf-token"]').get_attribute("content") == cookie
    await check_accessibility(page)
    for context, _, _ in pages:
        await context.close()
