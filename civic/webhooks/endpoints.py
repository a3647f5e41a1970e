"""Administering key-worker endpoints: set up, secrets and keys, test events, switching off and on, the delivery log and replays."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from tortoise import timezone

from civic import audit, crypto, mail
from civic.accounts import User, has_role, require_role
from civic.concerns.models import Team
from civic.councils import Council
from civic.db import BIGINT_ID_MAX, as_id, in_transaction
from civic.errors import Conflict, Invalid, NotFound
from civic.officers import AttentionItem, Section
from civic.webhooks import addresses, delivery, outbox, signing, tracking
from civic.webhooks.models import EVENT_TYPES, PAYLOAD_STYLES, KeyWorkerApiCall, KeyWorkerEndpoint, WebhookAttempt, WebhookDelivery

ADMIN = ("admin",)
# Officers watch deliveries and replay or settle failed ones; only administrators change where they go.
WATCHERS = ("officer", "admin")
# Who may confirm where concerns go: people who may read them. An administrator alone cannot send them elsewhere.
CONFIRMERS = ("officer",)
# Who may read what a receiver answered: it may echo the concern it was sent. Others see its length.
ANSWER_READERS = ("officer",)
# Who may see which concern a delivery or an API call was about. An administrator repairs delivery from
# the event, status, attempts, timing and status codes; a reference would tell them which concerns exist
# and, with the timing, let them link deliveries to people.
CONCERN_READERS = ("officer",)
# The key-worker API names the concern in its path (/api/v1/concerns/{reference}...).
_REFERENCE_IN_PATH = re.compile(r"(?<=/concerns/)[^/?#]+")
UNNAMED = "…"
NAME_LIMIT = 120
REASON_LIMIT = 300
# The audit entry of a delivery marked as handled: what the officer typed may name the concern, so it is
# kept encrypted on the delivery (shown on the concern's page) and not here.
HANDLED_NOTE_GIVEN = "how the team was told is noted on the delivery"
PAGE_SIZE = 50


@dataclass
class EndpointSummary:
    endpoint: KeyWorkerEndpoint
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class Credentials:
    """Shown to the administrator once, straight after they are made; only their hashes or ciphertext are kept."""

    endpoint_id: int
    secret: str = ""
    api_key: str = ""


async def _endpoint(council: Council, endpoint_id: int | str) -> KeyWorkerEndpoint:
    endpoint = await KeyWorkerEndpoint.get_or_none(id=as_id(endpoint_id), council=council).prefetch_related("team")
    if endpoint is None:
        raise NotFound()
    return endpoint


async def teams(council: Council) -> list[Team]:
    return list(await Team.filter(council=council).order_by("name"))


async def list_endpoints(user: User | None, council: Council) -> list[EndpointSummary]:
    """Every endpoint of the council with how many deliveries are in each state."""
    await require_role(user, council, *WATCHERS)
    endpoints = await KeyWorkerEndpoint.filter(council=council).prefetch_related("team")
    summaries = {e.id: EndpointSummary(e) for e in endpoints}
    for endpoint_id, status in await WebhookDelivery.filter(council=council, status__in=["pending", "delivering", "dead"]).values_list("endpoint_id", "status"):
        summaries[endpoint_id].counts[status] += 1
    return list(summaries.values())


async def get_endpoint(user: User | None, council: Council, endpoint_id: int | str) -> KeyWorkerEndpoint:
    await require_role(user, council, *WATCHERS)
    return await _endpoint(council, endpoint_id)


async def get_endpoint_for_admin(user: User | None, council: Council, endpoint_id: int | str) -> KeyWorkerEndpoint:
    await require_role(user, council, *ADMIN)
    return await _endpoint(council, endpoint_id)


async def require_admin(user: User | None, council: Council) -> None:
    """Only the council's administrators set up endpoints."""
    await require_role(user, council, *ADMIN)


