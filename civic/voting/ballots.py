"""Casting a ballot: who may vote, the checks on every share, receipts, voting codes and paper ballots."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from tortoise import timezone
from tortoise.exceptions import IntegrityError

from civic import audit, crypto, db, mail
from civic.accounts import User, normalise_email, require_role
from civic.councils import Council, Ward, site_url
from civic.db import as_id, in_transaction, is_postgres
from civic.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from civic.voting.models import CODE_DIGEST, Allocation, Ballot, CodeBatch, Priority, Round, VotingCode
from civic.voting.parsing import Unreadable, when, whole_number
from civic.voting.rounds import STAFF, accepts_ballots, priorities_of, staff_round, visible_round, wards_of

# Codes people copy from paper: no 0/O or 1/I to misread. 12 characters of 32 kinds is 60 bits.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
MAX_BATCH = 5000
FIELD_PREFIX = "shares-"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """'abcd efgh-jkmn' -> 'ABCDEFGHJKMN'; what a person types back from paper."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def show_code(code: str) -> str:
    """'ABCDEFGHJKMN' -> 'ABCD-EFGH-JKMN', easier to read aloud and copy."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def receipt_hash(round_id: int, receipt: str) -> str:
    """What the public ballot list shows for a receipt; the receipt itself is never stored."""
    return hashlib.sha256(f"civic-receipt:{round_id}:{normalise_code(receipt)}".encode()).hexdigest()


class SharesLeft(DomainError):
    """A ballot that is valid but leaves shares that could have been given: the voter is asked first."""

    def __init__(self, left: int):
        super().__init__(f"{left} share{'' if left == 1 else 's'} left")
        self.left = left


def usable_shares(round_: Round, priorities: list[Priority]) -> int:
    """How many shares a voter can give at most: their allowance, unless the cap per priority stops them sooner."""
    return min(round_.allowance, round_.cap * len(priorities))


def field_name(priority: Priority) -> str:
    return f"{FIELD_PREFIX}{priority.id}"


# Who may vote


@dataclass
class Eligibility:
    can_vote: bool
    reason: str = ""
    needs_code: bool = False
    needs_signin: bool = False
    needs_postcode: bool = False  # a postcode (new or corrected) in their account could let them vote


def _not_open_reason(round_: Round) -> str:
    if round_.status == "draft":
        return f"Voting opens on {when(round_.opens_at)}." if round_.opens_at else "Voting has not opened yet."
    return f"Voting closed on {when(round_.closes_at or round_.closed_at)}."


async def eligibility(actor: User | None, round_: Round, wards: list[Ward] | None = None) -> Eligibility:
    """Whether this person can vote in this round now, and if not, why in plain words.

    `wards` are the round's participating wards, when the caller has already read them.
    """
    if not accepts_ballots(round_):
        return Eligibility(False, _not_open_reason(round_))
    if round_.eligibility == "codes":
        return Eligibility(True, needs_code=True)
    if actor is None:
        return Eligibility(False, "Sign in to vote. This round is for residents of the participating wards.", needs_signin=True)
    wards = wards if wards is not None else await wards_of(round_)
    names = ", ".join(w.name for w in wards)
    if actor.ward_id is None and actor.postcode:  # type: ignore[attr-defined]
        return Eligibility(False, f"This round is for residents of {names}. Your postcode, {actor.postcode}, is not in the council's area.", needs_postcode=True)
    if actor.ward_id is None:  # type: ignore[attr-defined]
        return Eligibility(False, f"This round is for residents of {names}. Add your postcode to your account so we know which ward you live in.", needs_postcode=True)
    if actor.ward_id not in {w.id for w in wards}:  # type: ignore[attr-defined]
        return Eligibility(False, f"This round is for residents of {names}, and your postcode, {actor.postcode}, is in another ward.", needs_postcode=True)
    if round_.eligibility == "verified" and not actor.identity_verified:
        return Eligibility(
            False,
            "This round needs your identity checked first. Sign in with a service that checks identity, "
            "or ask the council to check it.",
        )
    return Eligibility(True)


# Checking shares


@dataclass
class Shares:
    """A ballot as typed: the raw text per priority, and what it adds up to."""

    values: dict[str, str]
    used: int
    allowance: int

    @property
    def left(self) -> int:
        return self.allowance - self.used

    @property
    def over(self) -> bool:
        return self.used > self.allowance


def _lenient(raw: str) -> int:
    """The whole number in a field for the running total; anything unreadable counts as 0."""
    try:
        return max(0, whole_number(raw, label="shares"))
    except Unreadable:
        return 0


def tally(round_: Round, priorities: list[Priority], raw: Mapping[str, str]) -> Shares:
    """The running total of shares for the 'shares left' bar; never refuses."""
    values = {field_name(p): (raw.get(field_name(p)) or "").strip() for p in priorities}
    return Shares(values, sum(_lenient(v) for v in values.values()), round_.allowance)


def apply_step(round_: Round, priorities: list[Priority], raw: Mapping[str, str], step: str) -> Shares:
    """The − and + buttons without JavaScript: 'priority id:+1' moves that priority's shares by one."""
    values = dict(raw)
    target, _, delta = (step or "").partition(":")
    for p in priorities:
        if str(p.id) == target and delta in ("+1", "-1"):
            current = _lenient(values.get(field_name(p), ""))
            values[field_name(p)] = str(min(round_.cap, max(0, current + int(delta))))
    return tally(round_, priorities, values)


