"""Moderating people: who a council has stopped posting, and letting them post again."""

from __future__ import annotations

import asyncio
import re

import pytest

from civic import accounts
from civic.accounts import User
from civic.audit import AuditLog
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import moderation
from tests.factories import create_council_ok, create_post_ok, create_report_ok, create_scheme_ok, create_user_ok


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