async def _clean(council: Council, form: dict[str, Any]) -> dict[str, Any]:
    """Every field checked at once; the URL is resolved and must be public (unless configured otherwise)."""
    errors: dict[str, str] = {}
    name = str(form.get("name") or "").strip()
    if not name:
        errors["name"] = "Enter a name for the case system, like Early help case system"
    elif len(name) > NAME_LIMIT:
        errors["name"] = f"The name must be {NAME_LIMIT} characters or fewer"
    team = await Team.get_or_none(id=as_id(form.get("team")), council=council)
    if team is None:
        errors["team"] = "Choose the team whose system this is"
    url = ""
    try:
        url = (await addresses.destination(str(form.get("url") or ""))).url
    except addresses.RefusedAddress as refused:
        errors["url"] = str(refused)
    events = [e for e in form.get("event_types") or [] if e in EVENT_TYPES]
    if not events or len(events) != len(form.get("event_types") or []):
        errors["event_types"] = "Choose at least one event to send"
    style = str(form.get("payload_style") or "")
    if style not in PAYLOAD_STYLES:
        errors["payload_style"] = "Choose what each event carries"
    if errors:
        raise Invalid(errors)
    return {"name": name, "team": team, "url": url, "event_types": sorted(events, key=list(EVENT_TYPES).index), "payload_style": style}


async def create_endpoint(user: User | None, council: Council, form: dict[str, Any]) -> tuple[KeyWorkerEndpoint, Credentials]:
    """An administrator adds a team's case system; its signing secret and API key are returned to show once.

    Concerns go to it only once an officer has confirmed its address (at once if the administrator is an officer too).
    """
    await require_role(user, council, *ADMIN)
    values = await _clean(council, form)
    secret, api_key = signing.new_secret(), signing.new_api_key()
    confirmed = await has_role(user, council, *CONFIRMERS)
    async with in_transaction():
        endpoint = await KeyWorkerEndpoint.create(
            council=council,
            secret=secret,
            api_key_hash=signing.hash_api_key(api_key),
            api_key_hint=signing.api_key_hint(api_key),
            created_by=user,
            confirmed_url=values["url"] if confirmed else "",
            url_confirmed_at=timezone.now() if confirmed else None,
            **values,
        )
        await audit.record(user, "endpoint.created", endpoint, council=council, reason=f"{values['name']} for {values['team'].name}")
        if confirmed:
            await audit.record(user, "endpoint.url_confirmed", endpoint, council=council, reason=values["url"])
        queued = [] if confirmed else await _ask_to_confirm(council, endpoint)
    if queued:
        await mail.deliver(queued)
    return endpoint, Credentials(endpoint.id, secret=secret, api_key=api_key)


async def update_endpoint(user: User | None, council: Council, endpoint_id: int | str, form: dict[str, Any]) -> KeyWorkerEndpoint:
    """Change the name, address, events or payload style; secrets, key and team stay as they are.

    The team is fixed: the API key reads the team's concerns, so moving it would hand one team's
    concerns to another's system. A new address takes concerns only once an officer confirms it.
    """
    await require_role(user, council, *ADMIN)
    endpoint = await _endpoint(council, endpoint_id)
    form = {**form, "team": form.get("team") or endpoint.team_id}
    errors: dict[str, str] = {}
    try:
        values = await _clean(council, form)
    except Invalid as error:
        errors, values = dict(error.errors), {}
    if "team" in errors or (values and values["team"].id != endpoint.team_id):
        errors["team"] = f"A system stays with the team it was added for ({endpoint.team.name}). To send another team's concerns, add a new system for that team."
    if errors:
        raise Invalid(errors)
    old_url = endpoint.url
    moved = values["url"] != old_url
    confirmed = moved and await has_role(user, council, *CONFIRMERS)
    queued: list[mail.OutgoingEmail] = []
    async with in_transaction():
        for name, value in values.items():
            setattr(endpoint, name, value)
        changed = ["name", "url", "event_types", "payload_style", "updated_at"]
        if confirmed:
            endpoint.confirmed_url, endpoint.url_confirmed_at = endpoint.url, timezone.now()
            changed += ["confirmed_url", "url_confirmed_at"]
        await endpoint.save(update_fields=changed)
        await audit.record(user, "endpoint.changed", endpoint, council=council, reason=values["name"])
        if moved:
            await audit.record(user, "endpoint.url_changed", endpoint, council=council, reason=f"from {old_url} to {endpoint.url}"[:REASON_LIMIT])
        if confirmed:
            await audit.record(user, "endpoint.url_confirmed", endpoint, council=council, reason=endpoint.url)
        elif moved and endpoint.url != endpoint.confirmed_url:
            queued = await _ask_to_confirm(council, endpoint)
    if queued:
        await mail.deliver(queued)
    return endpoint


