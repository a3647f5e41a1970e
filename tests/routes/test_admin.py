"""Administrators grant and revoke roles; every change is audited."""

from __future__ import annotations

from civic.accounts import RoleGrant, User
from civic.audit import AuditLog
from tests.factories import Browser, create_user_ok, field_error, html, text_of


async def test_admin_grants_a_role_and_it_is_audited(app, council):
    admin = await create_user_ok(council, role="admin")
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        response = await browser.post("/admin/roles", {"email": "New.Officer@Example.test", "role": "officer"})
        assert response.status_code == 303
        page = await browser.follow(response)
    assert any("new.officer@example.test" in t.lower() for t in text_of(page, "td"))
    user = await User.get(email="new.officer@example.test")
    assert await RoleGrant.filter(user=user, council=council, role="officer").exists()
    entry = await AuditLog.filter(council=council, action="role.granted").first()
    assert entry is not None and entry.actor_id == admin.id and entry.reason == "officer"  # type: ignore[attr-defined]


async def test_grant_form_reports_every_mistake_at_once(app, council):
    async with Browser(app, council) as browser:
        await browser.signin_as(await create_user_ok(council, role="admin"))
        response = await browser.post("/admin/roles", {"email": "nope", "role": "king"})
    assert response.status_code == 422
    assert field_error(response, "email") and field_error(response, "role")


async def test_an_admin_asking_for_a_role_for_themselves_is_told_next_to_the_address(app, council):
    admin = await create_user_ok(council, role="admin")
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        response = await browser.post("/admin/roles", {"email": admin.email, "role": "officer"})
    assert response.status_code == 422
    assert field_error(response, "email") == "You cannot give yourself a role. Ask another administrator."
    assert html(response).css_first("#email").attributes["value"] == admin.email
    assert not await RoleGrant.filter(user=admin, council=council, role="officer").exists()


async def test_admin_revokes_a_role_with_audit(app, council):
    admin = await create_user_ok(council, role="admin")
    officer = await create_user_ok(council, role="officer")
    grant = await RoleGrant.get(user=officer, council=council)
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        assert (await browser.post(f"/admin/roles/{grant.id}/revoke", {"reason": "left the council"})).status_code == 303
    assert not await RoleGrant.filter(id=grant.id).exists()
    assert await AuditLog.filter(council=council, action="role.revoked", reason="officer: left the council").exists()


async def test_removing_a_role_asks_first_on_a_page_of_its_own(app, council):
    admin = await create_user_ok(council, role="admin")
    officer = await create_user_ok(council, role="officer", display_name="Olu Officer")
    grant = await RoleGrant.get(user=officer, council=council)
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        roles = await browser.get("/admin/roles")
        assert html(roles).css("form[action$='/revoke']") == []
        assert [a.attributes["href"] for a in html(roles).css("a[href$='/revoke']")] == [f"/admin/roles/{grant.id}/revoke"]  # not their own
        page = await browser.get(f"/admin/roles/{grant.id}/revoke")
        assert page.status_code == 200
        assert text_of(page, "h1") == ["Are you sure you want to remove Olu Officer's council officer role?"]
        form = html(page).css_first(f"main form[method=post][action='/admin/roles/{grant.id}/revoke']")
        assert form is not None and form.css_first("input[name=csrftoken]") is not None
        assert text_of(page, "main form button.govuk-button--warning") == ["Remove council officer role"]
        assert await RoleGrant.filter(id=grant.id).exists()  # asking changes nothing
        own = await browser.get(f"/admin/roles/{(await RoleGrant.get(user=admin, council=council)).id}/revoke")
        assert own.status_code == 422


async def test_removing_the_key_worker_role_takes_them_off_the_team_roster_with_audit(app, council):
    from civic.concerns.models import TeamMembership
    from tests.factories import create_team_ok

    admin = await create_user_ok(council, role="admin")
    officer = await create_user_ok(council, role="officer")
    key_worker = await create_user_ok(council, role="key-worker", email="sam.keyworker@example.test")
    team = await create_team_ok(council, "Family Hub", members=[key_worker])
    grant = await RoleGrant.get(user=key_worker, council=council)
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        assert (await browser.post(f"/admin/roles/{grant.id}/revoke")).status_code == 303
    assert not await TeamMembership.filter(team=team, user=key_worker).exists()
    assert await AuditLog.filter(council=council, action="team.member_removed", actor=admin, reason="Family Hub: no longer a key worker").exists()
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        roster = await browser.get("/officer/concerns/routing")
    assert key_worker.email not in roster.text


async def test_admin_cannot_remove_their_own_admin_role(app, council):
    admin = await create_user_ok(council, role="admin")
    grant = await RoleGrant.get(user=admin, council=council)
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        response = await browser.post(f"/admin/roles/{grant.id}/revoke")
    assert response.status_code == 422
    assert await RoleGrant.filter(id=grant.id).exists()


async def test_admin_of_another_council_cannot_touch_this_councils_grants(app, council):
    from tests.factories import create_council_ok

    other = await create_council_ok()
    outsider = await create_user_ok(other, role="admin")
    officer = await create_user_ok(council, role="officer")
    grant = await RoleGrant.get(user=officer, council=council)
    async with Browser(app, other) as browser:  # on their own council's site
        await browser.signin_as(outsider)
        response = await browser.post(f"/admin/roles/{grant.id}/revoke")
    assert response.status_code == 404
    assert await RoleGrant.filter(id=grant.id).exists()
