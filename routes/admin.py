"""Administrators grant and revoke roles in their council."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic import accounts
from civic.errors import Invalid
from routes.web import current_council, current_user, flash, form_values, path_number, redirect, render


async def _page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    grants = await accounts.council_grants(current_user(request), current_council(request))  # type: ignore[arg-type]
    context = {"grants": grants, "values": values, "errors": errors, "role_choices": accounts.ROLE_NAMES}
    return render(request, "admin/roles.html", context, status_code=status)


async def roles_page(request: Request) -> Response:
    return await _page(request, {"role": "officer"}, {})


async def role_grant(request: Request) -> Response:
    values = form_values(await request.form())
    try:
        await accounts.grant_role(current_user(request), current_council(request), values.get("email", ""), values.get("role", ""))
    except Invalid as error:
        return await _page(request, values, error.errors, status=422)
    flash(request, f"{values['email'].strip()} is now {accounts.ROLE_NAMES[values['role']].lower()}.")
    return redirect("/admin/roles")


async def role_revoke_form(request: Request) -> Response:
    try:
        grant = await accounts.grant_to_revoke(current_user(request), current_council(request), path_number(request, "grant_id"))
    except Invalid as error:
        return await _page(request, {"role": "officer"}, error.errors, status=422)
    return render(request, "admin/role_revoke.html", {"grant": grant, "role_name": accounts.ROLE_NAMES[grant.role]})


async def role_revoke(request: Request) -> Response:
    values = form_values(await request.form())
    grant_id = path_number(request, "grant_id")
    try:
        await accounts.revoke_role(current_user(request), current_council(request), grant_id, values.get("reason", ""))
    except Invalid as error:
        return await _page(request, {"role": "officer"}, error.errors, status=422)
    flash(request, "Role removed.")
    return redirect("/admin/roles")


routes = [
    Route("/admin/roles", roles_page, methods=["GET"], name="roles_page"),
    Route("/admin/roles", role_grant, methods=["POST"], name="role_grant"),
    Route("/admin/roles/{grant_id}/revoke", role_revoke_form, methods=["GET"], name="role_revoke_form"),
    Route("/admin/roles/{grant_id}/revoke", role_revoke, methods=["POST"], name="role_revoke"),
]
