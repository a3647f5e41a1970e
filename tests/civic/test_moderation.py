"""Moderating: who a council has stopped posting and letting them post again; reports, deletions and decisions that meet."""

from __future__ import annotations

import asyncio
import re

import pytest
from tortoise import timezone

from civic import accounts
from civic.accounts import User
from civic.audit import AuditLog
from civic.db import in_transaction, is_postgres, rows
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import board, moderation, organising
from civic.schemes.models import NewsPost, Report
from civic.schemes.running import HelpOffer
from tests.factories import create_council_ok, create_post_ok, create_report_ok, create_scheme_ok, create_user_ok, emails
from tests.peers import need


async def _stopped(council, reason: str = "Posting adverts") -> tuple[User, User]:
    """Someone this council's officer has stopped posting: returns (the person, the officer)."""
    officer = await create_user_ok(council, role="officer")
    person = await create_user_ok(council)
    await accounts.suspend(officer, council, person, reason)
    return await User.get(id=person.id), officer


async def test_an_officer_lets_someone_their_council_stopped_post_again_and_they_are_told_by_email(council, mailbox):
    person, officer = await _stopped(council)
    with pytest.raises(Invalid) as missing:
        await moderation.lift_suspension(officer, council, person.id, "  \n ")
    assert missing.value.errors == {"reason": "Say why they can post again, for the audit log"}
    assert (await User.get(id=person.id)).suspended

    lifted = await moderation.lift_suspension(officer, council, person.id, "Stopped by mistake: the adverts were someone else's")
    assert lifted.id == person.id and not (await User.get(id=person.id)).suspended
    entry = await AuditLog.get(action="user.unsuspended", target_type="User", target_id=str(person.id))
    assert (entry.council_id, entry.actor_id, entry.reason) == (council.id, officer.id, "Stopped by mistake: the adverts were someone else's")  # type: ignore[attr-defined]
    stopped, told = await mailbox.wait_for(person.email, count=2)
    assert (stopped["Subject"], told["Subject"]) == ("You can no longer post", "You can post again")
    body = mailbox.body(told)
    assert f"{council.name} has lifted the stop on your account" in body
    assert re.search(rf"^http://{re.escape(council.hostnames)}/signin\s*$", body, re.MULTILINE)  # where to sign in again: its own site
    assert str(officer) not in body and officer.email not in body
    assert "someone else's" not in body  # the reason is for the audit log

    with pytest.raises(Conflict):
        await moderation.lift_suspension(officer, council, person.id, "Again")
    assert await AuditLog.filter(action="user.unsuspended", target_id=str(person.id)).count() == 1


async def test_only_that_councils_officers_may_lift_a_suspension(council):
    person, _ = await _stopped(council)
    other = await create_council_ok()
    other_officer = await create_user_ok(other, role="officer")
    for actor in (None, await create_user_ok(council), await create_user_ok(council, role="key-worker"), other_officer):
        with pytest.raises(Forbidden):
            await moderation.lift_suspension(actor, council, person.id, "Let them back")
        with pytest.raises(Forbidden):
            await moderation.suspended_people(actor, council)
    with pytest.raises(NotFound):  # the other council did not stop them, so may not know they were stopped
        await moderation.lift_suspension(other_officer, other, person.id, "Let them back")
    assert await moderation.suspended_people(other_officer, other) == []
    admin = await create_user_ok(council, role="admin")
    await moderation.lift_suspension(admin, council, person.id, "Served their time")
    assert not (await User.get(id=person.id)).suspended


async def test_only_the_council_that_stopped_someone_last_may_let_them_post_again(council):
    person, officer = await _stopped(council)
    await moderation.lift_suspension(officer, council, person.id, "Stopped by mistake")
    other = await create_council_ok()
    other_officer = await create_user_ok(other, role="officer")
    await accounts.suspend(other_officer, other, await User.get(id=person.id), "Abuse on our site")
    with pytest.raises(NotFound):
        await moderation.lift_suspension(officer, council, person.id, "Not ours to keep")
    assert await moderation.suspended_people(officer, council) == []
    [theirs] = await moderation.suspended_people(other_officer, other)
    assert (theirs.user.id, theirs.reason, theirs.by.id) == (person.id, "Abuse on our site", other_officer.id)  # type: ignore[union-attr]


async def test_someone_never_stopped_is_not_found_and_the_list_shows_only_people_still_stopped(council):
    first, officer = await _stopped(council, "Spam")
    then, _ = await _stopped(council, "Threats")
    lifted, _ = await _stopped(council, "Adverts")
    await moderation.lift_suspension(officer, council, lifted.id, "Mistake")
    never = await create_user_ok(council)
    with pytest.raises(NotFound):
        await moderation.lift_suspension(officer, council, never.id, "Let them back")
    with pytest.raises(NotFound):
        await moderation.lift_suspension(officer, council, 0, "Let them back")
    listed = await moderation.suspended_people(officer, council)
    assert [(s.user.id, s.reason) for s in listed] == [(then.id, "Threats"), (first.id, "Spam")]  # most recently stopped first
    assert all(s.by is not None and s.since is not None for s in listed)


