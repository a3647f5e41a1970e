"""Importing a Pabulib `.pb` file as a draft round, with its ballots for demonstration."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from fractions import Fraction

from civic import audit
from civic.accounts import User, require_role
from civic.councils import Council
from civic.counting import Number, parse_pabulib
from civic.db import in_transaction
from civic.errors import Invalid
from civic.voting.ballots import receipt_hash
from civic.voting.models import Allocation, Ballot, Priority, Round
from civic.voting.rounds import STAFF

MAX_FILE_BYTES = 20 * 1024 * 1024
# What the columns hold: DecimalField(max_digits=16, decimal_places=2) and IntField.
LARGEST_AMOUNT = Fraction(10**14)
LARGEST_COUNT = 2**31 - 1


def _money(value: Number | None, what: str) -> Decimal | None:
    if value is None:
        return None
    exact = Fraction(value)
    if (exact * 100).denominator != 1:
        raise Invalid({"file": f"The file's {what} ({value}) has more than two decimal places, so it is not an amount of money"})
    if abs(exact) >= LARGEST_AMOUNT:
        raise Invalid({"file": f"The file's {what} ({value}) is larger than civic can hold (up to 14 digits of pounds)"})
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"))


def _whole(meta: dict[str, str], key: str) -> int | None:
    value = meta.get(key, "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    if int(value) > LARGEST_COUNT:
        raise Invalid({"file": f"The file's {key} ({value[:20]}) is larger than civic can hold"})
    return int(value)


async def import_pabulib(actor: User | None, council: Council, filename: str, text: str, *, with_ballots: bool = True) -> Round:
    """Make a draft round from a Pabulib file: its projects become priorities, and its ballots (anonymous) come too."""
    await require_role(actor, council, *STAFF)
    if not text.strip():
        raise Invalid({"file": "Choose a Pabulib .pb file to import"})
    try:
        election = parse_pabulib(text)
    except (ValueError, KeyError, IndexError, ZeroDivisionError) as error:
        raise Invalid({"file": f"That is not a Pabulib file civic can read: {error}"}) from None
    if not election.projects:
        raise Invalid({"file": "The file has no projects"})
    ids = [p.id for p in election.projects]
    if any(len(i) > 60 for i in ids):
        raise Invalid({"file": "A project id in the file is longer than 60 characters"})
    approval = election.vote_type == "approval"
    ballots: list[dict[str, int]] = []
    for number, ballot in enumerate(election.ballots, start=1):
        whole: dict[str, int] = {}
        for project_id, points in ballot.items():
            if project_id not in ids:
                raise Invalid({"file": f"Ballot {number} backs project {project_id}, which the file does not list"})
            if Fraction(points).denominator != 1 or points < 0:
                raise Invalid({"file": f"Ballot {number} gives {points} points; shares are whole numbers of 0 or more"})
            if points > LARGEST_COUNT:
                raise Invalid({"file": f"Ballot {number} gives {points} points, more than civic can hold"})
            if points:
                whole[project_id] = int(points)
        ballots.append(whole)
    meta = election.meta
    largest_ballot = max((sum(b.values()) for b in ballots), default=0)
    largest_share = max((max(b.values()) for b in ballots if b), default=0)
    if approval:
        allowance = max(_whole(meta, "max_length") or 0, max((len(b) for b in ballots), default=0), 1)
        cap: int | None = 1
    else:
        allowance = max(_whole(meta, "max_sum_points") or 0, largest_ballot, 1)
        cap = max(_whole(meta, "max_points") or 0, largest_share) if meta.get("max_points") else None
    budget = _money(election.budget, "budget")
    costed = budget is not None and all(p.cost is not None for p in election.projects)
    currency = meta.get("currency", "GBP").strip().upper()
    name = filename.rsplit("/", 1)[-1][:200]
    described = " ".join(x for x in (meta.get("unit", ""), meta.get("subunit", "") if meta.get("subunit") != meta.get("district") else "", meta.get("district", ""), meta.get("instance", "")) if x)
    title = (meta.get("description") or name).strip()[:200] or name
    async with in_transaction():
        round_ = await Round.create(
            council=council,
            title=title,
            explanation=(
                f"Imported from the Pabulib file {name}" + (f" ({described})" if described else "") + ". "
                "Pabulib (pabulib.org) is a library of real participatory budgeting elections. "
                + (f"{len(ballots)} anonymous ballots came with it, for demonstration." if with_ballots else "")
            ).strip(),
            budget=budget,
            currency=currency if re.fullmatch(r"[A-Z]{3}", currency) else "GBP",
            shares_per_resident=allowance,
            minimum_priorities=1,
            max_shares_per_priority=cap,
            method="equal_shares" if costed else "split",
            vote_type=election.vote_type,
            source=name,
            created_by=actor,
        )
        priorities = []
        for position, project in enumerate(election.projects, start=1):
            priorities.append(
                await Priority.create(
                    council=council,
                    round=round_,
                    title=(project.name or f"Project {project.id}")[:200],
                    cost=_money(project.cost, f"cost of project {project.id}"),
                    code=project.id,
                    position=position,
                )
            )
        if with_ballots and ballots:
            # Each imported ballot gets a receipt nobody holds, so the public list treats them alike.
            hashes = [receipt_hash(round_.id, secrets.token_hex(8)) for _ in ballots]
            await Ballot.bulk_create(
                [Ballot(council=council, round=round_, source="imported", receipt_hash=h, report_emails=False) for h in hashes],
                batch_size=1000,
            )
            ballot_ids = dict(await Ballot.filter(round=round_).values_list("receipt_hash", "id"))
            priority_ids = {p.code: p.id for p in priorities}
            await Allocation.bulk_create(
                [
                    Allocation(ballot_id=ballot_ids[h], priority_id=priority_ids[project_id], shares=points)
                    for h, ballot in zip(hashes, ballots)
                    for project_id, points in ballot.items()
                ],
                batch_size=2000,
            )
        await audit.record(actor, "round.imported", round_, council=council, reason=f"{name}: {len(priorities)} priorities, {len(ballots) if with_ballots else 0} ballots")
    return round_
