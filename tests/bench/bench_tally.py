"""Tally benchmark: 100,000 ballots over 20 priorities on PostgreSQL, counted by split and by MES with Add1.

Run: python tests/bench/bench_tally.py [BALLOTS]   (needs PostgreSQL; CIVIC_BENCH_DATABASE_URL picks the server)

Prints the time to read the ballots from the database, to count, and the total, for each method.
The goal from the performance issue: under 1 s for split, end to end.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from civic.counting import count
from civic.voting.models import Priority, Round
from civic.voting.results import count_round, profile_of
from tests.bench.support import bench_database, copy_rows, timer

PRIORITIES = 20
SHARES = 100


def _ballots(n: int, priorities: list[int], wards: list[int], rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    """Ballots that spread 100 shares over 1 to 6 priorities, some priorities far more popular than others."""
    popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(priorities))]
    ballots, allocations = [], []
    allocation_id = 1
    for ballot_id in range(1, n + 1):
        chosen = set(rng.choices(priorities, popularity, k=rng.randint(1, 6)))
        cuts = sorted(rng.sample(range(1, SHARES), len(chosen) - 1))
        amounts = [b - a for a, b in zip([0, *cuts], [*cuts, SHARES])]
        ballots.append((ballot_id, rng.choice(wards), secrets.token_hex(32)))
        for priority_id, shares in zip(sorted(chosen), amounts):
            allocations.append((allocation_id, ballot_id, priority_id, shares))
            allocation_id += 1
    return ballots, allocations


async def main(n: int) -> None:
    from civic.councils import Council, Ward

    with tempfile.TemporaryDirectory() as data_dir:
        async with bench_database(Path(data_dir)) as url:
            council = await Council.create(slug="bench", name="Bench Borough")
            wards = [await Ward.create(council=council, name=f"Ward {i}") for i in range(12)]
            round_ = await Round.create(council=council, title="Bench round", budget=Decimal(2_000_000), method="split", status="closed")
            rng = random.Random(7)
            priorities = [
                (await Priority.create(council=council, round=round_, title=f"Priority {i}", cost=Decimal(rng.randrange(50_000, 400_000, 1000)), position=i)).id
                for i in range(PRIORITIES)
            ]
            ballots, allocations = _ballots(n, priorities, [w.id for w in wards], rng)
            with timer() as loading:
                await copy_rows(
                    url,
                    "voting_ballot",
                    ["id", "council_id", "round_id", "ward_id", "source", "receipt_hash", "report_emails", "created_at", "updated_at"],
                    [(i, council.id, round_.id, w, "imported", h, False, _now(), _now()) for i, w, h in ballots],
                )
                await copy_rows(url, "voting_allocation", ["id", "ballot_id", "priority_id", "shares"], allocations)
            print(f"tally benchmark: {n:,} ballots, {len(allocations):,} allocations over {PRIORITIES} priorities (loaded in {loading[0]:.1f} s)")
            with timer() as reading:
                profile = await profile_of(round_)
            print(f"  read ballots from PostgreSQL      {reading[0]:7.3f} s")
            for method, completion in (("split", None), ("equal_shares", "add1"), ("greedy", None)):
                election = profile.election(round_)
                with timer() as counting:
                    count(election, method, completion)
                with timer() as end_to_end:
                    result = await count_round(round_, method, completion)
                label = method + ("+add1" if completion else "")
                print(
                    f"  {label:18} count {counting[0]:7.3f} s   end to end {end_to_end[0]:7.3f} s"
                    f"   ({len(result.selected)} selected)"
                )
            print("  goal: split end to end < 1 s")


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
