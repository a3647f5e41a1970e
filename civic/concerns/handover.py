"""Referral to early help: the one place a concern is handed to a team, and the seam for delivering it.

`refer_concern` is the single function that creates a Referral. Whatever must happen with a
referral in the same transaction (writing a webhook delivery row to the team's case system: the
transactional outbox) is registered in HANDOVER and awaited by `announce`, inside that transaction,
so the referral and its delivery commit or roll back together.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from civic import audit
from civic.accounts import User
from civic.concerns.access import Viewer
from civic.concerns.models import Concern, ConcernEvent, Referral, Team
from civic.councils import Council
from civic.db import in_transaction

# What a handover hook is told about: a concern was referred to a team, the person who raised it
# added information to a referred concern (or the council merged a duplicate into one), or a referred
# concern was closed or merged by the council.
EVENTS = ("concern.referred", "concern.updated", "concern.withdrawn")

# "module:function" entries, each `async def f(event: str, referral: Referral, duplicate: Concern | None = None) -> None`,
# awaited in order inside the transaction of the change; `duplicate` is the concern just merged into the
# referred one, for a "concern.updated". Webhook delivery (part 2) adds its outbox writer here.
HANDOVER: list[str] = [
    "civic.webhooks.outbox:on_handover",
]


# "module:function" entries, each `async def f(referrals) -> {referral id: [ProgressLine, ...]}`: how each
# referral is reaching its team, for the concern page. Webhook delivery (part 2) reports its deliveries.
PROGRESS: list[str] = [
    "civic.webhooks.tracking:referral_progress",
]


# "module:function", `async def f(reader, concern, referral) -> [(status, label, hint), ...]`: what this reader may record
# about the concern's current referral on its page (key workers of a team with no case system to post it).
RECORDABLE = "civic.webhooks.callbacks:recordable"

# "module:function", `async def f(teams) -> {team id: warning}`: for the refer form, what an officer should know about
# each team a referral would not reach by itself (no working case system, nobody in civic who can see it).
TEAM_WARNINGS = "civic.webhooks.tracking:team_warnings"


@dataclass
class ProgressLine:
    """One thing an officer should know about how a referral is reaching its team."""

    tag: str  # e.g. "Delivered", "Retrying", "Not delivered", "Handled"
    colour: str  # a GOV.UK tag colour: green, orange, red, grey, blue, yellow
    text: str
    href: str = ""  # where an officer can see more or act
    action: str = ""  # what an officer should do about it; key workers, who cannot, are not asked


def _load(target: str) -> Callable[[str, Referral, Concern | None], Awaitable[None]]:
    return pkgutil.resolve_name(target)


async def progress(referrals: Iterable[Referral]) -> dict[int, list[ProgressLine]]:
    """How each referral is reaching its team, from every PROGRESS hook."""
    referrals = list(referrals)
    lines: dict[int, list[ProgressLine]] = {r.id: [] for r in referrals}
    for target in PROGRESS:
        for referral_id, found in (await pkgutil.resolve_name(target)(referrals)).items():
            lines[referral_id] += found
    return lines


async def announce(event: str, referral: Referral, duplicate: Concern | None = None) -> None:
    """Tell every handover hook; call inside the transaction of the change."""
    assert event in EVENTS, event
    assert duplicate is None or event == "concern.updated", event
    for target in HANDOVER:
        await _load(target)(event, referral, duplicate)


async def recordable(reader: Viewer, concern: Concern, referral: Referral | None) -> list[tuple[str, str, str]]:
    """The referral statuses this reader may record on the concern page (RECORDABLE)."""
    return await pkgutil.resolve_name(RECORDABLE)(reader, concern, referral)


async def team_warnings(teams: Iterable[Team]) -> dict[int, str]:
    """What the refer form says beside each team a referral would not reach by itself (TEAM_WARNINGS)."""
    return await pkgutil.resolve_name(TEAM_WARNINGS)(teams)


async def refer_concern(concern: Concern, team: Team, actor: User | None, *, automatic: bool = False) -> Referral:
    """Hand the concern to the team: the Referral row, the history entry and the handover, in one transaction."""
    async with in_transaction():
        referral = await Referral.create(
            council_id=concern.council_id, concern=concern, team=team, referred_by=actor, automatic=automatic
        )
        concern.status = "referred"
        concern.team_id = team.id
        await concern.save(update_fields=["status", "team_id", "updated_at"])
        await ConcernEvent.create(concern=concern, actor=actor, kind="referred", team=team,
                                  text="Referred automatically: this category skips triage" if automatic else None)
        await audit.record(actor, "concern.referred", concern, council=await Council.get(id=concern.council_id), reason=team.name)
        await announce("concern.referred", referral)
    return referral


async def current_referral(concern: Concern) -> Referral | None:
    """The latest referral of the concern, if it was referred."""
    return await Referral.filter(concern=concern).order_by("-created_at", "-id").first()
