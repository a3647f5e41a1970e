"""Calls back from key-worker systems: who is calling (by API key), fetching a referred concern, and status updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise import timezone

from civic import audit, config, ratelimit
from civic.accounts import User
from civic.concerns import access, handover
from civic.concerns.models import Concern, ConcernEvent, Referral
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from civic.schemes.text import typable
from civic.webhooks import payloads, signing
from civic.webhooks.models import API_KEY_WORKS_WHEN, KeyWorkerApiCall, KeyWorkerEndpoint, ReferralUpdate

# What a team may say about a referral, in order; "allocated" may be said again when the key worker changes.
STATUSES = ("received", "allocated", "closed")
NEXT = {
    "sent": {"received", "allocated", "closed"},
    "received": {"allocated", "closed"},
    "allocated": {"allocated", "closed"},
    "closed": set(),
}
OUTCOMES = {
    "support-provided": "Early help support was given",
    "support-declined": "The family or person did not want support",
    "signposted": "Signposted to other services",
    "stepped-up": "Passed to statutory social care",
    "no-role": "No role for early help",
    "other": "Another outcome",
}
# What officers read in the concern's history.
STATUS_WORDS = {"received": "Received by the team", "allocated": "Allocated to a key worker", "closed": "Closed by the team"}
# How a key worker chooses each status on the concern page: (label, hint).
RECORD_CHOICES = {
    "received": ("The team has received it", ""),
    "allocated": ("A key worker has been allocated", "Choose this again if the key worker changes."),
    "closed": ("The team has finished with it", "This closes the concern. The person who raised it sees \"Closed\", never the outcome."),
}
ROLE_LIMIT = 80
REFERENCE_LIMIT = 12
FIRST_NAME_LIMIT = 40
NOT_VOUCHED_FOR = (
    "A council officer has not yet confirmed this system, so its API key cannot read or update concerns. "
    "Ask the council to confirm it on the system's page."
)


class NotAuthenticated(DomainError):
    """No API key, or one we do not know: the API answers 401."""


async def authenticate(authorization: str | None, ip: str = "") -> KeyWorkerEndpoint:
    """The endpoint whose API key is in the `Authorization: Bearer …` header.

    An address that keeps sending keys we do not know is refused for a while, so keys cannot be guessed
    and failed calls cannot flood the access log. Only failures count, and the key is looked up first:
    a valid key is never refused for what others sent from the same address (an old integration
    still retrying with a replaced key, behind the same gateway). A key is 32 random bytes, so the
    limit is there to slow guessing and keep the log small, not to stand in for the key's strength.
    The key of an endpoint an administrator has switched off gets the same answer as a key we do not
    know (whoever holds it may have stolen it, so they are not told why); the key of one civic paused
    after failed deliveries still works, so a system that was down can post status back when it recovers.
    """
    rate = config.current().api_failed_key_rate
    scheme, _, key = (authorization or "").strip().partition(" ")
    key = key.strip()
    endpoint = None
    if scheme.lower() == "bearer" and key.startswith(signing.API_KEY_PREFIX) and len(key) <= 200:
        endpoint = await KeyWorkerEndpoint.get_or_none(api_key_hash=signing.hash_api_key(key), status__in=API_KEY_WORKS_WHEN).prefetch_related("team", "council")
    if endpoint is None:
        await ratelimit.hit(rate, "api-failed-key", ip, message="Too many calls with an unknown API key from this address. Wait a minute.")
        if scheme.lower() != "bearer" or not key.startswith(signing.API_KEY_PREFIX):
            raise NotAuthenticated("Send your API key as Authorization: Bearer civic_kw_…")
        raise NotAuthenticated("That API key is not recognised. An administrator can issue a new one.")
    return endpoint


async def log_call(endpoint: KeyWorkerEndpoint | None, method: str, path: str, reference: str, status_code: int, ip: str) -> None:
    """Every call to the API is in its access log, answered or refused."""
    await KeyWorkerApiCall.create(
        council_id=endpoint.council_id if endpoint else None,
        endpoint=endpoint,
        method=method[:8],
        path=path[:200],
        reference=access.normalise_reference(reference)[:REFERENCE_LIMIT] if reference else "",
        status_code=status_code,
        ip=ip[:45],
    )


async def _referred(endpoint: KeyWorkerEndpoint, reference: str) -> tuple[Concern, Referral]:
    """The concern and this team's latest referral of it; NotFound for anything not referred to this team.

    Forbidden for a system no officer has confirmed yet: the administrator who added it holds its key.
    """
    if not endpoint.vouched_for:
        raise Forbidden(NOT_VOUCHED_FOR)
    wanted = access.normalise_reference(reference)
    if not wanted.isascii() or len(wanted) > REFERENCE_LIMIT:
        raise NotFound("No concern with that reference has been referred to your team.")
    concern = await Concern.get_or_none(council_id=endpoint.council_id, reference=wanted)
    referral = await Referral.filter(concern=concern, team_id=endpoint.team_id).order_by("-created_at", "-id").first() if concern else None
    if concern is None or referral is None:
        raise NotFound("No concern with that reference has been referred to your team.")
    return concern, referral


def _action(endpoint: KeyWorkerEndpoint, what: str) -> str:
    # The whole name fits (a name is at most 120 characters); the cut only guards the column.
    return f"{what} by API: {endpoint.name}"[: access.ACTION_LIMIT]


async def fetch(endpoint: KeyWorkerEndpoint, reference: str) -> dict[str, Any]:
    """The concern as a full webhook would carry it (for thin payloads), logged as a view."""
    concern, referral = await _referred(endpoint, reference)
    council = await Council.get(id=endpoint.council_id)
    async with in_transaction():
        # The answer carries each duplicate's account too, so each is read.
        await access.log(None, council, [concern, *await payloads.duplicates_of(concern)], _action(endpoint, "read"))
    return await payloads.concern_data(concern, referral)


def _clean(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise Invalid({"body": "Send a JSON object like {\"status\": \"received\"}"})
    errors: dict[str, str] = {}
    unknown = sorted(set(body) - {"status", "key_worker", "outcome"})
    if unknown:
        errors["body"] = "Unknown fields: " + ", ".join(str(name)[:40] for name in unknown[:5])
    status = body.get("status")
    if status not in STATUSES:
        errors["status"] = "status must be one of: " + ", ".join(STATUSES)
    worker = body.get("key_worker")
    role = first_name = ""
    if worker is not None:
        if not isinstance(worker, dict) or set(worker) - {"role", "first_name"}:
            errors["key_worker"] = "key_worker is an object with an optional role and first_name"
        else:
            role, first_name = worker.get("role") or "", worker.get("first_name") or ""
            # Control characters (a NUL, which PostgreSQL refuses) are refused too: a reporter reads these.
            if not isinstance(role, str) or len(role) > ROLE_LIMIT or typable(role) != role:
                errors["key_worker.role"] = f"role is text of {ROLE_LIMIT} characters or fewer, with no control characters"
            if not isinstance(first_name, str) or len(first_name) > FIRST_NAME_LIMIT or typable(first_name) != first_name:
                errors["key_worker.first_name"] = f"first_name is text of {FIRST_NAME_LIMIT} characters or fewer, with no control characters"
        if status != "allocated" and "key_worker" not in errors:
            errors["key_worker"] = "key_worker goes only with status allocated"
    outcome = body.get("outcome")
    if status == "closed" and outcome not in OUTCOMES:
        errors["outcome"] = "A closed referral needs an outcome, one of: " + ", ".join(OUTCOMES)
    elif status != "closed" and outcome is not None:
        errors["outcome"] = "outcome goes only with status closed"
    if errors:
        raise Invalid(errors)
    return {"status": status, "role": str(role).strip(), "first_name": str(first_name).strip(), "outcome": outcome or ""}


async def post_status(endpoint: KeyWorkerEndpoint, reference: str, body: Any) -> dict[str, Any]:
    """A key-worker system says what happened to a referral: received, allocated (to whom), or closed (with an outcome)."""
    concern, referral = await _referred(endpoint, reference)
    update = _clean(body)
    council = await Council.get(id=endpoint.council_id)
    now = await _move(council, concern, referral, update, endpoint=endpoint)
    return {"reference": concern.reference, "status": update["status"], "updated_at": payloads.iso(now)}


def _allowed_next(concern: Concern, referral: Referral, status: str) -> None:
    if referral.status not in NEXT:
        raise Conflict(f"This referral cannot take status updates (it is {referral.status}).")
    if concern.status == "closed" and referral.status != "closed":
        raise Conflict("The council has closed this concern (or merged it into another), so it takes no more updates.")
    if status not in NEXT[referral.status]:
        if referral.status == "closed":
            raise Conflict("This referral is already closed.")
        raise Conflict(f"A referral that is {referral.status} cannot become {status}. Allowed next: " + ", ".join(sorted(NEXT[referral.status])) + ".")


async def _move(council: Council, concern: Concern, referral: Referral, update: dict[str, str], *,
                endpoint: KeyWorkerEndpoint | None = None, actor: User | None = None) -> datetime:
    """Move the referral on, from the team's system (endpoint) or a key worker on the concern page (actor): audited and logged."""
    status = update["status"]
    _allowed_next(concern, referral, status)
    now = timezone.now()
    words = STATUS_WORDS[status]
    if status == "allocated" and (update["role"] or update["first_name"]):
        words += ": " + " ".join(filter(None, [update["first_name"], f"({update['role']})" if update["role"] else ""]))
    if status == "closed":
        words += ": " + OUTCOMES[update["outcome"]]
    source = endpoint.name if endpoint else "civic"
    async with in_transaction():
        # Conditional: two updates racing from the same system cannot both move the referral on.
        if not await Referral.filter(id=referral.id, status=referral.status).update(status=status, updated_at=now):
            raise Conflict("The referral changed while this update was being made. Fetch it and try again." if endpoint
                           else "Someone else updated this referral at the same time. Look at it again before you record anything.")
        await ReferralUpdate.create(
            council=council,
            referral=referral,
            endpoint=endpoint,
            status=status,
            key_worker_role=update["role"],
            key_worker_first_name=update["first_name"],
            outcome=update["outcome"],
        )
        await ConcernEvent.create(concern=concern, actor=actor, kind="status", text=f"{words} (from {endpoint.name})" if endpoint else words,
                                  team_id=referral.team_id)
        if status == "closed":
            concern.status = "closed"
            concern.closed_reason = "closed-by-team"
            concern.closed_at = now
            await concern.save(update_fields=["status", "closed_reason", "closed_at", "updated_at"])
        await audit.record(actor, f"referral.{status}", referral, council=council, reason=f"{source}: {words}"[:300])
        await access.log(actor, council, [concern], _action(endpoint, status) if endpoint else f"status recorded: {status}")
    return now


