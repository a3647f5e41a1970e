"""Demo council Northmere: wards, postcode sectors and people in every role."""

from __future__ import annotations

from civic import accounts
from civic.councils import Council, PostcodeSector, Ward, import_wards

COUNCIL = {
    "slug": "northmere",
    "name": "Northmere Borough Council",
    "brand_colour": "#00703c",
    "emergency_phone": "999",
    "childrens_front_door_phone": "01632 960 123",
    "duty_email": "duty@northmere.example",
    "contact_phone": "01632 960 100",
    "contact_email": "contact@northmere.example",
    "contact_url": "https://www.northmere.example/contact-us",
    # No host names: as the deployment's first council it answers every host, and a test database that
    # also holds the demo never has its browser tests' council taken over.
}

# Postcode sector -> ward. NM is a fictional postcode area; 01632 960xxx is Ofcom's drama range.
SECTORS = """sector,ward
NM1 1,Abbey
NM1 2,Abbey
NM1 3,Castlefields
NM1 4,Castlefields
NM2 1,Harbourside
NM2 2,Harbourside
NM2 3,Millbrook
NM3 1,Millbrook
NM3 2,Oakridge
NM3 3,Oakridge
NM4 1,St Anne's
NM4 2,St Anne's
"""

# Which wards border which, for "near my postcode".
NEIGHBOURS = {
    "Abbey": ["Castlefields", "St Anne's"],
    "Castlefields": ["Abbey", "Harbourside", "Millbrook"],
    "Harbourside": ["Castlefields", "Millbrook"],
    "Millbrook": ["Castlefields", "Harbourside", "Oakridge"],
    "Oakridge": ["Millbrook", "St Anne's"],
    "St Anne's": ["Abbey", "Oakridge"],
}

PEOPLE = [
    # email, display name, postcode, role
    ("admin@northmere.example", "Priya Shah", "NM1 1AB", "admin"),
    ("officer@northmere.example", "Tom Okafor", "NM1 3DE", "officer"),
    ("keyworker@northmere.example", "Beth Morgan", "NM2 1EF", "key-worker"),
    ("resident@northmere.example", "Sam Carter", "NM2 3GH", None),
    ("organiser@northmere.example", "Aled Evans", "NM3 2JL", None),
    ("volunteer@northmere.example", "Zofia Nowak", "NM4 1LN", None),
    ("volunteer2@northmere.example", "Kwame Mensah", "NM1 2PQ", None),
    ("outside@elsewhere.example", "Robin Hale", "SW1A 1AA", None),
]


async def seed_council() -> tuple[Council, str]:
    council, created = await Council.get_or_create(slug=COUNCIL["slug"], defaults=COUNCIL)
    if not await PostcodeSector.filter(council=council).exists():
        await import_wards(council, SECTORS)
        wards = {w.name: w for w in await Ward.filter(council=council)}
        for name, neighbours in NEIGHBOURS.items():
            await wards[name].neighbours.add(*(wards[n] for n in neighbours))
    wards_count = await Ward.filter(council=council).count()
    return council, f"{council.name}: {wards_count} wards ({'created' if created else 'already there'})"


async def seed_people(council: Council) -> str:
    for email, name, postcode, role in PEOPLE:
        user, created = await accounts.User.get_or_create(email=email, defaults={"email_verified": True})
        if created:
            await accounts.complete_profile(user, name, postcode)
        if role:
            await accounts.assign_role(council, email, role)
    lines = [f"  {email} ({role or 'resident'})" for email, _, _, role in PEOPLE]
    return "People (sign in with any of these; the link is printed in the log):\n" + "\n".join(lines)