def check_shares(round_: Round, priorities: list[Priority], raw: Mapping[str, str]) -> tuple[dict[int, int], dict[str, str]]:
    """Every rule on a ballot's shares: {priority id: shares} and a message by each field that breaks one."""
    errors: dict[str, str] = {}
    ours = {field_name(p): p for p in priorities}
    for name in raw:
        if name.startswith(FIELD_PREFIX) and name not in ours:
            errors["ballot"] = "Your ballot names a priority that is not in this round. Reload the page and try again."
    shares: dict[int, int] = {}
    # Shares over the cap still count towards the total, as the running total counts them: a voter
    # told only about the cap would find the total too high as well after fixing it.
    used = 0
    for name, priority in ours.items():
        text = (raw.get(name) or "").strip()
        if not text:
            continue
        try:
            value = whole_number(text, label="shares")
        except Unreadable:
            errors[name] = f"Enter a whole number of shares for {priority.title}, like 5"
            continue
        if value < 0:
            errors[name] = f"Shares for {priority.title} cannot be fewer than 0"
            continue
        used += value
        if value > round_.cap:
            errors[name] = f"You can put at most {round_.cap} shares on {priority.title}"
        elif value:
            shares[priority.id] = value
    if used > round_.allowance:
        errors["total"] = f"You have given {used} shares but you hold {round_.allowance}. Take off {used - round_.allowance}."
    if not errors and len(shares) < round_.minimum_priorities:
        need = round_.minimum_priorities
        errors["priorities"] = (
            f"Give shares to at least {need} priorit{'y' if need == 1 else 'ies'}. You have backed {len(shares)}."
        )
    return shares, errors


# The ballot page


@dataclass
class BallotPage:
    round: Round
    priorities: list[Priority]
    eligibility: Eligibility
    shares: Shares
    has_ballot: bool = False
    report_emails: bool = True
    wards: list[Ward] = field(default_factory=list)


async def ballot_page(actor: User | None, council: Council, round_id: int | str) -> BallotPage:
    """The ballot as this person last saved it (or empty), and whether they can vote."""
    round_ = await visible_round(actor, council, round_id)
    priorities = await priorities_of(round_)
    wards = await wards_of(round_)
    allowed = await eligibility(actor, round_, wards)
    lines: list[dict] = []
    if actor is not None and round_.eligibility != "codes":
        # The ballot and its shares in one query: a row per share, or one row of nulls for no shares.
        lines = await db.rows(
            "SELECT b.report_emails, a.priority_id, a.shares FROM voting_ballot b"
            " LEFT JOIN voting_allocation a ON a.ballot_id = b.id WHERE b.round_id = ? AND b.voter_id = ?",
            round_.id,
            actor.id,
        )
    raw = {f"{FIELD_PREFIX}{line['priority_id']}": str(line["shares"]) for line in lines if line["priority_id"] is not None}
    return BallotPage(
        round=round_,
        priorities=priorities,
        eligibility=allowed,
        shares=tally(round_, priorities, raw),
        has_ballot=bool(lines),
        report_emails=bool(lines[0]["report_emails"]) if lines else True,
        wards=wards,
    )