async def _system_posts_status(referral: Referral) -> bool:
    # A team whose case system holds a working API key records what happened there, not twice. A key
    # no officer has vouched for works for nothing yet, so its team's key workers record it here.
    return await KeyWorkerEndpoint.filter(team_id=referral.team_id, status__in=API_KEY_WORKS_WHEN).exclude(confirmed_url="").exists()


async def _recordable_referral(user: User | None, council: Council, reference: str) -> tuple[Concern, Referral]:
    reader = await access.viewer(user, council)
    concern = await access.find(reader, reference)
    referral = await handover.current_referral(concern)
    if referral is None or referral.team_id not in reader.team_ids:
        raise Forbidden("Only key workers of the team it was referred to can record what happened to a referral.")
    if await _system_posts_status(referral):
        raise Conflict("Your team's case system records what happened to its referrals: update it there.")
    return concern, referral


async def recordable(reader: access.Viewer, concern: Concern, referral: Referral | None) -> list[tuple[str, str, str]]:
    """The statuses this reader may record for the concern's current referral on its page: for key workers of the
    team when its case system cannot post them (it has none, or it is switched off), the moves the API allows next."""
    if referral is None or concern.status == "closed" or referral.status not in NEXT or referral.team_id not in reader.team_ids:
        return []
    if await _system_posts_status(referral):
        return []
    return [(status, *RECORD_CHOICES[status]) for status in STATUSES if status in NEXT[referral.status]]


