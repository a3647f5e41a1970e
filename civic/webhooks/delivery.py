"""Sending the outbox: claim due deliveries under a lease, post them signed, log every attempt, retry or give up.

Several `civic worker` processes may run at once. On PostgreSQL a worker claims rows with
`SELECT ... FOR UPDATE SKIP LOCKED`, so two workers never wait on or take the same row; on SQLite
(one machine) a conditional UPDATE does the same. A claim is a lease: if the worker dies mid-delivery
its rows become due again when the lease ends, and another worker sends them with the same
`webhook-id`, which receivers use to ignore the duplicate. Delivery is at least once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import random
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from tortoise import timezone
from tortoise.expressions import Q, Subquery

from civic import audit, config, mail
from civic.concerns import access
from civic.config import retry_schedule
from civic.councils import Council, site_url
from civic.db import in_transaction, is_postgres
from civic.schemes import when
from civic.webhooks import addresses, payloads, signing
from civic.webhooks.models import PING, KeyWorkerEndpoint, WebhookAttempt, WebhookDelivery

log = logging.getLogger("civic.webhooks")

WORKER_ID = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
# Rows claimed and posted at once by one worker; each is bounded by the timeout, so a batch is too.
BATCH = 10
# One run of the job stops claiming after this long, so e-mail and the other jobs get their turn.
RUN_BUDGET = 10.0
EXCERPT = 300
# An answer is read this far to say how long it was (an administrator sees the length, not the words).
ANSWER_COUNTED = 64 * 1024
RETRY_AFTER_CAP = timedelta(hours=24)
JITTER = 0.1  # each wait is stretched or shrunk by up to 10%, so retries from one outage spread out
USER_AGENT = "civic-webhooks/1 (+https://www.standardwebhooks.com/)"
# Delivered and cancelled payloads hold personal data nobody needs once the team has it.
KEEP_BODIES = timedelta(days=30)


@dataclass
class Outcome:
    status_code: int | None
    duration_ms: int
    excerpt: str = ""
    length: int = 0  # bytes of the answer, counted up to ANSWER_COUNTED
    error: str = ""
    retry_after: timedelta | None = None
    # False when nothing left civic (the address was refused or not confirmed).
    sent: bool = True

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        return f"HTTP {self.status_code}" if self.status_code is not None else self.error


def destination_of(delivery: WebhookDelivery, endpoint: KeyWorkerEndpoint) -> str:
    """Where this delivery may go: a test event to the address as typed, anything else only to the confirmed one."""
    if delivery.event_type == PING:
        return endpoint.url
    return endpoint.confirmed_url if endpoint.url == endpoint.confirmed_url else ""


def _lease() -> timedelta:
    return timedelta(seconds=config.current().webhook_lease_seconds)


def _due(now: datetime) -> Q:
    # Pending and due, or claimed by a worker whose lease has run out (it died, or hung).
    return Q(status="pending", next_attempt_at__lte=now) | Q(status="delivering", lease_expires_at__lt=now)


async def claim(limit: int = BATCH, worker: str = WORKER_ID) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries of active endpoints for this worker, under a lease.

    An endpoint whose address changed and is not yet confirmed is skipped: its deliveries wait.
    """
    now = timezone.now()
    active = [id for id, url, confirmed in await KeyWorkerEndpoint.filter(status="active").values_list("id", "url", "confirmed_url") if url == confirmed]
    if not active:
        return []
    claim_fields = {"status": "delivering", "lease_expires_at": now + _lease(), "claimed_by": worker}
    if is_postgres():
        async with in_transaction():
            rows = (
                await WebhookDelivery.filter(_due(now), endpoint_id__in=active)
                .order_by("next_attempt_at", "id")
                .limit(limit)
                .select_for_update(skip_locked=True)
                .only("id")
            )
            ids = [row.id for row in rows]
            if ids:
                await WebhookDelivery.filter(id__in=ids).update(**claim_fields)
    else:
        candidates = await WebhookDelivery.filter(_due(now), endpoint_id__in=active).order_by("next_attempt_at", "id").limit(limit).values_list("id", flat=True)
        ids = []
        for delivery_id in candidates:
            # Only one of two racing workers sees its UPDATE change the row.
            if await WebhookDelivery.filter(_due(now), id=delivery_id).update(**claim_fields):
                ids.append(delivery_id)
    if not ids:
        return []
    return list(await WebhookDelivery.filter(id__in=ids).order_by("next_attempt_at", "id").prefetch_related("endpoint"))


