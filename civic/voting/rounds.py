"""Running a round: its rules and priorities while a draft, then open, closed and published."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tortoise import timezone
from tortoise.expressions import Q

from civic import audit, db
from civic.accounts import User, has_role, require_role
from civic.councils import Council, Ward
from civic.db import as_id, in_transaction
from civic.errors import Conflict, Invalid, NotFound
from civic.kept import Kept
from civic.voting.models import ELIGIBILITIES, METHODS, Ballot, Priority, Round
from civic.voting.parsing import Unreadable, format_money, local_time, money, when, whole_number

STAFF = ("officer", "admin")
MAX_SHARES = 10_000

METHOD_NAMES = {
    "split": "Split the budget in proportion to shares",
    "equal_shares": "Method of Equal Shares (with Add1 completion)",
    "greedy": "Most shares first while the money lasts",
}
METHOD_HINTS = {
    "split": "Every priority gets part of the budget in proportion to the shares residents gave it. The usual choice for service priorities.",
    "equal_shares": "For costed priorities: everyone who votes controls an equal part of the budget, and a priority is funded when its backers' parts can pay for it. Used in real participatory budgets (Wieliczka, Aarau).",
    "greedy": "For costed priorities: fund the priority with most shares, then the next, skipping any that no longer fit the money left. Shown for comparison.",
}
# What residents read on a round and its results: how their shares are counted, without the
# methods' names and references, which are for officers choosing one (METHOD_NAMES, METHOD_HINTS).
METHOD_EXPLAINED = {
    "split": (
        "Shared out in proportion to shares",
        "Each priority gets a part of the budget in proportion to the shares residents give it: "
        "a priority with twice the shares gets twice the money.",
    ),
    "equal_shares": (
        "Equal shares of the budget",
        "The budget is divided equally between everyone who votes. Your part pays towards the priorities "
        "you give shares to, and a priority is funded when the parts of the people who back it add up to "
        "its cost. If money is left over, everyone's part is raised by the same amount and the count is "
        "run again, as long as what is funded still fits the budget.",
    ),
    "greedy": (
        "Most shares first",
        "The priority with the most shares is funded first, then the next, skipping any that cost more "
        "than the money left.",
    ),
}
ELIGIBILITY_NAMES = {
    "residents": "Signed-in residents of the participating wards",
    "verified": "Signed-in residents of the participating wards whose identity has been checked",
    "codes": "Anyone with a one-time voting code from the council",
}
STATUS_NAMES = {"draft": "Draft", "open": "Open", "closed": "Closed", "published": "Results published"}


def locked_message(round_: Round) -> str:
    opened = f" on {when(round_.opened_at)}" if round_.opened_at else ""
    return (
        f"This round opened{opened}, so its rules, priorities and counting method can no longer change. "
        "Keeping them fixed is fair to everyone who has already voted."
    )


# Reading rounds


def _number(round_id: int | str) -> int:
    number = as_id(round_id)
    if not number:
        raise NotFound()  # before the kept rounds are looked in
    return number


async def _round(council: Council, round_id: int | str) -> Round:
    # Hand-written: every ballot view and save reads the round first (civic.db.rows).
    rows = await db.rows(f'SELECT {db.columns(Round, "r")} FROM "voting_round" r WHERE r.id = ? AND r.council_id = ?', _number(round_id), council.id)
    if not rows:
        raise NotFound()
    return db.from_row(Round, rows[0])


def accepts_ballots(round_: Round) -> bool:
    """Open, and its closing time (if any) not yet come."""
    return round_.status == "open" and (round_.closes_at is None or timezone.now() < round_.closes_at)


# On a round's last evening every ballot view and save reads the round. An open round's rules are
# fixed; only its status and closing time can change, and saving checks both again in the database,
# under lock (ballots._UPSERT_BALLOT). So each process keeps an open round for
# CIVIC_PUBLIC_CACHE_SECONDS: a round an officer closes early shows as closed to residents within that
# time, and a ballot saved meanwhile is refused with a clear message. Officers' pages read it afresh.
_kept_open: Kept[Round] = Kept(64)


async def visible_round(actor: User | None, council: Council, round_id: int | str) -> Round:
    """A round as a visitor may see it: drafts only for the council's officers; moved on if its time has come."""
    key = (council.id, _number(round_id))
    round_ = _kept_open.get(key)
    if round_ is None or not accepts_ballots(round_):
        round_ = await advance(await _round(council, round_id))
        if accepts_ballots(round_):
            _kept_open.put(key, round_)
    if round_.status == "draft" and not await has_role(actor, council, *STAFF):
        raise NotFound()
    return round_


