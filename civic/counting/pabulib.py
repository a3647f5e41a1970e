"""Pabulib `.pb` files (pabulib.org): reading, writing, and counting one from the command line."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from civic.counting.election import Election, Number, Project, exact
from civic.counting.equal_shares import equal_shares
from civic.counting.greedy import greedy
from civic.counting.results import Result
from civic.counting.split import split

METHODS = ("split", "equal_shares", "greedy")
COMPLETIONS = ("add1", "none")

# Pabulib vote types and the kind of ballot civic counts them as.
VOTE_TYPES = {"approval": "approval", "choose-1": "approval", "cumulative": "cumulative", "scoring": "cumulative"}


def parse_pabulib(text: str) -> Election:
    """The election a `.pb` file describes."""
    meta: dict[str, str] = {}
    projects: list[Project] = []
    ballots: list[dict[str, Number]] = []
    section = ""
    header: list[str] = []
    reader = csv.reader(text.lstrip("\ufeff").splitlines(), delimiter=";")
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if row[0].strip().lower() in ("meta", "projects", "votes"):
            section = row[0].strip().lower()
            header = [h.strip() for h in next(reader)]
            continue
        fields = {
            key: value.strip()
            for key, value in zip(header, row)
            if value.strip().lower() != "none"
        }
        if section == "meta":
            meta[row[0].strip()] = row[1].strip() if len(row) > 1 else ""
        elif section == "projects":
            cost = fields.get("cost")
            projects.append(
                Project(
                    id=row[0].strip(),
                    cost=exact(cost) if cost else None,
                    name=fields.get("name", ""),
                )
            )
        elif section == "votes":
            ballots.append(_ballot(fields, meta))
    if not meta and not projects:
        raise ValueError("not a Pabulib file: no META or PROJECTS section")
    vote_type = meta.get("vote_type", "approval")
    if vote_type not in VOTE_TYPES:
        raise ValueError(f"civic cannot count {vote_type!r} Pabulib ballots")
    budget = meta.get("budget")
    return Election(
        projects=projects,
        ballots=ballots,
        budget=exact(budget) if budget else None,
        vote_type=VOTE_TYPES[vote_type],
        meta=meta,
    )


def _ballot(fields: Mapping[str, str], meta: Mapping[str, str]) -> dict[str, Number]:
    votes = [v.strip() for v in fields.get("vote", "").split(",") if v.strip()]
    if VOTE_TYPES.get(meta.get("vote_type", "approval")) == "approval":
        return {v: 1 for v in votes}
    if "points" not in fields:
        return {}
    points = [exact(x) for x in fields["points"].split(",")]
    if len(points) != len(votes):
        raise ValueError(f"ballot {fields.get('voter_id', '?')} has {len(votes)} votes but {len(points)} points")
    return dict(zip(votes, points))


def read_pabulib(path: str | Path) -> Election:
    """The election in a `.pb` file on disk."""
    return parse_pabulib(Path(path).read_text(encoding="utf-8-sig"))


def write_pabulib(election: Election) -> str:
    """The election as `.pb` text, with voters numbered 1, 2, 3 ... in the order of `ballots`.

    Pass the ballots in an order that says nothing about who cast them (e.g. by receipt code)."""
    commas = [p.id for p in election.projects if "," in p.id]
    if commas:
        raise ValueError(f"Pabulib lists votes with commas, so a project id cannot contain one: {commas}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    meta = {
        key: value
        for key, value in election.meta.items()
        if key not in ("budget", "vote_type", "num_projects", "num_votes")
    }
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in {
        "description": meta.pop("description", "civic shareholder round"),
        "num_projects": str(len(election.projects)),
        "num_votes": str(len(election.ballots)),
        # Pabulib requires a budget and costs; a round without them is written with 0.
        "budget": _number(election.budget or 0),
        "vote_type": election.vote_type,
        **meta,
    }.items():
        writer.writerow([key, _text(value)])
    writer.writerow(["PROJECTS"])
    writer.writerow(["project_id", "cost", "name"])
    for p in election.projects:
        writer.writerow([p.id, _number(p.cost or 0), _text(p.name)])
    writer.writerow(["VOTES"])
    if election.vote_type == "approval":
        writer.writerow(["voter_id", "vote"])
    else:
        writer.writerow(["voter_id", "vote", "points"])
    for number, ballot in enumerate(election.ballots, start=1):
        given = [(pid, exact(x)) for pid, x in ballot.items() if exact(x)]
        if not given and election.vote_type != "approval":
            # pabutools reads an empty cumulative ballot only when vote and points are "none".
            row = [str(number), "none", "none"]
        elif election.vote_type == "approval":
            row = [str(number), ",".join(pid for pid, _ in given)]
        else:
            row = [str(number), ",".join(pid for pid, _ in given), ",".join(_number(x) for _, x in given)]
        writer.writerow(row)
    return out.getvalue()


def _number(value: Number) -> str:
    value = exact(value)
    if isinstance(value, int):
        return str(value)
    for places in range(1, 19):
        if (value * 10**places).denominator == 1:
            return _decimal(value, places)
    # Not a terminating decimal: "1/3" is exact, and pabutools reads it.
    return str(value)


def _decimal(value: Fraction, places: int) -> str:
    scaled = int(value * 10**places)
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _text(value: str) -> str:
    return " ".join(str(value).split())


def count(election: Election, method: str, completion: str | None = "add1") -> Result:
    """Count an election with a method named as on the command line."""
    if method == "split":
        return split(election)
    if method == "greedy":
        return greedy(election)
    if method == "equal_shares":
        return equal_shares(election, completion=None if completion in (None, "none") else completion)
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def count_file(path: str | Path, method: str, completion: str | None = "add1") -> dict[str, Any]:
    """Count a `.pb` file; `seconds` is the counting time alone, without reading the file."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if completion not in (None, *COMPLETIONS):
        raise ValueError(f"unknown completion {completion!r}; choose add1 or none")
    election = read_pabulib(path)
    started = time.perf_counter()
    result = count(election, method, completion)
    seconds = time.perf_counter() - started
    return {
        "file": Path(path).name,
        "method": method,
        "completion": result.completion,
        "satisfaction": result.satisfaction,
        "vote_type": election.vote_type,
        "budget": _json_number(result.budget),
        "voters": result.voters,
        "projects": len(election.projects),
        "selected": list(result.selected),
        "spent": _json_number(result.spent),
        "left": _json_number(result.left),
        "seconds": seconds,
        "results": [
            {
                "id": p.id,
                "name": p.name,
                "cost": _json_number(p.cost),
                "shares": _json_number(p.shares),
                "backers": p.backers,
                "share_of_total": float(p.share_of_total),
                "selected": p.selected,
                "money": _json_number(p.money),
                "reason": p.reason,
            }
            for p in result.projects
        ],
    }


