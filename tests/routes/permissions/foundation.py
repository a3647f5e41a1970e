"""Foundation routes: home, sign-in, account, officer home, failed e-mail and roles."""

from __future__ import annotations

from civic.accounts import RoleGrant
from tests.factories import create_user_ok
from tests.routes.permissions import Case, World, council_roles, everyone, signed_in

STAFF = {"officer", "admin"}

CASES = [
    Case("GET", "/", everyone()),
    Case("GET", "/healthz", everyone()),
    Case("GET", "/branding.css", everyone()),
    Case("GET", "/signin", {**everyone(303), "anonymous": 200}, note="signed-in people go on to next"),
    Case("POST", "/signin", {**everyone(303)}, data={"email": "someone-{role}@example.test"}),
    Case("GET", "/signin/check-email", everyone()),
    Case("GET", "/signin/link/{token}", everyone(400), note="an unknown token says so before the button is pressed"),
    Case("POST", "/signin/link/{token}", everyone(400), note="an unknown token is refused for everyone"),
    Case("GET", "/welcome", signed_in()),
    Case("POST", "/welcome", signed_in(422, anonymous=403), data={"display_name": ""}),
    Case("GET", "/account", signed_in()),
    Case("POST", "/signout", everyone(303)),
    Case("POST", "/signout/everywhere", signed_in(303, anonymous=403)),
    Case("GET", "/officer", council_roles(STAFF)),
    Case("GET", "/officer/email", council_roles({"officer"}), note="some are to people who raised concerns: not for administrators"),
    Case("POST", "/officer/email/send-again", council_roles({"officer"}, ok=303, anonymous=403)),
    Case("GET", "/admin/council", council_roles({"admin"})),
    Case("POST", "/admin/council", council_roles({"admin"}, ok=303, anonymous=403), data={"name": "Matrix Council", "brand_colour": "#1d70b8", "emergency_phone": "999", "duty_email": "duty@matrix.example"}),
    Case("GET", "/admin/roles", council_roles({"admin"})),
    Case("POST", "/admin/roles", council_roles({"admin"}, ok=303, anonymous=403), data={"email": "new-officer@example.test", "role": "officer"}),
    Case("GET", "/admin/roles/{grant_id}/revoke", council_roles({"admin"})),
    Case("POST", "/admin/roles/{grant_id}/revoke", council_roles({"admin"}, ok=303, anonymous=403), fresh=True),
    Case("GET", "/account/email", signed_in()),
    Case("POST", "/account/email", signed_in(303, anonymous=403), data={"email": "new-{role}@example.test"}),
    Case("GET", "/account/email/confirm/{token}", everyone(400), note="an unknown token says so before the button is pressed"),
    Case("POST", "/account/email/confirm/{token}", everyone(400), note="an unknown token is refused for everyone"),
    Case("GET", "/account/delete", signed_in()),
    Case("GET", "/account/deleted", everyone()),
    # Last, as it deletes the resident. Everyone else holds a council role, which must be removed first.
    Case("POST", "/account/delete", {**everyone(409), "resident": 303, "anonymous": 403}, note="council staff are refused"),
]


async def setup(world: World) -> dict[str, str]:
    officer = await create_user_ok(world.council, role="officer")
    grant = await RoleGrant.get(user=officer, council=world.council)
    return {"token": "not-a-real-token", "grant_id": str(grant.id)}

