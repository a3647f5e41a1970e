"""Starting a scheme: a resident proposes it, an officer of that council approves or declines it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError

from civic import audit, mail
from civic.accounts import User
from civic.councils import Council, Ward, site_url
from civic.db import as_id, in_transaction
from civic.errors import Conflict, Forbidden, Invalid
from civic.mail import OutgoingEmail
from civic.schemes import access
from civic.schemes.directory import search_text
from civic.schemes.models import Membership, Scheme, SchemeAudience, SchemeCategory
from civic.schemes.taxonomy import AUDIENCES, CATEGORIES
from civic.schemes.text import one_line, paragraphs, slugify, valid_phone

# Paths under /schemes/ that are pages of their own, so never a scheme's slug.
RESERVED_SLUGS = {"new", "mine"}

LINE_FIELDS = {
    # field: (max length, message when empty or None when optional)
    "name": (120, "Enter the scheme's name"),
    "summary": (200, "Enter a one-line summary of what the scheme does"),
    "times": (300, "Say when the scheme runs, like Tuesdays 10am to noon"),
    "venue": (300, "Say where the scheme runs, like St Anne's church hall"),
    "who_for_details": (300, None),
    "safeguarding_lead_name": (80, "Enter the name of the scheme's safeguarding lead"),
    "safeguarding_lead_role": (120, "Enter the safeguarding lead's role, like Chair of the committee"),
    "contact_phone": (30, None),
}
TEXT_FIELDS = {
    "description": (5000, "Describe what the scheme does"),
    "how_to_get_help": (2000, "Say how someone can get help from the scheme"),
    "how_to_volunteer": (2000, None),
}
LABELS = {
    "name": "Name", "summary": "Summary", "times": "When", "venue": "Where", "who_for_details": "Who it is for",
    "safeguarding_lead_name": "Safeguarding lead's name", "safeguarding_lead_role": "Safeguarding lead's role",
    "contact_phone": "Phone number", "description": "Description", "how_to_get_help": "How to get help",
    "how_to_volunteer": "How to volunteer",
}


@dataclass
class SchemeDetails:
    """A scheme's details once checked: what the start and edit forms write."""

    text: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    wards: list[Ward] = field(default_factory=list)


async def check_details(council: Council, values: dict[str, Any]) -> SchemeDetails:
    """Every field of the scheme form checked at once; raises Invalid with every problem."""
    errors: dict[str, str] = {}
    details = SchemeDetails()
    for name, (limit, missing) in LINE_FIELDS.items():
        details.text[name] = one_line(values.get(name))
    for name, (limit, missing) in TEXT_FIELDS.items():
        details.text[name] = paragraphs(values.get(name))
    for name, (limit, missing) in {**LINE_FIELDS, **TEXT_FIELDS}.items():
        value = details.text[name]
        if not value and missing:
            errors[name] = missing
        elif len(value) > limit:
            errors[name] = f"{LABELS[name]} must be {limit} characters or fewer (it has {len(value)})"
    phone = details.text["contact_phone"]
    if phone and "contact_phone" not in errors and not valid_phone(phone):
        errors["contact_phone"] = "Enter a UK phone number, like 01632 960 123, or leave it blank"

    details.categories = [slug for slug in CATEGORIES if slug in set(_list(values.get("categories")))]
    if not details.categories:
        errors["categories"] = "Choose at least one category"
    details.audiences = [slug for slug in AUDIENCES if slug in set(_list(values.get("audiences")))]
    if not details.audiences:
        errors["audiences"] = "Choose who the scheme is for"
    ward_ids = {as_id(raw) for raw in _list(values.get("wards"))} - {0}
    details.wards = list(await Ward.filter(council=council, id__in=ward_ids)) if ward_ids else []
    if not details.wards:
        errors["wards"] = "Choose at least one neighbourhood the scheme serves"
    if errors:
        raise Invalid(errors)
    return details


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