async def record_status(user: User | None, council: Council, reference: str, status: str, first_name: str = "",
                        role: str = "", outcome: str = "") -> Referral:
    """A key worker of a team with no working case system records what happened, as its system would through the API."""
    concern, referral = await _recordable_referral(user, council, reference)
    errors: dict[str, str] = {}
    first_name, role = " ".join((first_name or "").split()), " ".join((role or "").split())
    if status not in STATUSES:
        errors["status"] = "Choose what has happened"
    if status == "allocated":
        if len(first_name) > FIRST_NAME_LIMIT or typable(first_name) != first_name:
            errors["key_worker_first_name"] = f"The first name must be {FIRST_NAME_LIMIT} characters or fewer"
        if len(role) > ROLE_LIMIT or typable(role) != role:
            errors["key_worker_role"] = f"The role must be {ROLE_LIMIT} characters or fewer"
    else:
        first_name = role = ""
    if status == "closed" and outcome not in OUTCOMES:
        errors["outcome"] = "Choose the outcome"
    if errors:
        raise Invalid(errors)
    await _move(council, concern, referral, {"status": status, "first_name": first_name, "role": role,
                                            "outcome": outcome if status == "closed" else ""}, actor=user)
    return await Referral.get(id=referral.id)


async def whoami(endpoint: KeyWorkerEndpoint) -> dict[str, Any]:
    """Which endpoint and team a key belongs to: for a key-worker system to check its set-up."""
    return {
        "endpoint": {"id": endpoint.id, "name": endpoint.name, "status": endpoint.status, "event_types": endpoint.event_types, "payload_style": endpoint.payload_style},
        "team": {"id": endpoint.team.id, "name": endpoint.team.name},
        "council": {"slug": endpoint.council.slug, "name": endpoint.council.name},
    }


async def reporter_status(concern: Concern) -> str:
    """The latest status a team reported on the concern's current referral, for the reporter's safe wording."""
    referral = await Referral.filter(concern=concern).order_by("-created_at", "-id").first()
    return referral.status if referral else ""