def _jitter(seconds: float) -> timedelta:
    return timedelta(seconds=seconds * (1 + random.uniform(-JITTER, JITTER)))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as seconds or as an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        # Past ten digits a timedelta overflows; any such wait is past the cap anyway.
        return min(timedelta(seconds=int(value)), RETRY_AFTER_CAP) if len(value) <= 10 else RETRY_AFTER_CAP
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when - now, timedelta(0)), RETRY_AFTER_CAP)


class Clients:
    """HTTP clients, one per host name: connections go to checked addresses, so a connection (and the
    certificate it verified) must never be reused for another host that happens to share the address."""

    def __init__(self) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}

    def for_host(self, host: str) -> httpx.AsyncClient:
        if host not in self._clients:
            # No proxies from the environment: the address we checked must be the one we connect to.
            self._clients[host] = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=config.current().webhook_timeout)
        return self._clients[host]

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for http in self._clients.values():
            await http.aclose()


async def post(clients: Clients, delivery: WebhookDelivery, endpoint: KeyWorkerEndpoint) -> Outcome:
    """One signed POST of the delivery's body; never raises for what the network or the receiver does."""
    settings = config.current()
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        # The whole exchange, DNS included, within the timeout: the lease must outlast any attempt.
        async with asyncio.timeout(settings.webhook_timeout):
            url = destination_of(delivery, endpoint)
            if not url:
                return Outcome(None, elapsed(), error="Not sent: an officer has not confirmed the new web address", sent=False)
            try:
                target = await addresses.destination(url)
            except addresses.RefusedAddress as refused:
                return Outcome(None, elapsed(), error=f"Not sent: {refused}"[:EXCERPT], sent=False)
            now = timezone.now()
            body = delivery.body or ""
            keys = signing.signing_secrets(endpoint.secret, endpoint.previous_secret, endpoint.secret_rotated_at, settings.webhook_secret_overlap, now)
            headers = {
                **signing.headers(delivery.webhook_id, body, keys, now),
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                "host": target.host_header,
            }
            async with clients.for_host(target.host).stream(
                "POST", target.pinned_url, content=body.encode(), headers=headers, extensions={"sni_hostname": target.host}
            ) as response:
                excerpt, length = b"", 0
                async for chunk in response.aiter_bytes():
                    if len(excerpt) < EXCERPT:
                        excerpt += chunk[: EXCERPT - len(excerpt)]
                    length += len(chunk)
                    if length >= ANSWER_COUNTED:
                        break
                return Outcome(
                    response.status_code,
                    elapsed(),
                    excerpt=excerpt.decode("utf-8", "replace"),
                    length=min(length, ANSWER_COUNTED),
                    retry_after=parse_retry_after(response.headers.get("retry-after"), now),
                )
    except TimeoutError:
        return Outcome(None, elapsed(), error=f"No answer within {settings.webhook_timeout:g} seconds")
    except httpx.ConnectError as error:
        return Outcome(None, elapsed(), error=f"Could not connect: {error}"[:EXCERPT] if str(error) else "Could not connect")
    except httpx.HTTPError as error:
        return Outcome(None, elapsed(), error=f"{type(error).__name__}: {error}"[:EXCERPT])
    except OSError as error:
        return Outcome(None, elapsed(), error=f"{type(error).__name__}: {error}"[:EXCERPT])


async def attempt(clients: Clients, delivery: WebhookDelivery, worker: str = WORKER_ID) -> Outcome:
    """Post a claimed delivery and record what happened: delivered, retry later, dead, or endpoint gone."""
    endpoint = delivery.endpoint
    attempted_at = timezone.now()
    outcome = await post(clients, delivery, endpoint)
    await record(delivery, endpoint, attempted_at, outcome, worker)
    return outcome


