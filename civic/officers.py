"""The officer home: what needs the attention of a council's officers, gathered from every area."""

from __future__ import annotations

import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from civic.accounts import User, roles_of
from civic.audit import AuditLog
from civic.councils import Council
from civic.errors import Forbidden
from civic.mail import OutgoingEmail


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
    failed = await OutgoingEmail.filter(status="failed").count()
    items = [AttentionItem(f"{failed} e-mails could not be sent after every retry", tag="Problem")] if failed else []
    return Section("E-mail delivery", items, empty="Every e-mail has been sent.", order=90)


async def _recent_activity(council: Council) -> Section:
    entries = await AuditLog.filter(council=council).prefetch_related("actor").limit(8)
    items = [
        AttentionItem(f"{entry.created_at:%d %b %H:%M}: {entry.action} by {entry.actor or 'the system'}" + (f" ({entry.reason})" if entry.reason else ""))
        for entry in entries
    ]
    return Section("Recent activity", items, empty="No activity yet.", order=95)


STAFF = ("officer", "admin")

# Each area adds ("module:function", roles) here; the function takes the council and returns a Section,
# shown to those holding one of the roles there. Concerns are special-category data that only officers
# (and key workers) may read: an administrator is not shown even their references.
SECTIONS = [
    ("civic.officers:_failed_email", STAFF),
    ("civic.officers:_recent_activity", STAFF),
    ("civic.concerns.escalation:officer_section", ("officer",)),
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
