"""Demo rounds for Northmere: one open for voting with 8 priorities, one with published results."""

from __future__ import annotations

import random
from datetime import timedelta

from tortoise import timezone

from civic import voting
from civic.accounts import User
from civic.councils import Council, Ward
from civic.voting.models import Round, VotingCode
from civic.voting.parsing import datetime_local_value

OPEN_TITLE = "Our priorities for 2026 to 2027"
OPEN_PRIORITIES = [
    ("Early help for families", "Family support workers who step in before problems become a crisis."),
    ("Youth clubs and youth workers", "Evening and weekend youth clubs, and youth workers out on the streets."),
    ("Help for older people to stay at home", "Home adaptations, falls prevention and befriending."),
    ("Support for unpaid carers", "Breaks, advice and a carers' card with local discounts."),
    ("Road and pavement repairs", "Fixing potholes and uneven pavements, worst first."),
    ("Parks and green spaces", "Play areas, tree planting and keeping parks clean and safe."),
    ("Libraries and community hubs", "Longer opening hours and free digital help."),
    ("Street cleaning and fly-tipping", "Faster clear-ups and more enforcement."),
]

PUBLISHED_TITLE = "Neighbourhood improvements 2025"
PUBLISHED_PRIORITIES = [
    # title, cost, ward (None for the whole borough)
    ("New play equipment in Abbey Park", 40_000, "Abbey"),
    ("Safer crossing on Castle Street", 35_000, "Castlefields"),
    ("Harbourside community garden", 18_000, "Harbourside"),
    ("Millbrook youth shelter", 12_000, "Millbrook"),
    ("Oakridge footpath lighting", 30_000, "Oakridge"),
    ("St Anne's lunch club kitchen", 15_000, "St Anne's"),
    ("Borough-wide befriending phone line", 25_000, None),
    ("Defibrillators in every ward", 9_000, None),
    ("Library homework club", 8_000, None),
    ("Repair café in a mobile van", 20_000, None),
]
# Each ward's residents lean towards their own ward's priority, and most like a few borough-wide ones.
BALLOTS_PER_WARD = 60
CODES_PER_WARD = 200


async def seed_rounds(council: Council) -> str:
    """The demo's two rounds; running it again changes nothing."""
    officer = await User.get(email="officer@northmere.example")
    lines = [await _open_round(council, officer), await _published_round(council, officer)]
    return "Priority rounds:\n" + "\n".join(lines)


async def _open_round(council: Council, officer: User) -> str:
    existing = await Round.get_or_none(council=council, title=OPEN_TITLE)
    if existing is not None:
        return f"  {OPEN_TITLE} (already there)"
    round_ = await voting.create_round(
        officer,
        council,
        {
            "title": OPEN_TITLE,
            "explanation": (
                "Every resident of Northmere holds 100 shares in the council's services. "
                "Spread yours across the priorities that matter most to you.\n\n"
                "The £2.4 million of flexible money next year will be split in proportion to the shares each priority receives."
            ),
            "budget": "2400000",
            "shares_per_resident": "100",
            "minimum_priorities": "2",
            "max_shares_per_priority": "50",
            "closes_at": datetime_local_value(timezone.now() + timedelta(days=28)),
            "method": "split",
            "eligibility": "residents",
        },
    )
    for title, description in OPEN_PRIORITIES:
        await voting.add_priority(officer, council, round_.id, {"title": title, "description": description})
    await voting.open_round(officer, council, round_.id)
    return f"  {OPEN_TITLE}: open, {len(OPEN_PRIORITIES)} priorities, sign in as a resident to vote"


async def _published_round(council: Council, officer: User) -> str:
    existing = await Round.get_or_none(council=council, title=PUBLISHED_TITLE)
    if existing is not None:
        return f"  {PUBLISHED_TITLE} (already there)"
    wards = {w.name: w for w in await Ward.filter(council=council)}
    round_ = await voting.create_round(
        officer,
        council,
        {
            "title": PUBLISHED_TITLE,
            "explanation": (
                "Voting codes were posted to households in every ward. Residents spread 10 shares across small "
                "projects, and the £150,000 was shared out in equal shares, so that everyone who voted "
                "controlled an equal part of the money."
            ),
            "budget": "150000",
            "shares_per_resident": "10",
            "minimum_priorities": "1",
            "method": "equal_shares",
            "eligibility": "codes",
        },
    )
    for title, cost, ward in PUBLISHED_PRIORITIES:
        await voting.add_priority(officer, council, round_.id, {"title": title, "cost": str(cost), "ward": str(wards[ward].id) if ward else ""})
    batches = {}
    for name, ward in wards.items():
        batches[name] = await voting.generate_codes(officer, council, round_.id, {"size": str(CODES_PER_WARD), "label": "Posted to every home", "batch_ward": str(ward.id)})
    await voting.open_round(officer, council, round_.id)
    priorities = await voting.Priority.filter(round=round_)
    borough = [p for p in priorities if p.ward_id is None]  # type: ignore[attr-defined]
    chance = random.Random(2025)
    for name, batch in batches.items():
        local = [p for p in priorities if p.ward_id == wards[name].id]  # type: ignore[attr-defined]
        codes = await VotingCode.filter(batch=batch).limit(BALLOTS_PER_WARD + chance.randint(-20, 20))
        for code in codes:
            shares = {p: 0 for p in priorities}
            for _ in range(10):
                pick = local[0] if local and chance.random() < 0.45 else chance.choice(borough if chance.random() < 0.7 else priorities)
                shares[pick] += 1
            form = {f"shares-{p.id}": str(n) for p, n in shares.items() if n}
            await voting.cast_ballot(None, council, round_.id, form, code=code.code)
    await voting.close_round(officer, council, round_.id)
    await voting.publish_results(officer, council, round_.id)
    funded = await Round.get(id=round_.id)
    first = next(p for p in priorities if p.key == funded.results["selected"][0])
    await voting.post_progress(officer, council, round_.id, first.id, {"status": "in_progress", "note": "The contractor is booked and work starts next month."})
    return f"  {PUBLISHED_TITLE}: results published, {funded.results['ballots']} ballots cast with voting codes"