async def test_two_officers_lifting_at_once_let_them_back_once(council):
    person, officer = await _stopped(council)
    second = await create_user_ok(council, role="officer")

    async def attempt(actor):
        try:
            await moderation.lift_suspension(actor, council, person.id, f"Lifted by {actor.id}")
            return "lifted"
        except Conflict:
            return "already"

    outcomes = await asyncio.gather(attempt(officer), attempt(second))
    assert sorted(outcomes) == ["already", "lifted"]
    assert await AuditLog.filter(action="user.unsuspended", target_id=str(person.id)).count() == 1


async def test_an_officer_cannot_suspend_another_councils_staff_who_posted_here(council):
    # A suspension signs someone out of every council: one council must not lock out another's admin.
    other = await create_council_ok()
    other_admin = await create_user_ok(other, role="admin")
    key_worker = await create_user_ok(other, role="key-worker")
    officer = await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser=other_admin)
    report = await create_report_ok(scheme, post=await create_post_ok(scheme, author=other_admin))
    with pytest.raises(Conflict) as refused:
        await moderation.suspend_author(officer, council, report.id, "Rude to residents")
    assert "remove their role first" in str(refused.value)
    with pytest.raises(Conflict):
        await accounts.suspend(officer, council, key_worker, "Rude to residents")
    assert not (await User.get(id=other_admin.id)).suspended and not (await User.get(id=key_worker.id)).suspended
    assert not await AuditLog.filter(action="user.suspended", target_id__in=[str(other_admin.id), str(key_worker.id)]).exists()


# Reports, deletions and decisions at the same moment


