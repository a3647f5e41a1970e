"""Journeys through schemes on a 360×740 phone: finding one, starting one, and moderating, checked with axe-core."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import expect

from civic.schemes.models import Scheme
from tests.e2e.conftest import signin_in_browser
from tests.factories import create_report_ok, create_scheme_ok, create_user_ok, postcode_in, ward

LONG_WORD = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"


async def _fits_the_phone(page) -> None:
    """Nothing makes the page scroll sideways on a 360 px screen."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def _schemes_to_find(council, tag: str) -> None:
    abbey, castlefields = await ward(council, "Abbey"), await ward(council, "Castlefields")
    await castlefields.neighbours.add(abbey)
    await create_scheme_ok(council, name=f"Pantry {tag}", summary=f"Free food {tag}", categories=["food"], wards=("Castlefields",))
    await create_scheme_ok(council, name=f"Lifts {tag}", summary=f"Drivers {tag}", categories=["transport"], wards=("Castlefields",))
    await create_scheme_ok(council, name=f"Far pantry {tag}", summary=f"Food far away {tag}", categories=["food"], wards=("Harbourside",))


async def test_resident_searches_by_postcode_and_category_and_opens_a_scheme(phone, live_server, e2e_council, check_accessibility):
    tag = uuid.uuid4().hex[:8]
    await _schemes_to_find(e2e_council, tag)
    await phone.goto("/")
    await phone.get_by_role("button", name="Menu").click()
    await phone.get_by_role("link", name="Schemes").click()
    await phone.wait_for_url("**/schemes")
    await check_accessibility(phone)

    await phone.get_by_label("Words").fill(tag)
    cards = phone.locator(".app-card__title")
    await expect(cards).to_have_text([f"Far pantry {tag}", f"Lifts {tag}", f"Pantry {tag}"])
    await phone.get_by_label("Near a postcode").fill(postcode_in(e2e_council, "Abbey"))
    await phone.get_by_label("Near a postcode").press("Tab")  # `change` fires as the field is left
    await expect(cards).to_have_text([f"Lifts {tag}", f"Pantry {tag}"])
    await phone.get_by_label("Category").select_option("food")
    await expect(cards).to_have_text([f"Pantry {tag}"])
    await expect(phone.locator("#results-status")).to_have_text("1 scheme found")
    await expect(phone).to_have_url(re.compile(r"/schemes\?.*category=food"))  # the address is shareable
    assert "postcode=" in phone.url and f"q={tag}" in phone.url
    await check_accessibility(phone)
    await _fits_the_phone(phone)

    await phone.get_by_role("link", name=f"Pantry {tag}").click()
    await phone.wait_for_url("**/schemes/pantry-*")
    assert await phone.get_by_role("heading", level=1).inner_text() == f"Pantry {tag}"
    await check_accessibility(phone)
    await _fits_the_phone(phone)


async def test_a_refused_postcode_marks_the_field_as_it_does_without_javascript(phone, live_server, e2e_council, check_accessibility):
    await phone.goto("/schemes")
    postcode = phone.get_by_label("Near a postcode")
    await postcode.fill("NM1")
    await postcode.press("Tab")  # htmx asks for the results, and the place fields with them
    message = "Enter a real postcode, like NM1 4AB, or choose a ward instead"
    await expect(phone.locator("#postcode-error")).to_have_text(f"Error: {message}")
    await expect(phone.locator(".govuk-form-group:has(> #postcode)")).to_have_class(re.compile(r"govuk-form-group--error"))
    await expect(postcode).to_have_class(re.compile(r"govuk-input--error"))
    await expect(postcode).to_have_attribute("aria-describedby", "postcode-hint postcode-error")
    await expect(postcode).to_have_value("NM1")
    await expect(phone).to_have_title(re.compile(r"^Error: Find local support"))
    assert await phone.locator("form[role=search] #postcode").count() == 1  # swapped in place, not added
    await check_accessibility(phone)
    await _fits_the_phone(phone)

    await phone.locator(".govuk-error-summary a").click()
    await expect(postcode).to_be_focused()
    await postcode.fill(postcode_in(e2e_council, "Abbey"))
    await postcode.press("Tab")
    await expect(phone.locator("#results-heading")).to_contain_text("near")
    await expect(phone.locator("#postcode-error")).to_have_count(0)
    await expect(postcode).to_have_attribute("aria-describedby", "postcode-hint")
    await expect(phone).not_to_have_title(re.compile(r"^Error"))
    await check_accessibility(phone)


