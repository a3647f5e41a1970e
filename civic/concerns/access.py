"""Who may see a concern, and the access log every view and export writes.

Only officers of the concern's council, and key workers of that council in a team the concern was
assigned or referred to, may see a concern; a duplicate goes with the concern it was merged into.
Everyone else is told it does not exist (NotFound), whichever way they ask: the concern page, the
queue, search, export or the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from civic.accounts import RoleGrant, User, roles_of
from civic.concerns.models import Concern, ConcernAccess, TeamMembership
from civic.councils import Council
from civic.errors import Forbidden, NotFound

STAFF_ROLES = {"officer", "key-worker"}
ACTION_LIMIT = 200


@dataclass
class Viewer:
    """What a signed-in person may see of one council's concerns."""

    user: User
    council: Council
    roles: set[str]
    team_ids: set[int] = field(default_factory=set)

    @property
    def is_officer(self) -> bool:
        return "officer" in self.roles

    def concerns(self) -> QuerySet[Concern]:
        """The concerns of this council this person may see."""
        query = Concern.filter(council=self.council)
        if self.is_officer:
            return query
        if not self.team_ids:
            return query.filter(id=-1)
        mine = Q(team_id__in=self.team_ids) | Q(referrals__team_id__in=self.team_ids)
        # A duplicate goes with the concern it was merged into: the team was sent its account, and its page links there.
        of_mine = Q(merged_into__team_id__in=self.team_ids) | Q(merged_into__referrals__team_id__in=self.team_ids)
        return query.filter(mine | of_mine).distinct()

    def require_officer(self) -> None:
        """Key workers may read their team's concerns and add notes; every other action is an officer's."""
        if not self.is_officer:
            raise Forbidden("Only council officers can do that.")


async def viewer(user: User | None, council: Council) -> Viewer:
    """The person as a reader of concerns; NotFound for anyone who may read none of this council's."""
    if user is None or user.suspended:
        raise NotFound()
    roles = (await roles_of(user)).get(council.id, set()) & STAFF_ROLES
    if not roles:
        raise NotFound()
    team_ids: set[int] = set()
    if "key-worker" in roles:
        team_ids = set(
            await TeamMembership.filter(user=user, team__council=council).values_list("team_id", flat=True)  # type: ignore[arg-type]
        )
    return Viewer(user=user, council=council, roles=roles, team_ids=team_ids)


async def key_workers_by_team(team_ids: Iterable[int]) -> dict[int, int]:
    """How many people in each team could open a concern referred to it: members who hold the key worker role
    in the team's council and are not suspended (what `viewer` and `Viewer.concerns` let through)."""
    team_ids = set(team_ids)
    if not team_ids:
        return {}
    members = await TeamMembership.filter(team_id__in=team_ids, user__suspended=False).values_list("team_id", "user_id", "team__council_id")
    grants = set(
        await RoleGrant.filter(user_id__in={user_id for _, user_id, _ in members}, role="key-worker").values_list("user_id", "council_id")
    ) if members else set()
    counts = dict.fromkeys(team_ids, 0)
    for team_id, user_id, council_id in members:
        if (user_id, council_id) in grants:
            counts[team_id] += 1
    return counts


async def find(reader: Viewer, reference: str) -> Concern:
    """One concern by its reference, if this person may see it."""
    concern = await reader.concerns().filter(reference=normalise_reference(reference)).first()
    if concern is None:
        raise NotFound()
    return concern


def normalise_reference(raw: str) -> str:
    """'abcd 2345' or 'ABCD2345' -> 'ABCD-2345'."""
    compact = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    # Anything else cannot be a reference; cut to the column's width so the lookup finds nothing
    # rather than the database refusing an over-long value.
    return f"{compact[:4]}-{compact[4:]}" if len(compact) == 8 else compact[:12]


async def log(user: User | None, council: Council, concerns: Iterable[Concern], action: str) -> None:
    """Write one access-log row per concern: who, when, what."""
    await ConcernAccess.bulk_create(
        [ConcernAccess(council=council, concern=c, reference=c.reference, user=user, action=action) for c in concerns]
    )


async def log_delivery(delivery: Any, action: str) -> None:
    """One access-log row for a webhook delivery that carried the concern to a team's system."""
    await ConcernAccess.create(council_id=delivery.council_id, concern_id=delivery.concern_id, reference=delivery.reference, user=None, action=action[:ACTION_LIMIT])


async def access_log(user: User | None, council: Council, reference: str) -> tuple[Concern, list[ConcernAccess]]:
    """Who has seen this concern, newest first: for officers."""
    reader = await viewer(user, council)
    concern = await find(reader, reference)
    reader.require_officer()
    entries = await ConcernAccess.filter(concern=concern).prefetch_related("user").limit(500)
    return concern, entries
