"""Who may see and change a scheme: the public, its organisers, and the council's officers."""

from __future__ import annotations

from dataclasses import dataclass

from civic.accounts import User, has_role
from civic.councils import Council
from civic.errors import Forbidden, NotFound
from civic.schemes.models import Membership, Scheme

STAFF_ROLES = ("officer", "admin")
HELPER_ROLES = ("organiser", "volunteer")


@dataclass(frozen=True)
class Viewer:
    """What one person may do with one scheme."""

    user: User | None
    is_organiser: bool = False
    is_officer: bool = False
    role: str = ""  # their membership of the scheme, if any: organiser, volunteer or member
    status: str = ""  # offered, active, declined, removed or left

    @property
    def is_helper(self) -> bool:
        """An active volunteer or organiser: who may see the rota and be given jobs."""
        return self.status == "active" and self.role in HELPER_ROLES


async def is_officer(user: User | None, council: Council) -> bool:
    return await has_role(user, council, *STAFF_ROLES)


async def is_organiser(user: User | None, scheme: Scheme) -> bool:
    if user is None or user.suspended:
        return False
    return await Membership.filter(scheme=scheme, user=user, role="organiser", status="active").exists()


async def viewer(user: User | None, council: Council, scheme: Scheme) -> Viewer:
    membership = None
    if user is not None and not user.suspended:
        membership = await Membership.get_or_none(scheme=scheme, user=user)
    role, status = (membership.role, membership.status) if membership else ("", "")
    return Viewer(
        user=user,
        is_organiser=role == "organiser" and status == "active",
        is_officer=await is_officer(user, council),
        role=role,
        status=status,
    )


async def find(user: User | None, council: Council, slug: str, joined: tuple[str, ...] = ()) -> tuple[Scheme, Viewer]:
    """The scheme with this slug if this person may see it; NotFound otherwise (even if it exists).

    `joined` names one-to-one relations to read in the same query (e.g. "proposed_by").
    """
    scheme = await Scheme.get_or_none(council=council, slug=slug).select_related(*joined)
    if scheme is None:
        raise NotFound()
    who = await viewer(user, council, scheme)
    if not (scheme.is_public or who.is_organiser or who.is_officer):
        raise NotFound()
    return scheme, who


async def public_name(council: Council, slug: str) -> str:
    """The name of the scheme with this slug if anyone may see it, else '': for pages that say what a link is for."""
    scheme = await Scheme.get_or_none(council=council, slug=slug).only("id", "name", "status", "hidden")
    return scheme.name if scheme is not None and scheme.is_public else ""


async def find_for_organiser(user: User | None, council: Council, slug: str) -> tuple[Scheme, Viewer]:
    """The scheme, for one of its organisers; others get Forbidden (or NotFound if they cannot see it)."""
    scheme, who = await find(user, council, slug)
    if not who.is_organiser:
        raise Forbidden("Only the scheme's organisers can do that.")
    return scheme, who


async def find_for_officer(user: User | None, council: Council, slug: str) -> tuple[Scheme, Viewer]:
    """The scheme, for an officer of its council; others get Forbidden (or NotFound if they cannot see it)."""
    scheme, who = await find(user, council, slug)
    if not who.is_officer:
        raise Forbidden("Only the council's officers can do that.")
    return scheme, who


async def helpers(scheme: Scheme) -> list[Membership]:
    """The scheme's active volunteers and organisers, who may take jobs and shifts, by name."""
    rows = await Membership.filter(scheme=scheme, status="active", role__in=HELPER_ROLES).prefetch_related("user")
    return sorted((m for m in rows if not m.user.suspended), key=lambda m: str(m.user).lower())
