"""What a webhook says: `{type, timestamp, schema, data}`, minimised, versioned, under 20 KB.

The schema of every event is written out in `routes/api_schema.py` (served as /api/openapi.json);
a change that would break a receiver gets a new `schema` version rather than a changed meaning.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from civic import config
from civic.concerns.models import Concern, ConcernEvent, Referral, Team
from civic.councils import Council, Ward, site_url

SCHEMA = "civic.concern/1"
PING_SCHEMA = "civic.ping/1"
# The specification's advice: keep payloads small; a receiver can always fetch the rest.
BODY_LIMIT = 20 * 1024


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def concern_api_url(reference: str) -> str:
    return f"{config.current().base_url.rstrip('/')}/api/v1/concerns/{reference}"


def envelope(event_type: str, data: dict[str, Any], now: datetime, schema: str = SCHEMA) -> str:
    """The JSON body, serialised once: the same bytes go out on every retry."""
    return json.dumps({"type": event_type, "timestamp": iso(now), "schema": schema, "data": data}, ensure_ascii=False, separators=(",", ":"))


def thin(concern: Concern) -> dict[str, Any]:
    """Just enough to fetch the concern through the API."""
    return {"id": concern.id, "reference": concern.reference, "url": concern_api_url(concern.reference)}


def reporter(concern: Concern) -> dict[str, Any] | None:
    """The person who raised it, only if they agreed to be contacted, and only by the way they chose."""
    if concern.contact_by not in {"email", "phone"}:
        return None
    found = {"name": concern.reporter_name or None, "contact_by": concern.contact_by}
    if concern.contact_by == "email":
        found["email"] = concern.reporter_email or None
    else:
        found["phone"] = concern.reporter_phone or None
    return found


def _added(event: ConcernEvent) -> dict[str, Any]:
    return {"added_at": iso(event.created_at), "text": event.text or "", "from_duplicate": event.from_duplicate or None}


async def _told(concern: Concern) -> dict[str, Any]:
    """What the person who raised it told us, and what they added since: the part a duplicate carries too."""
    await concern.fetch_related("category", "ward")
    ward: Ward | None = concern.ward
    added = await ConcernEvent.filter(concern=concern, kind="info-added").order_by("created_at", "id")
    return {
        "raised_at": iso(concern.created_at),
        "urgency": concern.urgency,
        "about": concern.about,
        "category": {"slug": concern.category.slug, "name": concern.category.name} if concern.category else None,
        "ward": {"name": ward.name, "code": ward.code or None} if ward else None,
        "person_knows": concern.person_knows,
        "details": concern.details or "",
        "subject": {"name": concern.subject_name or None, "postcode": concern.postcode or None},
        "reporter": reporter(concern),
        "information_added": [_added(event) for event in added],
    }


async def duplicate_data(duplicate: Concern) -> dict[str, Any]:
    """A concern the council merged into another as a duplicate: someone else's account of the same worry."""
    return {"reference": duplicate.reference, **await _told(duplicate)}


async def duplicates_of(concern: Concern) -> list[Concern]:
    return await Concern.filter(merged_into_id=concern.id).order_by("created_at", "id")


async def concern_data(concern: Concern, referral: Referral | None) -> dict[str, Any]:
    """The minimised concern a team needs to act on it: what, where, how urgent, who may be contacted, and its duplicates."""
    council = await Council.get(id=concern.council_id)
    team = await Team.get(id=referral.team_id) if referral else None
    told = await _told(concern)
    return {
        **thin(concern),
        "council": {"slug": council.slug, "name": council.name, "url": site_url(council)},
        "team": {"id": team.id, "name": team.name} if team else None,
        "referral": {"id": referral.id, "referred_at": iso(referral.created_at), "automatic": referral.automatic, "status": referral.status}
        if referral
        else None,
        "status": concern.status,
        "raised_at": told.pop("raised_at"),
        "respond_by": iso(concern.due_at),
        **told,
        "duplicates": [await duplicate_data(d) for d in await duplicates_of(concern)],
    }


async def referred(concern: Concern, referral: Referral, style: str) -> dict[str, Any]:
    return thin(concern) if style == "thin" else await concern_data(concern, referral)


async def updated(concern: Concern, referral: Referral, style: str, duplicate: Concern | None = None) -> dict[str, Any]:
    """The information just added (the latest), or the duplicate just merged in, or only where to fetch them."""
    if style == "thin":
        return thin(concern)
    if duplicate is not None:
        return {**thin(concern), "added_information": None, "duplicate": await duplicate_data(duplicate)}
    latest = await ConcernEvent.filter(concern=concern, kind="info-added").order_by("-created_at", "-id").first()
    return {**thin(concern), "added_information": _added(latest) if latest else None, "duplicate": None}


async def withdrawn(concern: Concern, referral: Referral, style: str) -> dict[str, Any]:
    """Why the council took it back, as a category only: never an officer's words."""
    merged_into = await Concern.get_or_none(id=concern.merged_into_id) if concern.merged_into_id else None
    return {
        **thin(concern),
        "reason": "merged" if merged_into else "closed",
        "merged_into": thin(merged_into) if merged_into else None,
    }


# What a payload holds beyond a reference, in any event and style: the concern's personal data.
PERSONAL_FIELDS = {"details", "subject", "reporter", "information_added", "added_information"}


def carries_personal_data(body: str | None) -> bool:
    """Whether a delivery's body holds more of the concern than its reference (a full payload)."""
    try:
        data = json.loads(body or "").get("data")
    except (ValueError, AttributeError):
        return False
    return isinstance(data, dict) and not PERSONAL_FIELDS.isdisjoint(data)


BUILDERS = {"concern.referred": referred, "concern.updated": updated, "concern.withdrawn": withdrawn}


def ping(endpoint_id: int, name: str) -> dict[str, Any]:
    return {"endpoint": {"id": endpoint_id, "name": name}, "message": "A test event from civic: your endpoint is reachable and verifies our signature."}