async def test_the_same_search_works_without_javascript(phone_without_js, live_server, e2e_council):
    tag = uuid.uuid4().hex[:8]
    await _schemes_to_find(e2e_council, tag)
    page = phone_without_js
    await page.goto("/schemes")
    await page.get_by_label("Words").fill(tag)
    await page.get_by_label("Near a postcode").fill(postcode_in(e2e_council, "Abbey"))
    await page.get_by_label("Category").select_option("food")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url(re.compile(r"/schemes\?.*category=food"))
    assert await page.locator(".app-card__title").all_inner_texts() == [f"Pantry {tag}"]
    await page.get_by_role("link", name=f"Pantry {tag}").click()
    await page.wait_for_url("**/schemes/pantry-*")
    assert await page.get_by_role("heading", level=1).inner_text() == f"Pantry {tag}"


async def test_resident_starts_a_scheme_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    resident = await create_user_ok(e2e_council, display_name="Ffion")
    await signin_in_browser(phone, live_server, resident)
    await phone.goto("/schemes/new")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Send for approval").click()
    await phone.locator(".govuk-error-summary").wait_for()
    assert await phone.locator(".govuk-error-summary__list li").count() == 11
    await check_accessibility(phone)

    name = f"Cwtch Ŵŷ Łódź {uuid.uuid4().hex[:6]}"
    await phone.get_by_label("Name of the scheme").fill(name)
    await phone.get_by_label("Summary").fill("Tea and Welsh conversation")
    await phone.get_by_label("What the scheme does").fill("We meet weekly.\n\nAll welcome.")
    await phone.get_by_role("group", name="Categories").get_by_label("Isolation and befriending").check()
    await phone.get_by_role("group", name="Who it is for").get_by_label("Everyone").check()
    await phone.get_by_role("group", name="Neighbourhoods it serves").get_by_label("Abbey").check()
    await phone.get_by_label("When it runs").fill("Mondays at 2pm")
    await phone.get_by_label("Where it happens").fill("The library")
    await phone.get_by_label("How to get help from the scheme").fill("Send a message")
    await phone.get_by_label("Their name").fill("Gwen Roberts")
    await phone.get_by_label("Their role").fill("Chair")
    await phone.get_by_role("button", name="Send for approval").click()
    await phone.wait_for_url("**/schemes/cwtch-wy-lodz-*")
    assert await phone.get_by_role("heading", level=1).inner_text() == name
    assert "Waiting for approval" in await phone.locator("#status-title").inner_text()
    await check_accessibility(phone)
    assert (await Scheme.get(name=name)).status == "pending"


async def test_officer_hides_a_reported_scheme_from_the_moderation_queue(phone, live_server, e2e_council, check_accessibility):
    scheme = await create_scheme_ok(e2e_council, name=f"Raffle {uuid.uuid4().hex[:6]}")
    await create_report_ok(scheme, reason="unsafe", details="Selling raffle tickets to children")
    await signin_in_browser(phone, live_server, await create_user_ok(e2e_council, role="officer"))
    await phone.goto("/officer")
    await phone.get_by_role("link", name="Reports to moderate").click()
    await phone.wait_for_url("**/officer/moderation")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    item = phone.locator(".app-queue__item", has_text=scheme.name)
    await item.get_by_role("link", name=re.compile("^Hide the scheme")).click()
    await phone.wait_for_url(f"**/officer/moderation/schemes/{scheme.slug}/hide")
    await expect(phone.get_by_label("Reason")).to_have_accessible_description(re.compile(r"^We email this to the scheme’s organisers"))
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("button", name="Hide scheme").click()
    await phone.locator(".govuk-error-summary").wait_for()
    await phone.get_by_label("Reason").fill("Unsafe for children")
    await phone.get_by_role("button", name="Hide scheme").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}")
    assert await phone.locator("#hidden-title").inner_text() == "Hidden"
    await check_accessibility(phone)
    assert (await Scheme.get(id=scheme.id)).hidden