async def preview(actor: User | None, council: Council, round_id: int | str, raw: Mapping[str, str], step: str = "") -> BallotPage:
    """The ballot page for what was typed, unsaved: for 'shares left' and the − and + buttons without JavaScript."""
    page = await ballot_page(actor, council, round_id)
    page.shares = apply_step(page.round, page.priorities, raw, step) if step else tally(page.round, page.priorities, raw)
    return page


# Saving


@dataclass
class Saved:
    ballot: Ballot
    receipt: str
    changed: bool = False

    @property
    def receipt_shown(self) -> str:
        return show_code(self.receipt)


async def cast_ballot(
    actor: User | None,
    council: Council,
    round_id: int | str,
    raw: Mapping[str, str],
    *,
    code: str | None = None,
    report_emails: bool = True,
    ask_if_shares_left: bool = False,
) -> Saved:
    """Save a resident's ballot, replacing their earlier one; or redeem a voting code once.

    With `ask_if_shares_left`, a ballot that gives fewer shares than the voter could is not saved:
    SharesLeft says how many are left, so the voter can use them or say they mean it.

    Safe when one person submits many times at once: the database allows one ballot per voter per
    round, and the voter's ballot row is locked while its shares are replaced.
    """
    round_ = await visible_round(actor, council, round_id)
    if not accepts_ballots(round_):
        raise Conflict(_not_open_reason(round_))
    priorities = await priorities_of(round_)
    shares, errors = check_shares(round_, priorities, raw)
    left = usable_shares(round_, priorities) - sum(shares.values())
    if round_.eligibility == "codes":
        normalised = normalise_code(code or "")
        if not normalised:
            errors["code"] = "Enter the voting code from your letter"
        elif len(normalised) != CODE_LENGTH:
            errors["code"] = f"A voting code has {CODE_LENGTH} letters and numbers, like ABCD-EFGH-JKMN"
        if errors:
            raise Invalid(errors)
        if ask_if_shares_left and left > 0:
            raise SharesLeft(left)
        return await _redeem(council, round_, priorities, shares, normalised, source="code", entered_by=None)
    allowed = await eligibility(actor, round_)
    if not allowed.can_vote:
        raise Forbidden(allowed.reason)
    if errors:
        raise Invalid(errors)
    if ask_if_shares_left and left > 0:
        raise SharesLeft(left)
    assert actor is not None
    receipt = new_code()
    async with in_transaction():
        store = _store_on_postgres if is_postgres() else _store
        ballot, changed = await store(council, round_, actor, shares, receipt_hash(round_.id, receipt), report_emails)
        # The worker sends it within CIVIC_WORKER_INTERVAL, many to a connection: on a round's last
        # evening the save answers without waiting on the mail relay. A receipt for an earlier version
        # that has not gone yet never will: its code no longer counts, and one e-mail is kinder.
        topic = f"ballot-receipt:{ballot.id}"
        if changed:
            await mail.supersede(topic)
        await mail.queue(actor.email, f"Your ballot: {round_.title}", _receipt_email(council, round_, priorities, shares, receipt, changed), topic=topic, council_id=council.id)
    return Saved(ballot, receipt, changed)


async def receipt_shares(round_: Round, receipt: str) -> list[tuple[Priority, int]]:
    """What the ballot with this receipt gives each priority, for the voter who holds the receipt."""
    ballot = await Ballot.get_or_none(round=round_, receipt_hash=receipt_hash(round_.id, receipt))
    if ballot is None:
        return []
    given = dict(await Allocation.filter(ballot=ballot, shares__gt=0).values_list("priority_id", "shares"))
    return [(p, given[p.id]) for p in await priorities_of(round_) if p.id in given]


async def _store(
    council: Council, round_: Round, voter: User, shares: Mapping[int, int], digest: str, report_emails: bool
) -> tuple[Ballot, bool]:
    """Inside the saving transaction: the voter's ballot created or replaced; whether it replaced one."""
    await _lock_round_open(round_)
    ballot = await Ballot.select_for_update().get_or_none(round=round_, voter=voter)
    changed = ballot is not None
    if ballot is None:
        try:
            async with in_transaction():  # a savepoint: a concurrent first save may win the insert
                ballot = await Ballot.create(
                    council=council, round=round_, voter=voter, ward_id=voter.ward_id, source="online",  # type: ignore[attr-defined]
                    receipt_hash=digest, report_emails=report_emails,
                )
        except IntegrityError:
            ballot = await Ballot.select_for_update().get(round=round_, voter=voter)
            changed = True
    await _replace_shares(ballot, shares)
    ballot.receipt_hash = digest
    ballot.report_emails = report_emails
    ballot.ward_id = voter.ward_id  # type: ignore[attr-defined]
    await ballot.save(update_fields=["receipt_hash", "report_emails", "ward_id", "updated_at"])
    return ballot, changed


