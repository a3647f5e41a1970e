"""The menu on a 360×740 phone, without JavaScript, and on a wide screen, checked with axe-core."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import signin_in_browser
from tests.factories import create_user_ok

# Everything an admin sees in the menu, the longest list there is, in its order.
ADMIN_MENU = ["Home", "Priorities", "Schemes", "Volunteering", "Flag a concern", "Officer home", "Roles", "Settings", "Key workers' systems", "Ada Admin"]
SIGNED_OUT_MENU = ["Home", "Priorities", "Schemes", "Flag a concern", "Sign in"]
# The page's own content must start in the top third of a 740 px screen, not under the menu.
CONTENT_STARTS_BY = 250


async def _admin(page, live_server, council) -> None:
    admin = await create_user_ok(council, role="admin", display_name="Ada Admin")
    await signin_in_browser(page, live_server, admin)


async def test_the_menu_folds_behind_a_button_on_a_phone_and_opens_with_it(phone, live_server, e2e_council, check_accessibility):
    await _admin(phone, live_server, e2e_council)
    await phone.goto("/schemes")
    menu = phone.get_by_role("navigation", name="Menu")
    button = menu.get_by_role("button", name="Menu")
    await expect(button).to_be_visible()
    await expect(button).to_have_attribute("aria-expanded", "false")
    await expect(menu.get_by_role("link")).to_have_count(0)  # hidden lists' links are not in the tree
    main = await phone.locator("main").bounding_box()
    header = await phone.locator(".govuk-service-navigation").bounding_box()
    assert main is not None and header is not None
    assert main["y"] < CONTENT_STARTS_BY, f"the page's content starts {main['y']} px down a 740 px screen"
    assert header["y"] + header["height"] <= main["y"]
    await check_accessibility(phone)

    await button.click()
    await expect(button).to_have_attribute("aria-expanded", "true")
    await expect(menu.get_by_role("link")).to_have_text(ADMIN_MENU)
    for link in await menu.get_by_role("link").all():
        await expect(link).to_be_visible()
    await expect(menu.locator("[aria-current=page]")).to_have_text("Schemes")
    await check_accessibility(phone)

    await menu.get_by_role("link", name="Officer home").click()
    await phone.wait_for_url("**/officer")
    assert await phone.get_by_role("heading", level=1).inner_text() == "Officer home"
    await expect(phone.get_by_role("navigation", name="Menu").get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    await button.click()
    await expect(menu.get_by_role("link")).to_have_text(ADMIN_MENU)
    await button.click()
    await expect(menu.get_by_role("link")).to_have_count(0)


async def test_the_skip_link_still_comes_first_on_a_phone(phone, live_server, e2e_council):
    await phone.goto("/")
    await phone.keyboard.press("Tab")
    skip = phone.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_visible()


async def test_without_javascript_every_menu_entry_shows_and_works(phone_without_js, live_server, e2e_council):
    # No axe-core here: with JavaScript off it cannot run. The open menu on a phone has it.
    page = phone_without_js
    await _admin(page, live_server, e2e_council)
    await page.goto("/")
    menu = page.get_by_role("navigation", name="Menu")
    await expect(menu.get_by_role("button", name="Menu")).to_be_hidden()
    await expect(menu.get_by_role("link")).to_have_text(ADMIN_MENU)
    for link in await menu.get_by_role("link").all():
        await expect(link).to_be_visible()
    await expect(menu.locator("[aria-current=page]")).to_have_text("Home")
    await menu.get_by_role("link", name="Officer home").click()
    await page.wait_for_url("**/officer")
    assert await page.get_by_role("heading", level=1).inner_text() == "Officer home"
    await page.get_by_role("navigation", name="Menu").get_by_role("link", name="Schemes").click()
    await page.wait_for_url("**/schemes")
    await expect(page.get_by_role("navigation", name="Menu").locator("[aria-current=page]")).to_have_text("Schemes")


async def test_on_a_wide_screen_the_menu_shows_in_a_row_with_no_button(chromium, live_server, check_accessibility):
    context = await chromium.new_context(viewport={"width": 1024, "height": 768}, base_url=live_server)
    page = await context.new_page()
    try:
        await page.goto("/")
        menu = page.get_by_role("navigation", name="Menu")
        await expect(menu.get_by_role("link")).to_have_text(SIGNED_OUT_MENU)
        await expect(menu.get_by_role("button", name="Menu")).to_be_hidden()
        boxes = [await link.bounding_box() for link in await menu.get_by_role("link").all()]
        assert len({round(box["y"]) for box in boxes if box}) == 1, f"the menu is not one row: {boxes}"
        assert [box["x"] for box in boxes if box] == sorted(box["x"] for box in boxes if box)
        await check_accessibility(page)
    finally:
        await context.close()