async def test_a_resident_reports_an_offer_of_help_and_an_officer_hides_it_from_the_queue(phone, live_server, e2e_council, check_accessibility):
    from civic.schemes.running import HelpOffer

    scheme = await create_scheme_ok(e2e_council, name=f"Lawn share {uuid.uuid4().hex[:6]}")
    offer = await HelpOffer.create(council=e2e_council, scheme=scheme, author=await create_user_ok(e2e_council), text="Cheap cigarettes, ask me")
    await signin_in_browser(phone, live_server, await create_user_ok(e2e_council))
    await phone.goto(f"/schemes/{scheme.slug}/offers")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.locator(f"#offer-{offer.id}").get_by_role("link", name=re.compile("^Report this offer")).click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/offers/{offer.id}/report")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("button", name="Send report").click()
    await phone.locator(".govuk-error-summary").wait_for()
    await check_accessibility(phone)
    await phone.get_by_label("Could put someone at risk").check()
    await phone.get_by_label("Tell us more").fill("Selling cigarettes to teenagers")
    await phone.get_by_role("button", name="Send report").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/offers")

    await phone.context.clear_cookies()
    await signin_in_browser(phone, live_server, await create_user_ok(e2e_council, role="officer"))
    await phone.goto("/officer/moderation")
    item = phone.locator(".app-queue__item", has_text="Selling cigarettes to teenagers")
    await expect(item).to_contain_text("Cheap cigarettes, ask me")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await item.get_by_role("link", name=re.compile("^Hide the offer of help")).click()
    await phone.wait_for_url(f"**/officer/moderation/offers/{offer.id}/hide")
    await check_accessibility(phone)
    await phone.get_by_label("Reason").fill("Selling tobacco to children")
    await phone.get_by_role("button", name="Hide offer").click()
    await phone.wait_for_url("**/officer/moderation")
    await expect(phone.locator(f"#hidden-offer-{offer.id}")).to_contain_text(scheme.name)
    await check_accessibility(phone)
    assert (await HelpOffer.get(id=offer.id)).hidden


async def test_markup_and_long_words_are_shown_as_typed_and_fit_the_phone(phone, live_server, e2e_council):
    name = f"<script>alert('x')</script> {LONG_WORD} 🎉 {uuid.uuid4().hex[:6]}"
    scheme = await create_scheme_ok(e2e_council, name=name, summary=LONG_WORD * 3, description=f"<img src=x onerror=alert(1)> {LONG_WORD * 5}")
    dialogs: list[str] = []
    phone.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await phone.goto(f"/schemes/{scheme.slug}")
    assert await phone.get_by_role("heading", level=1).inner_text() == name
    await _fits_the_phone(phone)
    await phone.goto(f"/schemes?q={LONG_WORD}")
    await expect(phone.locator(".app-card__title").first).to_be_visible()
    await _fits_the_phone(phone)
    assert dialogs == []


async def test_an_organiser_sees_what_closing_will_end_before_closing_the_scheme(phone, live_server, e2e_council, check_accessibility):
    from civic.schemes.running import HelpRequest
    from tests.factories import create_help_request_ok, organiser_of

    scheme = await create_scheme_ok(e2e_council, name=f"Closing {uuid.uuid4().hex[:6]}")
    request = await create_help_request_ok(scheme, home_visit="no")
    await signin_in_browser(phone, live_server, await organiser_of(scheme))
    await phone.goto(f"/schemes/{scheme.slug}")
    await phone.get_by_role("link", name="Close the scheme").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/close")
    await expect(phone.locator("#closing-ends li")).to_have_count(1)
    await expect(phone.locator("#closing-ends li")).to_contain_text("1 open help request will be cancelled")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Close the scheme").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}")
    await expect(phone.locator(".govuk-inset-text")).to_contain_text("This scheme has closed.")
    assert (await HelpRequest.get(id=request.id)).status == "cancelled"
    assert await phone.get_by_role("link", name="Close the scheme").count() == 0
