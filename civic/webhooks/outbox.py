"""The transactional outbox: delivery rows written in the same transaction as the change they announce."""

from __future__ import annotations

import logging
from datetime import timedelta

from tortoise import timezone

from civic import config
from civic.concerns.models import Concern, Referral
from civic.config import retry_schedule
from civic.webhooks import payloads, signing
from civic.webhooks.models import PING, KeyWorkerEndpoint, WebhookDelivery

log = logging.getLogger("civic.webhooks")


async def write(endpoint: KeyWorkerEndpoint, event_type: str, body: str, concern: Concern | None = None) -> WebhookDelivery:
    """One delivery row, due now; call inside the transaction of the change."""
    return await WebhookDelivery.create(
        council_id=endpoint.council_id,
        endpoint=endpoint,
        concern=concern,
        reference=concern.reference if concern else "",
        event_type=event_type,
        webhook_id=signing.new_webhook_id(),
        body=body,
        body_bytes=len(body.encode()),
        next_attempt_at=timezone.now() + timedelta(seconds=retry_schedule(config.current().webhook_retry_schedule)[0]),
    )


async def on_handover(event: str, referral: Referral, duplicate: Concern | None = None) -> None:
    """The hook part 1 calls (civic.concerns.handover.HANDOVER) inside the referral's own transaction.

    `duplicate` is a concern the council just merged into the referred one: the team gets its details.

    Every endpoint of the referral's team that takes this event gets a row, disabled ones too: their
    rows wait, and go once the endpoint is enabled again, so nothing is dropped while a system is down.
    """
    endpoints = [e for e in await KeyWorkerEndpoint.filter(team_id=referral.team_id) if event in (e.event_types or [])]
    if not endpoints:
        return
    concern = await Concern.get(id=referral.concern_id)
    now = timezone.now()
    bodies: dict[str, str] = {}
    for endpoint in endpoints:
        style = endpoint.payload_style
        if style not in bodies:
            about = {"duplicate": duplicate} if duplicate is not None else {}
            body = payloads.envelope(event, await payloads.BUILDERS[event](concern, referral, style, **about), now)
            if len(body.encode()) > payloads.BODY_LIMIT:
                # Never drop an event for its size: send where to fetch it instead.
                log.warning("%s for %s is over %d bytes: sent thin", event, concern.reference, payloads.BODY_LIMIT)
                body = payloads.envelope(event, payloads.thin(concern), now)
            bodies[style] = body
        await write(endpoint, event, bodies[style], concern)


async def write_ping(endpoint: KeyWorkerEndpoint) -> WebhookDelivery:
    body = payloads.envelope(PING, payloads.ping(endpoint.id, endpoint.name), timezone.now(), schema=payloads.PING_SCHEMA)
    return await write(endpoint, PING, body)