# What _store does, in two statements instead of six to nine: a round's last evening is mostly saves.
# The first locks the round open (FOR SHARE: ballots never wait for each other, but closing the round
# waits for them) and upserts the ballot, which locks the voter's row; `xmax = 0` tells a new row from
# a replaced one. The second replaces the shares. It must be a statement of its own: one that waited
# for the voter's row lock behind a concurrent save of the same ballot would not see the shares that
# save wrote, since every part of one statement reads the same snapshot.
_UPSERT_BALLOT = """
WITH open_round AS (
    SELECT id FROM voting_round WHERE id = ? AND status = 'open' AND (closes_at IS NULL OR closes_at > ?) FOR SHARE
)
INSERT INTO voting_ballot (council_id, round_id, voter_id, ward_id, source, receipt_hash, report_emails, created_at, updated_at)
SELECT ?, id, ?, ?, 'online', ?, ?, ?, ? FROM open_round
ON CONFLICT (round_id, voter_id) DO UPDATE SET
    receipt_hash = EXCLUDED.receipt_hash, report_emails = EXCLUDED.report_emails, ward_id = EXCLUDED.ward_id, updated_at = EXCLUDED.updated_at
RETURNING *, xmax = 0 AS inserted
"""

_REPLACE_SHARES = """
WITH gone AS (DELETE FROM voting_allocation WHERE ballot_id = ? AND priority_id <> ALL(?::int[]))
INSERT INTO voting_allocation (ballot_id, priority_id, shares)
SELECT ?, priority_id, shares FROM unnest(?::int[], ?::int[]) AS given(priority_id, shares)
ON CONFLICT (ballot_id, priority_id) DO UPDATE SET shares = EXCLUDED.shares
"""


async def _store_on_postgres(
    council: Council, round_: Round, voter: User, shares: Mapping[int, int], digest: str, report_emails: bool
) -> tuple[Ballot, bool]:
    now = timezone.now()
    rows = await db.rows(_UPSERT_BALLOT, round_.id, now, council.id, voter.id, voter.ward_id, digest, report_emails, now, now)  # type: ignore[attr-defined]
    if not rows:
        await _lock_round_open(round_)  # closed since the page was read: says when
        raise Conflict("Voting in this round has closed.")
    ballot = db.from_row(Ballot, rows[0])
    chosen = list(shares)
    await db.rows(_REPLACE_SHARES, ballot.id, chosen, ballot.id, chosen, [shares[p] for p in chosen])
    return ballot, not rows[0]["inserted"]


async def _lock_round_open(round_: Round) -> None:
    """Inside the saving transaction: the round must still be open, and stays open until commit."""
    if is_postgres():
        # A share lock: ballots never wait for each other, but closing the round waits for them.
        rows = await db.rows('SELECT status, closes_at FROM voting_round WHERE id = ? FOR SHARE', round_.id)
        status, closes_at = rows[0]["status"], rows[0]["closes_at"]
    else:
        # SQLite runs one writing transaction at a time, so a plain read is enough.
        current = await Round.get(id=round_.id)
        status, closes_at = current.status, current.closes_at
    if status != "open" or (closes_at is not None and closes_at <= timezone.now()):
        raise Conflict(f"Voting closed on {when(closes_at)}." if closes_at else "Voting in this round has closed.")


async def _replace_shares(ballot: Ballot, shares: Mapping[int, int]) -> None:
    await Allocation.filter(ballot=ballot).delete()
    await Allocation.bulk_create([Allocation(ballot=ballot, priority_id=pid, shares=n) for pid, n in shares.items()])


