"""The Method of Equal Shares, with Add1 completion, giving exactly pabutools' outcomes, fast.

The counting itself is in `mes` (one count) and `add1` (the completion); this module turns a
count into a result residents can read, with a reason for every project not funded.
"""

from __future__ import annotations

from fractions import Fraction

from civic.counting.add1 import add1
from civic.counting.election import Election, GroupedBallots, Number
from civic.counting.greedy import NO_BACKERS, OVER_BUDGET, costed
from civic.counting.mes import Count, EqualShares
from civic.counting.results import ProjectResult, Result

SATISFACTIONS = ("points", "cost")
COMPLETIONS = ("add1",)

SHARES_RAN_OUT = "its backers' equal shares of the budget had run out"
FREE_UNDER_COST = "it costs nothing, and with cost satisfaction a free project counts for nobody"


def equal_shares(
    election: Election,
    completion: str | None = "add1",
    satisfaction: str | None = None,
    increment: Number = 1,
) -> Result:
    """Count by the Method of Equal Shares, as pabutools 1.2.3's `method_of_equal_shares` does.

    `satisfaction` defaults to "cost" for approval ballots and "points" for cumulative ones;
    `completion="add1"` is pabutools' `voter_budget_increment=increment`. The increment is in the
    budget's own units, so a budget in pence wants `increment=100` to step by a pound as a budget
    in pounds would.
    """
    if completion not in (None, *COMPLETIONS):
        raise ValueError(f"unknown completion {completion!r}; use 'add1' or None")
    if satisfaction is None:
        satisfaction = "cost" if election.vote_type == "approval" else "points"
    if satisfaction not in SATISFACTIONS:
        raise ValueError(f"satisfaction must be one of {', '.join(SATISFACTIONS)}")
    budget, costs = costed(election, "equal shares")
    grouped = GroupedBallots.of(election)
    shares, backers = grouped.totals(len(election.projects))
    counter = EqualShares(costs, grouped, satisfaction, [p.id for p in election.projects])
    if grouped.voters == 0:
        chosen: list[int] = []
        final: Count | None = None
    else:
        final = add1(counter, budget, increment) if completion == "add1" else counter.count(Fraction(budget, grouped.voters))
        chosen = counter.free + final.order
    total = sum(shares)
    selected = set(chosen)
    lines = []
    for i, p in enumerate(election.projects):
        reason = ""
        if i not in selected:
            if not shares[i]:
                reason = NO_BACKERS
            elif costs[i] > budget:
                reason = OVER_BUDGET
            elif costs[i] == 0:
                reason = FREE_UNDER_COST
            else:
                reason = SHARES_RAN_OUT
        lines.append(
            ProjectResult(
                id=p.id,
                name=p.name,
                cost=p.cost,
                shares=shares[i],
                backers=backers[i],
                share_of_total=Fraction(shares[i], 1) / total if total else Fraction(0),
                selected=i in selected,
                money=p.cost if i in selected else 0,
                reason=reason,
            )
        )
    return Result(
        method="equal_shares",
        budget=budget,
        voters=grouped.voters,
        selected=tuple(election.projects[i].id for i in chosen),
        projects=tuple(lines),
        completion=completion,
        satisfaction=satisfaction,
    )