async def confirm_url(user: User | None, council: Council, endpoint_id: int | str, url: str) -> KeyWorkerEndpoint:
    """An officer confirms the address an administrator gave an endpoint: from now on concerns go there.

    `url` is the address the officer was shown, so a change made while they were reading is not confirmed with it.
    """
    await require_role(user, council, *CONFIRMERS)
    endpoint = await _endpoint(council, endpoint_id)
    if (url or "").strip() != endpoint.url:
        raise Conflict("The web address changed while you were reading the page. Check the new one before you confirm it.")
    if endpoint.url == endpoint.confirmed_url:
        return endpoint  # confirmed already (a second click)
    async with in_transaction():
        changed = await KeyWorkerEndpoint.filter(id=endpoint.id, url=endpoint.url).update(confirmed_url=endpoint.url, url_confirmed_at=timezone.now())
        if not changed:
            raise Conflict("The web address changed while you were reading the page. Check the new one before you confirm it.")
        await audit.record(user, "endpoint.url_confirmed", endpoint, council=council, reason=endpoint.url)
    return await _endpoint(council, endpoint_id)


async def _ask_to_confirm(council: Council, endpoint: KeyWorkerEndpoint, what_changed: str = "") -> list[mail.OutgoingEmail]:
    """Tell the duty address that concerns wait for an officer to confirm where they go."""
    if not council.duty_email:
        return []
    what_changed = what_changed or f"An administrator set the web address of {endpoint.name}, the case system of {endpoint.team.name}, to:"
    return [
        await mail.queue(
            council.duty_email,
            f"Confirm where {endpoint.name} receives concerns",
            f"{what_changed}\n\n"
            f"{endpoint.url}\n\n"
            f"No concern is sent there until a council officer confirms it. Before you do, check with the team "
            f"that this is their system's address. Until then, its referrals wait.\n\n"
            f"Confirm it here: {delivery.endpoint_url(council, endpoint.id)}\n",
            council_id=council.id,
        )
    ]


async def rotate_secret(user: User | None, council: Council, endpoint_id: int | str) -> Credentials:
    """A new signing secret; the old one also signs for the configured overlap, so the receiver can switch over."""
    await require_role(user, council, *ADMIN)
    endpoint = await _endpoint(council, endpoint_id)
    secret = signing.new_secret()
    async with in_transaction():
        endpoint.previous_secret = endpoint.secret
        endpoint.secret = secret
        endpoint.secret_rotated_at = timezone.now()
        await endpoint.save(update_fields=["previous_secret", "secret", "secret_rotated_at", "updated_at"])
        await audit.record(user, "endpoint.secret_rotated", endpoint, council=council)
    return Credentials(endpoint.id, secret=secret)