async def staff_round(actor: User | None, council: Council, round_id: int | str) -> Round:
    """A round for the council's officers to manage."""
    await require_role(actor, council, *STAFF)
    return await advance(await _round(council, round_id))


# A round's priorities and wards cannot change once it leaves draft (require_draft), so each process
# keeps them for such rounds instead of reading them on every ballot page and save: three queries fewer
# on each. Renaming a ward (`civic wards`) shows on ballot pages within FIXED_SECONDS.
FIXED_SECONDS = 300.0
_fixed: Kept[tuple[list[Priority], list[Ward]]] = Kept(64, lifetime=FIXED_SECONDS)


async def _read_priorities(round_: Round) -> list[Priority]:
    return await Priority.filter(round=round_).prefetch_related("ward")


async def _read_wards(round_: Round) -> list[Ward]:
    chosen = await round_.wards.all().order_by("name")
    return chosen or await Ward.filter(council_id=round_.council_id).order_by("name")  # type: ignore[attr-defined]


async def _fixed_parts(round_: Round) -> tuple[list[Priority], list[Ward]]:
    async def read() -> tuple[list[Priority], list[Ward]]:
        return await _read_priorities(round_), await _read_wards(round_)

    return await _fixed.fetch(round_.id, read)


async def priorities_of(round_: Round) -> list[Priority]:
    """The round's priorities in ballot order (shared, read-only objects once the round has opened)."""
    if round_.status == "draft":
        return await _read_priorities(round_)
    return list((await _fixed_parts(round_))[0])


async def wards_of(round_: Round) -> list[Ward]:
    """The participating wards; a round naming none is open to every ward of the council."""
    if round_.status == "draft":
        return await _read_wards(round_)
    return list((await _fixed_parts(round_))[1])


@dataclass
class RoundList:
    open: list[Round]
    closed: list[Round]
    published: list[Round]
    drafts: list[Round]
    voted: set[int]  # the open rounds this person has a ballot in


async def list_rounds(actor: User | None, council: Council) -> RoundList:
    """The council's rounds by stage; drafts only for its officers."""
    await advance_rounds(council)
    rounds = await Round.filter(council=council)
    staff = await has_role(actor, council, *STAFF)
    by = {status: [r for r in rounds if r.status == status] for status in ("open", "closed", "published", "draft")}
    voted: set[int] = set()
    if actor is not None and by["open"]:
        voted = set(await Ballot.filter(voter=actor, round_id__in=[r.id for r in by["open"]]).values_list("round_id", flat=True))
    return RoundList(by["open"], by["closed"], by["published"], by["draft"] if staff else [], voted)


# Rules


def _choose(values: Mapping[str, str], name: str, choices: Iterable[str], message: str, errors: dict[str, str]) -> str:
    value = (values.get(name) or "").strip()
    if value not in choices:
        errors[name] = message
    return value


def _text(values: Mapping[str, str], name: str, label: str, limit: int, errors: dict[str, str], required: bool = True) -> str:
    value = (values.get(name) or "").replace("\r\n", "\n").strip()
    if required and not value:
        errors[name] = f"Enter {label}"
    elif len(value) > limit:
        errors[name] = f"{label[0].upper()}{label[1:]} must be {limit} characters or fewer"
    return value