async def record(delivery: WebhookDelivery, endpoint: KeyWorkerEndpoint, attempted_at: datetime, outcome: Outcome, worker: str) -> None:
    settings = config.current()
    now = timezone.now()
    number = delivery.attempts + 1
    schedule = retry_schedule(settings.webhook_retry_schedule)
    queued: list[mail.OutgoingEmail] = []
    async with in_transaction():
        await WebhookAttempt.create(
            delivery_id=delivery.id,
            number=number,
            attempted_at=attempted_at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.excerpt or None,
            response_bytes=outcome.length,
            error=outcome.error,
            worker=worker[:80],
        )
        if outcome.sent and delivery.concern_id and payloads.carries_personal_data(delivery.body):
            # Whatever the answer, the concern may have reached the system: it is a view like any other.
            parts = urlsplit(destination_of(delivery, endpoint))
            host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
            await access.log_delivery(delivery, f"sent by webhook to {endpoint.name} ({host}), answered {outcome.describe()}")
        # Only the holder of the claim moves the row on; a worker whose lease was retaken just logs its try.
        mine = WebhookDelivery.filter(id=delivery.id, status="delivering", claimed_by=worker)
        common = {"attempts": number, "lease_expires_at": None, "last_status_code": outcome.status_code, "last_error": outcome.error}
        if outcome.succeeded:
            await mine.update(status="delivered", delivered_at=now, **common)
            await KeyWorkerEndpoint.filter(id=endpoint.id).update(failing_since=None, last_success_at=now)
            return
        if outcome.status_code == 410:
            # The receiver says the endpoint is gone for good: stop sending to it, and keep the row for
            # when an administrator points it somewhere that works.
            if delivery.event_type == PING:
                await mine.update(status="dead", dead_at=now, **common)
            else:
                await mine.update(status="pending", next_attempt_at=now, **common)
            queued += await _pause(endpoint, "The receiving system answered 410 Gone: it no longer takes webhooks at this address.")
        elif delivery.event_type == PING or number - delivery.replay_base >= len(schedule):
            if await mine.update(status="dead", dead_at=now, **common) and delivery.event_type != PING:
                queued += await _dead_notice(delivery, endpoint, outcome)
        else:
            wait = _jitter(schedule[number - delivery.replay_base])
            if outcome.status_code in (429, 503) and outcome.retry_after is not None:
                wait = max(wait, outcome.retry_after)
            await mine.update(status="pending", next_attempt_at=now + wait, **common)
        if delivery.event_type != PING and outcome.status_code != 410:
            queued += await _note_failure(endpoint, now)
    if queued:
        await mail.deliver(queued)


async def _note_failure(endpoint: KeyWorkerEndpoint, now: datetime) -> list[mail.OutgoingEmail]:
    await KeyWorkerEndpoint.filter(id=endpoint.id, failing_since__isnull=True).update(failing_since=now)
    fresh = await KeyWorkerEndpoint.get(id=endpoint.id)
    limit = timedelta(seconds=config.current().webhook_endpoint_disable_after)
    if fresh.status == "active" and fresh.failing_since is not None and now - fresh.failing_since >= limit:
        days = limit.total_seconds() / 86400
        span = f"{days:g} days" if days >= 1 else f"{limit.total_seconds():g} seconds"
        return await _pause(fresh, f"Every delivery has failed for {span}, since {when.moment(fresh.failing_since)}.")
    return []


