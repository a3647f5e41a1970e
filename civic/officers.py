"""The officer home: what needs the attention of a council's officers, gathered from every area."""

from __future__ import annotations

import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from civic.accounts import User, require_role
from civic.audit import AuditLog
from civic.councils import Council
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


# Each area adds "module:function" here; the function takes the council and returns a Section.
SECTIONS = [
    "civic.officers:_failed_email",
    "civic.officers:_recent_activity",
    "civic.concerns.escalation:officer_section",
    "civic.schemes.moderation:pending_section",
    "civic.schemes.moderation:reports_section",
    "civic.voting.rounds:officer_section",
    "civic.webhooks.endpoints:officer_section",
]


def _load(target: str) -> Callable[[Council], Awaitable[Section]]:
    return pkgutil.resolve_name(target)


async def attention(user: User | None, council: Council) -> list[Section]:
    """Everything waiting for this council's officers, most important first."""
    await require_role(user, council, "officer", "admin")
    sections = [await _load(target)(council) for target in SECTIONS]
    return sorted(sections, key=lambda s: s.order)
