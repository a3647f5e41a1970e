"""Volunteers and members: offering to help with consent to share contact details, organisers' decisions, leaving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise import timezone

from civic import audit, mail
from civic.accounts import User
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import access, help_requests, invitations, rota, safeguarding
from civic.schemes.models import MEMBERSHIP_ROLES, Membership, Scheme
from civic.schemes.proposals import require_poster, scheme_url, tell_organisers
from civic.schemes.running import ContactConsent
from civic.schemes.text import one_line, paragraphs, valid_phone
from civic.schemes.when import today, utc

ROLE_NAMES = {"organiser": "Organiser", "volunteer": "Volunteer", "member": "Member"}
# What someone may ask to be when they offer; organisers make people organisers themselves.
OFFER_ROLES = {
    "volunteer": "Volunteer: help with visits, calls, shifts and events",
    "member": "Member: come along, hear news and join in",
}
STATUS_NAMES = {"offered": "Waiting for the organisers", "active": "Active", "declined": "Not accepted", "removed": "Removed", "left": "Left"}
NOTE_LIMIT = 1000


def consent_wording(scheme: Scheme) -> str:
    """The exact words a person agrees to; what is stored is what the form showed."""
    return (
        f"I agree that the organisers of {scheme.name} may see my name, my email address and any phone number "
        f"I give here, so that they can contact me about the scheme. They are local volunteers, not council staff. "
        f"I can leave the scheme at any time, and they will no longer see my details."
    )


@dataclass
class Person:
    """Someone in a scheme, as its organisers see them."""

    membership: Membership
    consent: ContactConsent | None
    check: safeguarding.CheckStatus

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.membership.role, self.membership.role)


async def offer_page(actor: User | None, council: Council, slug: str) -> tuple[Scheme, access.Viewer]:
    """The scheme someone wants to join, and where they stand with it now."""
    require_poster(actor)
    return await access.find(actor, council, slug)


def _check_offer(values: dict[str, Any]) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    role = values.get("role", "")
    if role not in OFFER_ROLES:
        errors["role"] = "Choose whether you want to volunteer or be a member"
    phone = one_line(values.get("phone"))
    if phone and not valid_phone(phone):
        errors["phone"] = "Enter a UK phone number, like 07700 900 123, or leave it blank"
    note = paragraphs(values.get("note"))
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"This must be {NOTE_LIMIT} characters or fewer (it has {len(note)})"
    if values.get("consent") != "yes":
        errors["consent"] = "To join, agree to share your contact details with the organisers"
    if errors:
        raise Invalid(errors)
    return role, phone, note


async def offer(actor: User | None, council: Council, slug: str, values: dict[str, Any]) -> Membership:
    """A resident offers to volunteer for (or join) a scheme, agreeing to share their contact details with its organisers."""
    actor = require_poster(actor)
    scheme, who = await access.find(actor, council, slug)
    role, phone, note = _check_offer(values)
    if scheme.status != "active":
        raise Conflict("This scheme is not taking anyone new at the moment.")
    if who.status == "active":
        raise Conflict(f"You are already {'an organiser' if who.role == 'organiser' else 'a ' + who.role} of this scheme.")
    if who.status == "offered":
        raise Conflict("You have already offered to join. The organisers will be in touch.")
    async with in_transaction():
        membership, _ = await Membership.get_or_create(scheme=scheme, user=actor, defaults={"role": role, "status": "offered"})
        membership.role, membership.status, membership.added_by = role, "offered", actor
        await membership.save()
        await ContactConsent.create(scheme=scheme, user=actor, membership=membership, wording=consent_wording(scheme), phone=phone or None, note=note)
        await audit.record(actor, "volunteer.offered", scheme, council=council, reason=role)
        queued = await tell_organisers(
            scheme,
            f"Someone wants to join {scheme.name}",
            f"{actor} has offered to join {scheme.name} as a {role}. They agreed to share their contact details with you.\n\n"
            f"Accept or decline them here:\n\n{scheme_url(council, scheme)}/people\n",
        )
    await mail.deliver(queued)
    return membership


async def _membership(scheme: Scheme, membership_id: int, *statuses: str) -> Membership:
    """Someone in the scheme, in one of these states; Conflict if they are in another, NotFound if never in it."""
    membership = await Membership.get_or_none(id=membership_id, scheme=scheme).prefetch_related("user")
    if membership is None:
        raise NotFound()
    if membership.status not in statuses:
        if statuses == ("offered",):
            raise Conflict(f"{membership.user} is not waiting for an answer: they are {STATUS_NAMES[membership.status].lower()}.")
        raise Conflict(f"{membership.user} is not an active part of the scheme.")
    return membership


async def accept(actor: User | None, council: Council, slug: str, membership_id: int) -> Membership:
    """An organiser accepts someone's offer; they are told by e-mail."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await _membership(scheme, membership_id, "offered")
    async with in_transaction():
        membership.status = "active"
        await membership.save(update_fields=["status"])
        await audit.record(actor, "volunteer.accepted", scheme, council=council, reason=f"user {membership.user_id}")  # type: ignore[attr-defined]
        queued = await mail.queue(
            membership.user.email,
            f"Welcome to {scheme.name}",
            f"The organisers of {scheme.name} have accepted you as a {membership.role}.\n\n"
            f"See the scheme, its rota and its events here:\n\n{scheme_url(council, scheme)}\n",
            council_id=council.id,
        )
    await mail.deliver([queued])
    return membership