async def _pause(endpoint: KeyWorkerEndpoint, reason: str) -> list[mail.OutgoingEmail]:
    """Stop delivering to the endpoint (its rows wait) and tell the duty address, once.

    Paused, not switched off: its API key keeps working, so the system can still post status back
    when it recovers. Only an administrator switching it off stops the key.
    """
    now = timezone.now()
    changed = await KeyWorkerEndpoint.filter(id=endpoint.id, status="active").update(status="paused", disabled_reason=reason[:300], disabled_at=now)
    if not changed:
        return []
    council = await Council.get(id=endpoint.council_id)
    await audit.record(None, "endpoint.paused", endpoint, council=council, reason=reason[:300])
    if not council.duty_email:
        return []
    waiting = await WebhookDelivery.filter(endpoint_id=endpoint.id, status__in=["pending", "delivering"]).count()
    return [
        await mail.queue(
            council.duty_email,
            f"Webhooks to {endpoint.name} are paused",
            f"civic has stopped sending to {endpoint.name}, the case system of one of your early help teams.\n\n"
            f"Why: {reason}\n\n"
            f"{waiting} deliveries are waiting and will be sent once an administrator switches it on again "
            f"(which needs a successful test event). Until then, make sure the team knows about new referrals "
            f"some other way. Its API key still works, so the system can post status back when it recovers; "
            f"if the system itself is the problem, switch it off on its page, which stops the key too.\n\n"
            f"The endpoint: {endpoint_url(council, endpoint.id)}\n",
            council_id=council.id,
        )
    ]


async def _dead_notice(delivery: WebhookDelivery, endpoint: KeyWorkerEndpoint, outcome: Outcome) -> list[mail.OutgoingEmail]:
    council = await Council.get(id=endpoint.council_id)
    await audit.record(None, "webhook.dead", delivery, council=council, reason=f"{endpoint.name}: {outcome.describe()}"[:300])
    if not council.duty_email:
        return []
    what = f"concern {delivery.reference}" if delivery.reference else "an event"
    # The reference only: concern text never goes into e-mail, which is not encrypted.
    return [
        await mail.queue(
            council.duty_email,
            f"Not delivered: {what} to {endpoint.name}",
            f"civic could not deliver {what} ({delivery.event_type}) to {endpoint.name} after "
            f"{delivery.attempts + 1 - delivery.replay_base} attempts. The last answer was: {outcome.describe()}.\n\n"
            f"The team's case system does NOT have it. Please make sure the team knows, then replay it "
            f"(it keeps the same webhook-id, so it cannot arrive twice) or mark it as handled:\n"
            f"{endpoint_url(council, endpoint.id)}/deliveries/{delivery.id}\n",
            council_id=council.id,
        )
    ]


def endpoint_url(council: Council, endpoint_id: int) -> str:
    return f"{site_url(council)}/admin/endpoints/{endpoint_id}"


async def deliver_due(budget: float = RUN_BUDGET) -> int:
    """The worker job: send due deliveries, a batch at a time, until none are due or the budget is spent."""
    delivered = 0
    deadline = time.monotonic() + budget
    batch = await claim()
    if not batch:
        return 0
    async with Clients() as clients:
        while batch:
            outcomes = await asyncio.gather(*(attempt(clients, delivery) for delivery in batch))
            delivered += sum(1 for outcome in outcomes if outcome.succeeded)
            batch = await claim() if time.monotonic() < deadline else []
    return delivered


async def hold(delivery_id: int) -> None:
    """Claim a delivery for this process in the transaction that writes it (a ping sent from a page), so no
    worker takes it first; if this process dies, the lease runs out and a worker sends it."""
    await WebhookDelivery.filter(id=delivery_id).update(status="delivering", lease_expires_at=timezone.now() + _lease(), claimed_by=WORKER_ID)


async def send_held(delivery_id: int) -> Outcome:
    """Send a delivery this process holds, now."""
    row = await WebhookDelivery.get(id=delivery_id).prefetch_related("endpoint")
    async with Clients() as clients:
        return await attempt(clients, row)


async def purge_bodies() -> int:
    """Empty the payloads of deliveries delivered or cancelled long ago, and what receivers answered to
    them (which may echo the payload): they hold personal data. Returns how many payloads were emptied."""
    cutoff = timezone.now() - KEEP_BODIES
    done = Q(status="delivered", delivered_at__lt=cutoff) | Q(status="cancelled", created_at__lt=cutoff)
    await WebhookAttempt.filter(delivery_id__in=Subquery(WebhookDelivery.filter(done).values("id")), response_excerpt__isnull=False).update(response_excerpt=None)
    return await WebhookDelivery.filter(done, body_bytes__gt=0).update(body=None, body_bytes=0)
