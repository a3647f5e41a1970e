"""Domain rules of accounts that no page shows directly."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from tortoise import timezone

from civic import accounts
from civic.accounts import EmailChange, RoleGrant
from civic.errors import Forbidden, Invalid
from tests.factories import create_council_ok, create_user_ok


async def test_an_unverified_email_from_a_provider_is_refused_unless_the_provider_is_trusted(council):
    claims = {"sub": uuid.uuid4().hex, "email": f"staff-{uuid.uuid4().hex[:6]}@council.test"}
    with pytest.raises(Invalid):
        await accounts.signin_with_oidc("staff", claims)
    user = await accounts.signin_with_oidc("staff", claims, trusts_email=True)
    assert user.email == claims["email"] and user.email_verified


async def test_an_address_from_a_sign_in_service_finds_the_account_whatever_its_capitals(council):
    await accounts.assign_role(council, "Sam.Lee@Example.test", "key-worker")
    claims = {"sub": uuid.uuid4().hex, "email": "SAM.LEE@example.test", "email_verified": True}
    user = await accounts.signin_with_oidc("residents", claims)
    assert user.email == "sam.lee@example.test"
    assert await accounts.has_role(user, council, "key-worker")


async def test_granting_a_role_needs_an_admin_of_that_council(council):
    other = await create_council_ok()
    officer = await create_user_ok(council, role="officer")
    outsider_admin = await create_user_ok(other, role="admin")
    for actor in (None, officer, outsider_admin):
        with pytest.raises(Forbidden):
            await accounts.grant_role(actor, council, "someone@example.test", "admin")
    assert not await accounts.RoleGrant.filter(council=council, user__email="someone@example.test").exists()


async def test_an_admin_cannot_give_themselves_a_role_but_another_admin_can(council):
    admin = await create_user_ok(council, role="admin")
    for role in ("officer", "key-worker", "admin"):
        for spelling in (admin.email, f"  {admin.email.upper()} "):
            with pytest.raises(Invalid) as refused:
                await accounts.grant_role(admin, council, spelling, role)
            assert refused.value.errors == {"email": "You cannot give yourself a role. Ask another administrator."}
    assert await accounts.roles_of(admin) == {council.id: {"admin"}}
    colleague = await create_user_ok(council, role="admin")
    await accounts.grant_role(colleague, council, admin.email, "officer")
    assert await accounts.has_role(admin, council, "officer")


async def test_suspending_someone_ends_their_sessions_and_is_audited(council):
    from civic.audit import AuditLog

    officer = await create_user_ok(council, role="officer")
    spammer = await create_user_ok(council)
    await accounts.open_session(user=spammer)
    with pytest.raises(Invalid):
        await accounts.suspend(officer, council, spammer, "  ")
    await accounts.suspend(officer, council, spammer, "posting adverts")
    assert (await accounts.User.get(id=spammer.id)).suspended
    assert not await accounts.Session.filter(user=spammer).exists()
    assert await AuditLog.filter(action="user.suspended", target_id=str(spammer.id), reason="posting adverts").exists()
    with pytest.raises(Forbidden):
        await accounts.suspend(spammer, council, officer, "revenge")


def test_safe_next_keeps_only_local_paths():
    assert accounts.safe_next("/rounds/3?x=1") == "/rounds/3?x=1"
    for hostile in ("//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "", None):
        assert accounts.safe_next(hostile) == "/"


async def test_a_session_comes_with_its_users_roles_in_every_council_and_none_revoked(council):
    other = await create_council_ok()
    admin = await create_user_ok(council, role="admin")
    person = await create_user_ok(council)
    await accounts.assign_role(council, person.email, "officer")
    await accounts.assign_role(council, person.email, "key-worker")
    await accounts.assign_role(other, person.email, "admin")
    token, _ = await accounts.open_session(user=person)
    assert (await accounts.load_session(token)).roles == {council.id: {"officer", "key-worker"}, other.id: {"admin"}}  # type: ignore[union-attr]
    grant = await RoleGrant.get(user=person, council=council, role="officer")
    await accounts.revoke_role(admin, council, grant.id)
    assert (await accounts.load_session(token)).roles == {council.id: {"key-worker"}, other.id: {"admin"}}  # type: ignore[union-attr]
    nobody, _ = await accounts.open_session()
    assert (await accounts.load_session(nobody)).roles == {}  # type: ignore[union-attr]


async def _email_change(user, expires_in: timedelta, used: bool = False) -> tuple[str, EmailChange]:
    token = uuid.uuid4().hex
    row = await EmailChange.create(
        user=user, new_email=f"new-{token[:8]}@example.test", token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=timezone.now() + expires_in, used_at=timezone.now() if used else None,
    )
    return token, row


async def test_an_address_change_link_stops_working_after_its_hour_and_checking_it_changes_nothing(council):
    user = await create_user_ok(council)
    live, _ = await _email_change(user, accounts.EMAIL_CHANGE_LIFETIME - timedelta(minutes=1))
    late, _ = await _email_change(user, timedelta(seconds=-1))
    assert accounts.EMAIL_CHANGE_LIFETIME == timedelta(hours=1)
    assert (await accounts.email_change_link(live)).used_at is None
    with pytest.raises(Invalid, match="expired: links last an hour"):
        await accounts.email_change_link(late)
    with pytest.raises(Invalid, match="expired"):
        await accounts.confirm_email_change(late)
    assert (await accounts.User.get(id=user.id)).email == user.email


def test_a_links_lifetime_is_said_as_a_person_would_say_it():
    said = {minutes: accounts.lifetime_words(timedelta(minutes=minutes)) for minutes in (1, 15, 60, 90, 120, 24 * 60, 3 * 24 * 60)}
    assert said == {1: "a minute", 15: "15 minutes", 60: "an hour", 90: "90 minutes", 120: "2 hours", 1440: "a day", 4320: "3 days"}
    assert accounts.email_change_lifetime_words() == "an hour"


async def test_address_change_links_are_forgotten_a_day_after_they_stop_working(council):
    user = await create_user_ok(council)
    _, waiting = await _email_change(user, timedelta(hours=1))
    _, lately = await _email_change(user, timedelta(hours=-23))
    await _email_change(user, timedelta(days=-1, minutes=-1))
    await _email_change(user, timedelta(days=-2), used=True)
    await accounts.purge_expired_sessions()
    await accounts.purge_expired_sessions()  # twice changes nothing more
    assert {row.id for row in await EmailChange.filter(user=user)} == {waiting.id, lately.id}