async def _rules(council: Council, values: Mapping[str, str], ward_ids: Iterable[str]) -> tuple[dict[str, object], list[Ward]]:
    """Every rule of a round read from the form, or one Invalid naming each problem."""
    errors: dict[str, str] = {}
    rules: dict[str, object] = {
        "title": _text(values, "title", "a title", 200, errors),
        "explanation": _text(values, "explanation", "an explanation", 5000, errors, required=False),
        "method": _choose(values, "method", METHODS, "Choose how the round is counted", errors),
        "eligibility": _choose(values, "eligibility", ELIGIBILITIES, "Choose who can vote", errors),
    }
    budget = None
    if (values.get("budget") or "").strip():
        try:
            budget = money(values["budget"], label="the budget")
        except Unreadable as error:
            errors["budget"] = str(error)
    elif rules["method"] in ("equal_shares", "greedy"):
        errors["budget"] = "Enter the budget: this counting method buys whole priorities, so it needs to know the money available"
    rules["budget"] = budget
    shares = 100
    try:
        shares = whole_number(values.get("shares_per_resident", ""), label="shares per resident", minimum=1, maximum=MAX_SHARES)
    except Unreadable as error:
        errors["shares_per_resident"] = str(error)
    rules["shares_per_resident"] = shares
    try:
        rules["minimum_priorities"] = whole_number(values.get("minimum_priorities", ""), label="the minimum number of priorities", minimum=1, maximum=1000)
    except Unreadable as error:
        errors["minimum_priorities"] = str(error)
    rules["max_shares_per_priority"] = None
    if (values.get("max_shares_per_priority") or "").strip():
        try:
            rules["max_shares_per_priority"] = whole_number(values["max_shares_per_priority"], label="the most shares on one priority", minimum=1, maximum=shares)
        except Unreadable as error:
            errors["max_shares_per_priority"] = str(error)
    for name, label in (("opens_at", "the opening time"), ("closes_at", "the closing time")):
        rules[name] = None
        if (values.get(name) or "").strip():
            try:
                rules[name] = local_time(values[name], label=label)
            except Unreadable as error:
                errors[name] = str(error)
    opens, closes = rules["opens_at"], rules["closes_at"]
    if isinstance(opens, datetime) and isinstance(closes, datetime) and closes <= opens:
        errors["closes_at"] = "The closing time must be after the opening time"
    wanted = {as_id(w) for w in ward_ids if str(w).strip()}  # not an id (too big, '²'): 0, refused
    wards = await Ward.filter(council=council, id__in=wanted) if wanted else []
    if len(wards) != len(wanted):
        errors["wards"] = "Choose wards of this council"
    if errors:
        raise Invalid(errors)
    return rules, list(wards)


async def create_round(actor: User | None, council: Council, values: Mapping[str, str], ward_ids: Iterable[str] = ()) -> Round:
    """An officer starts a draft round; nothing is public until it opens."""
    await require_role(actor, council, *STAFF)
    rules, wards = await _rules(council, values, ward_ids)
    async with in_transaction():
        round_ = await Round.create(council=council, created_by=actor, **rules)
        if wards:
            await round_.wards.add(*wards)
        await audit.record(actor, "round.created", round_, council=council, reason=round_.title)
    return round_


async def update_round(actor: User | None, council: Council, round_id: int | str, values: Mapping[str, str], ward_ids: Iterable[str] = ()) -> Round:
    """Change a draft round's rules; refused once it has opened."""
    round_ = await staff_round(actor, council, round_id)
    require_draft(round_)
    rules, wards = await _rules(council, values, ward_ids)
    async with in_transaction():
        # Re-read under a lock: the worker may be opening this round right now.
        locked = await Round.select_for_update().get(id=round_.id)
        require_draft(locked)
        for name, value in rules.items():
            setattr(locked, name, value)
        await locked.save()
        await locked.wards.clear()
        if wards:
            await locked.wards.add(*wards)
        await audit.record(actor, "round.changed", locked, council=council)
    return locked


def require_draft(round_: Round) -> None:
    if round_.status != "draft":
        raise Conflict(locked_message(round_))


# Priorities


async def _priority_values(council: Council, round_: Round, values: Mapping[str, str]) -> dict[str, object]:
    errors: dict[str, str] = {}
    found: dict[str, object] = {
        "title": _text(values, "title", "a title", 200, errors),
        "description": _text(values, "description", "a description", 5000, errors, required=False),
    }
    found["cost"] = None
    if (values.get("cost") or "").strip():
        try:
            found["cost"] = money(values["cost"], label="the cost")
        except Unreadable as error:
            errors["cost"] = str(error)
    found["ward"] = None
    ward_id = (values.get("ward") or "").strip()
    if ward_id:
        ward = await Ward.get_or_none(council=council, id=as_id(ward_id))
        if ward is None:
            errors["ward"] = "Choose a ward of this council, or none"
        found["ward"] = ward
    if errors:
        raise Invalid(errors)
    return found


async def add_priority(actor: User | None, council: Council, round_id: int | str, values: Mapping[str, str]) -> Priority:
    """Add a priority to a draft round."""
    round_ = await staff_round(actor, council, round_id)
    require_draft(round_)
    found = await _priority_values(council, round_, values)
    async with in_transaction():
        locked = await Round.select_for_update().get(id=round_.id)
        require_draft(locked)
        position = await Priority.filter(round=round_).count()
        priority = await Priority.create(council=council, round=round_, position=position + 1, **found)
        await audit.record(actor, "round.priority_added", round_, council=council, reason=priority.title)
    return priority


async def _priority(round_: Round, priority_id: int | str) -> Priority:
    priority = await Priority.get_or_none(id=as_id(priority_id), round=round_).prefetch_related("ward")
    if priority is None:
        raise NotFound()
    return priority


