"""Routing: the council's categories, its early-help teams and the rules that choose a team."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from civic import audit
from civic.accounts import User, has_role, normalise_email, require_role
from civic.concerns.models import Category, RoutingRule, Team, TeamMembership
from civic.concerns.vocabulary import DEFAULT_CATEGORIES
from civic.councils import Council, Ward
from civic.db import as_id, in_transaction
from civic.errors import Invalid, NotFound

CONFIGURE_ROLES = ("officer", "admin")


async def categories(council: Council, *, include_retired: bool = False) -> list[Category]:
    """The council's categories in order; a council with none yet gets the default list."""
    if not await Category.filter(council=council).exists():
        try:
            async with in_transaction():
                for position, (slug, name) in enumerate(DEFAULT_CATEGORIES):
                    await Category.create(council=council, slug=slug, name=name, position=position)
        except IntegrityError:
            pass  # another request made them first
    query = Category.filter(council=council)
    if not include_retired:
        query = query.filter(active=True)
    return await query.order_by("position", "id")


async def route(council: Council, category: Category | None, ward: Ward | None) -> Team | None:
    """The team for a category in a ward: the most specific rule, else the default team."""
    rules = await RoutingRule.filter(council=council, category=category).prefetch_related("team") if category else []
    by_ward = {rule.ward_id: rule.team for rule in rules}  # type: ignore[attr-defined]
    if ward is not None and ward.id in by_ward:
        return by_ward[ward.id]
    if None in by_ward:
        return by_ward[None]
    return await Team.filter(council=council, is_default=True).first()


@dataclass
class RoutingSettings:
    teams: list[Team]
    members: dict[int, list[TeamMembership]]
    categories: list[Category]
    rules: list[RoutingRule]
    wards: list[Ward]


async def settings(user: User | None, council: Council) -> RoutingSettings:
    """Everything on the routing page."""
    await require_role(user, council, *CONFIGURE_ROLES)
    teams = await Team.filter(council=council).order_by("name")
    members: dict[int, list[TeamMembership]] = {team.id: [] for team in teams}
    for membership in await TeamMembership.filter(team__council=council).prefetch_related("user").order_by("id"):
        members[membership.team_id].append(membership)  # type: ignore[attr-defined]
    rules = await RoutingRule.filter(council=council).prefetch_related("category", "ward", "team")
    rules.sort(key=lambda r: (r.category.position if r.category else -1, r.ward.name if r.ward else ""))
    return RoutingSettings(
        teams=teams,
        members=members,
        categories=await categories(council, include_retired=True),
        rules=rules,
        wards=await Ward.filter(council=council).order_by("name"),
    )


