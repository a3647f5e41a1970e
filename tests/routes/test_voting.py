"""Shareholder voting through the app: the ballot form, receipts, hidden and published results, officers' pages."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from civic import mail, voting
from civic.audit import AuditLog
from civic.voting.models import Ballot, Priority, Round, VotingCode
from tests.factories import Browser, create_council_ok, create_round_ok, create_user_ok, field_error, html, mail_to, priorities_of, shares_form, text_of, vote_ok, ward

PABULIB = Path(__file__).resolve().parents[1] / "data" / "pabulib"


async def _resident(app, council):
    resident = await create_user_ok(council)
    browser = Browser(app, council)
    await browser.signin_as(resident)
    return resident, browser


# The ballot


async def test_the_ballot_form_offers_minus_and_plus_around_each_priority_and_save_comes_first(app, council):
    round_ = await create_round_ok(council, priorities=3)
    _, browser = await _resident(app, council)
    async with browser:
        page = await browser.get(f"/rounds/{round_.id}/ballot")
    assert page.status_code == 200
    form = html(page).css_first("form.app-ballot")
    buttons = form.css("button[type=submit]")
    assert " ".join(buttons[0].text().split()) == "Save my ballot" and not buttons[0].attributes.get("name")
    controls = form.css(".app-share-control")
    assert len(controls) == 3
    first = controls[0]
    assert [b.attributes["value"] for b in first.css("button")] == [f"{p}:{d}" for p in [(await priorities_of(round_))[0].id] for d in ("-1", "+1")]
    assert first.css_first("input").attributes["type"] == "number"
    assert text_of(page, "#shares-left") == ["100 shares left of 100"]


async def test_a_resident_saves_a_ballot_and_gets_a_receipt_on_screen_and_by_email(app, council, mailbox):
    round_ = await create_round_ok(council)
    resident, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        saved = await browser.post(f"/rounds/{round_.id}/ballot", {**shares_form(p, 60, 40), "report_emails": "yes"})
        assert saved.status_code == 303 and saved.headers["location"] == f"/rounds/{round_.id}/ballot/receipt"
        receipt_page = await browser.follow(saved)
        again = await browser.get(f"/rounds/{round_.id}/ballot")
    receipt = text_of(receipt_page, ".app-receipt-code")[0]
    ballot = await Ballot.get(round=round_, voter=resident)
    assert ballot.receipt_hash == voting.receipt_hash(round_.id, receipt)
    assert text_of(receipt_page, ".app-receipt-hash") == [ballot.receipt_hash[:12]]
    assert not mailbox.to(resident.email)  # queued with the ballot, for the worker to send
    await mail.deliver(list(await mail_to(resident.email, status="pending")))  # as the worker does
    body = mailbox.body((await mailbox.wait_for(resident.email))[-1])
    assert receipt in body and "Priority 1: 60 shares" in body
    assert html(again).css_first(f"#shares-{p[0].id}").attributes["value"] == "60"  # shown again, to change
    assert "already voted" in again.text


async def test_a_ballot_with_shares_left_is_not_saved_until_the_voter_says_they_mean_it(app, council):
    round_ = await create_round_ok(council)
    resident, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        asked = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 10, 5))
        assert asked.status_code == 200 and not await Ballot.exists(round=round_, voter=resident)
        warning = " ".join(text_of(asked, "#shares-unused .govuk-warning-text__text")[0].split())
        assert warning == "Warning" + "Not saved yet: you have 85 shares left. Shares you do not give are not counted, so your ballot would have less say than other people's."
        # What they typed stays in the boxes, and the button saves it as it is.
        assert html(asked).css_first(f"#shares-{p[0].id}").attributes["value"] == "10"
        button = html(asked).css_first("#shares-unused button")
        assert (button.attributes["name"], button.attributes["value"], " ".join(button.text().split())) == ("shares_left", "yes", "Save with 85 shares unused")
        # Save my ballot is still the form's first button, which Enter in a box presses: it asks again.
        assert " ".join(html(asked).css_first("form.app-ballot button[type=submit]").text().split()) == "Save my ballot"
        saved = await browser.post(f"/rounds/{round_.id}/ballot", {**shares_form(p, 10, 5), "shares_left": "yes"})
        assert saved.status_code == 303
        receipt = await browser.follow(saved)
        assert [(row.css_first("dt").text(), row.css_first("dd").text()) for row in html(receipt).css("#your-shares .govuk-summary-list__row")] == [("Priority 1", "10 shares"), ("Priority 2", "5 shares")]
        assert "85 of your 100 shares are not given to any priority." in receipt.text
        assert sorted(await voting.Allocation.filter(ballot__voter=resident).values_list("shares", flat=True)) == [5, 10]
        # A ballot that gives every share is saved at once, as before.
        full = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 60, 40))
        assert full.status_code == 303


async def test_shares_that_a_cap_per_priority_makes_impossible_to_give_are_not_asked_about(app, council):
    round_ = await create_round_ok(council, priorities=2, max_shares_per_priority=30)
    resident, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        short = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 30, 20))
        assert short.status_code == 200 and "you have 10 shares left" in short.text
        # 2 priorities of at most 30 shares each: 60 is all anyone can give of 100.
        saved = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 30, 30))
    assert saved.status_code == 303 and await Ballot.exists(round=round_, voter=resident)


async def test_after_voting_the_round_pages_say_so_and_offer_a_change_instead_of_vote_now(app, council):
    round_ = await create_round_ok(council)
    other = await create_round_ok(council, title="Parks and open spaces")
    resident, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        before = await browser.get(f"/rounds/{round_.id}")
        assert "Vote now" in before.text and not html(before).css_first("#voted")
        assert (await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 60, 40))).status_code == 303
        after = await browser.get(f"/rounds/{round_.id}")
        listing = await browser.get("/rounds")
        other_page = await browser.get(f"/rounds/{other.id}")
    voted = " ".join(text_of(after, "#voted")[0].split())
    assert voted.startswith("You voted on ") and "Only your last ballot counts. You can change it until" in voted
    assert "Vote now" not in after.text and "Change your ballot" in after.text
    tagged = [" ".join(item.text().split()) for item in html(listing).css(".app-card-list__item h3")]
    assert f"{round_.title} You voted" in tagged and other.title in tagged and f"{other.title} You voted" not in tagged
    assert "Vote now" in other_page.text and not html(other_page).css_first("#voted")


async def test_the_receipt_says_which_code_to_keep_and_the_round_page_leads_back_to_it(app, council):
    round_ = await create_round_ok(council)
    _, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        before = await browser.get(f"/rounds/{round_.id}")
        receipt_page = await browser.follow(await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 60, 40)))
        after = await browser.get(f"/rounds/{round_.id}")
    explained = " ".join(text_of(receipt_page, "#receipt-explained")[0].split())
    assert "You only need to keep your receipt code" in explained
    assert "The short code is how you find your ballot in the public list" in explained
    assert not html(before).css(f'a[href="/rounds/{round_.id}/ballot/receipt"]')
    assert text_of(after, f'#voted a[href="/rounds/{round_.id}/ballot/receipt"]') == ["See your receipt code again"]


async def test_someone_who_cannot_vote_for_their_postcode_is_told_which_and_can_change_it(app, council):
    round_ = await create_round_ok(council)
    outside = await create_user_ok(council, postcode="SW1A 1AA", display_name="Olu")
    no_postcode = await create_user_ok(council, postcode="", display_name="Nell")
    pages = {}
    for person in (outside, no_postcode):
        browser = Browser(app, council)
        await browser.signin_as(person)
        async with browser:
            pages[person.id] = await browser.get(f"/rounds/{round_.id}")
    outside_text = " ".join(text_of(pages[outside.id], ".govuk-inset-text")[0].split())
    # It said "We do not know which ward you live in. Add your postcode", to someone who had given one.
    assert outside_text.startswith("This round is for residents of ") and "Your postcode, SW1A 1AA, is not in the council's area. Change your postcode" in outside_text
    assert "Add your postcode to your account so we know which ward you live in. Add your postcode" in " ".join(text_of(pages[no_postcode.id], ".govuk-inset-text")[0].split())
    for page in pages.values():
        assert html(page).css_first(".govuk-inset-text a").attributes["href"] == f"/welcome?next=/rounds/{round_.id}"


async def test_without_javascript_plus_and_minus_adjust_the_form_without_saving(app, council):
    round_ = await create_round_ok(council)
    _, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        stepped = await browser.post(f"/rounds/{round_.id}/ballot", {**shares_form(p, 10, 5), "step": f"{p[0].id}:+1"})
        down = await browser.post(f"/rounds/{round_.id}/ballot", {**shares_form(p, 0, 5), "step": f"{p[0].id}:-1"})
    assert stepped.status_code == 200
    assert html(stepped).css_first(f"#shares-{p[0].id}").attributes["value"] == "11"
    assert text_of(stepped, "#shares-left") == ["84 shares left of 100"]
    assert "Not saved yet" in stepped.text
    assert html(down).css_first(f"#shares-{p[0].id}").attributes["value"] == "0"  # never below 0
    assert not await Ballot.filter(round=round_).exists()


async def test_without_javascript_plus_and_minus_come_back_to_their_own_priority(app, council):
    round_ = await create_round_ok(council, priorities=3)
    _, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        page = await browser.get(f"/rounds/{round_.id}/ballot")
        stepped = await browser.post(f"/rounds/{round_.id}/ballot#priority-{p[2].id}", {**shares_form(p, 0, 0, 4), "step": f"{p[2].id}:+1"})
    for priority in p:
        assert html(page).css_first(f"#priority-{priority.id} #shares-{priority.id}")
        targets = [b.attributes.get("formaction") for b in html(page).css(f"#priority-{priority.id} button[name=step]")]
        assert targets == [f"/rounds/{round_.id}/ballot#priority-{priority.id}"] * 2
    assert html(stepped).css_first(f"#priority-{p[2].id} #shares-{p[2].id}").attributes["value"] == "5"


async def test_shares_left_is_a_fragment_for_htmx(app, council):
    round_ = await create_round_ok(council)
    _, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        fragment = await browser.post(f"/rounds/{round_.id}/ballot/preview", shares_form(p, 70, 45), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert " ".join(html(fragment).text().split()) == "15 shares too many: take some off"


async def test_refused_ballots_get_a_message_by_each_field_and_keep_what_was_typed(app, council):
    round_ = await create_round_ok(council)
    other = await create_round_ok(council)
    _, browser = await _resident(app, council)
    p = await priorities_of(round_)
    stranger = (await priorities_of(other))[0]
    async with browser:
        over = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 80, 30))
        typed = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, -3, "4.5", "x"))
        foreign = await browser.post(f"/rounds/{round_.id}/ballot", {**shares_form(p, 50), f"shares-{stranger.id}": "50"})
    assert over.status_code == 422
    assert field_error(over, "total") == "You have given 110 shares but you hold 100. Take off 10."
    assert html(over).css_first(f"#shares-{p[0].id}").attributes["value"] == "80"
    assert typed.status_code == 422
    assert field_error(typed, f"shares-{p[0].id}") == "Shares for Priority 1 cannot be fewer than 0"
    assert field_error(typed, f"shares-{p[1].id}") == "Enter a whole number of shares for Priority 2, like 5"
    assert field_error(typed, f"shares-{p[2].id}") == "Enter a whole number of shares for Priority 3, like 5"
    assert html(typed).css_first(f"#shares-{p[1].id}").attributes["value"] == "4.5"
    assert foreign.status_code == 422
    assert "not in this round" in field_error(foreign, "ballot")
    assert text_of(over, ".govuk-error-summary a") == ["You have given 110 shares but you hold 100. Take off 10."]
    assert not await Ballot.filter(round=round_).exists()


async def test_the_error_summary_lists_every_problem_each_linked_to_its_field(app, council):
    round_ = await create_round_ok(council, priorities=3, max_shares_per_priority="50")
    _, browser = await _resident(app, council)
    p = await priorities_of(round_)
    async with browser:
        refused = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(p, 60, 50, 20))
    assert refused.status_code == 422
    links = [(" ".join(a.text().split()), a.attributes["href"]) for a in html(refused).css(".govuk-error-summary a")]
    assert links == [
        ("You can put at most 50 shares on Priority 1", f"#shares-{p[0].id}"),
        ("You have given 130 shares but you hold 100. Take off 30.", "#total"),
    ]
    assert all(html(refused).css_first(href) for _, href in links)
    assert field_error(refused, f"shares-{p[0].id}") == "You can put at most 50 shares on Priority 1"
    assert field_error(refused, "total") == "You have given 130 shares but you hold 100. Take off 30."


async def test_a_closed_round_refuses_ballots_with_a_clear_message(app, council):
    round_ = await create_round_ok(council, status="closed")
    _, browser = await _resident(app, council)
    async with browser:
        response = await browser.post(f"/rounds/{round_.id}/ballot", shares_form(await priorities_of(round_), 50, 50))
        form = await browser.get(f"/rounds/{round_.id}/ballot")
    assert response.status_code == 409 and "Voting closed" in response.text
    assert "Voting closed" in text_of(form, ".govuk-inset-text")[0] and not html(form).css("form.app-ballot")


async def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_to_vote(client, council):
    round_ = await create_round_ok(council)
    response = await client.get(f"/rounds/{round_.id}/ballot")
    assert response.status_code == 303 and response.headers["location"] == f"/signin?next=/rounds/{round_.id}/ballot"


async def test_a_voting_code_works_once_online_without_signing_in(client, council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "1"})
    code = voting.show_code((await VotingCode.get(batch=batch)).code)
    p = await priorities_of(round_)
    form = await client.get(f"/rounds/{round_.id}/ballot?code={code}")
    assert html(form).css_first("#code").attributes["value"] == code
    # It said "You can change your ballot until voting closes", which a code cannot.
    assert "cannot be changed afterwards" in form.text and "You can change your ballot" not in form.text
    first = await client.post(f"/rounds/{round_.id}/ballot", {**shares_form(p, 50, 50), "code": code})
    assert first.status_code == 303
    second = await client.post(f"/rounds/{round_.id}/ballot", {**shares_form(p, 100), "code": code})
    assert second.status_code == 422
    assert field_error(second, "code") == "That voting code has already been used. Each code works once."
    assert await Ballot.filter(round=round_).count() == 1


# Nothing revealed before publication


async def test_before_publication_no_page_export_or_api_reveals_totals(app, council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, shares_per_resident="1000")
    await vote_ok(council, round_, await create_user_ok(council), 737, 263)  # figures unlike any date, time or count shown
    pages = [f"/rounds/{round_.id}", f"/rounds/{round_.id}/results", f"/rounds/{round_.id}/ballots", f"/officer/rounds/{round_.id}", f"/officer/rounds/{round_.id}/close", "/officer", "/rounds"]
    downloads = [f"/rounds/{round_.id}/results.csv", f"/rounds/{round_.id}/export.pb", f"/api/v1/rounds/{round_.id}/results"]

    async def look_as(who):
        async with Browser(app, council) as browser:
            if who is not None:
                await browser.signin_as(who)
            return {path: await browser.get(path) for path in pages + downloads}

    for stage in ("open", "closed"):
        for who in (None, officer):
            seen = await look_as(who)
            for path in downloads:
                assert seen[path].status_code == 409, (stage, who, path)
                assert "737" not in seen[path].text and "263" not in seen[path].text
            for path in pages:
                if seen[path].status_code == 200:
                    shown = html(seen[path]).css_first("main").text()  # not the CSRF token in the head
                    assert "737" not in shown and "263" not in shown and "73.7" not in shown, (stage, path)
            results = html(seen[f"/rounds/{round_.id}/results"])
            assert results.css_first("#results-hidden") is not None and not results.css("table, svg")
            assert html(seen[f"/rounds/{round_.id}/ballots"]).css_first("#results-hidden") is not None
        if stage == "open":
            await voting.close_round(officer, council, round_.id)
    api = (await look_as(None))[downloads[-1]]
    assert set(api.json()) == {"error"}


# Published results


async def _published(council, *, method: str = "split", **rules):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, priorities=3, budget="9000", method=method, **({"costs": [4000, 3000, 6000]} if method != "split" else {}), **rules)
    receipts = []
    for shares in ((60, 40, 0), (10, 0, 90), (50, 50, 0)):
        receipts.append(await vote_ok(council, round_, await create_user_ok(council), *shares))
    await voting.close_round(officer, council, round_.id)
    await voting.publish_results(officer, council, round_.id)
    return round_, receipts, officer


async def test_results_show_an_accessible_chart_with_the_same_figures_in_a_table(client, council):
    round_, _, _ = await _published(council)
    page = await client.get(f"/rounds/{round_.id}/results")
    assert page.status_code == 200
    svg = html(page).css_first("svg.app-bar-chart")
    assert svg.attributes["role"] == "img" and svg.attributes["aria-labelledby"] == "chart-title chart-desc"
    assert "Priority 1: 40.0%" in svg.css_first("desc").text()
    rows = [[" ".join(c.text(separator=" ").split()) for c in row.css("th, td")] for row in html(page).css("#results-table tbody tr")]
    assert rows[0] == ["Priority 1", "120 40.0% 3 backers", "£3,600"]
    assert [r[0] for r in rows] == ["Priority 1", "Priority 2", "Priority 3"]
    assert [t.text() for t in svg.css("text.app-bar-chart__value")] == ["40.0%", "30.0%", "30.0%"]
    assert text_of(page, "#ballot-count") == ["3"]
    assert "of" in text_of(page, "#turnout")[0]
    wards = [[" ".join(c.text().split()) for c in row.css("th, td")] for row in html(page).css("#wards-table tbody tr")]
    assert ["Abbey", "3"] == wards[0][:2]


async def test_greedy_results_say_which_priorities_were_funded_and_why_not(client, council):
    round_, _, _ = await _published(council, method="greedy")
    page = await client.get(f"/rounds/{round_.id}/results")
    rows = {}
    for row in html(page).css("#results-table tbody tr"):
        title = " ".join(row.css_first("th").text(separator=" ").split()[:2])
        rows[title] = " ".join(row.css("td")[-1].text(separator=" ").split())
    # 120 shares, then a tie at 90 broken by id: Priority 2 fits the £5,000 left, then Priority 3 (£6,000) does not.
    assert rows == {"Priority 1": "Funded", "Priority 2": "Funded", "Priority 3": "Not funded"}
    assert text_of(page, ".app-results-reason") == ["Not funded: not enough money left when its turn came"]
    # The chart agrees with the tags: funded bars keep the council's colour and the others are grey
    # (funded bars were near-black and the others in the council's green, which read backwards).
    bars = [bar.attributes["class"] for bar in html(page).css("rect.app-bar-chart__bar")]
    assert bars == ["app-bar-chart__bar", "app-bar-chart__bar", "app-bar-chart__bar app-bar-chart__bar--unfunded"]
    assert "Priority 3: " in text_of(page, "#chart-desc")[0] and text_of(page, "#chart-desc")[0].count(", not funded") == 1


async def test_residents_read_how_their_shares_are_counted_in_plain_words_and_officers_the_methods_name(app, council):
    officer = await create_user_ok(council, role="officer")
    split = await create_round_ok(council, officer=officer)
    costed = await create_round_ok(council, officer=officer, method="equal_shares", eligibility="codes", budget="100", priorities=2, costs=[60, 40], status="published")
    _, browser = await _resident(app, council)
    staff = Browser(app, council)
    await staff.signin_as(officer)
    async with browser:
        split_page = await browser.get(f"/rounds/{split.id}")
        costed_page = await browser.get(f"/rounds/{costed.id}")
        results = await browser.get(f"/rounds/{costed.id}/results")
    async with staff:
        admin = await staff.get(f"/officer/rounds/{costed.id}")
    for page in (split_page, costed_page, results):
        assert page.status_code == 200
        for jargon in ("Add1", "Wieliczka", "Method of Equal Shares", "The usual choice"):
            assert jargon not in page.text, (page.url, jargon)
    assert "everyone who votes" in " ".join(text_of(costed_page, "#how-counted")) and "everyone who votes" in " ".join(text_of(results, "#how-counted"))
    assert "ward" not in " ".join(text_of(costed_page, "#how-counted")).replace("towards", "")
    assert "in proportion to the shares" in " ".join(text_of(split_page, "#how-counted"))
    assert "Method of Equal Shares (with Add1 completion)" in admin.text
    # A round with voting codes does not know how many could vote in each ward: no column of dashes.
    assert [" ".join(th.text().split()) for th in html(results).css("#wards-table thead th")] == ["Ward", "Ballots"]


async def test_the_results_csv_has_a_row_per_priority_and_a_column_per_ward(client, council):
    round_, _, _ = await _published(council)
    response = await client.get(f"/rounds/{round_.id}/results.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["Priority"] for r in rows] == ["Priority 1", "Priority 2", "Priority 3"]
    assert rows[0]["Shares"] == "120" and rows[0]["Backers"] == "3" and rows[0]["Money"] == "£3,600"
    assert rows[0]["Shares from Abbey"] == "120" and rows[0]["Shares from Harbourside"] == "0"


async def test_the_results_csv_counts_shares_from_ballots_with_no_ward_in_a_column_of_their_own(client, council):
    # Ballots from codes with no ward: every ward column said 0, and nothing added up to the total.
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, priorities=2, eligibility="codes")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "2"})
    for code, shares in zip([c.code for c in await VotingCode.filter(batch=batch)], ((70, 30), (20, 80))):
        await vote_ok(council, round_, None, *shares, code=code)
    await voting.close_round(officer, council, round_.id)
    await voting.publish_results(officer, council, round_.id)
    rows = list(csv.DictReader(io.StringIO((await client.get(f"/rounds/{round_.id}/results.csv")).text)))
    assert {r["Priority"]: (r["Shares"], r["Shares from ward not known"]) for r in rows} == {"Priority 1": ("90", "90"), "Priority 2": ("110", "110")}
    assert {r["Shares from Abbey"] for r in rows} == {"0"}
    published, _, _ = await _published(council)  # every ballot from a ward: no such column
    assert "Shares from ward not known" not in (await client.get(f"/rounds/{published.id}/results.csv")).text


async def test_a_voter_finds_their_receipt_in_the_published_ballot_list(client, council):
    round_, receipts, _ = await _published(council)
    mine = receipts[1]
    page = await client.get(f"/rounds/{round_.id}/ballots", params={"receipt": voting.show_code(mine.receipt).lower()})
    assert page.status_code == 200
    assert text_of(page, "#found .app-receipt-hash") == [voting.receipt_hash(round_.id, mine.receipt)[:12]]
    assert text_of(page, "#found li") == ["Priority 1: 10", "Priority 3: 90"]
    listed = text_of(page, "#ballots-table td.app-receipt-hash")
    assert len(listed) == 3 and voting.receipt_hash(round_.id, mine.receipt)[:12] in listed
    assert listed == sorted(listed)  # by hash, never by when they voted
    missing = await client.get(f"/rounds/{round_.id}/ballots", params={"receipt": "AAAA-BBBB-CCCC"})
    assert text_of(missing, "#not-found")


async def test_the_results_api_answers_json_after_publication(client, council):
    round_, _, _ = await _published(council)
    response = await client.get(f"/api/v1/rounds/{round_.id}/results")
    assert response.status_code == 200
    data = response.json()
    assert data["round"]["status"] == "published" and data["ballots"] == 3
    assert [p["shares"] for p in data["priorities"]] == [120, 90, 90]


async def test_the_exported_pb_file_has_the_anonymised_ballots(client, council):
    from pabutools.election.pabulib import parse_pabulib_from_string

    round_, _, _ = await _published(council)
    response = await client.get(f"/rounds/{round_.id}/export.pb")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    instance, profile = parse_pabulib_from_string(response.text)
    assert instance.meta["vote_type"] == "cumulative" and int(instance.budget_limit) == 9000
    p = await priorities_of(round_)
    names = {str(x.id): x.title for x in p}
    ballots = sorted(sorted((names[q.name], int(n)) for q, n in b.items()) for b in profile)
    assert ballots == [[("Priority 1", 10), ("Priority 3", 90)], [("Priority 1", 50), ("Priority 2", 50)], [("Priority 1", 60), ("Priority 2", 40)]]
    assert "voter_id" in response.text and "@" not in response.text


# Officers


async def test_a_budget_or_cost_too_large_to_read_is_a_message_by_the_field_keeping_what_was_typed(app, council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, status="draft", priorities=1)
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        for typed, message in {"1e999": "Enter {} in pounds, like 250000 or 99.50", "9" * 30: "{} must be less than £100,000,000,000,000"}.items():
            bad = await browser.post("/officer/rounds", {"title": "Parks", "method": "split", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1", "budget": typed})
            assert bad.status_code == 422
            assert field_error(bad, "budget").lower() == message.format("the budget").lower()
            assert html(bad).css_first("input[name=budget]").attributes["value"] == typed
            cost = await browser.post(f"/officer/rounds/{round_.id}/priorities", {"title": "Swings", "cost": typed})
            assert cost.status_code == 422
            assert field_error(cost, "cost").lower() == message.format("the cost").lower()
            assert html(cost).css_first("input[name=cost]").attributes["value"] == typed
    assert not await Round.filter(council=council, title="Parks").exists()
    assert await Priority.filter(round=round_).count() == 1


async def test_an_officer_creates_a_round_adds_priorities_and_opens_it(app, council):
    officer = await create_user_ok(council, role="officer")
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        bad = await browser.post("/officer/rounds", {"title": "", "method": "equal_shares", "eligibility": "residents", "shares_per_resident": "0", "minimum_priorities": "1"})
        assert bad.status_code == 422
        assert field_error(bad, "title") == "Enter a title"
        assert "needs to know the money" in field_error(bad, "budget")
        assert field_error(bad, "shares_per_resident") == "Shares per resident must be 1 or more"
        created = await browser.post("/officer/rounds", {"title": "Parks", "method": "split", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1", "closes_at": "2099-05-01T17:00"})
        assert created.status_code == 303
        path = created.headers["location"]
        round_ = await Round.get(title="Parks", council=council)
        assert round_.closes_at.isoformat().startswith("2099-05-01T16:00")  # 5pm in London summer time is 4pm UTC
        too_early = await browser.post(f"{path}/open")
        assert too_early.status_code == 422 and "Add at least two priorities" in field_error(too_early, "open")
        for title in ("Swings", "Trees"):
            assert (await browser.post(f"{path}/priorities", {"title": title, "cost": "£1,200"})).status_code == 303
        opened = await browser.post(f"{path}/open")
        assert opened.status_code == 303
        refused = await browser.post(f"{path}/priorities", {"title": "Late idea"})
        admin = await browser.get(path)
    assert (await Round.get(id=round_.id)).status == "open"
    assert refused.status_code == 409 and "can no longer change" in refused.text
    assert [p.title for p in await Priority.filter(round=round_)] == ["Swings", "Trees"]
    assert text_of(admin, "#ballot-count") == ["0 ballots so far. What they say stays hidden until voting closes."]


async def test_an_officer_is_asked_to_confirm_before_closing_a_round_early(app, council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, title="Parks and play", closes_at="2099-05-01T17:00")
    await vote_ok(council, round_, await create_user_ok(council), 60, 40)
    await vote_ok(council, round_, await create_user_ok(council), 10, 90)
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        admin = await browser.get(f"/officer/rounds/{round_.id}")
        confirm = await browser.get(f"/officer/rounds/{round_.id}/close")
        still_open = (await Round.get(id=round_.id)).status
        closed = await browser.post(html(confirm).css_first("main form").attributes["action"])
        again = await browser.get(f"/officer/rounds/{round_.id}/close")
    start = html(admin).css_first("a.govuk-button--warning")
    assert start.attributes["href"] == f"/officer/rounds/{round_.id}/close" and start.text().strip() == "Close voting now"
    assert not html(admin).css(f'form[action="/officer/rounds/{round_.id}/close"]')  # one tap no longer closes it
    assert confirm.status_code == 200 and still_open == "open"
    assert text_of(confirm, "h1") == ["Close voting in Parks and play now?"]
    assert text_of(confirm, "#ballot-count") == ["2 ballots have been cast so far."]
    assert "residents were told it closes on Friday 1 May 2099 at 5:00pm" in text_of(confirm, "#consequences li")[-1]
    form = html(confirm).css_first("main form")
    assert form.attributes["method"] == "post" and form.css_first("input[name=csrftoken]") is not None
    assert " ".join(form.css_first("button.govuk-button--warning").text().split()) == "Close voting now"
    assert form.css_first("a.govuk-link").attributes["href"] == f"/officer/rounds/{round_.id}" and text_of(confirm, "main form a") == ["Cancel"]
    assert closed.status_code == 303 and closed.headers["location"] == f"/officer/rounds/{round_.id}"
    assert (await Round.get(id=round_.id)).status == "closed"
    assert again.status_code == 409 and "Only an open round can be closed." in text_of(again, "main")[0]


async def test_an_officer_is_asked_to_confirm_before_publishing_results(app, council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, title="Parks and play")
    await vote_ok(council, round_, await create_user_ok(council), 60, 40)
    await voting.close_round(officer, council, round_.id)
    resident = await create_user_ok(council)
    async with Browser(app, council) as browser:
        await browser.signin_as(resident)
        refused = await browser.get(f"/officer/rounds/{round_.id}/publish")
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        admin = await browser.get(f"/officer/rounds/{round_.id}")
        confirm = await browser.get(f"/officer/rounds/{round_.id}/publish")
        still_closed = (await Round.get(id=round_.id)).status
        published = await browser.post(html(confirm).css_first("main form").attributes["action"])
        again = await browser.get(f"/officer/rounds/{round_.id}/publish")
    assert refused.status_code == 403
    start = html(admin).css_first("main a.govuk-button")
    assert start.attributes["href"] == f"/officer/rounds/{round_.id}/publish" and start.text().strip() == "Publish the results"
    assert not html(admin).css(f'form[action="/officer/rounds/{round_.id}/publish"]')  # one tap no longer publishes
    assert confirm.status_code == 200 and still_closed == "closed"
    assert text_of(confirm, "h1") == ["Publish the results of Parks and play?"]
    assert text_of(confirm, "#ballot-count")[0].startswith("1 ballot was cast.")
    assert "the results cannot be changed or taken down" in text_of(confirm, "#consequences li")
    assert " ".join(html(confirm).css_first("main form button.govuk-button--warning").text().split()) == "Publish the results"
    assert published.status_code == 303 and (await Round.get(id=round_.id)).status == "published"
    assert again.status_code == 409 and "already published" in text_of(again, "main")[0]


async def test_only_this_councils_staff_see_the_close_confirmation_and_never_for_a_draft(app, council):
    from tests.factories import create_council_ok

    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    draft = await create_round_ok(council, officer=officer, status="draft")
    answers = {}
    for who in ("resident", "other-officer", "officer"):
        person = {"resident": await create_user_ok(council), "other-officer": await create_user_ok(await create_council_ok(), role="officer"), "officer": officer}[who]
        async with Browser(app, council) as browser:
            await browser.signin_as(person)
            answers[who] = await browser.get(f"/officer/rounds/{round_.id}/close")
            if who == "officer":
                answers["draft"] = await browser.get(f"/officer/rounds/{draft.id}/close")
    async with Browser(app, council) as browser:
        answers["anonymous"] = await browser.get(f"/officer/rounds/{round_.id}/close")
    assert {who: answer.status_code for who, answer in answers.items()} == {"resident": 403, "other-officer": 403, "officer": 200, "draft": 409, "anonymous": 303}
    assert answers["anonymous"].headers["location"] == f"/signin?next=/officer/rounds/{round_.id}/close"
    assert "Only an open round can be closed." in text_of(answers["draft"], "main")[0] and not html(answers["draft"]).css("main form")
    assert "ballot" not in text_of(answers["resident"], "main")[0]
    assert (await Round.get(id=round_.id)).status == "open" and (await Round.get(id=draft.id)).status == "draft"


async def test_an_officer_imports_a_pabulib_file_as_a_draft_round(app, council):
    officer = await create_user_ok(council, role="officer")
    content = (PABULIB / "synthetic_cumulative.pb").read_bytes()
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        token = await browser.csrf_token()
        response = await browser.http.post(
            "/officer/rounds/import",
            data={"csrftoken": token, "with_ballots": "yes"},
            files={"file": ("synthetic_cumulative.pb", content, "text/plain")},
        )
        empty = await browser.http.post("/officer/rounds/import", data={"csrftoken": token, "with_ballots": "yes"}, files={"file": ("x.pb", b"not a pabulib file", "text/plain")})
    assert response.status_code == 303
    round_ = await Round.get(council=council, source="synthetic_cumulative.pb")
    assert round_.status == "draft" and await Priority.filter(round=round_).count() == 12 and await Ballot.filter(round=round_).count() == 50
    assert empty.status_code == 422 and field_error(empty, "file")


async def test_codes_come_as_csv_and_a_printable_page_and_each_download_is_audited(app, council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes", status="draft")
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        made = await browser.post(f"/officer/rounds/{round_.id}/codes", {"size": "5", "label": "Flats on Mill Lane", "batch_ward": ""})
        assert made.status_code == 303
        batch = (await voting.CodeBatch.filter(round=round_).first())
        sheet = await browser.get(f"/officer/rounds/{round_.id}/codes/{batch.id}.csv")
        printable = await browser.get(f"/officer/rounds/{round_.id}/codes/{batch.id}")
        too_many = await browser.post(f"/officer/rounds/{round_.id}/codes", {"size": "999999"})
    codes = {voting.show_code(c.code) for c in await VotingCode.filter(batch=batch)}
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert {r["code"] for r in rows} == codes and rows[0]["label"] == "Flats on Mill Lane"
    assert set(text_of(printable, ".app-code-card .app-receipt-code")) == codes
    assert await AuditLog.filter(action="round.codes_downloaded", target_id=str(round_.id)).count() == 2
    assert too_many.status_code == 422 and field_error(too_many, "size") == "How many codes must be 5000 or fewer"


async def test_a_batch_of_codes_shows_its_ward_on_its_own_line_not_joined_to_the_label(app, council):
    # The label and the ward are each the officer's: a label that names the ward read "Posted to Abbey, Abbey".
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes", status="draft")
    abbey = await ward(council, "Abbey")
    await voting.generate_codes(officer, council, round_.id, {"size": "2", "label": "Posted to Abbey", "batch_ward": str(abbey.id)})
    await voting.generate_codes(officer, council, round_.id, {"size": "2", "label": "", "batch_ward": ""})
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        page = await browser.get(f"/officer/rounds/{round_.id}")
    batches = {row.css_first(".app-batch-label").text(): row for row in html(page).css("table.govuk-table tbody tr")}
    assert sorted(batches) == [f"Batch {batch.id}" for batch in await voting.CodeBatch.filter(round=round_, label="")] + ["Posted to Abbey"]
    assert " ".join(batches["Posted to Abbey"].css_first(".app-batch-ward").text().split()) == "Ward: Abbey"
    assert len(html(page).css(".app-batch-ward")) == 1
    assert "Abbey, Abbey" not in page.text
    assert "Abbey" not in (html(page).css_first("#label-hint").text())


async def test_voting_code_letters_carry_the_councils_own_address_whatever_host_the_officer_used(app):
    slug = f"letters-{uuid.uuid4().hex[:6]}"
    council = await create_council_ok(slug=slug, hostnames=f"{slug}.test,{slug}-staff.test")
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes", status="draft")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "3"})
    ballot = f"http://{slug}.test/rounds/{round_.id}/ballot"  # its first host name: CIVIC_BASE_URL is another site's
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        for host in (f"{slug}-staff.test", f"{slug}.test:8443"):  # another of its host names; its own with a port
            sheet = await browser.get(f"/officer/rounds/{round_.id}/codes/{batch.id}.csv", headers={"Host": host})
            printable = await browser.get(f"/officer/rounds/{round_.id}/codes/{batch.id}", headers={"Host": host})
            assert sheet.status_code == printable.status_code == 200, host
            rows = list(csv.DictReader(io.StringIO(sheet.text)))
            assert len(rows) == 3 and [row["link"] for row in rows] == [f"{ballot}?code={row['code']}" for row in rows], host
            cards = text_of(printable, ".app-code-card p.govuk-body-s:last-child")
            assert len(cards) == 3 and all(card.startswith(f"Vote at {ballot}, or fill in") for card in cards), cards


async def test_an_officer_types_in_a_paper_ballot_and_it_is_audited(app, council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "1"})
    code = (await VotingCode.get(batch=batch)).code
    p = await priorities_of(round_)
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        wrong = await browser.post(f"/officer/rounds/{round_.id}/paper", {**shares_form(p, 30, 80), "code": code})
        saved = await browser.post(f"/officer/rounds/{round_.id}/paper", {**shares_form(p, 30, 70), "code": code})
        page = await browser.follow(saved)
    assert wrong.status_code == 422 and field_error(wrong, "total")
    assert saved.status_code == 303 and "Paper ballot saved" in page.text
    ballot = await Ballot.get(round=round_)
    assert ballot.source == "paper" and ballot.entered_by_id == officer.id
    assert await AuditLog.filter(action="ballot.paper_entered", actor=officer, target_id=str(ballot.id)).exists()


async def test_progress_posted_by_an_officer_shows_on_the_round_page(app, council, mailbox):
    round_, _, officer = await _published(council)
    first = (await priorities_of(round_))[0]
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        missing = await browser.post(f"/officer/rounds/{round_.id}/priorities/{first.id}/progress", {"note": ""})
        posted = await browser.post(f"/officer/rounds/{round_.id}/priorities/{first.id}/progress", {"status": "delivered", "note": "New swings are in."})
        public = await browser.get(f"/rounds/{round_.id}")
    assert missing.status_code == 422 and field_error(missing, f"progress-{first.id}-note") == "Say what has happened, in a sentence or two"
    assert posted.status_code == 303
    assert "Delivered" in text_of(public, ".app-progress .govuk-tag")
    assert "New swings are in." in " ".join(text_of(public, ".app-progress"))


async def test_a_link_in_a_progress_email_stops_them(app, council):
    round_, _, _ = await _published(council)
    ballot = await Ballot.filter(round=round_).first()
    token = voting.report.stop_token(ballot.id)
    async with Browser(app, council) as browser:
        form = await browser.get(f"/rounds/report/stop/{token}")
        stopped = await browser.post(f"/rounds/report/stop/{token}")
        forged = await browser.get("/rounds/report/stop/forged")
    assert form.status_code == 200 and stopped.status_code == 200
    assert not (await Ballot.get(id=ballot.id)).report_emails
    assert forged.status_code == 404


async def test_another_councils_round_is_not_found(app, council):
    from tests.factories import create_council_ok

    other = await create_council_ok()
    round_ = await create_round_ok(other)
    async with Browser(app, council) as browser:
        assert (await browser.get(f"/rounds/{round_.id}")).status_code == 404


async def test_an_upload_without_the_right_csrf_token_is_refused(app, council):
    officer = await create_user_ok(council, role="officer")
    content = (PABULIB / "synthetic_cumulative.pb").read_bytes()
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        await browser.csrf_token()
        missing = await browser.http.post("/officer/rounds/import", data={"with_ballots": "yes"}, files={"file": ("a.pb", content, "text/plain")})
        forged = await browser.http.post("/officer/rounds/import", data={"csrftoken": "forged", "with_ballots": "yes"}, files={"file": ("a.pb", content, "text/plain")})
    assert missing.status_code == 403 and forged.status_code == 403
    assert not await Round.filter(council=council, source="a.pb").exists()


async def test_kept_share_controls_are_what_the_macro_renders_with_each_voters_own_numbers(app, council):
    """An open round's controls are rendered once per process and the voter's numbers filled in
    (routes.voting.share_controls): the page must not differ by a byte from rendering them afresh."""
    from civic.voting import rounds
    from routes import voting as voting_routes
    from routes.web import templates

    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, priorities=2, status="draft", officer=officer)
    await voting.add_priority(officer, council, round_.id, {"title": "Lifts & <ramps>", "description": 'Step-free "access" at the library', "cost": "2500"})
    await voting.open_round(officer, council, round_.id)
    first, second = await create_user_ok(council), await create_user_ok(council)
    await vote_ok(council, round_, first, 60, 40)
    await vote_ok(council, round_, second, 0, 30, 70)
    macro = templates.env.get_template("voting/_share_controls.html").module.share_controls
    p = [x.id for x in await priorities_of(round_)]
    for voter, values in [
        (first, {f"shares-{p[0]}": "60", f"shares-{p[1]}": "40"}),
        (second, {f"shares-{p[1]}": "30", f"shares-{p[2]}": "70"}),
        (first, {f"shares-{p[0]}": '12"><script>', f"shares-{p[2]}": ""}),  # typed without JavaScript, shown back escaped
    ]:
        page = await voting.ballot_page(voter, council, round_.id)
        assert str(voting_routes.share_controls(page, values, {})) == str(macro(page, values, {}))
    assert voting_routes._kept_controls.get(round_.id) is not None
    kept = str(voting_routes.share_controls(page, values, {}))
    assert '12"><script>' not in kept and "12&#34;&gt;&lt;script&gt;" in kept and "Lifts &amp; &lt;ramps&gt;" in kept

    # Each voter's page shows their own ballot, however many pages came before it.
    for voter, shares in [(first, ["60", "40", "0"]), (second, ["0", "30", "70"])]:
        async with Browser(app, council) as browser:
            await browser.signin_as(voter)
            page = await browser.get(f"/rounds/{round_.id}/ballot")
        assert [html(page).css_first(f"#shares-{i}").attributes["value"] for i in p] == shares

    # With errors, the controls are rendered afresh around them; a draft (an officer's preview) is never kept.
    errors = {f"shares-{p[0]}": "Enter a whole number of shares"}
    page = await voting.ballot_page(first, council, round_.id)
    with_errors = str(voting_routes.share_controls(page, {f"shares-{p[0]}": "x"}, errors))
    assert "Enter a whole number of shares" in with_errors and with_errors == str(macro(page, {f"shares-{p[0]}": "x"}, errors))
    draft = await create_round_ok(council, priorities=2, status="draft", officer=officer)
    draft_page = await voting.ballot_page(officer, council, draft.id)
    assert str(voting_routes.share_controls(draft_page, {}, {})) == str(macro(draft_page, {}, {}))
    assert voting_routes._kept_controls.get(draft.id) is None
    assert rounds.FIXED_SECONDS >= 60  # the kept controls live as long as the kept priorities they show