async def _redeem(
    council: Council, round_: Round, priorities: list[Priority], shares: Mapping[int, int], code: str, *, source: str, entered_by: User | None
) -> Saved:
    """Use a voting code once, for a ballot cast online or entered from paper."""
    receipt = new_code()
    async with in_transaction():
        await _lock_round_open(round_)
        # Under any configured key: codes printed before a key rotation still work while it runs.
        voting_code = await VotingCode.select_for_update().get_or_none(digest__in=crypto.digests(CODE_DIGEST, code), round=round_).prefetch_related("batch")
        if voting_code is None:
            raise Invalid({"code": "That voting code is not recognised for this round. Check it against the letter."})
        # Conditional update: two people racing with one code cannot both use it.
        if voting_code.redeemed_at is not None or not await VotingCode.filter(id=voting_code.id, redeemed_at__isnull=True).update(redeemed_at=timezone.now()):
            raise Invalid({"code": "That voting code has already been used. Each code works once."})
        ballot = await Ballot.create(
            council=council, round=round_, voting_code=voting_code, ward_id=voting_code.batch.ward_id,  # type: ignore[attr-defined]
            source=source, entered_by=entered_by, receipt_hash=receipt_hash(round_.id, receipt), report_emails=False,
        )
        await _replace_shares(ballot, shares)
        if entered_by is not None:
            await audit.record(entered_by, "ballot.paper_entered", ballot, council=council, reason=f"voting code ending {code[-4:]} in {round_.title}")
    return Saved(ballot, receipt)


async def enter_paper_ballot(actor: User | None, council: Council, round_id: int | str, code: str, raw: Mapping[str, str]) -> Saved:
    """An officer types in a paper ballot for the holder of a voting code; audited."""
    round_ = await staff_round(actor, council, round_id)
    if round_.eligibility != "codes":
        raise Conflict("Paper ballots are entered with a voting code, and this round is for signed-in residents.")
    if not accepts_ballots(round_):
        raise Conflict(_not_open_reason(round_))
    priorities = await priorities_of(round_)
    shares, errors = check_shares(round_, priorities, raw)
    normalised = normalise_code(code)
    if not normalised:
        errors["code"] = "Enter the voting code printed on the paper ballot"
    elif len(normalised) != CODE_LENGTH:
        errors["code"] = f"A voting code has {CODE_LENGTH} letters and numbers, like ABCD-EFGH-JKMN"
    if errors:
        raise Invalid(errors)
    return await _redeem(council, round_, priorities, shares, normalised, source="paper", entered_by=actor)


def _receipt_email(council: Council, round_: Round, priorities: list[Priority], shares: Mapping[int, int], receipt: str, changed: bool) -> str:
    base = site_url(council)
    lines = [f"  {p.title}: {shares[p.id]} share{'s' if shares[p.id] != 1 else ''}" for p in priorities if shares.get(p.id)]
    until = f" until {when(round_.closes_at)}" if round_.closes_at else " until the round closes"
    return (
        f"Thank you. Your {'changed ' if changed else ''}ballot in \"{round_.title}\" is saved:\n\n"
        + "\n".join(lines)
        + f"\n\nYour receipt code: {show_code(receipt)}\n"
        f"In the published list of ballots it appears as {receipt_hash(round_.id, receipt)[:12]}.\n"
        f"After the results are published, find it at {base}/rounds/{round_.id}/ballots\n\n"
        f"You can change your ballot{until}: {base}/rounds/{round_.id}/ballot\n"
        "Each change gives you a new receipt code; only the last one counts.\n"
    )


# Voting codes


def ballot_url(council: Council, round_: Round) -> str:
    """The round's ballot at the council's own public address, as letters with voting codes print it.

    Never from the request's Host: a letter must carry the council's real address whatever host name
    (another of the council's, or one with a port) the officer printing it came in by.
    """
    return f"{site_url(council)}/rounds/{round_.id}/ballot"


