"""What a count found: which projects won, what each gets, and why the others did not."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from civic.counting.election import Number


@dataclass(frozen=True)
class ProjectResult:
    """One project's line in a result; `reason` says in plain words why it was not selected."""

    id: str
    name: str
    cost: Number | None
    shares: Number
    backers: int
    share_of_total: Fraction
    selected: bool
    money: Number | None
    reason: str = ""


@dataclass(frozen=True)
class Result:
    """The outcome of one counting method; `selected` is in the order the method chose."""

    method: str
    budget: Number | None
    voters: int
    selected: tuple[str, ...]
    projects: tuple[ProjectResult, ...]
    completion: str | None = None
    satisfaction: str | None = None

    @property
    def spent(self) -> Number | None:
        """Money given to selected projects (None when there is no budget)."""
        if self.budget is None:
            return None
        return sum((p.money or 0 for p in self.projects if p.selected), 0)

    @property
    def left(self) -> Number | None:
        """Budget not spent."""
        if self.budget is None:
            return None
        return self.budget - self.spent

    def project(self, project_id: str) -> ProjectResult:
        """The line for one project."""
        for p in self.projects:
            if p.id == project_id:
                return p
        raise KeyError(project_id)
