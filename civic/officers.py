"""The officer home: what needs the attention of a council's officers, gathered from every area."""

from __future__ import annotations

import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tortoise import timezone
from tortoise.expressions import Q

from civic import audit
from civic.accounts import User, require_role, roles_of
from civic.audit import AuditLog
from civic.concerns.models import ConcernEmail
from civic.concerns.notices import SCRUBBED_ADDRESS
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Forbidden, NotFound
from civic.mail import OutgoingEmail, address_digests
from civic.schemes import when


@dataclass
class AttentionItem:
    text: str
    href: str = ""
    tag: str = ""  # e.g. "Overdue", shown as a GOV.UK tag


@dataclass
class Section:
    title: str
    items: list[AttentionItem] = field(default_factory=list)
    empty: str = "Nothing needs you here."
    href: str = ""
    order: int = 50


async def _failed_email(council: Council) -> Section:
    failed = await OutgoingEmail.filter(council=council, status="failed").count()
    noun = "email" if failed == 1 else "emails"
    items = [AttentionItem(f"{failed} {noun} could not be sent after every retry", href="/officer/email", tag="Problem")] if failed else []
    return Section("Email delivery", items, empty="Every email has been sent.", href="/officer/email", order=90)


# The most listed at once; "send them all again" sends every one. Addresses and subjects of messages to
# people who raised concerns are among them, which is why the list is for officers, not administrators.
FAILED_SHOWN = 200


async def failed_email(actor: User | None, council: Council) -> list[OutgoingEmail]:
    """This council's e-mails given up on after every retry, newest first (kept for mail.KEEP).

    Each has `to_concern_reporter` set: officers never see the address of someone who raised a
    concern, so the page names them only as that.
    """
    await require_role(actor, council, "officer")
    # Not the bodies and attachments: the page does not show them, and they would each be decrypted.
    rows = list(
        await OutgoingEmail.filter(council=council, status="failed")
        .order_by("-created_at", "-id")
        .limit(FAILED_SHOWN)
        .only("id", "to", "subject", "status", "attempts", "last_error", "created_at")
    )
    reporters = set(await ConcernEmail.filter(email_id__in=[row.id for row in rows]).values_list("email_id", flat=True)) if rows else set()
    for row in rows:
        row.to_concern_reporter = row.id in reporters or row.to == SCRUBBED_ADDRESS  # type: ignore[attr-defined]
    return rows


def can_send_again(row: OutgoingEmail) -> bool:
    """Not one whose address has been removed (to someone who raised a concern, after a week)."""
    return row.status == "failed" and row.to != SCRUBBED_ADDRESS


async def send_again(actor: User | None, council: Council, email_id: int | None = None) -> int:
    """Put one failed e-mail (or, with no id, all of them) back in the queue, with every retry to come.

    For after the mail relay is mended. Returns how many will go; audited.
    """
    await require_role(actor, council, "officer")
    failed = OutgoingEmail.filter(council=council, status="failed").exclude(to_digest__in=address_digests(SCRUBBED_ADDRESS))
    async with in_transaction():
        if email_id is not None:
            if not await OutgoingEmail.exists(id=email_id, council=council):
                raise NotFound()
            failed = failed.filter(id=email_id)
        # Conditional on 'failed': two officers pressing at once put each message back once.
        count = await failed.update(status="pending", attempts=0, next_attempt_at=timezone.now(), last_error="")
        if count:
            await audit.record(actor, "email.sent_again", council=council, reason=f"{count} email{'s' if count != 1 else ''}")
    return count


async def _duty_address(council: Council) -> Section:
    # Escalations and failed deliveries are e-mailed here; without one they reach nobody but this page.
    items = [] if council.duty_email else [AttentionItem(
        "No duty address is set, so nobody is emailed about concerns past their time or referrals that "
        "could not be delivered. An administrator sets it in the council's settings.",
        href="/admin/council", tag="No duty address",
    )]
    return Section("Duty address", items, empty=f"Alerts about concerns past their time and referrals not delivered are emailed to {council.duty_email}.", order=5)


# Administrators see "Recent activity" too, and what was done with a concern is for officers: its team,
# why it was closed, what its team did with the referral ("Passed to statutory social care", the key
# worker's name) and how an officer said the team was told. The concern's own page keeps all of it.
FOR_OFFICERS_ONLY = Q(action__startswith="concern.") | Q(action__startswith="referral.") | Q(action="webhook.cancelled")


async def _recent_activity(council: Council) -> Section:
    entries = await AuditLog.filter(council=council).exclude(FOR_OFFICERS_ONLY).prefetch_related("actor").limit(8)
    items = [
        AttentionItem(f"{when.short_moment(entry.created_at)}: {entry.actor or 'civic'} {audit.words(entry.action)}" + (f" ({entry.reason})" if entry.reason else ""))
        for entry in entries
    ]
    return Section("Recent activity", items, empty="No activity yet.", order=95)


STAFF = ("officer", "admin")

# Each area adds ("module:function", roles) here; the function takes the council and returns a Section,
# shown to those holding one of the roles there. Concerns are special-category data that only officers
# (and key workers) may read: an administrator is not shown even their references, nor the e-mails that
# failed (some are to people who raised concerns).
SECTIONS = [
    ("civic.officers:_duty_address", STAFF),
    ("civic.officers:_failed_email", ("officer",)),
    ("civic.officers:_recent_activity", STAFF),
    ("civic.concerns.escalation:officer_section", ("officer",)),
    ("civic.webhooks.tracking:officer_section", ("officer",)),
    ("civic.schemes.moderation:pending_section", STAFF),
    ("civic.schemes.moderation:reports_section", STAFF),
    ("civic.voting.rounds:officer_section", STAFF),
    ("civic.webhooks.endpoints:officer_section", STAFF),
]


def _load(target: str) -> Callable[[Council], Awaitable[Section]]:
    return pkgutil.resolve_name(target)


async def attention(user: User | None, council: Council) -> list[Section]:
    """Everything waiting for this council's officers, most important first."""
    # One read of the grants serves both the permission check and which sections to show.
    held = (await roles_of(user)).get(council.id, set()) if user is not None and not user.suspended else set()
    if not held.intersection(STAFF):
        raise Forbidden()
    sections = [await _load(target)(council) for target, roles in SECTIONS if held.intersection(roles)]
    return sorted(sections, key=lambda s: s.order)