def _json_number(value: Number | None) -> int | str | None:
    """Whole amounts stay numbers; a fraction becomes exact text, e.g. "1/3", so JSON loses nothing."""
    if value is None or isinstance(value, int):
        return value
    return str(value)


def format_count(result: Mapping[str, Any], as_json: bool = False) -> str:
    """The output of `civic count`: a plain table, or JSON."""
    if as_json:
        return json.dumps(result, indent=2, ensure_ascii=False)
    method = result["method"]
    if method == "equal_shares":
        method += f" (completion: {result['completion'] or 'none'}, satisfaction: {result['satisfaction']})"
    budget = "no budget" if result["budget"] is None else f"budget {result['budget']}"
    lines = [
        f"{result['file']}: {result['voters']} voters, {result['projects']} projects, {budget}",
        f"method: {method}",
        f"selected {len(result['selected'])}: {', '.join(result['selected']) or 'none'}",
        *([] if result["budget"] is None else [f"spent {result['spent']}, left {result['left']}"]),
        f"counted in {result['seconds']:.4f} s",
        "",
    ]
    rows = [("project", "cost", "shares", "backers", "money", "outcome")]
    for p in result["results"]:
        rows.append(
            (
                p["id"],
                "" if p["cost"] is None else str(p["cost"]),
                str(p["shares"]),
                str(p["backers"]),
                "" if p["money"] is None else str(p["money"]),
                "selected" if p["selected"] else p["reason"],
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
    for r in rows:
        cells = [cell.rjust(widths[c]) if c else cell.ljust(widths[c]) for c, cell in enumerate(r[:5])]
        lines.append("  ".join([*cells, r[5]]))
    return "\n".join(lines)
