"""Greedy: most shares first, skipping a project that no longer fits the money left."""

from __future__ import annotations

from fractions import Fraction

from civic.counting.election import Election, Number, tally
from civic.counting.results import ProjectResult, Result

NO_BACKERS = "nobody backed it"
OVER_BUDGET = "it costs more than the whole budget"
NOT_ENOUGH_LEFT = "not enough money left when its turn came"


def costed(election: Election, method: str) -> tuple[Number, list[Number]]:
    """The budget and every project's cost, or a ValueError naming what is missing."""
    if election.budget is None:
        raise ValueError(f"{method} needs a budget")
    uncosted = [p.id for p in election.projects if p.cost is None]
    if uncosted:
        raise ValueError(f"{method} needs every project costed; no cost for {', '.join(uncosted)}")
    return election.budget, [p.cost for p in election.projects]  # type: ignore[misc]


def greedy(election: Election) -> Result:
    """Fund projects in order of shares (ties by id as text) while the money lasts."""
    budget, costs = costed(election, "greedy")
    shares, backers = tally(election)
    total = sum(shares)
    order = sorted(
        range(len(election.projects)),
        key=lambda i: (-shares[i], election.projects[i].id),
    )
    left = budget
    selected: list[int] = []
    reasons = [""] * len(election.projects)
    for i in order:
        if not shares[i]:
            reasons[i] = NO_BACKERS
        elif costs[i] > budget:
            reasons[i] = OVER_BUDGET
        elif costs[i] > left:
            reasons[i] = NOT_ENOUGH_LEFT
        else:
            selected.append(i)
            left -= costs[i]
    chosen = set(selected)
    lines = tuple(
        ProjectResult(
            id=p.id,
            name=p.name,
            cost=p.cost,
            shares=shares[i],
            backers=backers[i],
            share_of_total=Fraction(shares[i], 1) / total if total else Fraction(0),
            selected=i in chosen,
            money=p.cost if i in chosen else 0,
            reason=reasons[i],
        )
        for i, p in enumerate(election.projects)
    )
    return Result(
        method="greedy",
        budget=budget,
        voters=len(election.ballots),
        selected=tuple(election.projects[i].id for i in selected),
        projects=lines,
    )