async def staff_priority(actor: User | None, council: Council, round_id: int | str, priority_id: int | str) -> tuple[Round, Priority]:
    round_ = await staff_round(actor, council, round_id)
    return round_, await _priority(round_, priority_id)


async def update_priority(actor: User | None, council: Council, round_id: int | str, priority_id: int | str, values: Mapping[str, str]) -> Priority:
    """Change a priority of a draft round."""
    round_, priority = await staff_priority(actor, council, round_id, priority_id)
    require_draft(round_)
    found = await _priority_values(council, round_, values)
    async with in_transaction():
        locked = await Round.select_for_update().get(id=round_.id)
        require_draft(locked)
        for name, value in found.items():
            setattr(priority, name, value)
        await priority.save()
        await audit.record(actor, "round.priority_changed", round_, council=council, reason=priority.title)
    return priority


async def remove_priority(actor: User | None, council: Council, round_id: int | str, priority_id: int | str) -> None:
    """Take a priority out of a draft round."""
    round_, priority = await staff_priority(actor, council, round_id, priority_id)
    require_draft(round_)
    async with in_transaction():
        locked = await Round.select_for_update().get(id=round_.id)
        require_draft(locked)
        await priority.delete()
        await audit.record(actor, "round.priority_removed", round_, council=council, reason=priority.title)


# Opening and closing


async def problems_before_opening(round_: Round) -> list[str]:
    """What stops a draft round from opening, in plain words (empty when it can open)."""
    problems = []
    priorities = await Priority.filter(round=round_)
    if len(priorities) < 2:
        problems.append("Add at least two priorities")
    if round_.minimum_priorities > max(len(priorities), 1):
        problems.append(f"Voters must back at least {round_.minimum_priorities} priorities, but the round has {len(priorities)}")
    if round_.minimum_priorities > round_.allowance:
        problems.append(
            f"Voters hold {round_.allowance} shares, so they cannot back {round_.minimum_priorities} priorities: "
            "each one they back takes at least one share"
        )
    if round_.costed:
        if round_.budget is None:
            problems.append("Set a budget: this counting method needs one")
        uncosted = [p.title for p in priorities if p.cost is None]
        if uncosted:
            problems.append("Give every priority a cost: this counting method needs them (no cost for " + ", ".join(uncosted) + ")")
        if round_.budget is not None:
            too_dear = [p.title for p in priorities if p.cost is not None and p.cost > round_.budget]
            if too_dear:
                problems.append(
                    f"{', '.join(too_dear)} cost{'s' if len(too_dear) == 1 else ''} more than the whole budget of "
                    f"{format_money(round_.budget, round_.currency)}, so voters' shares could never fund {'it' if len(too_dear) == 1 else 'them'}"
                )
    if round_.closes_at is not None and round_.closes_at <= timezone.now():
        problems.append("Set a closing time in the future")
    return problems


async def open_round(actor: User | None, council: Council, round_id: int | str) -> Round:
    """An officer opens a draft round now; its rules and priorities lock."""
    round_ = await staff_round(actor, council, round_id)
    if round_.status != "draft":
        raise Conflict("This round is already open." if round_.status == "open" else "This round has closed and cannot open again.")
    problems = await problems_before_opening(round_)
    if problems:
        raise Invalid({"open": ". ".join(problems) + "."})
    now = timezone.now()
    async with in_transaction():
        opens_at = round_.opens_at if round_.opens_at and round_.opens_at <= now else now
        if not await Round.filter(id=round_.id, status="draft").update(status="open", opened_at=now, opens_at=opens_at):
            raise Conflict("This round has just been opened by someone else.")
        await audit.record(actor, "round.opened", round_, council=council)
    return await Round.get(id=round_.id)


def require_open(round_: Round) -> None:
    if round_.status != "open":
        raise Conflict("Only an open round can be closed.")


@dataclass
class ClosePreview:
    """What closing a round early ends, for the officer to confirm first: it cannot be undone."""

    round: Round
    ballots: int


async def close_preview(actor: User | None, council: Council, round_id: int | str) -> ClosePreview:
    """An open round and how many ballots it has, for an officer about to close it; refused as close_round refuses."""
    round_ = await staff_round(actor, council, round_id)
    require_open(round_)
    # Only how many ballots, never what they say, before the results are published.
    return ClosePreview(round_, await Ballot.filter(round=round_).count())


