"""The permissions matrix: every route, visited as every kind of person, answers as it should.

Each area has a module here with `CASES` (a list of Case) and `async def setup(world) -> dict`
giving the values for the `{placeholders}` in its paths. Add a module for a new area, and a Case
for every new route: test_every_route_is_in_the_matrix fails until you do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("anonymous", "resident", "officer", "key-worker", "admin", "other-officer", "other-admin")

SIGN_IN = 303  # anonymous visitors are sent to sign in
HIDDEN = 404  # things a person may not know exist


@dataclass
class Case:
    method: str
    path: str
    expect: dict[str, int]
    data: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # run setup again for each role (for actions that change what they act on)
    note: str = ""


def everyone(status: int = 200) -> dict[str, int]:
    return {role: status for role in ROLES}


def signed_in(status: int = 200, anonymous: int = SIGN_IN) -> dict[str, int]:
    return {**everyone(status), "anonymous": anonymous}


def council_roles(allowed: set[str], ok: int = 200, denied: int = 403, anonymous: int = SIGN_IN) -> dict[str, int]:
    """Only these roles of this council; everyone else (other councils' staff too) is refused."""
    return {role: (ok if role in allowed else denied) for role in ROLES} | {"anonymous": anonymous}


@dataclass
class World:
    """Two councils and a person in every role; areas hang their own fixtures off it."""

    council: Any
    other_council: Any
    people: dict[str, Any]
