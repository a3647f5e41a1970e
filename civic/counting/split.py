"""Split: the budget divided in proportion to the shares each project received."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from civic.counting.election import Election, Number, Project, exact, tally
from civic.counting.results import ProjectResult, Result

NO_SHARES = "nobody gave it any shares"
TOO_SMALL = "its share of the budget came to less than the smallest unit of money"

# A budget with more decimal places than this is not an amount of money.
MAX_DECIMAL_PLACES = 6


def money_unit(budget: Number) -> Number:
    """The smallest unit to pay out: 1 for a whole budget, else the budget's last decimal place."""
    for places in range(MAX_DECIMAL_PLACES + 1):
        if (Fraction(budget) * 10**places).denominator == 1:
            return exact(Fraction(1, 10**places))
    raise ValueError(f"the budget {budget} is not an amount of money")


def split(election: Election, unit: Number | None = None) -> Result:
    """Divide the budget in proportion to shares, in whole units that add up exactly to the budget."""
    shares, backers = tally(election)
    return divide(election.projects, election.budget, len(election.ballots), shares, backers, unit)


def divide(
    projects: Sequence[Project],
    budget: Number | None,
    voters: int,
    shares: Sequence[Number],
    backers: Sequence[int],
    unit: Number | None = None,
) -> Result:
    """Split from totals alone (shares and backers per project), e.g. summed by the database."""
    total = sum(shares)
    fractions = [Fraction(s) / total if total else Fraction(0) for s in shares]
    order = sorted(range(len(projects)), key=lambda i: (-shares[i], projects[i].id))
    money: list[Number] | None = None
    if budget is not None:
        money = _largest_remainder(budget, fractions, order, unit)
    lines = []
    for i, project in enumerate(projects):
        gets = money[i] if money is not None else None
        selected = bool(gets) if money is not None else shares[i] > 0
        reason = ""
        if not shares[i]:
            reason = NO_SHARES
        elif not selected:
            reason = TOO_SMALL
        lines.append(
            ProjectResult(
                id=project.id,
                name=project.name,
                cost=project.cost,
                shares=shares[i],
                backers=backers[i],
                share_of_total=fractions[i],
                selected=selected,
                money=gets,
                reason=reason,
            )
        )
    return Result(
        method="split",
        budget=budget,
        voters=voters,
        selected=tuple(projects[i].id for i in order if lines[i].selected),
        projects=tuple(lines),
    )


def _largest_remainder(
    budget: Number, fractions: list[Fraction], order: list[int], unit: Number | None
) -> list[Number]:
    """Whole units per project by the largest-remainder method; ties go to more shares, then id."""
    unit = money_unit(budget) if unit is None else exact(unit)
    units = Fraction(budget) / unit
    if units.denominator != 1:
        raise ValueError(f"the budget {budget} is not a whole number of units of {unit}")
    if not any(fractions):
        return [0] * len(fractions)
    quotas = [units * f for f in fractions]
    whole = [q.numerator // q.denominator for q in quotas]
    leftover = int(units) - sum(whole)
    # sorted() is stable, so equal remainders keep the shares-then-id order.
    by_remainder = sorted(order, key=lambda i: -(quotas[i] - whole[i]))
    for i in by_remainder[:leftover]:
        whole[i] += 1
    return [exact(w * unit) for w in whole]