async def decline(actor: User | None, council: Council, slug: str, membership_id: int, reason: str = "") -> Membership:
    """An organiser declines someone's offer, optionally saying why; the organisers stop seeing their details."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await _membership(scheme, membership_id, "offered")
    reason = paragraphs(reason)
    if len(reason) > 1000:
        raise Invalid({"reason": "The reason must be 1000 characters or fewer"})
    async with in_transaction():
        membership.status = "declined"
        await membership.save(update_fields=["status"])
        await ContactConsent.filter(membership=membership, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
        await audit.record(actor, "volunteer.declined", scheme, council=council, reason=f"user {membership.user_id}")  # type: ignore[attr-defined]
        said = f"They said:\n\n{reason}\n\n" if reason else ""
        queued = await mail.queue(
            membership.user.email,
            f"Your offer to join {scheme.name}",
            f"Thank you for offering to join {scheme.name}. The organisers cannot take you on at the moment.\n\n{said}"
            f"You can find other schemes near you here:\n\n{scheme_url(council, scheme).rsplit('/', 1)[0]}\n",
            council_id=council.id,
        )
    await mail.deliver([queued])
    return membership


async def _keep_an_organiser(scheme: Scheme, membership: Membership) -> None:
    if membership.role == "organiser" and await Membership.filter(scheme=scheme, role="organiser", status="active").count() <= 1:
        raise Conflict("A scheme needs at least one organiser. Make someone else an organiser first.")


async def set_role(actor: User | None, council: Council, slug: str, membership_id: int, role: str) -> Membership:
    """An organiser makes someone an organiser, a volunteer or a member."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await _membership(scheme, membership_id, "active")
    if role not in MEMBERSHIP_ROLES:
        raise Invalid({"role": "Choose organiser, volunteer or member"})
    if role == membership.role:
        return membership
    queued: list[mail.OutgoingEmail] = []
    async with in_transaction():
        if role != "organiser":
            await _keep_an_organiser(scheme, membership)
        if membership.role == "organiser":
            await invitations.withdraw_sent_by(actor, membership.user, invitations.NO_LONGER_ORGANISES, scheme)
        membership.role = role
        await membership.save(update_fields=["role"])
        if role == "member":
            # Members take no shifts or jobs: hand back what they had.
            queued = await _stand_down(council, scheme, membership.user)
        await audit.record(actor, "volunteer.role_changed", scheme, council=council, reason=f"user {membership.user_id}: {role}")  # type: ignore[attr-defined]
    await mail.deliver(queued)
    return membership


async def _stand_down(council: Council, scheme: Scheme, user: User, now: datetime | None = None) -> list[mail.OutgoingEmail]:
    """Someone stops helping: their coming shifts are freed and their jobs go back to the organisers."""
    now = utc(now)
    freed = await rota.drop_future_signups(scheme, user, now)
    return [*await rota.tell_about_free_places(council, scheme, user, freed, now), *await help_requests.release(council, scheme, user)]