def _name(raw: str, field: str, what: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise Invalid({field: f"Enter a name for the {what}"})
    if len(name) > 120:
        raise Invalid({field: f"The {what}'s name must be 120 characters or fewer"})
    return name


async def add_team(user: User | None, council: Council, name: str) -> Team:
    """A new early-help team; the council's first team becomes its default."""
    await require_role(user, council, *CONFIGURE_ROLES)
    name = _name(name, "team_name", "team")
    if await Team.filter(council=council, name=name).exists():
        raise Invalid({"team_name": "There is already a team with that name"})
    async with in_transaction():
        first = not await Team.filter(council=council).exists()
        team = await Team.create(council=council, name=name, is_default=first)
        await audit.record(user, "team.created", team, council=council)
    return team


async def _team(council: Council, team_id: int | str | None, field: str = "team") -> Team:
    team = await Team.get_or_none(id=as_id(team_id), council=council)
    if team is None:
        raise Invalid({field: "Choose a team"})
    return team


async def make_default(user: User | None, council: Council, team_id: int | str) -> Team:
    """Concerns that no rule matches go to this team."""
    await require_role(user, council, *CONFIGURE_ROLES)
    team = await _team(council, team_id)
    async with in_transaction():
        await Team.filter(council=council).exclude(id=team.id).update(is_default=False)
        await Team.filter(id=team.id).update(is_default=True)
        await audit.record(user, "team.made_default", team, council=council)
    return team


async def add_member(user: User | None, council: Council, team_id: int | str, email: str) -> TeamMembership:
    """Put a key worker of this council in a team, so they see the team's concerns."""
    await require_role(user, council, *CONFIGURE_ROLES)
    team = await _team(council, team_id)
    try:
        address = normalise_email(email)
    except Invalid:
        raise Invalid({f"member_email_{team.id}": "Enter an email address in the correct format, like name@example.com"}) from None
    member = await User.get_or_none(email=address)
    if member is None or not await member.role_grants.filter(council=council, role="key-worker").exists():
        if await has_role(user, council, "admin"):
            raise Invalid({f"member_email_{team.id}": "Give them the key worker role first, on the Roles page, then add them to a team"})
        raise Invalid({f"member_email_{team.id}": "They are not a key worker yet. Ask an administrator to give them the key worker role, then add them to a team"})
    async with in_transaction():
        membership, created = await TeamMembership.get_or_create(team=team, user=member)
        if created:
            await audit.record(user, "team.member_added", member, council=council, reason=team.name)
    return membership


async def remove_member(user: User | None, council: Council, membership_id: int | str) -> None:
    await require_role(user, council, *CONFIGURE_ROLES)
    membership = await TeamMembership.get_or_none(id=as_id(membership_id), team__council=council).prefetch_related("team", "user")
    if membership is None:
        raise NotFound()
    async with in_transaction():
        await membership.delete()
        await audit.record(user, "team.member_removed", membership.user, council=council, reason=membership.team.name)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "category"


async def add_category(user: User | None, council: Council, name: str, refer_straight_away: bool = False) -> Category:
    """A new category at the end of the list, before "Something else"."""
    await require_role(user, council, *CONFIGURE_ROLES)
    name = _name(name, "category_name", "category")
    existing = await categories(council, include_retired=True)
    if any(c.name.lower() == name.lower() for c in existing):
        raise Invalid({"category_name": "There is already a category with that name"})
    slug, n = _slug(name), 2
    taken = {c.slug for c in existing}
    base = slug
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    other = next((c for c in existing if c.slug == "other"), None)
    position = other.position if other else len(existing)
    async with in_transaction():
        if other:
            await Category.filter(id=other.id).update(position=other.position + 1)
        category = await Category.create(
            council=council, slug=slug, name=name, position=position, refer_straight_away=refer_straight_away
        )
        await audit.record(user, "category.created", category, council=council)
    return category


async def update_category(user: User | None, council: Council, category_id: int | str, *, active: bool, refer_straight_away: bool) -> Category:
    """Retire or bring back a category, and say whether it skips triage."""
    await require_role(user, council, *CONFIGURE_ROLES)
    category = await Category.get_or_none(id=as_id(category_id), council=council)
    if category is None:
        raise NotFound()
    async with in_transaction():
        category.active = active
        category.refer_straight_away = refer_straight_away
        await category.save(update_fields=["active", "refer_straight_away"])
        await audit.record(
            user, "category.updated", category, council=council,
            reason=f"{'in use' if active else 'retired'}, {'refer straight away' if refer_straight_away else 'triage first'}",
        )
    return category


async def add_rule(user: User | None, council: Council, category_id: str, ward_id: str, team_id: str) -> RoutingRule:
    """Concerns in this category (and ward, if one is chosen) go to this team."""
    await require_role(user, council, *CONFIGURE_ROLES)
    errors: dict[str, str] = {}
    ward = team = None
    category = await Category.get_or_none(id=as_id(category_id), council=council)
    if category is None:
        errors["rule_category"] = "Choose a category"
    if ward_id:
        ward = await Ward.get_or_none(id=as_id(ward_id), council=council)
        if ward is None:
            errors["rule_ward"] = "Choose a ward, or every ward"
    try:
        team = await _team(council, team_id, "rule_team")
    except Invalid as error:
        errors.update(error.errors)
    same_ward = {"ward": ward} if ward else {"ward_id__isnull": True}
    if not errors and await RoutingRule.filter(council=council, category=category, **same_ward).exists():
        errors["rule_category"] = "There is already a rule for that category and ward: remove it first"
    if errors:
        raise Invalid(errors)
    async with in_transaction():
        rule = await RoutingRule.create(council=council, category=category, ward=ward, team=team)
        await audit.record(user, "routing_rule.created", rule, council=council)
    return rule


async def delete_rule(user: User | None, council: Council, rule_id: int | str) -> None:
    await require_role(user, council, *CONFIGURE_ROLES)
    rule = await RoutingRule.get_or_none(id=as_id(rule_id), council=council)
    if rule is None:
        raise NotFound()
    async with in_transaction():
        await rule.delete()
        await audit.record(user, "routing_rule.deleted", rule, council=council)