async def replace_api_key(user: User | None, council: Council, endpoint_id: int | str) -> Credentials:
    """A new API key; the old one stops working at once (a key cannot be recovered, only replaced).

    The new key is shown to whoever made it. Made by an administrator who is not an officer, it reads
    no concern (and deliveries wait) until an officer confirms the system again, as for a new system.
    """
    await require_role(user, council, *ADMIN)
    endpoint = await _endpoint(council, endpoint_id)
    api_key = signing.new_api_key()
    reads_concerns = await has_role(user, council, *CONFIRMERS)
    queued: list[mail.OutgoingEmail] = []
    async with in_transaction():
        endpoint.api_key_hash = signing.hash_api_key(api_key)
        endpoint.api_key_hint = signing.api_key_hint(api_key)
        changed = ["api_key_hash", "api_key_hint", "updated_at"]
        if not reads_concerns:
            endpoint.confirmed_url, endpoint.url_confirmed_at = "", None
            changed += ["confirmed_url", "url_confirmed_at"]
        await endpoint.save(update_fields=changed)
        await audit.record(user, "endpoint.api_key_replaced", endpoint, council=council)
        if not reads_concerns:
            queued = await _ask_to_confirm(
                council, endpoint,
                f"An administrator made a new API key for {endpoint.name}, the case system of {endpoint.team.name}. "
                "Until a council officer confirms the system again, the key reads no concern. Its web address is:",
            )
    if queued:
        await mail.deliver(queued)
    return Credentials(endpoint.id, api_key=api_key)


async def send_ping(user: User | None, council: Council, endpoint_id: int | str) -> delivery.Outcome:
    """Send a `ping` now, whether the endpoint is on or off, and say what came back."""
    await require_role(user, council, *ADMIN)
    endpoint = await _endpoint(council, endpoint_id)
    async with in_transaction():
        row = await outbox.write_ping(endpoint)
        await delivery.hold(row.id)
        await audit.record(user, "endpoint.pinged", endpoint, council=council)
    return await delivery.send_held(row.id)


async def enable(user: User | None, council: Council, endpoint_id: int | str) -> delivery.Outcome:
    """Switch a paused or switched-off endpoint on again (its API key works again), only if a test event gets a 2xx answer first."""
    outcome = await send_ping(user, council, endpoint_id)
    endpoint = await _endpoint(council, endpoint_id)
    if not outcome.succeeded:
        return outcome
    async with in_transaction():
        await KeyWorkerEndpoint.filter(id=endpoint.id).update(status="active", disabled_reason="", disabled_at=None, failing_since=None)
        if endpoint.status != "active":
            await audit.record(user, "endpoint.enabled", endpoint, council=council, reason="test event answered " + outcome.describe())
    return outcome


