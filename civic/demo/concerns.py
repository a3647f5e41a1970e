"""Demo concerns for Northmere: two early-help teams, routing rules, and a concern in every state."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from civic.accounts import User
from civic.concerns import handover, routing
from civic.concerns.models import Category, Concern, ConcernEvent, RoutingRule, Team, TeamMembership
from civic.concerns.notices import status_url
from civic.concerns.vocabulary import URGENCY
from civic.councils import Council, Ward

TEAMS = [("Family Support North", True), ("Young People's Team", False)]
MEMBERS = {"keyworker@northmere.example": "Family Support North"}
# category slug, ward (None: every ward), team
RULES = [
    ("child-wellbeing", "Abbey", "Family Support North"),
    ("leaving-home", None, "Young People's Team"),
    ("mental-health", "Harbourside", "Young People's Team"),
]
REFER_STRAIGHT_AWAY = {"leaving-home"}

# reference, status link secret, what state, category, ward, urgency, hours ago, about, details, contact
CONCERNS = [
    ("NRTH-2A2A", "demo-new-overdue", "new", "child-wellbeing", "Abbey", "day", 30, "child",
     "The boy at number 14 has been coming to ours for food most evenings. He says his mum is poorly.", "none"),
    ("NRTH-3B3B", "demo-new", "new", "isolation", "Oakridge", "week", 5, "neighbour",
     "My neighbour, who is in her eighties, has not been out since her husband died in the spring.", "email"),
    ("NRTH-4C4C", "demo-open", "open", "money-housing", "Millbrook", "week", 50, "family",
     "My sister has had an eviction letter and is frightened to open the post.", "phone"),
    ("NRTH-5D5D", "demo-referred", "referred", "caring", "Castlefields", "day", 72, "myself",
     "I look after my dad, who has dementia, and my two children. I am not sleeping.", "email"),
    ("NRTH-6E6E", "demo-auto-referred", "referred", "leaving-home", "St Anne's", "day", 3, "child",
     "A 16-year-old I coach says he is being thrown out this weekend and has nowhere to go.", "email"),
    ("NRTH-7F7F", "demo-question", "open", "mental-health", "Harbourside", "when-you-can", 120, "someone-else",
     "A young man on our street shouts at night and seems very low during the day.", "email"),
    ("NRTH-8G8G", "demo-nfa", "closed", "other", "Abbey", "when-you-can", 400, "neighbour",
     "Loud music from next door most weekends.", "none"),
    ("NRTH-9H9H", "demo-signposted", "closed", "isolation", "Millbrook", "week", 300, "family",
     "My uncle would like company but does not want carers.", "email"),
    ("NRTH-2J3K", "demo-merged", "closed", "child-wellbeing", "Abbey", "day", 28, "child",
     "Same boy at number 14: he was outside in the rain at ten last night.", "none"),
]


async def seed_concerns(council: Council) -> str:
    """Teams, rules and concerns; a second run changes nothing."""
    categories = {c.slug: c for c in await routing.categories(council, include_retired=True)}
    await Category.filter(council=council, slug__in=list(REFER_STRAIGHT_AWAY)).update(refer_straight_away=True)
    teams: dict[str, Team] = {}
    for name, default in TEAMS:
        teams[name], _ = await Team.get_or_create(council=council, name=name, defaults={"is_default": default})
    for email, team_name in MEMBERS.items():
        user = await User.get_or_none(email=email)
        if user is not None:
            await TeamMembership.get_or_create(team=teams[team_name], user=user)
    wards = {w.name: w for w in await Ward.filter(council=council)}
    for slug, ward_name, team_name in RULES:
        ward = wards.get(ward_name) if ward_name else None
        same_ward = {"ward": ward} if ward else {"ward_id__isnull": True}
        if not await RoutingRule.filter(council=council, category=categories[slug], **same_ward).exists():
            await RoutingRule.create(council=council, category=categories[slug], ward=ward, team=teams[team_name])

    officer = await User.get_or_none(email="officer@northmere.example")
    now = timezone.now()
    made = 0
    for reference, key, state, slug, ward_name, urgency, hours_ago, about, details, contact in CONCERNS:
        if await Concern.filter(reference=reference).exists():
            continue
        made += 1
        raised = now - timedelta(hours=hours_ago)
        concern = await Concern.create(
            council=council, reference=reference, status_key=key, about=about, category=categories[slug],
            ward=wards.get(ward_name), urgency=urgency, urgency_rank=URGENCY[urgency].rank, person_knows="no",
            details=details, contact_by=contact,
            reporter_name="Sam Carter" if contact != "none" else None,
            reporter_email="resident@northmere.example" if contact == "email" else None,
            reporter_phone="01632 960 456" if contact == "phone" else None,
            due_at=raised + URGENCY[urgency].respond_within,
        )
        await Concern.filter(id=concern.id).update(created_at=raised)
        await ConcernEvent.create(concern=concern, kind="created")
        if state == "new":
            continue
        await Concern.filter(id=concern.id).update(first_opened_at=raised + timedelta(hours=1), status="open")
        await ConcernEvent.create(concern=concern, actor=officer, kind="opened")
        concern = await Concern.get(id=concern.id)
        if reference == "NRTH-4C4C":
            await Concern.filter(id=concern.id).update(team_id=teams["Family Support North"].id)
            await ConcernEvent.create(concern=concern, actor=officer, kind="assigned", team=teams["Family Support North"])
            await ConcernEvent.create(concern=concern, actor=officer, kind="note", text="Called the sister: she agreed to a visit.")
        elif reference == "NRTH-7F7F":
            await ConcernEvent.create(concern=concern, actor=officer, kind="info-requested", text="Do you know roughly how old he is?")
        elif state == "referred":
            team = await routing.route(council, categories[slug], wards.get(ward_name))
            await handover.refer_concern(concern, team or teams["Family Support North"], None if slug in REFER_STRAIGHT_AWAY else officer,
                                         automatic=slug in REFER_STRAIGHT_AWAY)
        elif state == "closed":
            closed = {"closed_at": raised + timedelta(days=2), "status": "closed"}
            if reference == "NRTH-8G8G":
                await Concern.filter(id=concern.id).update(closed_reason="no-further-action", **closed)
                await ConcernEvent.create(concern=concern, actor=officer, kind="closed", text="Noise: passed to environmental health.")
            elif reference == "NRTH-9H9H":
                await Concern.filter(id=concern.id).update(
                    closed_reason="signposted", signpost_name="Millbrook Befriending",
                    signpost_url="https://millbrook-befriending.example/", **closed,
                )
                await ConcernEvent.create(concern=concern, actor=officer, kind="signposted", text="Millbrook Befriending")
            else:
                kept = await Concern.get(reference="NRTH-2A2A")
                await Concern.filter(id=concern.id).update(closed_reason="merged", merged_into_id=kept.id, **closed)
                await ConcernEvent.create(concern=concern, actor=officer, kind="merged-into", text=kept.reference)
                await ConcernEvent.create(concern=kept, actor=officer, kind="merged-from", text=concern.reference)
    return (
        f"Concerns: {len(CONCERNS)} in every state ({made} new), teams {', '.join(teams)}; "
        f"a reporter's status page: {status_url('NRTH-5D5D', 'demo-referred', council)}"
    )
