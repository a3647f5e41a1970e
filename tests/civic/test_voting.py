"""Shareholder voting in the domain: rules, ballots under load, codes, counting real Pabulib elections, the report."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pabutools.election.pabulib import parse_pabulib_from_string
from tortoise import Tortoise, timezone
from tortoise.exceptions import IntegrityError

from civic import accounts, config, crypto, mail, voting, worker
from civic.accounts import User
from civic.audit import AuditLog
from civic.db import in_transaction, is_postgres
from civic.errors import Conflict, Forbidden, Invalid
from civic.officers import attention
from civic.voting.ballots import normalise_code
from civic.voting.models import Allocation, Ballot, Priority, Round, VotingCode
from civic.voting.parsing import datetime_local_value
from tests.factories import create_council_ok, create_round_ok, create_user_ok, mail_to, postcode_in, priorities_of, shares_form, stored_row, use_settings, vote_ok
from tests.peers import need

PABULIB = Path(__file__).resolve().parents[1] / "data" / "pabulib"
REFERENCE = json.loads((PABULIB / "reference.json").read_text())["instances"]
FILES = sorted(REFERENCE)

pytestmark = pytest.mark.usefixtures("database")

# Each file is imported once per run; the tests below only read it, or take it on to publication.
_imported: dict[str, Round] = {}


async def _imported_round(name: str) -> Round:
    if name not in _imported:
        council = await create_council_ok()
        officer = await create_user_ok(council, role="officer")
        _imported[name] = await voting.import_pabulib(officer, council, name, (PABULIB / name).read_text("utf-8"))
    return await Round.get(id=_imported[name].id)


def _ballots_of(profile) -> Counter:
    """A pabutools profile as a multiset of ballots: {project id: points} (1 for an approval)."""
    found: Counter = Counter()
    for ballot in profile:
        if hasattr(ballot, "items"):
            found[frozenset((p.name, int(points)) for p, points in ballot.items() if points)] += 1
        else:
            found[frozenset((p.name, 1) for p in ballot)] += 1
    return found


# Counting real elections through the round's own results code


@pytest.mark.parametrize("name", FILES)
async def test_every_pabulib_file_imported_as_a_round_counts_as_pabutools_does(name):
    round_ = await _imported_round(name)
    reference = REFERENCE[name]
    assert round_.status == "draft" and round_.vote_type == reference["vote_type"]
    assert await Ballot.filter(round=round_).count() == reference["voters"]
    assert len(await priorities_of(round_)) == reference["projects"]
    assert str(round_.budget).removesuffix(".00") == reference["budget"]

    assert sorted((await voting.count_round(round_, "equal_shares", completion=None)).selected) == sorted(reference["mes"])
    assert sorted((await voting.count_round(round_, "equal_shares", completion="add1")).selected) == sorted(reference["mes_add1"])
    assert sorted((await voting.count_round(round_, "greedy")).selected) == sorted(reference["greedy"])
    split = await voting.count_round(round_, "split")
    assert split.spent == split.budget  # every penny of the budget is shared out


async def test_a_pabulib_file_with_numbers_too_big_for_a_round_is_refused_with_a_message(council):
    officer = await create_user_ok(council, role="officer")
    text = (PABULIB / "synthetic_cumulative.pb").read_text("utf-8")
    huge = "9" * 30
    for changed in (text.replace("budget;400", f"budget;{huge}"), text.replace("p1;94;Project p1", f"p1;{huge};Project p1"), text.replace("vote_type;cumulative", f"vote_type;cumulative\nmax_sum_points;{huge}")):
        with pytest.raises(Invalid) as refused:
            await voting.import_pabulib(officer, council, "huge.pb", changed)
        assert "larger than civic can hold" in refused.value.errors["file"]
    assert not await Round.filter(council=council, source="huge.pb").exists()


@pytest.mark.parametrize("name", FILES)
async def test_a_published_imported_round_exports_a_pb_file_pabutools_reads_as_the_same_ballots(name):
    round_ = await _imported_round(name)
    officer = await create_user_ok(await round_.council, role="officer")
    council = await round_.council
    await voting.open_round(officer, council, round_.id)
    await voting.close_round(officer, council, round_.id)
    published = await voting.publish_results(officer, council, round_.id)
    assert sorted(published.results["selected"]) == sorted(REFERENCE[name]["mes_add1"])  # imported rounds count by equal shares

    filename, text = await voting.export_pabulib(None, council, round_.id)
    assert filename.endswith(".pb")
    exported_instance, exported = parse_pabulib_from_string(text)
    original_instance, original = parse_pabulib_from_string((PABULIB / name).read_text("utf-8"))
    assert _ballots_of(exported) == _ballots_of(original)
    assert {(p.name, p.cost) for p in exported_instance} == {(p.name, p.cost) for p in original_instance}
    assert exported_instance.budget_limit == original_instance.budget_limit


# Rules


async def test_changing_rules_priorities_or_method_after_opening_is_refused_with_a_reason(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    first = (await priorities_of(round_))[0]
    attempts = [
        voting.update_round(officer, council, round_.id, {"title": "New", "method": "greedy", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1", "budget": "1000"}),
        voting.add_priority(officer, council, round_.id, {"title": "Sneaked in"}),
        voting.update_priority(officer, council, round_.id, first.id, {"title": "Renamed"}),
        voting.remove_priority(officer, council, round_.id, first.id),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="can no longer change"):
            await attempt
    unchanged = await Round.get(id=round_.id)
    assert unchanged.method == "split" and unchanged.title == "Our priorities"
    assert [p.title for p in await priorities_of(round_)] == ["Priority 1", "Priority 2", "Priority 3", "Priority 4"]


async def test_a_residents_cannot_create_or_open_rounds(council):
    resident = await create_user_ok(council)
    with pytest.raises(Forbidden):
        await voting.create_round(resident, council, {"title": "Mine", "method": "split", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1"})
    draft = await create_round_ok(council, status="draft")
    with pytest.raises(Forbidden):
        await voting.open_round(resident, council, draft.id)


async def test_a_round_counted_by_equal_shares_cannot_open_until_every_priority_has_a_cost(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, status="draft", method="equal_shares", budget="10000")
    with pytest.raises(Invalid) as refused:
        await voting.open_round(officer, council, round_.id)
    assert "Give every priority a cost" in refused.value.errors["open"]
    assert (await Round.get(id=round_.id)).status == "draft"


async def test_a_round_whose_rules_no_ballot_could_meet_cannot_open(council):
    officer = await create_user_ok(council, role="officer")
    # 10 shares each, and at least 12 priorities backed: no ballot could be valid.
    impossible = await create_round_ok(council, officer=officer, status="draft", priorities=12, shares_per_resident="10", minimum_priorities="12")
    with pytest.raises(Invalid) as refused:
        await voting.open_round(officer, council, impossible.id)
    assert refused.value.errors["open"] == "Voters hold 10 shares, so they cannot back 12 priorities: each one they back takes at least one share."
    # A priority costing more than the whole budget could never be funded by equal shares.
    dear = await create_round_ok(council, officer=officer, status="draft", priorities=3, method="equal_shares", budget="50000", costs=[60000, 20000, 50000])
    with pytest.raises(Invalid) as refused:
        await voting.open_round(officer, council, dear.id)
    assert refused.value.errors["open"] == "Priority 1 costs more than the whole budget of £50,000, so voters' shares could never fund it."
    assert {r.status for r in await Round.filter(id__in=[impossible.id, dear.id])} == {"draft"}
    # Within the rules, both open.
    fine = await create_round_ok(council, officer=officer, status="draft", priorities=3, shares_per_resident="10", minimum_priorities="3")
    assert (await voting.open_round(officer, council, fine.id)).status == "open"


@pytest.mark.parametrize(("typed", "message"), [
    ("1e999", "Enter the budget in pounds, like 250000 or 99.50"),
    ("Infinity", "Enter the budget in pounds, like 250000 or 99.50"),
    ("-inf", "Enter the budget in pounds, like 250000 or 99.50"),
    ("NaN", "Enter the budget in pounds, like 250000 or 99.50"),
    ("9" * 30, "The budget must be less than £100,000,000,000,000"),
    ("£100,000,000,000,000", "The budget must be less than £100,000,000,000,000"),
    ("-5", "The budget must be £0 or more"),
])
async def test_a_budget_that_is_not_an_amount_a_round_can_hold_gets_a_message_saying_what_to_type(council, typed, message):
    officer = await create_user_ok(council, role="officer")
    with pytest.raises(Invalid) as refused:
        await voting.create_round(officer, council, {"title": "T", "method": "greedy", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1", "budget": typed})
    assert refused.value.errors == {"budget": message}


async def test_the_largest_budget_the_column_holds_is_kept_to_the_penny(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await voting.create_round(officer, council, {"title": "T", "method": "greedy", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1", "budget": "£99,999,999,999,999.99"})
    assert str((await Round.get(id=round_.id)).budget) == "99999999999999.99"


async def test_a_budget_is_required_for_methods_that_buy_whole_priorities(council):
    officer = await create_user_ok(council, role="officer")
    with pytest.raises(Invalid) as refused:
        await voting.create_round(officer, council, {"title": "T", "method": "greedy", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1", "max_shares_per_priority": "200"})
    assert "budget" in refused.value.errors
    assert "200" not in refused.value.errors["max_shares_per_priority"] and "100 or fewer" in refused.value.errors["max_shares_per_priority"]


async def test_the_worker_opens_and_closes_rounds_when_their_times_come(council):
    officer = await create_user_ok(council, role="officer")
    soon = timezone.now() + timedelta(hours=1)
    round_ = await create_round_ok(council, officer=officer, status="draft", opens_at=datetime_local_value(soon), closes_at=datetime_local_value(soon + timedelta(days=7)))
    assert any(job.target == "civic.voting.rounds:advance_rounds" for job in worker.JOBS)

    await worker.run_once([j for j in worker.JOBS if j.target == "civic.voting.rounds:advance_rounds"])
    assert (await Round.get(id=round_.id)).status == "draft"  # not yet

    await Round.filter(id=round_.id).update(opens_at=timezone.now() - timedelta(minutes=1))
    await voting.advance_rounds()
    assert (await Round.get(id=round_.id)).status == "open"

    await Round.filter(id=round_.id).update(closes_at=timezone.now() - timedelta(seconds=1))
    await voting.advance_rounds()
    closed = await Round.get(id=round_.id)
    assert closed.status == "closed" and closed.closed_at is not None
    assert await AuditLog.filter(action="round.closed", target_id=str(round_.id), actor=None).exists()


async def test_a_round_due_to_open_but_not_ready_stays_a_draft_and_officers_are_told(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, status="draft", priorities=1)
    await Round.filter(id=round_.id).update(opens_at=timezone.now() - timedelta(minutes=5))
    await voting.advance_rounds()
    assert (await Round.get(id=round_.id)).status == "draft"
    sections = {s.title: s for s in await attention(officer, council)}
    problem = sections["Priority rounds"].items[0]
    assert problem.tag == "Problem" and "Add at least two priorities" in problem.text


async def test_a_ballot_arriving_after_the_closing_time_is_refused_even_before_the_worker_runs(council):
    round_ = await create_round_ok(council)
    await Round.filter(id=round_.id).update(closes_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict, match="closed"):
        await vote_ok(council, round_, await create_user_ok(council), 50, 50)


async def test_the_close_preview_counts_ballots_for_this_councils_staff_and_only_for_an_open_round(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    await vote_ok(council, round_, await create_user_ok(council), 50, 50)
    preview = await voting.close_preview(officer, council, round_.id)
    assert preview.round.id == round_.id and preview.ballots == 1
    assert (await Round.get(id=round_.id)).status == "open"  # looking changes nothing
    for outsider in (None, await create_user_ok(council), await create_user_ok(await create_council_ok(), role="officer")):
        with pytest.raises(Forbidden):
            await voting.close_preview(outsider, council, round_.id)
    for status in ("draft", "closed"):
        with pytest.raises(Conflict, match="Only an open round can be closed"):
            await voting.close_preview(officer, council, (await create_round_ok(council, officer=officer, status=status)).id)
    await Round.filter(id=round_.id).update(closes_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict):  # its closing time came while the officer was deciding
        await voting.close_preview(officer, council, round_.id)


async def test_a_ballot_saved_while_the_round_is_being_closed_waits_and_is_then_refused(council):
    need(is_postgres(), "PostgreSQL")
    round_ = await create_round_ok(council)
    resident = await create_user_ok(council)
    locked, release = asyncio.Event(), asyncio.Event()

    async def close_slowly() -> None:  # as close_round does, with time to send a ballot in between
        async with in_transaction():
            await Round.select_for_update().get(id=round_.id)
            locked.set()
            await release.wait()
            now = timezone.now()
            await Round.filter(id=round_.id).update(status="closed", closed_at=now, closes_at=now)

    closing = asyncio.create_task(close_slowly())
    await locked.wait()
    saving = asyncio.create_task(vote_ok(council, round_, resident, 50, 50))
    await asyncio.sleep(0.5)
    assert not saving.done()  # the save waits for the closing transaction
    release.set()
    await closing
    with pytest.raises(Conflict, match="Voting closed on"):
        await saving
    assert not await Ballot.exists(round=round_)
    assert not await mail_to(resident.email).exists()


# Ballots


async def test_each_broken_rule_on_a_ballot_gets_its_own_message(council):
    round_ = await create_round_ok(council, max_shares_per_priority="60", minimum_priorities="2")
    other = await create_round_ok(council)
    resident = await create_user_ok(council)
    p = await priorities_of(round_)
    cases = [
        ({**shares_form(p, 60, 50)}, "total", "You have given 110 shares but you hold 100. Take off 10."),
        ({**shares_form(p, -5, 50)}, f"shares-{p[0].id}", "cannot be fewer than 0"),
        ({**shares_form(p, "2.5", 50)}, f"shares-{p[0].id}", "whole number"),
        ({**shares_form(p, "ten", 50)}, f"shares-{p[0].id}", "whole number"),
        ({**shares_form(p, 70, 10)}, f"shares-{p[0].id}", "at most 60 shares"),
        ({**shares_form(p, 40)}, "priorities", "at least 2 priorities"),
        ({**shares_form(p, 40, 40), **shares_form(await priorities_of(other), 10)}, "ballot", "not in this round"),
    ]
    for form, field, message in cases:
        with pytest.raises(Invalid) as refused:
            await voting.cast_ballot(resident, council, round_.id, form)
        assert message in refused.value.errors.get(field, ""), (form, refused.value.errors)
    assert not await Ballot.filter(round=round_).exists()


async def test_a_ballot_over_the_cap_and_over_the_allowance_is_told_both_at_once(council):
    round_ = await create_round_ok(council, priorities=3, max_shares_per_priority="50")
    resident = await create_user_ok(council)
    p = await priorities_of(round_)
    with pytest.raises(Invalid) as refused:
        await voting.cast_ballot(resident, council, round_.id, shares_form(p, 60, 50, 20))
    assert refused.value.errors == {
        f"shares-{p[0].id}": "You can put at most 50 shares on Priority 1",
        "total": "You have given 130 shares but you hold 100. Take off 30.",
    }


async def test_one_ballot_per_resident_per_round_is_a_database_rule(council):
    round_ = await create_round_ok(council)
    resident = await create_user_ok(council)
    await Ballot.create(council=council, round=round_, voter=resident)
    with pytest.raises(IntegrityError):
        await Ballot.create(council=council, round=round_, voter=resident)


async def _send_due_receipts(resident) -> None:
    await mail.deliver(list(await mail_to(resident.email, status="pending")))  # as the worker does


async def test_a_changed_ballot_replaces_the_first_and_gets_a_new_receipt(council, mailbox):
    round_ = await create_round_ok(council)
    resident = await create_user_ok(council)
    first = await vote_ok(council, round_, resident, 70, 30)
    await _send_due_receipts(resident)
    second = await vote_ok(council, round_, resident, 0, 10, 90)
    assert second.changed and second.receipt != first.receipt
    ballot = await Ballot.get(round=round_, voter=resident)
    assert ballot.receipt_hash == voting.receipt_hash(round_.id, second.receipt)
    p = await priorities_of(round_)
    assert {a.priority_id: a.shares for a in await Allocation.filter(ballot=ballot)} == {p[1].id: 10, p[2].id: 90}
    await _send_due_receipts(resident)
    messages = await mailbox.wait_for(resident.email, count=2)
    assert voting.show_code(first.receipt) in mailbox.body(messages[0])
    assert voting.show_code(second.receipt) in mailbox.body(messages[-1])
    assert "changed ballot" in mailbox.body(messages[-1])


async def test_changes_made_before_the_receipt_goes_send_one_receipt_with_the_code_that_counts(council, mailbox):
    round_ = await create_round_ok(council)
    resident = await create_user_ok(council)
    saves = [await vote_ok(council, round_, resident, *split) for split in ((70, 30), (50, 50), (0, 10, 90))]
    await _send_due_receipts(resident)
    rows = await mail_to(resident.email).order_by("id")
    assert [row.status for row in rows] == ["superseded", "superseded", "sent"]
    assert [row.body for row in rows[:2]] == ["", ""]  # a code that no longer counts is not kept
    await asyncio.sleep(0.3)  # anything wrongly sent has time to arrive
    [message] = mailbox.to(resident.email)
    assert voting.show_code(saves[-1].receipt) in mailbox.body(message)
    assert "90 shares" in mailbox.body(message)
    assert not any(voting.show_code(s.receipt) in mailbox.body(message) for s in saves[:2])


async def test_a_copy_of_the_database_shows_no_receipt_code_or_shares(council, mailbox):
    round_ = await create_round_ok(council)
    resident = await create_user_ok(council)
    first = await vote_ok(council, round_, resident, 70, 30)
    second = await vote_ok(council, round_, resident, 10, 90)  # before the first receipt went: it is emptied
    superseded, waiting = await mail_to(resident.email).order_by("id")
    for row in (superseded, waiting):
        stored = await stored_row("outgoing_email", row.id)
        assert stored["body"].startswith("gAAAAA") and stored["attachments"].startswith("gAAAAA")
        everything = " ".join(stored.values())
        for secret in (voting.show_code(first.receipt), voting.show_code(second.receipt), "70 shares", "90 shares", "receipt code"):
            assert secret not in everything, secret
    assert (superseded.status, superseded.body, superseded.attachments) == ("superseded", "", [])
    assert voting.show_code(second.receipt) in waiting.body
    await _send_due_receipts(resident)
    [message] = await mailbox.wait_for(resident.email)
    assert voting.show_code(second.receipt) in mailbox.body(message) and "90 shares" in mailbox.body(message)


async def test_a_receipt_already_being_sent_still_goes_when_the_ballot_changes(council, mailbox):
    round_ = await create_round_ok(council)
    resident, neighbour = await create_user_ok(council), await create_user_ok(council)
    first = await vote_ok(council, round_, resident, 70, 30)
    await vote_ok(council, round_, neighbour, 70, 30)
    # The worker has claimed the first receipt (it is on its way to the relay) when the ballot changes.
    await mail_to(resident.email).update(status="sending")
    second = await vote_ok(council, round_, resident, 40, 60)
    assert await mail_to(resident.email, status="sending").count() == 1
    await _send_due_receipts(resident)
    [message] = await mailbox.wait_for(resident.email)
    assert voting.show_code(second.receipt) in mailbox.body(message)
    # Another voter's receipt is a topic of its own: untouched.
    assert await mail_to(neighbour.email, status="pending").count() == 1
    assert first.receipt != second.receipt


async def test_200_concurrent_submissions_by_one_resident_leave_exactly_one_ballot_within_the_allowance(council, mailbox):
    need(is_postgres(), "PostgreSQL")
    round_ = await create_round_ok(council, priorities=8)
    resident = await create_user_ok(council)
    p = await priorities_of(round_)
    # Every submission is valid alone; any two mixed together would be far over the allowance.
    forms = [{f"shares-{p[i % 8].id}": "100"} for i in range(200)]
    saved = await asyncio.gather(*(voting.cast_ballot(resident, council, round_.id, form) for form in forms))
    ballots = await Ballot.filter(round=round_, voter=resident)
    assert len(ballots) == 1
    lines = await Allocation.filter(ballot=ballots[0])
    assert sum(a.shares for a in lines) == 100 and len(lines) == 1
    winner = next(s for s in saved if voting.receipt_hash(round_.id, s.receipt) == ballots[0].receipt_hash)
    assert {f"shares-{a.priority_id}": str(a.shares) for a in lines} == forms[saved.index(winner)]
    assert sum(not s.changed for s in saved) == 1  # exactly one submission created the ballot


async def test_a_resident_outside_the_participating_wards_cannot_vote(council):
    abbey = await create_user_ok(council)
    harbour = await create_user_ok(council, display_name="Hari", postcode=postcode_in(council, "Harbourside"))
    from civic import accounts

    await accounts.complete_profile(harbour, "Hari", postcode_in(council, "Harbourside"))
    from tests.factories import ward

    officer = await create_user_ok(council, role="officer")
    round_ = await voting.create_round(officer, council, {**_rules(), "title": "Abbey only"}, [str((await ward(council, "Abbey")).id)])
    for n in (1, 2):
        await voting.add_priority(officer, council, round_.id, {"title": f"P{n}"})
    round_ = await voting.open_round(officer, council, round_.id)
    assert (await voting.eligibility(abbey, round_)).can_vote
    refused = await voting.eligibility(harbour, round_)
    assert not refused.can_vote and "Abbey" in refused.reason
    with pytest.raises(Forbidden):
        await vote_ok(council, round_, harbour, 50, 50)


def _rules(**overrides: str) -> dict[str, str]:
    return {"title": "T", "method": "split", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1", **overrides}


async def test_a_round_needing_checked_identity_lets_a_resident_vote_once_an_officer_has_checked_it(council):
    officer = await create_user_ok(council, role="officer")
    resident = await create_user_ok(council)
    round_ = await create_round_ok(council, officer=officer, eligibility="verified")
    with pytest.raises(Forbidden, match="identity"):
        await vote_ok(council, round_, resident, 50, 50)
    with pytest.raises(Invalid) as refused:
        await voting.verify_identity(officer, council, resident.email, "")
    assert "evidence" in refused.value.errors
    await voting.verify_identity(officer, council, resident.email.upper(), "Passport seen at the hub")
    assert (await AuditLog.get(action="user.identity_verified", target_id=str(resident.id))).reason == "Passport seen at the hub"
    await resident.refresh_from_db()
    await vote_ok(council, round_, resident, 50, 50)


async def test_an_officer_checks_the_identity_of_the_one_account_an_address_has_in_any_capitals(council):
    officer = await create_user_ok(council, role="officer")
    resident = await create_user_ok(council)
    # The resident also signs in with a service that sends their address in capitals.
    claims = {"sub": uuid.uuid4().hex, "email": resident.email.upper(), "email_verified": True}
    assert (await accounts.signin_with_oidc("residents", claims)).id == resident.id
    checked = await voting.verify_identity(officer, council, f" {resident.email.upper()} ", "Passport seen at the hub")
    assert checked.id == resident.id
    assert (await User.get(id=resident.id)).identity_verified
    with pytest.raises(Invalid) as refused:
        await voting.verify_identity(officer, council, "not an address", "Passport seen at the hub")
    assert refused.value.errors == {"email": "Enter their email address in the correct format, like name@example.com"}


async def test_an_officer_cannot_check_their_own_identity(council):
    officer = await create_user_ok(council, role="officer")
    with pytest.raises(Invalid) as refused:
        await voting.verify_identity(officer, council, officer.email, "I know who I am")
    assert refused.value.errors == {"email": "You cannot check your own identity. Ask another officer to check it."}
    assert not (await User.get(id=officer.id)).identity_verified
    assert not await AuditLog.exists(action="user.identity_verified", target_id=str(officer.id))
    # Another officer can.
    colleague = await create_user_ok(council, role="officer")
    await voting.verify_identity(colleague, council, officer.email, "Staff pass seen")
    assert (await User.get(id=officer.id)).identity_verified


async def test_an_officer_cannot_check_the_identity_of_another_councils_resident(council):
    officer = await create_user_ok(council, role="officer")
    other = await create_council_ok()
    stranger = await create_user_ok(other)
    with pytest.raises(Invalid):
        await voting.verify_identity(officer, council, stranger.email, "Passport")


# Voting codes and paper ballots


async def test_a_voting_code_works_once(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "3", "label": "Street A"})
    codes = await VotingCode.filter(batch=batch)
    assert len(codes) == 3 and len({c.code for c in codes}) == 3
    shown = voting.show_code(codes[0].code).lower()  # typed back from paper, in lower case with dashes
    saved = await vote_ok(council, round_, None, 60, 40, code=shown)
    assert saved.ballot.source == "code" and saved.ballot.voter_id is None
    with pytest.raises(Invalid) as again:
        await vote_ok(council, round_, None, 10, 90, code=shown)
    assert "already been used" in again.value.errors["code"]
    with pytest.raises(Invalid) as unknown:
        await vote_ok(council, round_, None, 10, 90, code="ABCD-EFGH-JKMN")
    assert "not recognised" in unknown.value.errors["code"]
    assert await Ballot.filter(round=round_).count() == 1


async def test_a_copy_of_the_code_table_without_the_keys_neither_reads_a_code_nor_votes(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "2", "label": "Street A"})
    connection = Tortoise.get_connection("default")
    sql = "SELECT code, digest FROM voting_code WHERE batch_id = " + ("$1" if is_postgres() else "?")
    rows = [dict(row) for row in await connection.execute_query_dict(sql, [batch.id])]
    codes = [c.code for c in await VotingCode.filter(batch=batch)]  # what the officer's printout shows
    for row, code in zip(rows, codes):
        assert code not in bytes(row["code"]).decode("latin-1")
        assert row["digest"] != hashlib.sha256(code.encode()).hexdigest()  # keyed: guesses cannot be tested
    ciphertext = normalise_code(bytes(rows[0]["code"]).decode("latin-1"))
    for stolen in [ciphertext, ciphertext[:12], rows[0]["digest"], rows[0]["digest"][:12]]:
        with pytest.raises(Invalid) as refused:
            await vote_ok(council, round_, None, 60, 40, code=stolen)
        assert refused.value.errors["code"]
    assert "not recognised" in refused.value.errors["code"]  # the right length, and still no vote
    assert await Ballot.filter(round=round_).count() == 0


async def test_codes_on_letters_still_vote_after_the_keys_are_rotated_and_the_old_key_removed(council, settings):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "2"})
    first, second = [c.code for c in await VotingCode.filter(batch=batch)]
    old_key, new_key = crypto.keys_from(settings.encryption_keys)[0], crypto.new_key()
    try:
        config.use(dataclasses.replace(settings, encryption_keys=f"{new_key},{old_key}"))
        await vote_ok(council, round_, None, 60, 40, code=first)  # found under the old key mid-rotation
        assert (await crypto.rotate())["VotingCode"] >= 2
        config.use(dataclasses.replace(settings, encryption_keys=new_key))
        assert (await VotingCode.get(batch=batch, redeemed_at__isnull=True)).code == second
        saved = await vote_ok(council, round_, None, 10, 90, code=second)
        assert saved.ballot.source == "code"
    finally:
        config.use(dataclasses.replace(settings, encryption_keys=f"{old_key},{new_key}"))
        await crypto.rotate()
        config.use(settings)


async def test_a_code_from_another_round_is_not_recognised(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes")
    other = await create_round_ok(council, officer=officer, eligibility="codes")
    batch = await voting.generate_codes(officer, council, other.id, {"size": "1"})
    code = (await VotingCode.get(batch=batch)).code
    with pytest.raises(Invalid) as refused:
        await vote_ok(council, round_, None, 50, 50, code=code)
    assert "not recognised" in refused.value.errors["code"]


async def test_an_officer_entered_paper_ballot_uses_the_code_and_is_audited(council):
    officer = await create_user_ok(council, role="officer", display_name="Olu Officer")
    round_ = await create_round_ok(council, officer=officer, eligibility="codes")
    batch = await voting.generate_codes(officer, council, round_.id, {"size": "2"})
    code = (await VotingCode.filter(batch=batch).first()).code
    saved = await voting.enter_paper_ballot(officer, council, round_.id, code, shares_form(await priorities_of(round_), 25, 75))
    assert saved.ballot.source == "paper" and saved.ballot.entered_by_id == officer.id
    entry = await AuditLog.get(action="ballot.paper_entered", target_id=str(saved.ballot.id))
    assert entry.actor_id == officer.id and code[-4:] in entry.reason
    with pytest.raises(Invalid):
        await vote_ok(council, round_, None, 50, 50, code=code)  # the resident cannot use it again online
    resident = await create_user_ok(council)
    with pytest.raises(Forbidden):
        await voting.enter_paper_ballot(resident, council, round_.id, code, {})


# Results


async def test_results_are_hidden_until_the_round_closes_and_an_officer_publishes_them(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    await vote_ok(council, round_, await create_user_ok(council), 70, 30)
    for reveal in (voting.published_results, voting.export_pabulib, voting.ballot_list):
        with pytest.raises(Conflict, match="hidden while voting is open"):
            await reveal(officer, council, round_.id)
    with pytest.raises(Conflict, match="only after voting closes"):
        await voting.publish_results(officer, council, round_.id)
    await voting.close_round(officer, council, round_.id)
    with pytest.raises(Conflict, match="will publish"):
        await voting.published_results(officer, council, round_.id)
    await voting.publish_results(officer, council, round_.id)
    assert (await voting.published_results(None, council, round_.id)).results["ballots"] == 1


async def test_split_results_share_out_the_budget_by_ward_with_turnout(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, budget="1000", priorities=3)
    from civic import accounts

    abbey = [await create_user_ok(council) for _ in range(2)]
    castle = await create_user_ok(council)
    await accounts.complete_profile(castle, "Cas", postcode_in(council, "Castlefields"))
    await vote_ok(council, round_, abbey[0], 100)
    await vote_ok(council, round_, abbey[1], 50, 50)
    await vote_ok(council, round_, castle, 0, 0, 100)
    await voting.close_round(officer, council, round_.id)
    results = (await voting.publish_results(officer, council, round_.id)).results
    by_title = {p["title"]: p for p in results["priorities"]}
    assert [p["title"] for p in results["priorities"]] == ["Priority 1", "Priority 3", "Priority 2"]
    assert (by_title["Priority 1"]["shares"], by_title["Priority 1"]["backers"], by_title["Priority 1"]["money"]) == (150, 2, "500")
    assert by_title["Priority 2"]["money"] == "167" and by_title["Priority 3"]["money"] == "333"
    assert results["ballots"] == 3
    residents = await voting.Round.get(id=round_.id)
    assert results["electorate"] >= 4 and residents.results == results
    wards = {w["name"]: w for w in results["wards"]}
    assert wards["Abbey"]["ballots"] == 2 and wards["Castlefields"]["ballots"] == 1 and wards["Harbourside"]["ballots"] == 0
    p = await priorities_of(round_)
    assert wards["Castlefields"]["priorities"] == {p[2].key: {"shares": 100, "backers": 1}}


async def test_equal_shares_results_say_in_plain_words_why_a_priority_was_not_funded(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer, method="equal_shares", budget="100", priorities=3, costs=[60, 60, 90])
    # A round can no longer open with a priority dearer than its budget, but one opened before that
    # rule may hold one, and its results must still say why it was not funded.
    await Priority.filter(round=round_, title="Priority 3").update(cost=150)
    for _ in range(3):
        await vote_ok(council, round_, await create_user_ok(council), 50, 30, 20)
    await voting.close_round(officer, council, round_.id)
    results = (await voting.publish_results(officer, council, round_.id)).results
    outcome = {p["title"]: p for p in results["priorities"]}
    assert outcome["Priority 1"]["selected"] and not outcome["Priority 1"]["reason"]
    assert outcome["Priority 3"]["reason"] == "it costs more than the whole budget"
    assert not outcome["Priority 2"]["selected"] and outcome["Priority 2"]["reason"]


async def test_the_ballot_list_finds_a_voters_ballot_by_receipt_and_shows_no_names(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    resident = await create_user_ok(council, display_name="Nia Name")
    mine = await vote_ok(council, round_, resident, 20, 80)
    await vote_ok(council, round_, await create_user_ok(council), 100)
    await voting.close_round(officer, council, round_.id)
    await voting.publish_results(officer, council, round_.id)
    listing = await voting.ballot_list(None, council, round_.id, receipt=voting.show_code(mine.receipt))
    assert listing.total == 2 and listing.found is not None
    assert listing.found[0] == voting.receipt_hash(round_.id, mine.receipt)
    assert listing.found[1] == [("Priority 1", 20), ("Priority 2", 80)]
    assert listing.found[0] in [digest for digest, _ in listing.rows]
    assert (await voting.ballot_list(None, council, round_.id, receipt="WRONG-CODE-1234")).found is None


# The shareholder report


async def test_progress_is_e_mailed_to_backers_who_have_not_opted_out(council, mailbox):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    keen, quiet, elsewhere = [await create_user_ok(council) for _ in range(3)]
    await vote_ok(council, round_, keen, 60, 40)
    await voting.cast_ballot(quiet, council, round_.id, shares_form(await priorities_of(round_), 100), report_emails=False)
    await vote_ok(council, round_, elsewhere, 0, 100)
    first = (await priorities_of(round_))[0]
    with pytest.raises(Conflict):
        await voting.post_progress(officer, council, round_.id, first.id, {"status": "planned", "note": "Soon"})
    await voting.close_round(officer, council, round_.id)
    await voting.publish_results(officer, council, round_.id)
    with pytest.raises(Invalid) as refused:
        await voting.post_progress(officer, council, round_.id, first.id, {"status": "finished", "note": ""})
    assert set(refused.value.errors) == {"status", "note"}

    update = await voting.post_progress(officer, council, round_.id, first.id, {"status": "in_progress", "note": "Work starts in June."})
    assert update.emailed == 1
    message = (await mailbox.wait_for(keen.email))[-1]
    body = mailbox.body(message)
    assert message["Subject"] == "In progress: Priority 1" and "Work starts in June." in body
    assert not [m for m in mailbox.to(quiet.email) if "Priority 1" in str(m["Subject"])]
    assert not [m for m in mailbox.to(elsewhere.email) if "Priority 1" in str(m["Subject"])]

    token = body.split("/rounds/report/stop/")[1].split()[0]
    await voting.stop_report_emails(token)
    again = await voting.post_progress(officer, council, round_.id, first.id, {"status": "delivered", "note": "Done."})
    assert again.emailed == 0


# Demo data


async def test_the_demo_has_an_open_round_of_8_priorities_and_published_results_and_a_second_run_changes_nothing(database):
    from civic import demo
    from civic.councils import Council
    from civic.voting.models import Priority

    async def state() -> tuple[int, int, int, int]:
        northmere = Round.filter(council__slug="northmere")
        return (await northmere.count(), await Priority.filter(round__council__slug="northmere").count(),
                await Ballot.filter(round__council__slug="northmere").count(), await VotingCode.filter(round__council__slug="northmere").count())

    try:
        await demo.seed()
        before = await state()
        again = await demo.seed()
    finally:
        # The demo council answers to 127.0.0.1, which is where the browser journeys find their own council.
        await Council.filter(slug="northmere").update(hostnames="")
    assert await state() == before
    assert "Our priorities for 2026 to 2027 (already there)" in again
    rounds = {r.title: r for r in await Round.filter(council__slug="northmere")}
    open_round = rounds["Our priorities for 2026 to 2027"]
    assert open_round.status == "open" and await Priority.filter(round=open_round).count() == 8
    published = rounds["Neighbourhood improvements 2025"]
    assert published.status == "published" and published.results["ballots"] > 100 and published.results["selected"]


@pytest.mark.parametrize("name", ["Poland_Czestochowa_2020_Polnoc.pb", "synthetic_cumulative.pb"])
async def test_split_summed_by_the_database_equals_split_over_every_ballot(council, name):
    from civic.counting import count
    from civic.voting.results import count_round, profile_of

    officer = await create_user_ok(council, role="officer")
    round_ = await voting.import_pabulib(officer, council, name, (PABULIB / name).read_text("utf-8"))
    from_totals = await count_round(round_, "split")
    from_ballots = count((await profile_of(round_)).election(round_), "split")
    assert from_totals == from_ballots
    assert from_totals.voters > 0 and sum(p.money or 0 for p in from_totals.projects) == from_totals.budget


async def test_an_open_round_is_kept_briefly_and_a_ballot_saved_after_an_early_close_is_still_refused(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    voter = await create_user_ok(council)
    with use_settings(public_cache_seconds=30):
        assert (await voting.ballot_page(voter, council, round_.id)).eligibility.can_vote  # the open round is kept now
        await voting.close_round(officer, council, round_.id)
        # This process may still show the round open for the lifetime, but the database refuses the ballot.
        with pytest.raises(Conflict) as refused:
            await vote_ok(council, round_, voter, 50, 50)
        assert "closed" in str(refused.value)
        assert not await Ballot.filter(round=round_, voter=voter).exists()
        # Officers' pages always read the round afresh.
        assert (await voting.staff_round(officer, council, round_.id)).status == "closed"
    with use_settings(public_cache_seconds=0):
        page = await voting.ballot_page(voter, council, round_.id)
        assert not page.eligibility.can_vote and "closed" in page.eligibility.reason


async def test_a_kept_open_round_whose_closing_time_passes_is_closed_and_read_afresh(council):
    round_ = await create_round_ok(council)
    voter = await create_user_ok(council)
    await Round.filter(id=round_.id).update(closes_at=timezone.now() + timedelta(seconds=0.5))
    with use_settings(public_cache_seconds=30):
        assert (await voting.ballot_page(voter, council, round_.id)).eligibility.can_vote
        await asyncio.sleep(0.6)
        page = await voting.ballot_page(voter, council, round_.id)
        assert not page.eligibility.can_vote and "closed" in page.eligibility.reason
        assert (await Round.get(id=round_.id)).status == "closed"  # moved on when its time came, as before
