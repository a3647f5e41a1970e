"""Counting a closed round, publishing its results, and everything that stays hidden until then."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tortoise import connections, timezone

from civic import audit
from civic.accounts import User
from civic.councils import Council, Ward
from civic.counting import Election, Number, Project, Result, count, write_pabulib
from civic.counting.split import divide
from civic.db import in_transaction
from civic.errors import Conflict
from civic.voting.ballots import normalise_code, receipt_hash
from civic.voting.models import Allocation, Ballot, Priority, Round, VotingCode
from civic.voting.parsing import LONDON, as_number, format_money, when
from civic.voting.rounds import priorities_of, staff_round, visible_round, wards_of

BALLOTS_PER_PAGE = 50
RULE_NAMES = {"split": "split", "equal_shares": "equalshares/add1", "greedy": "greedy"}


def hidden_message(round_: Round) -> str:
    """Why results cannot be seen yet, in plain words."""
    if round_.status == "open":
        closing = f" on {when(round_.closes_at)}" if round_.closes_at else ""
        return f"Results stay hidden while voting is open, so nobody is swayed by them. Voting closes{closing}; the council then publishes the results."
    if round_.status == "closed":
        return "Voting has closed. The council will publish the results here soon."
    return "Voting has not opened yet."


def require_published(round_: Round) -> None:
    if round_.status != "published":
        raise Conflict(hidden_message(round_))


# Counting


@dataclass
class Profile:
    """A round's ballots as the counting engine wants them, with each ballot's ward."""

    priorities: list[Priority]
    ballots: list[dict[str, int]]
    wards: list[int | None]

    def election(self, round_: Round) -> Election:
        return Election(
            projects=[Project(id=p.key, cost=as_number(p.cost), name=p.title) for p in self.priorities],
            ballots=self.ballots,
            budget=as_number(round_.budget),
            vote_type=round_.vote_type,
        )


async def profile_of(round_: Round) -> Profile:
    """Every ballot of the round, anonymised, in receipt-hash order (never the order they were cast)."""
    priorities = await priorities_of(round_)
    key = {p.id: p.key for p in priorities}
    # One query for ballots and their shares together: the ORM's per-row objects would take seconds for
    # 100,000 ballots (see tests/bench/bench_tally.py); the round id is an int, so no parameter is needed.
    _, rows = await connections.get("default").execute_query(
        "SELECT b.id, b.ward_id, a.priority_id, a.shares FROM voting_ballot b"
        " LEFT JOIN voting_allocation a ON a.ballot_id = b.id"
        f" WHERE b.round_id = {int(round_.id)} ORDER BY b.receipt_hash, b.id"
    )
    ballots: list[dict[str, int]] = []
    wards: list[int | None] = []
    last = None
    for ballot_id, ward_id, priority_id, shares in rows:
        if ballot_id != last:
            ballots.append({})
            wards.append(ward_id)
            last = ballot_id
        if priority_id is not None:
            ballots[-1][key[priority_id]] = shares
    return Profile(priorities, ballots, wards)


async def count_round(round_: Round, method: str | None = None, completion: str | None = "add1") -> Result:
    """Count the round's ballots by its own method (or another, to compare): the engine's Result."""
    if (method or round_.method) == "split":
        return await _split_round(round_)
    profile = await profile_of(round_)
    return count(profile.election(round_), method or round_.method, completion)


async def _split_round(round_: Round) -> Result:
    """Split needs only each priority's total shares and backers, which the database sums directly."""
    priorities = await priorities_of(round_)
    connection = connections.get("default")
    round_id = int(round_.id)
    _, sums = await connection.execute_query(
        "SELECT a.priority_id, SUM(a.shares), COUNT(*) FROM voting_allocation a"
        f" JOIN voting_ballot b ON b.id = a.ballot_id WHERE b.round_id = {round_id} AND a.shares > 0 GROUP BY a.priority_id"
    )
    _, voters = await connection.execute_query(f"SELECT COUNT(*) FROM voting_ballot WHERE round_id = {round_id}")
    totals = {row[0]: (int(row[1]), int(row[2])) for row in sums}
    projects = [Project(id=p.key, cost=as_number(p.cost), name=p.title) for p in priorities]
    return divide(
        projects,
        as_number(round_.budget),
        int(voters[0][0]),
        [totals.get(p.id, (0, 0))[0] for p in priorities],
        [totals.get(p.id, (0, 0))[1] for p in priorities],
    )