async def generate_codes(actor: User | None, council: Council, round_id: int | str, values: Mapping[str, str]) -> CodeBatch:
    """An officer makes a batch of one-time voting codes to print or post."""
    round_ = await staff_round(actor, council, round_id)
    errors: dict[str, str] = {}
    if round_.eligibility != "codes":
        raise Conflict("This round is for signed-in residents. Voting codes work in rounds where anyone with a code can vote.")
    if round_.status not in ("draft", "open"):
        raise Conflict("Voting has closed, so new codes would be no use.")
    size = 0
    try:
        size = whole_number(values.get("size", ""), label="how many codes", minimum=1, maximum=MAX_BATCH)
    except Unreadable as error:
        errors["size"] = str(error)
    label = (values.get("label") or "").strip()
    if len(label) > 120:
        errors["label"] = "The label must be 120 characters or fewer"
    ward = None
    ward_id = (values.get("batch_ward") or "").strip()
    if ward_id:
        ward = await Ward.get_or_none(id=as_id(ward_id), council=council)
        if ward is None or ward.id not in {w.id for w in await wards_of(round_)}:
            errors["batch_ward"] = "Choose one of the round's wards, or none"
    if errors:
        raise Invalid(errors)
    async with in_transaction():
        batch = await CodeBatch.create(council=council, round=round_, label=label, ward=ward, size=size, created_by=actor)
        codes = {new_code() for _ in range(size)}
        while len(codes) < size:
            codes.add(new_code())
        await VotingCode.bulk_create([VotingCode(council=council, round=round_, batch=batch, code=c, digest=VotingCode.digest_of(c)) for c in sorted(codes)], batch_size=500)
        await audit.record(actor, "round.codes_generated", round_, council=council, reason=f"{size} codes{f' for {ward.name}' if ward else ''}")
    return batch


async def code_batches(actor: User | None, council: Council, round_id: int | str) -> list[tuple[CodeBatch, int]]:
    """The round's batches of codes, each with how many have been used."""
    round_ = await staff_round(actor, council, round_id)
    batches = await CodeBatch.filter(round=round_).prefetch_related("ward")
    return [(b, await VotingCode.filter(batch=b, redeemed_at__isnull=False).count()) for b in batches]


async def code_batch(actor: User | None, council: Council, round_id: int | str, batch_id: int | str) -> tuple[Round, CodeBatch, list[VotingCode]]:
    """One batch's codes, for its CSV and printable page; each download is in the audit log."""
    round_ = await staff_round(actor, council, round_id)
    batch = await CodeBatch.get_or_none(id=as_id(batch_id), round=round_).prefetch_related("ward")
    if batch is None:
        raise NotFound()
    codes = await VotingCode.filter(batch=batch)
    await audit.record(actor, "round.codes_downloaded", round_, council=council, reason=f"batch {batch.id}")
    return round_, batch, codes


async def require_staff(actor: User | None, council: Council) -> None:
    await require_role(actor, council, *STAFF)


async def verify_identity(actor: User | None, council: Council, email: str, evidence: str) -> User:
    """An officer records that they checked a resident's identity (for rounds that require it); audited."""
    await require_role(actor, council, *STAFF)
    errors: dict[str, str] = {}
    found = None
    if not (email or "").strip():
        errors["email"] = "Enter the resident's email address"
    else:
        try:
            address = normalise_email(email)
        except Invalid:
            errors["email"] = "Enter their email address in the correct format, like name@example.com"
        else:
            found = await User.get_or_none(email=address, ward__council=council)
            if found is None:
                errors["email"] = "No resident of this council's wards has that email address. They need to sign in and give their postcode first."
            elif actor is not None and found.id == actor.id:
                # As with roles: a check is someone else's word that you are who you say.
                errors["email"] = "You cannot check your own identity. Ask another officer to check it."
    checked = (evidence or "").strip()
    if not checked:
        errors["evidence"] = "Say how you checked their identity, for the audit log"
    elif len(checked) > 200:
        errors["evidence"] = "Keep it to 200 characters or fewer"
    if errors:
        raise Invalid(errors)
    assert found is not None
    async with in_transaction():
        if not found.identity_verified:
            found.identity_verified = True
            await found.save(update_fields=["identity_verified"])
        await audit.record(actor, "user.identity_verified", found, council=council, reason=checked)
    return found


async def paper_page(actor: User | None, council: Council, round_id: int | str, raw: Mapping[str, str] | None = None, step: str = "") -> BallotPage:
    """The form an officer types a paper ballot into, as typed so far."""
    round_ = await staff_round(actor, council, round_id)
    priorities = await priorities_of(round_)
    raw = raw or {}
    shares = apply_step(round_, priorities, raw, step) if step else tally(round_, priorities, raw)
    if round_.eligibility != "codes":
        allowed = Eligibility(False, "Paper ballots are entered with a voting code, and this round is for signed-in residents.")
    elif not accepts_ballots(round_):
        allowed = Eligibility(False, _not_open_reason(round_))
    else:
        allowed = Eligibility(True, needs_code=True)
    return BallotPage(round_, priorities, allowed, shares, wards=await wards_of(round_))