async def stand_down_everywhere(user: User, now: datetime | None = None) -> list[mail.OutgoingEmail]:
    """Someone's account is going: in every scheme they are part of, their coming shifts are freed and
    their jobs go back to the organisers, who are told. Call inside the deleting transaction."""
    queued: list[mail.OutgoingEmail] = []
    for membership in await Membership.filter(user=user, status="active").prefetch_related("scheme__council"):
        queued += await _stand_down(membership.scheme.council, membership.scheme, user, now)
    return queued


async def remove(actor: User | None, council: Council, slug: str, membership_id: int) -> Membership:
    """An organiser removes someone from the scheme; the organisers stop seeing their contact details."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await _membership(scheme, membership_id, "active")
    async with in_transaction():
        await _keep_an_organiser(scheme, membership)
        membership.status = "removed"
        await membership.save(update_fields=["status"])
        await invitations.withdraw_sent_by(actor, membership.user, invitations.NO_LONGER_ORGANISES, scheme)
        await ContactConsent.filter(membership=membership, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
        queued = await _stand_down(council, scheme, membership.user)
        await audit.record(actor, "volunteer.removed", scheme, council=council, reason=f"user {membership.user_id}")  # type: ignore[attr-defined]
    await mail.deliver(queued)
    return membership


async def leave(actor: User | None, council: Council, slug: str) -> Membership:
    """Someone leaves a scheme (or withdraws their offer); the organisers stop seeing their contact details."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    scheme, who = await access.find(actor, council, slug)
    membership = await Membership.get_or_none(scheme=scheme, user=actor, status__in=("active", "offered"))
    if membership is None:
        raise Conflict("You are not part of this scheme.")
    async with in_transaction():
        await _keep_an_organiser(scheme, membership)
        membership.status = "left"
        await membership.save(update_fields=["status"])
        await invitations.withdraw_sent_by(actor, actor, invitations.NO_LONGER_ORGANISES, scheme)
        await ContactConsent.filter(membership=membership, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
        queued = await _stand_down(council, scheme, actor)
        await audit.record(actor, "volunteer.left", scheme, council=council)
    await mail.deliver(queued)
    return membership


# What organisers see


async def _people(scheme: Scheme, memberships: list[Membership], on: date) -> list[Person]:
    consents: dict[int, ContactConsent] = {}
    for consent in await ContactConsent.filter(membership_id__in=[m.id for m in memberships], withdrawn_at__isnull=True):
        consents.setdefault(consent.membership_id, consent)  # newest first
    checks = {c.membership_id: c for c in await safeguarding.SafeguardingCheck.filter(membership_id__in=[m.id for m in memberships])}
    return [Person(m, consents.get(m.id), safeguarding.status_of(checks.get(m.id), on)) for m in memberships]


@dataclass
class PeoplePage:
    scheme: Scheme
    offers: list[Person]
    people: list[Person]


async def people_page(actor: User | None, council: Council, slug: str, now: datetime | None = None) -> PeoplePage:
    """Everyone in the scheme with their contact details and checks: for its organisers only."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    on = today(utc(now))
    offered = list(await Membership.filter(scheme=scheme, status="offered").prefetch_related("user").order_by("created_at", "id"))
    order = {role: n for n, role in enumerate(MEMBERSHIP_ROLES)}
    active = sorted(
        await Membership.filter(scheme=scheme, status="active").prefetch_related("user"),
        key=lambda m: (order.get(m.role, 9), str(m.user).lower()),
    )
    return PeoplePage(scheme, await _people(scheme, offered, on), await _people(scheme, active, on))


async def person_page(actor: User | None, council: Council, slug: str, membership_id: int, now: datetime | None = None) -> tuple[Scheme, Person, Any]:
    """One person, their consent record and their check, for the scheme's organisers."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await _membership(scheme, membership_id, "active", "offered")
    [person] = await _people(scheme, [membership], today(utc(now)))
    check = await safeguarding.check_for(membership.id)
    return scheme, person, check


async def my_memberships(actor: User | None, council: Council) -> list[Membership]:
    """The schemes of this council someone belongs to or has offered to join."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    return list(
        await Membership.filter(user=actor, status__in=("active", "offered"), scheme__council=council)
        .prefetch_related("scheme")
        .order_by("scheme__name")
    )
