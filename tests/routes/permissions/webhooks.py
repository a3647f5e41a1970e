"""Key-worker endpoints: administrators set them up; officers watch deliveries and replay or settle failed ones.
The API answers 401 to everyone without an endpoint's key, whatever their role on the website."""

from __future__ import annotations

from tortoise import timezone

from civic.webhooks import outbox
from civic.webhooks.models import WebhookDelivery
from tests.factories import create_endpoint_ok, create_team_ok
from tests.routes.permissions import HIDDEN, Case, World, council_roles, everyone

WATCHERS = {"officer", "admin"}
CLOSED_PORT = "http://127.0.0.1:9/civic/webhooks"  # nothing listens: a test event fails at once


def admins(ok: int = 303) -> dict[str, int]:
    return council_roles({"admin"}, ok=ok, anonymous=403)


def watchers(ok: int = 303) -> dict[str, int]:
    return council_roles(WATCHERS, ok=ok, anonymous=403)


def hidden_from(expect: dict[str, int]) -> dict[str, int]:
    """Another council's endpoint: this council's staff are told it does not exist."""
    return {role: (HIDDEN if status in (200, 303) and role != "anonymous" else status) for role, status in expect.items()}


ENDPOINT_FORM = {"name": "Case system of {role}", "team": "{team_id}", "url": CLOSED_PORT, "event_types": "concern.referred", "payload_style": "full"}

CASES = [
    Case("GET", "/admin/endpoints", council_roles(WATCHERS)),
    Case("GET", "/admin/endpoints/new", council_roles({"admin"})),
    Case("POST", "/admin/endpoints", admins(), data=ENDPOINT_FORM),
    Case("GET", "/admin/endpoints/{endpoint_id}", council_roles(WATCHERS)),
    Case("GET", "/admin/endpoints/{other_endpoint_id}", hidden_from(council_roles(WATCHERS))),
    Case("GET", "/admin/endpoints/{endpoint_id}/edit", council_roles({"admin"})),
    Case("POST", "/admin/endpoints/{endpoint_id}", admins(), data=ENDPOINT_FORM),
    Case("POST", "/admin/endpoints/{other_endpoint_id}", hidden_from(admins()), data=ENDPOINT_FORM),
    Case("POST", "/admin/endpoints/{endpoint_id}/confirm-url", council_roles({"officer"}, ok=303, anonymous=403), data={"url": CLOSED_PORT}, fresh=True,
         note="only someone who may read concerns says where they go"),
    Case("POST", "/admin/endpoints/{endpoint_id}/secret", admins()),
    Case("GET", "/admin/endpoints/{endpoint_id}/api-key", council_roles({"admin"})),
    Case("POST", "/admin/endpoints/{endpoint_id}/api-key", admins()),
    Case("POST", "/admin/endpoints/{endpoint_id}/ping", admins()),
    Case("POST", "/admin/endpoints/{other_endpoint_id}/ping", hidden_from(admins())),
    Case("POST", "/admin/endpoints/{endpoint_id}/enable", admins(), note="the test event fails, so it stays off: still a 303 back"),
    Case("POST", "/admin/endpoints/{endpoint_id}/disable", admins(), data={"reason": "Moving servers"}, fresh=True),
    Case("POST", "/admin/endpoints/{endpoint_id}/replay", watchers()),
    Case("GET", "/admin/endpoints/{endpoint_id}/deliveries", council_roles(WATCHERS)),
    Case("GET", "/admin/endpoints/{endpoint_id}/deliveries/{delivery_id}", council_roles(WATCHERS)),
    Case("GET", "/admin/endpoints/{other_endpoint_id}/deliveries/{other_delivery_id}", hidden_from(council_roles(WATCHERS))),
    Case("GET", "/admin/endpoints/{endpoint_id}/deliveries/{other_delivery_id}", hidden_from(council_roles(WATCHERS)), note="a delivery of another endpoint"),
    Case("POST", "/admin/endpoints/{endpoint_id}/deliveries/{delivery_id}/replay", watchers(), fresh=True),
    Case("POST", "/admin/endpoints/{endpoint_id}/deliveries/{delivery_id}/cancel", watchers(), data={"reason": "Phoned the team"}, fresh=True),
    # The key-worker API: a session cookie is no key.
    Case("GET", "/api/openapi.json", everyone()),
    Case("GET", "/api/v1/me", everyone(401)),
    Case("GET", "/api/v1/concerns/{reference}", everyone(401)),
    Case("POST", "/api/v1/concerns/{reference}/status", everyone(401), data={"status": "received"}),
]


async def _dead_delivery(endpoint) -> WebhookDelivery:
    row = await outbox.write_ping(endpoint)
    await WebhookDelivery.filter(id=row.id).update(status="dead", dead_at=timezone.now(), attempts=8)
    return row


async def setup(world: World) -> dict[str, str]:
    team = await create_team_ok(world.council)
    endpoint, _, _ = await create_endpoint_ok(world.council, team, url=CLOSED_PORT)
    other, _, _ = await create_endpoint_ok(world.other_council, url=CLOSED_PORT)
    return {
        "team_id": str(team.id),
        "endpoint_id": str(endpoint.id),
        "other_endpoint_id": str(other.id),
        "delivery_id": str((await _dead_delivery(endpoint)).id),
        "other_delivery_id": str((await _dead_delivery(other)).id),
        "reference": "ABCD-2345",
    }