async def disable(user: User | None, council: Council, endpoint_id: int | str, reason: str) -> KeyWorkerEndpoint:
    """Stop sending to an endpoint and stop its API key; deliveries wait until it is switched on again.

    A paused endpoint can be switched off too: its key works while paused, and may be what went wrong.
    """
    await require_role(user, council, *ADMIN)
    endpoint = await _endpoint(council, endpoint_id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": "Say why you are switching it off"})
    if len(reason) > REASON_LIMIT:
        raise Invalid({"reason": f"The reason must be {REASON_LIMIT} characters or fewer"})
    if endpoint.switched_off:
        raise Conflict("It is already switched off.")
    async with in_transaction():
        await KeyWorkerEndpoint.filter(id=endpoint.id).update(status="disabled", disabled_reason=f"Switched off by {user}: {reason}"[:REASON_LIMIT], disabled_at=timezone.now())
        await audit.record(user, "endpoint.disabled", endpoint, council=council, reason=reason)
    return await _endpoint(council, endpoint_id)


async def deliveries(user: User | None, council: Council, endpoint_id: int | str, status: str = "", page: int = 1) -> tuple[KeyWorkerEndpoint, list[WebhookDelivery], bool]:
    """The delivery log of an endpoint, newest first, optionally one status only; and whether there is more."""
    endpoint = await get_endpoint(user, council, endpoint_id)
    query = WebhookDelivery.filter(endpoint=endpoint)
    if status:
        query = query.filter(status=status)
    page = max(page, 1)
    rows = list(await query.order_by("-created_at", "-id").offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    if not await has_role(user, council, *CONCERN_READERS):
        for row in rows:
            _without_concern(row)
    return endpoint, rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _without_concern(row: WebhookDelivery) -> None:
    """For someone who may not read concerns: the delivery without which concern it was about.

    The payload and a handled note go too: they name the concern. The row is for showing, never saving.
    """
    row.reference, row.concern_id, row.body, row.handled_note = "", None, None, None


async def _shown(user: User | None, council: Council, row: WebhookDelivery) -> WebhookDelivery:
    if not await has_role(user, council, *CONCERN_READERS):
        _without_concern(row)
    return row


@dataclass
class DeliveryDetail:
    endpoint: KeyWorkerEndpoint
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]
    answers_shown: bool  # what each answer said, or (to someone who may not read concerns) only its length


async def delivery_detail(user: User | None, council: Council, endpoint_id: int | str, delivery_id: int | str) -> DeliveryDetail:
    """One delivery and every attempt at it. The payload is not shown: it may hold special-category data.

    Nor, to an administrator who is not an officer, what the receiver answered: it may echo the payload.
    """
    endpoint = await get_endpoint(user, council, endpoint_id)
    row = await _shown(user, council, await _delivery(endpoint, delivery_id))
    attempts = list(await WebhookAttempt.filter(delivery=row).order_by("attempted_at", "id"))
    shown = await has_role(user, council, *ANSWER_READERS)
    if not shown:
        for attempt in attempts:
            attempt.response_excerpt = None
    return DeliveryDetail(endpoint, row, attempts, shown)


async def _delivery(endpoint: KeyWorkerEndpoint, delivery_id: int | str) -> WebhookDelivery:
    row = await WebhookDelivery.get_or_none(id=as_id(delivery_id, BIGINT_ID_MAX), endpoint=endpoint)
    if row is None:
        raise NotFound()
    return row


def _replay_fields(row: WebhookDelivery) -> dict[str, Any]:
    # Same row, same webhook-id: a receiver that did get it after all will recognise the duplicate.
    return {"status": "pending", "next_attempt_at": timezone.now(), "dead_at": None, "replays": row.replays + 1, "replay_base": row.attempts}


async def replay(user: User | None, council: Council, endpoint_id: int | str, delivery_id: int | str) -> WebhookDelivery:
    """Send a failed (or cancelled) delivery again, with the same webhook-id and a fresh retry schedule."""
    endpoint = await get_endpoint(user, council, endpoint_id)
    row = await _delivery(endpoint, delivery_id)
    if row.status not in {"dead", "cancelled"}:
        raise Conflict("Only a delivery that failed or was cancelled can be sent again.")
    if not row.body:
        raise Conflict("This delivery is too old to send again: its content has been removed.")
    async with in_transaction():
        changed = await WebhookDelivery.filter(id=row.id, status=row.status).update(**_replay_fields(row))
        if changed:
            await audit.record(user, "webhook.replayed", row, council=council, reason=f"{row.webhook_id} to {endpoint.name}")
    return await _shown(user, council, await _delivery(endpoint, delivery_id))


async def replay_all(user: User | None, council: Council, endpoint_id: int | str) -> int:
    """Send every failed delivery of the endpoint again; returns how many."""
    endpoint = await get_endpoint(user, council, endpoint_id)
    count = 0
    async with in_transaction():
        for row in await WebhookDelivery.filter(endpoint=endpoint, status="dead", body_bytes__gt=0):
            count += await WebhookDelivery.filter(id=row.id, status="dead").update(**_replay_fields(row))
        if count:
            await audit.record(user, "webhook.replayed", endpoint, council=council, reason=f"{count} failed deliveries")
    return count


async def cancel(user: User | None, council: Council, endpoint_id: int | str, delivery_id: int | str, reason: str) -> WebhookDelivery:
    """Settle a delivery that will not be sent (e.g. the team was given the concern by phone), with a reason."""
    endpoint = await get_endpoint(user, council, endpoint_id)
    row = await _delivery(endpoint, delivery_id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": "Say how the team was told, or why it need not be sent"})
    if len(reason) > REASON_LIMIT:
        raise Invalid({"reason": f"The reason must be {REASON_LIMIT} characters or fewer"})
    if row.status not in {"dead", "pending"}:
        raise Conflict("Only a delivery that failed or is waiting can be cancelled.")
    async with in_transaction():
        # The note goes with the delivery, encrypted; the audit log says only that one was given.
        if await WebhookDelivery.filter(id=row.id, status=row.status).update(status="cancelled", handled_note=crypto.encrypt(reason)):
            await audit.record(user, "webhook.cancelled", row, council=council, reason=HANDLED_NOTE_GIVEN)
    return await _shown(user, council, await _delivery(endpoint, delivery_id))


async def officer_section(council: Council) -> Section:
    """For the officer home: deliveries that failed after every retry or are still being retried, and endpoints paused or switched off.

    No concern is named: administrators see this too. Officers also see each stuck referral (civic.webhooks.tracking).
    """
    items = []
    dead = Counter(
        await WebhookDelivery.filter(council=council, status="dead").exclude(event_type="ping").values_list("endpoint_id", flat=True)
    )
    retrying = Counter(
        await WebhookDelivery.filter(council=council, status__in=["pending", "delivering"], created_at__lt=timezone.now() - tracking.RETRYING_AFTER)
        .exclude(event_type="ping").values_list("endpoint_id", flat=True)
    )
    endpoints = {e.id: e for e in await KeyWorkerEndpoint.filter(council=council)}
    for endpoint_id, count in sorted(dead.items()):
        endpoint = endpoints[endpoint_id]
        noun = "delivery" if count == 1 else "deliveries"
        items.append(AttentionItem(f"{count} {noun} to {endpoint.name} failed after every retry", href=f"/admin/endpoints/{endpoint_id}/deliveries?status=dead", tag="Not delivered"))
    for endpoint_id, count in sorted(retrying.items()):
        endpoint = endpoints[endpoint_id]
        noun = "delivery" if count == 1 else "deliveries"
        minutes = int(tracking.RETRYING_AFTER.total_seconds() // 60)
        items.append(AttentionItem(
            f"{count} {noun} to {endpoint.name} not through after more than {minutes} minutes" + ("" if endpoint.active else ": it is not switched on"),
            href=f"/admin/endpoints/{endpoint_id}/deliveries?status=pending", tag="Still retrying" if endpoint.active else "Waiting",
        ))
    for endpoint in endpoints.values():
        if endpoint.switched_off:
            items.append(AttentionItem(f"{endpoint.name} is switched off: {endpoint.disabled_reason}", href=f"/admin/endpoints/{endpoint.id}", tag="Switched off"))
        elif not endpoint.active:
            items.append(AttentionItem(f"{endpoint.name} is paused: {endpoint.disabled_reason}", href=f"/admin/endpoints/{endpoint.id}", tag="Paused"))
    return Section("Referrals to key workers' systems", items, empty="No delivery to a team's case system has failed or is being retried.", href="/admin/endpoints", order=20)


def seal(credentials: Credentials) -> str:
    """Credentials encrypted for the session, so the page after the redirect can show them once."""
    return crypto.encrypt(json.dumps(asdict(credentials))).decode()


def unseal(token: str | None, endpoint_id: int) -> Credentials | None:
    if not token:
        return None
    try:
        found = Credentials(**json.loads(crypto.decrypt(token.encode())))
    except (crypto.UndecryptableValue, ValueError, TypeError):
        return None
    return found if found.endpoint_id == endpoint_id else None


async def api_calls(user: User | None, council: Council, endpoint: KeyWorkerEndpoint, limit: int = 10) -> list[KeyWorkerApiCall]:
    """The endpoint's latest calls to the key-worker API; to someone who may not read concerns, without the concern each named."""
    await require_role(user, council, *WATCHERS)
    calls = list(await KeyWorkerApiCall.filter(endpoint=endpoint, council=council).order_by("-created_at", "-id").limit(limit))
    if not await has_role(user, council, *CONCERN_READERS):
        for call in calls:
            call.reference, call.path = "", _REFERENCE_IN_PATH.sub(UNNAMED, call.path)
    return calls