def _amount(value: Number | Decimal | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return str(Decimal(value).quantize(Decimal("0.01"))).removesuffix(".00")


async def _electorate(round_: Round) -> int | None:
    """How many could vote: residents signed up in its wards, or codes issued. Unknown for imported rounds."""
    if round_.source:
        return None
    if round_.eligibility == "codes":
        return await VotingCode.filter(round=round_).count()
    wards = [w.id for w in await wards_of(round_)]
    people = User.filter(ward_id__in=wards, suspended=False)
    if round_.eligibility == "verified":
        people = people.filter(identity_verified=True)
    return await people.count()


async def tabulate(round_: Round) -> dict[str, Any]:
    """Everything the results page shows, counted now: kept on the round when it is published."""
    profile = await profile_of(round_)
    result = count(profile.election(round_), round_.method, "add1")
    by_key = {p.key: p for p in profile.priorities}
    wards = {w.id: w for w in await Ward.filter(council_id=round_.council_id)}  # type: ignore[attr-defined]
    ward_ballots: dict[int | None, int] = defaultdict(int)
    ward_shares: dict[int | None, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for ballot, ward in zip(profile.ballots, profile.wards):
        ward_ballots[ward] += 1
        for key, shares in ballot.items():
            line = ward_shares[ward][key]
            line[0] += shares
            line[1] += 1
    ward_electorate: dict[int, int] = {}
    per_ward_known = not round_.source and round_.eligibility != "codes"
    if per_ward_known:
        people = User.filter(ward_id__in=list(wards), suspended=False)
        if round_.eligibility == "verified":
            people = people.filter(identity_verified=True)
        for ward_id in await people.values_list("ward_id", flat=True):
            ward_electorate[ward_id] = ward_electorate.get(ward_id, 0) + 1
    electorate = await _electorate(round_)
    lines = sorted(result.projects, key=lambda p: (-p.shares, by_key[p.id].position, by_key[p.id].id))
    participating = [w.id for w in await wards_of(round_)]
    return {
        "method": result.method,
        "completion": result.completion,
        "budget": _amount(result.budget),
        "currency": round_.currency,
        "ballots": result.voters,
        "electorate": electorate,
        "spent": _amount(result.spent),
        "left": _amount(result.left),
        "total_shares": int(sum(p.shares for p in result.projects)),
        "selected": list(result.selected),
        "priorities": [
            {
                "id": by_key[p.id].id,
                "key": p.id,
                "title": by_key[p.id].title,
                "ward": by_key[p.id].ward.name if by_key[p.id].ward else None,
                "cost": _amount(p.cost),
                "shares": int(p.shares),
                "share_of_total": float(p.share_of_total),
                "backers": p.backers,
                "selected": p.selected,
                "money": _amount(p.money),
                "reason": p.reason,
            }
            for p in lines
        ],
        "wards": [
            {
                "id": ward_id,
                "name": wards[ward_id].name,
                "ballots": ward_ballots.get(ward_id, 0),
                "electorate": ward_electorate.get(ward_id, 0) if per_ward_known else None,
                "priorities": {key: {"shares": v[0], "backers": v[1]} for key, v in ward_shares.get(ward_id, {}).items()},
            }
            for ward_id in sorted(set(participating) | {w for w in ward_ballots if w is not None}, key=lambda w: wards[w].name)
            if ward_id in wards
        ],
        "no_ward_ballots": ward_ballots.get(None, 0),
        "counted_at": timezone.now().isoformat(),
    }


def _require_closed(round_: Round) -> None:
    if round_.status == "published":
        raise Conflict("These results are already published.")
    if round_.status != "closed":
        raise Conflict("Results can be published only after voting closes. Close the round first.")


async def publish_preview(actor: User | None, council: Council, round_id: int | str) -> tuple[Round, int]:
    """A closed round and how many ballots it holds, for an officer about to publish; refused as publishing is."""
    round_ = await staff_round(actor, council, round_id)
    _require_closed(round_)
    return round_, await Ballot.filter(round=round_).count()


async def publish_results(actor: User | None, council: Council, round_id: int | str) -> Round:
    """An officer counts a closed round and makes its results public."""
    round_ = await staff_round(actor, council, round_id)
    _require_closed(round_)
    results = await tabulate(round_)
    async with in_transaction():
        locked = await Round.select_for_update().get(id=round_.id)
        if locked.status != "closed":
            raise Conflict("These results have just been published by someone else.")
        await Round.filter(id=round_.id).update(status="published", published_at=timezone.now(), results=results)
        await audit.record(actor, "round.published", round_, council=council, reason=f"{results['ballots']} ballots")
    return await Round.get(id=round_.id)


# What the public sees after publication


@dataclass
class Published:
    round: Round
    results: dict[str, Any]

    @property
    def turnout(self) -> float | None:
        electorate = self.results.get("electorate")
        return self.results["ballots"] / electorate if electorate else None


async def published_results(actor: User | None, council: Council, round_id: int | str) -> Published:
    """The published results; Conflict (with the reason) until the round has closed and an officer published it."""
    round_ = await visible_round(actor, council, round_id)
    require_published(round_)
    return Published(round_, round_.results)


def results_csv(published: Published) -> str:
    """One row per priority, with a column of shares from each ward."""
    results = published.results
    currency = results["currency"]
    wards = results["wards"]
    unplaced = results.get("no_ward_ballots", 0) > 0
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    money_column = "Money" if results["method"] == "split" else "Funded"
    writer.writerow(
        ["Priority", "Ward", "Cost", "Shares", "Share of total (%)", "Backers", money_column, "Why not funded"]
        + [f"Shares from {w['name']}" for w in wards]
        # Ballots from codes without a ward, or from voters whose postcode is in no ward: what the ward
        # columns do not add up to.
        + (["Shares from ward not known"] if unplaced else [])
    )
    for p in results["priorities"]:
        if results["method"] == "split":
            outcome = format_money(p["money"], currency) if p["money"] is not None else ""
        else:
            outcome = "Funded" if p["selected"] else "Not funded"
        writer.writerow(
            [
                _safe(p["title"]),
                _safe(p["ward"] or ""),
                format_money(p["cost"], currency) if p["cost"] is not None else "",
                p["shares"],
                f"{p['share_of_total'] * 100:.1f}",
                p["backers"],
                outcome,
                p["reason"] if not p["selected"] else "",
            ]
            + [w["priorities"].get(p["key"], {}).get("shares", 0) for w in wards]
            + ([p["shares"] - sum(w["priorities"].get(p["key"], {}).get("shares", 0) for w in wards)] if unplaced else [])
        )
    return out.getvalue()


def _safe(text: str) -> str:
    """Officer-typed text must not run as a formula when the CSV is opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass
class BallotList:
    round: Round
    rows: list[tuple[str, list[tuple[str, int]]]]
    total: int
    page: int
    pages: int
    receipt: str = ""
    found: tuple[str, list[tuple[str, int]]] | None = None


async def ballot_list(actor: User | None, council: Council, round_id: int | str, receipt: str = "", page: int = 1) -> BallotList:
    """The anonymised ballots by receipt hash, after publication; a voter's receipt finds theirs."""
    round_ = await visible_round(actor, council, round_id)
    require_published(round_)
    titles = {p.id: p.title for p in await Priority.filter(round=round_)}
    total = await Ballot.filter(round=round_).count()
    pages = max(1, -(-total // BALLOTS_PER_PAGE))
    page = min(max(1, page), pages)
    ballots = await Ballot.filter(round=round_).order_by("receipt_hash", "id").offset((page - 1) * BALLOTS_PER_PAGE).limit(BALLOTS_PER_PAGE)

    async def lines(ids: list[int]) -> dict[int, list[tuple[str, int]]]:
        found: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
        for ballot_id, priority_id, shares in await Allocation.filter(ballot_id__in=ids).order_by("priority__position", "priority_id").values_list("ballot_id", "priority_id", "shares"):
            found[ballot_id].append((titles[priority_id], shares))
        return found

    shown = await lines([b.id for b in ballots])
    rows = [(b.receipt_hash or "", shown[b.id]) for b in ballots]
    match = None
    typed = normalise_code(receipt)
    if typed:
        digest = receipt_hash(round_.id, typed)
        mine = await Ballot.get_or_none(round=round_, receipt_hash=digest)
        if mine is not None:
            match = (digest, (await lines([mine.id]))[mine.id])
    return BallotList(round_, rows, total, page, pages, receipt=receipt.strip(), found=match)


async def export_pabulib(actor: User | None, council: Council, round_id: int | str) -> tuple[str, str]:
    """The published round as a Pabulib `.pb` file (cumulative ballots, anonymised): (filename, text)."""
    round_ = await visible_round(actor, council, round_id)
    require_published(round_)
    profile = await profile_of(round_)
    election = profile.election(round_)
    council_row = await Council.get(id=round_.council_id)  # type: ignore[attr-defined]
    opened = round_.opened_at or round_.opens_at
    closed = round_.closed_at or round_.closes_at
    meta = {
        "description": round_.title,
        "country": "United Kingdom",
        "unit": council_row.name,
        "instance": str((closed or timezone.now()).astimezone(LONDON).year),
        "rule": RULE_NAMES[round_.method],
        "currency": round_.currency,
        "language": "en",
    }
    if opened:
        meta["date_begin"] = _pabulib_date(opened)
    if closed:
        meta["date_end"] = _pabulib_date(closed)
    if round_.vote_type == "cumulative":
        meta["max_sum_points"] = str(round_.allowance)
        meta["max_points"] = str(round_.cap)
    meta["min_length"] = str(round_.minimum_priorities)
    election.meta = meta
    slug = "".join(ch if ch.isalnum() else "_" for ch in f"{council_row.slug}_{round_.id}_{round_.title}")[:80]
    return f"{slug}.pb", write_pabulib(election)


def _pabulib_date(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%d.%m.%Y")
