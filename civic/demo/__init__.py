"""Demo data: a fictional council with wards, people in every role and sample content for every area."""

from __future__ import annotations

import pkgutil

# Each area adds its seeder here: "module:function", an async function taking the demo council and
# returning a line for the summary. Every seeder must change nothing when run a second time.
SEEDERS = [
    "civic.demo.foundation:seed_people",
    "civic.demo.concerns:seed_concerns",
    "civic.demo.schemes:seed_schemes",
    "civic.demo.rota:seed_rota",
    "civic.demo.voting:seed_rounds",
]


async def seed() -> str:
    """Load the demo; running it twice changes nothing the second time."""
    from civic.demo.foundation import seed_council

    council, line = await seed_council()
    lines = [line]
    for target in SEEDERS:
        lines.append(await pkgutil.resolve_name(target)(council))
    return "\n".join(lines)
