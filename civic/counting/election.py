"""An election to count: the budget, the projects and the residents' ballots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

Number = int | Fraction
"""An exact amount: an int when it is whole, otherwise a Fraction."""

VOTE_TYPES = ("cumulative", "approval")


def exact(value: int | float | str | Decimal | Fraction) -> Number:
    """The exact value of an amount or a number of points, as an int when it is whole."""
    if isinstance(value, bool):
        raise TypeError("an amount cannot be a bool")
    if isinstance(value, str):
        value = Fraction(value.strip().replace(",", "."))
    elif isinstance(value, float):
        # repr() keeps 0.1 as 1/10 rather than its binary approximation.
        value = Fraction(repr(value))
    else:
        value = Fraction(value)
    return value.numerator if value.denominator == 1 else value


@dataclass(frozen=True)
class Project:
    """A priority or project residents can back; `cost` is None for an uncosted priority."""

    id: str
    cost: Number | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.cost is not None:
            object.__setattr__(self, "cost", exact(self.cost))


@dataclass
class Election:
    """A round to count: `ballots` map project ids to points (1 each on approval ballots)."""

    projects: Sequence[Project]
    ballots: Sequence[Mapping[str, int | Fraction]]
    budget: Number | None = None
    vote_type: str = "cumulative"
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.budget is not None:
            self.budget = exact(self.budget)
            if self.budget < 0:
                raise ValueError("the budget cannot be negative")
        if self.vote_type not in VOTE_TYPES:
            raise ValueError(f"vote_type must be one of {', '.join(VOTE_TYPES)}")
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("project ids must be unique")
        for p in self.projects:
            if p.cost is not None and p.cost < 0:
                raise ValueError(f"project {p.id} has a negative cost")

    def project(self, project_id: str) -> Project:
        """The project with this id."""
        for p in self.projects:
            if p.id == project_id:
                return p
        raise KeyError(project_id)


@dataclass(frozen=True)
class GroupedBallots:
    """Identical ballots counted once with a weight; `ballots` hold (project index, points) pairs."""

    ballots: tuple[tuple[tuple[int, Number], ...], ...]
    weights: tuple[int, ...]
    voters: int

    @classmethod
    def of(cls, election: Election) -> GroupedBallots:
        index = {p.id: i for i, p in enumerate(election.projects)}
        # Most ballots repeat, so each distinct one is checked and converted once. Sorting by id
        # makes equal ballots equal keys, and keeps project indices in one order within a key.
        raw = Counter(tuple(sorted(ballot.items())) for ballot in election.ballots)
        counts: dict[tuple[tuple[int, Number], ...], int] = {}
        for ballot, weight in raw.items():
            try:
                key = tuple([(index[pid], v if type(v) is int else exact(v)) for pid, v in ballot if v])
            except KeyError as unknown:
                raise ValueError(_bad_ballot(election, unknown.args[0], index)) from None
            if key and min(v for _, v in key) < 0:
                raise ValueError(_bad_ballot(election, next(pid for pid, v in ballot if v < 0), index))
            counts[key] = counts.get(key, 0) + weight
        # Groups stay in the order first seen. Outcomes never depend on it: counting is exact.
        return cls(
            ballots=tuple(counts),
            weights=tuple(counts.values()),
            voters=len(election.ballots),
        )

    def totals(self, project_count: int) -> tuple[list[Number], list[int]]:
        """Points and number of backers per project index."""
        points: list[Number] = [0] * project_count
        backers = [0] * project_count
        for ballot, weight in zip(self.ballots, self.weights):
            for p, value in ballot:
                points[p] += value * weight
                backers[p] += weight
        return [exact(x) for x in points], backers


def tally(election: Election) -> tuple[list[Number], list[int]]:
    """Points and number of backers per project, in the election's project order."""
    index = {p.id: i for i, p in enumerate(election.projects)}
    points: list[Number] = [0] * len(election.projects)
    backers = [0] * len(election.projects)
    for ballot in election.ballots:
        for project_id, given in ballot.items():
            if not given:
                continue
            i = index.get(project_id)
            value = given if type(given) is int else exact(given)
            if i is None or value < 0:
                raise ValueError(_bad_ballot(election, project_id, index))
            points[i] += value
            backers[i] += 1
    return [exact(x) for x in points], backers


def _bad_ballot(election: Election, project_id: str, index: Mapping[str, int]) -> str:
    number = next(n for n, b in enumerate(election.ballots, start=1) if project_id in b)
    if project_id not in index:
        return f"ballot {number} backs an unknown project {project_id!r}"
    return f"ballot {number} gives negative points to {project_id!r}"