async def close_round(actor: User | None, council: Council, round_id: int | str) -> Round:
    """An officer closes an open round now: no more ballots, and they can be counted."""
    round_ = await staff_round(actor, council, round_id)
    require_open(round_)
    now = timezone.now()
    async with in_transaction():
        # The lock waits for ballots being saved right now (they hold a share lock on the round).
        locked = await Round.select_for_update().get(id=round_.id)
        if locked.status != "open":
            raise Conflict("This round has just been closed by someone else.")
        await Round.filter(id=round_.id).update(status="closed", closed_at=now, closes_at=now)
        await audit.record(actor, "round.closed", round_, council=council)
    return await Round.get(id=round_.id)


async def advance(round_: Round) -> Round:
    """Move one round on if its opening or closing time has come; returns it as it now is."""
    now = timezone.now()
    if round_.status == "draft" and round_.opens_at is not None and round_.opens_at <= now:
        if not await problems_before_opening(round_):
            async with in_transaction():
                if await Round.filter(id=round_.id, status="draft").update(status="open", opened_at=now):
                    await audit.record(None, "round.opened", round_, council=await round_.council, reason="its opening time came")
            round_ = await Round.get(id=round_.id)
    if round_.status == "open" and round_.closes_at is not None and round_.closes_at <= now:
        async with in_transaction():
            locked = await Round.select_for_update().get(id=round_.id)
            if locked.status == "open":
                await Round.filter(id=round_.id).update(status="closed", closed_at=now)
                await audit.record(None, "round.closed", round_, council=await round_.council, reason="its closing time came")
        round_ = await Round.get(id=round_.id)
    return round_


async def advance_rounds(council: Council | None = None) -> int:
    """The worker's job: open and close every round whose time has come. Returns how many moved."""
    now = timezone.now()
    due = Round.filter(Q(status="draft", opens_at__lte=now) | Q(status="open", closes_at__lte=now))
    if council is not None:
        due = due.filter(council=council)
    moved = 0
    for round_ in await due:
        before = round_.status
        after = await advance(round_)
        moved += after.status != before
    return moved


async def officer_section(council: Council):
    """The officer home's part for rounds: what closes soon, what waits to be published, what cannot open."""
    from civic.officers import AttentionItem, Section

    await advance_rounds(council)
    items = []
    for round_ in await Round.filter(council=council, status__in=("draft", "open", "closed")).order_by("closes_at", "id"):
        href = f"/officer/rounds/{round_.id}"
        if round_.status == "closed":
            items.append(AttentionItem(f"{round_.title}: voting has closed; publish the results", href, "To do"))
        elif round_.status == "open":
            closing = f", closes {when(round_.closes_at)}" if round_.closes_at else ", closes when you close it"
            items.append(AttentionItem(f"{round_.title}: open{closing}", href))
        elif round_.opens_at is not None and round_.opens_at <= timezone.now():
            problems = await problems_before_opening(round_)
            items.append(AttentionItem(f"{round_.title} was due to open but cannot: {'. '.join(problems)}", href, "Problem"))
    return Section("Priority rounds", items, empty="No rounds need you now.", href="/officer/rounds", order=30)


async def council_wards(council: Council) -> list[Ward]:
    return await Ward.filter(council=council).order_by("name")


@dataclass
class RoundView:
    """What a round's pages show besides the round: its priorities, wards and (after results) the report."""

    round: Round
    priorities: list[Priority]
    wards: list[Ward]
    council_wards: list[Ward]
    problems: list[str]
    ballots: int
    progress: dict[int, list]
    backed: set[int]
    batches: list
    eligibility: object = None
    voted_at: datetime | None = None  # when this person last saved their ballot in the round


async def round_view(actor: User | None, council: Council, round_id: int | str, *, staff: bool = False) -> RoundView:
    """A round with everything its page shows; `staff=True` for the officers' page (permission checked)."""
    from civic.voting.ballots import code_batches, eligibility
    from civic.voting.report import backed_priorities, progress_of

    round_ = await (staff_round(actor, council, round_id) if staff else visible_round(actor, council, round_id))
    ballot = await Ballot.get_or_none(round=round_, voter=actor) if actor is not None and not staff else None
    return RoundView(
        round=round_,
        priorities=await priorities_of(round_),
        wards=await wards_of(round_),
        council_wards=await council_wards(council) if staff else [],
        problems=await problems_before_opening(round_) if staff and round_.status == "draft" else [],
        # Only how many ballots, never what they say, before the results are published.
        ballots=await Ballot.filter(round=round_).count() if staff else 0,
        progress=await progress_of(round_),
        backed=await backed_priorities(actor, round_, ballot) if ballot else set(),
        batches=await code_batches(actor, council, round_.id) if staff and round_.eligibility == "codes" else [],
        eligibility=None if staff else await eligibility(actor, round_),
        voted_at=ballot.updated_at if ballot else None,
    )
