"""OpenID Connect sign-in routes (no provider is configured in the matrix's app)."""

from __future__ import annotations

from tests.routes.permissions import Case, World, everyone

CASES = [
    Case("GET", "/signin/oidc/{provider}", everyone(404), note="an unknown provider is not found, for everyone"),
    Case("GET", "/signin/oidc/{provider}/callback", everyone(404)),
]


async def setup(world: World) -> dict[str, str]:
    return {"provider": "nowhere"}