async def _others_wait_for_a_lock() -> bool:
    waiting = await rows("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    return waiting[0]["n"] > 0


async def _while_locked(model, row_id: int, change, attempt) -> asyncio.Task:
    """Start `attempt()` while another transaction holds `model`'s row `row_id` FOR UPDATE, as the domain does;
    once the attempt waits on that lock (or has finished), make `change()` in the holding transaction and commit.
    Returns the attempt's task, done."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with in_transaction():
            await model.select_for_update().get(id=row_id)
            holding.set()
            await release.wait()
            await change()

    holder = asyncio.create_task(hold())
    await holding.wait()
    trying = asyncio.create_task(attempt())
    for _ in range(600):
        if trying.done() or await _others_wait_for_a_lock():
            break
        await asyncio.sleep(0.05)
    release.set()
    await holder
    await asyncio.wait([trying])
    return trying


async def test_a_report_sent_while_the_news_is_being_deleted_is_refused_rather_than_said_to_be_sent(council):
    need(is_postgres(), "PostgreSQL")
    scheme = await create_scheme_ok(council)
    post = await create_post_ok(scheme, title="Jumble sale")
    reporter = await create_user_ok(council)

    sending = await _while_locked(
        NewsPost, post.id, lambda: NewsPost.filter(id=post.id).delete(),
        lambda: moderation.report(reporter, council, scheme.slug, post.id, "wrong", "The sale is on Sunday"),
    )

    with pytest.raises(Conflict, match="This news has just been deleted, so there is nothing to report."):
        sending.result()
    assert not await Report.filter(reporter=reporter).exists()
    assert not await AuditLog.filter(action="report.made", actor_id=reporter.id).exists()


async def test_news_being_reported_is_not_deleted_from_under_the_report(council):
    need(is_postgres(), "PostgreSQL")
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser, title="Jumble sale")

    deleting = await _while_locked(
        NewsPost, post.id, lambda: create_report_ok(scheme, post=post),  # as moderation.report does, holding the post
        lambda: organising.delete_news(organiser, council, scheme.slug, post.id),
    )

    with pytest.raises(Conflict, match=f"Someone has reported this news to {council.name}, so it cannot be deleted."):
        deleting.result()
    assert await NewsPost.filter(id=post.id).exists() and await Report.filter(post_id=post.id).exists()


async def test_news_an_officer_is_hiding_is_not_changed_from_under_them(council):
    need(is_postgres(), "PostgreSQL")
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser, title="Names a child", body="As it was")

    changing = await _while_locked(
        NewsPost, post.id, lambda: NewsPost.filter(id=post.id).update(hidden=True, hidden_reason="Names a child"),
        lambda: organising.update_news(organiser, council, scheme.slug, post.id, "Nothing to see", "Other words"),
    )

    with pytest.raises(Conflict, match=f"{council.name} has hidden this news, so it cannot be changed."):
        changing.result()
    saved = await NewsPost.get(id=post.id)
    assert (saved.title, saved.body) == ("Names a child", "As it was")  # the words the officer hid


async def test_a_report_sent_while_the_offer_is_being_taken_down_is_refused(council):
    need(is_postgres(), "PostgreSQL")
    scheme = await create_scheme_ok(council)
    author, reporter = await create_user_ok(council), await create_user_ok(council)
    offer = await board.post_offer(author, council, scheme.slug, "Lifts to the surgery")

    sending = await _while_locked(
        HelpOffer, offer.id, lambda: HelpOffer.filter(id=offer.id).update(removed_at=timezone.now(), removed_by=author),
        lambda: moderation.report(reporter, council, scheme.slug, None, "spam", "Charging for lifts", offer_id=offer.id),
    )

    with pytest.raises(Conflict, match="This offer has just been taken down, so there is nothing to report."):
        sending.result()
    assert not await Report.filter(reporter=reporter).exists()


@pytest.mark.parametrize("report_first", [True, False])
async def test_reporting_and_deleting_news_at_once_never_loses_the_report(council, report_first):
    # On SQLite as on PostgreSQL: whichever comes first, a report said to be sent is kept, with its post.
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser)
    reporter = await create_user_ok(council)
    sending = moderation.report(reporter, council, scheme.slug, post.id, "wrong", "The times are wrong")
    deleting = organising.delete_news(organiser, council, scheme.slug, post.id)

    sent, deleted = await asyncio.gather(*((sending, deleting) if report_first else (deleting, sending)), return_exceptions=True)
    if not report_first:
        sent, deleted = deleted, sent

    assert isinstance(sent, Report) != isinstance(deleted, NewsPost), (sent, deleted)  # one of them, never both
    if isinstance(sent, Report):
        assert isinstance(deleted, Conflict) and await Report.filter(id=sent.id, post_id=post.id).exists()
    else:
        assert isinstance(sent, Conflict) and not await NewsPost.filter(id=post.id).exists()


async def test_two_officers_hiding_the_same_news_at_once_hide_it_once(council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser)
    report = await create_report_ok(scheme, post=post)
    first, second = await create_user_ok(council, role="officer"), await create_user_ok(council, role="officer")

    outcomes = await asyncio.gather(*(moderation.hide_post(o, council, post.id, f"Hidden by {o.id}") for o in (first, second)), return_exceptions=True)

    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "NewsPost"]
    [entry] = await AuditLog.filter(action="news.hidden", target_id=str(post.id))
    assert (await NewsPost.get(id=post.id)).hidden_reason == entry.reason
    assert await AuditLog.filter(action="report.hidden", target_id=str(report.id)).count() == 1
    assert len(await emails(organiser.email, subject=f"Your news post on {scheme.name} has been hidden")) == 1


async def test_an_officer_hiding_and_another_dismissing_at_once_decide_the_report_once(council):
    scheme = await create_scheme_ok(council)
    post = await create_post_ok(scheme)
    report = await create_report_ok(scheme, post=post)
    hider, dismisser = await create_user_ok(council, role="officer"), await create_user_ok(council, role="officer")

    outcomes = await asyncio.gather(
        moderation.hide_post(hider, council, post.id, "Names a child"), moderation.dismiss(dismisser, council, report.id, "Nothing wrong"), return_exceptions=True,
    )

    decided = await Report.get(id=report.id)
    entries = await AuditLog.filter(action__in=["report.hidden", "report.dismissed"], target_id=str(report.id))
    assert [e.action for e in entries] == [f"report.{decided.status}"]
    assert entries[0].reason == decided.outcome
    assert len(await emails((await User.get(id=report.reporter_id)).email)) == 1  # type: ignore[attr-defined]
    if decided.status == "hidden":
        assert isinstance(outcomes[1], Conflict)
    else:
        assert not isinstance(outcomes[1], BaseException)


async def test_nobody_reports_what_the_council_has_already_hidden(council):
    organiser, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser)
    offer = await board.post_offer(await create_user_ok(council), council, scheme.slug, "Cheap tickets")
    await moderation.hide_post(officer, council, post.id, "Names a child")
    await moderation.hide_offer(officer, council, offer.id, "Touting")
    # Organisers and officers can still see them; a report would reopen what the council has decided.
    for who in (organiser, officer):
        with pytest.raises(Conflict, match=f"{council.name} has already hidden this news."):
            await moderation.report(who, council, scheme.slug, post.id, "wrong", "Still wrong")
        with pytest.raises(Conflict, match=f"{council.name} has already hidden this offer."):
            await moderation.report(who, council, scheme.slug, None, "spam", "Still touting", offer_id=offer.id)
    await moderation.hide_scheme(officer, council, scheme.slug, "Closed by the police")
    with pytest.raises(Conflict, match=f"{council.name} has already hidden this scheme."):
        await moderation.report(organiser, council, scheme.slug, None, "wrong", "It is fine")
    assert not await Report.filter(scheme=scheme).exists()