async def _unique_slug(council: Council, name: str) -> str:
    base = slugify(name) or "scheme"
    if base in RESERVED_SLUGS:
        base = f"{base}-scheme"
    taken = set(await Scheme.filter(council=council, slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


async def _write_terms(scheme: Scheme, details: SchemeDetails) -> None:
    await SchemeCategory.filter(scheme=scheme).delete()
    await SchemeAudience.filter(scheme=scheme).delete()
    await SchemeCategory.bulk_create([SchemeCategory(scheme=scheme, category=slug) for slug in details.categories])
    await SchemeAudience.bulk_create([SchemeAudience(scheme=scheme, audience=slug) for slug in details.audiences])
    await scheme.wards.clear()
    await scheme.wards.add(*details.wards)


def require_poster(actor: User | None) -> User:
    """The actor, if they may post: signed in and not stopped from posting."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    if actor.suspended:
        raise Forbidden("Your account has been stopped from posting. Contact the council if you think this is a mistake.")
    return actor


async def propose(actor: User | None, council: Council, values: dict[str, Any]) -> Scheme:
    """A signed-in resident proposes a scheme; it waits for an officer, and the proposer becomes its organiser."""
    actor = require_poster(actor)
    details = await check_details(council, values)
    for attempt in range(3):
        try:
            async with in_transaction():
                scheme = await Scheme.create(
                    council=council,
                    slug=await _unique_slug(council, details.text["name"]),
                    proposed_by=actor,
                    search_text=search_text(details.text),
                    **details.text,
                )
                await _write_terms(scheme, details)
                await Membership.create(scheme=scheme, user=actor, role="organiser", added_by=actor)
                await audit.record(actor, "scheme.proposed", scheme, council=council)
            return scheme
        except IntegrityError:
            if attempt == 2:  # two people chose the same name at the same moment, three times over
                raise
    raise AssertionError("unreachable")


async def update(actor: User | None, council: Council, slug: str, values: dict[str, Any]) -> Scheme:
    """An organiser changes the scheme's details; the slug stays. A declined scheme goes back for approval."""
    require_poster(actor)
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    details = await check_details(council, values)
    async with in_transaction():
        for name, value in details.text.items():
            setattr(scheme, name, value)
        scheme.search_text = search_text(details.text)
        resubmitted = scheme.status == "declined"
        if resubmitted:
            scheme.status = "pending"
        await scheme.save()
        await _write_terms(scheme, details)
        await audit.record(actor, "scheme.resubmitted" if resubmitted else "scheme.updated", scheme, council=council)
    return scheme


def scheme_url(council: Council, scheme: Scheme) -> str:
    return f"{site_url(council)}/schemes/{scheme.slug}"


async def organiser_emails(scheme: Scheme) -> list[str]:
    rows = await Membership.filter(scheme=scheme, role="organiser", status="active").prefetch_related("user")
    return sorted({row.user.email for row in rows if not row.user.suspended})


async def tell_organisers(scheme: Scheme, subject: str, body: str) -> list[OutgoingEmail]:
    """Queue one e-mail to each organiser; call inside the transaction of the change."""
    return [await mail.queue(email, subject, body, council_id=scheme.council_id) for email in await organiser_emails(scheme)]


async def approve(actor: User | None, council: Council, slug: str) -> Scheme:
    """An officer of the scheme's council approves it: it joins the directory and the feed."""
    scheme, _ = await access.find_for_officer(actor, council, slug)
    if scheme.status != "pending":
        raise Conflict(f"This scheme is not waiting for approval: it is {scheme.status_name.lower()}.")
    async with in_transaction():
        scheme.status, scheme.decided_by, scheme.decided_at, scheme.decline_reason = "active", actor, timezone.now(), ""
        await scheme.save(update_fields=["status", "decided_by_id", "decided_at", "decline_reason", "updated_at"])
        await audit.record(actor, "scheme.approved", scheme, council=council)
        queued = await tell_organisers(
            scheme,
            f"{scheme.name} is approved",
            f"{council.name} has approved your scheme, {scheme.name}. It is now in the directory for everyone to find:\n\n"
            f"{scheme_url(council, scheme)}\n",
        )
    await mail.deliver(queued)
    return scheme


async def decline(actor: User | None, council: Council, slug: str, reason: str) -> Scheme:
    """An officer declines a proposed scheme, saying why; the proposer is told by e-mail and on the page."""
    scheme, _ = await access.find_for_officer(actor, council, slug)
    reason = paragraphs(reason)
    if not reason:
        raise Invalid({"decline_reason": "Say why, so the proposer knows what to change"})
    if len(reason) > 2000:
        raise Invalid({"decline_reason": "Reason must be 2000 characters or fewer"})
    if scheme.status != "pending":
        raise Conflict(f"This scheme is not waiting for approval: it is {scheme.status_name.lower()}.")
    async with in_transaction():
        scheme.status, scheme.decided_by, scheme.decided_at, scheme.decline_reason = "declined", actor, timezone.now(), reason
        await scheme.save(update_fields=["status", "decided_by_id", "decided_at", "decline_reason", "updated_at"])
        await audit.record(actor, "scheme.declined", scheme, council=council, reason=reason)
        queued = await tell_organisers(
            scheme,
            f"{scheme.name} was not approved",
            f"{council.name} has not approved your scheme, {scheme.name}, yet. They said:\n\n{reason}\n\n"
            f"You can change the scheme and send it again from its page:\n\n{scheme_url(council, scheme)}\n",
        )
    await mail.deliver(queued)
    return scheme
