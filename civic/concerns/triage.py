"""Triage: the officers' queue, the concern page, and every action an officer takes on a concern."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from tortoise import timezone

from civic import audit, mail
from civic.accounts import User
from civic.concerns import access, handover, intake, routing
from civic.concerns.access import Viewer
from civic.concerns.escalation import is_overdue
from civic.concerns.models import Category, Concern, ConcernEvent, Referral, Team
from civic.concerns.notices import email_reporter
from civic.concerns.vocabulary import NOTE_LIMIT, STATUS, URGENCY
from civic.councils import Council, Ward, site_url
from civic.db import as_id, in_transaction, page_number
from civic.errors import Conflict, Invalid
from civic.schemes import when

PAGE_SIZE = 50
STATUS_FILTERS = {
    "waiting": ("Waiting: new or being looked at", ["new", "open"]),
    "new": ("New", ["new"]),
    "open": ("Being looked at", ["open"]),
    "referred": ("Referred to early help", ["referred"]),
    "current": ("New, being looked at or referred", ["new", "open", "referred"]),
    "closed": ("Closed", ["closed"]),
    "all": ("All", ["new", "open", "referred", "closed"]),
}


@dataclass
class Filters:
    status: str = "waiting"
    category: str = ""
    ward: str = ""
    team: str = ""  # a team id, "none" for unassigned, or "" for any
    q: str = ""  # a reference
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        status = params.get("status", "")
        page = page_number(params.get("page", "1"))
        return cls(
            status=status if status in STATUS_FILTERS else "",  # "": what this reader starts with (see _filtered)
            category=params.get("category", "")[:60],
            ward=params.get("ward", "")[:12],
            team=params.get("team", "")[:12],
            q=params.get("q", "")[:20].strip(),
            page=page,
        )

    def query_string(self, **change: object) -> str:
        from urllib.parse import urlencode

        values = {"status": self.status, "category": self.category, "ward": self.ward, "team": self.team, "q": self.q, "page": self.page}
        values.update(change)
        return urlencode({k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)})


@dataclass
class QueueItem:
    concern: Concern
    overdue: bool


@dataclass
class Queue:
    items: list[QueueItem]
    total: int
    filters: Filters
    pages: int
    categories: list[Category]
    wards: list[Ward]
    teams: list[Team]
    viewer: Viewer


def _filtered(reader: Viewer, filters: Filters):
    # Officers start with what is waiting for triage; a key worker with their team's work, which is
    # mostly what was referred to it (only "waiting" hid every referral from them).
    if filters.q:
        # A reference names one concern: searching for it finds it whatever its status.
        filters.status = "all"
    filters.status = filters.status or ("waiting" if reader.is_officer else "current")
    query = reader.concerns().filter(status__in=STATUS_FILTERS[filters.status][1])
    if filters.category:
        query = query.filter(category__slug=filters.category)
    if filters.ward.isdigit():
        query = query.filter(ward_id=as_id(filters.ward))
    if filters.team == "none":
        query = query.filter(team_id__isnull=True)
    elif filters.team.isdigit():
        query = query.filter(team_id=as_id(filters.team))
    if filters.q:
        query = query.filter(reference=access.normalise_reference(filters.q))
    return query


async def queue(user: User | None, council: Council, filters: Filters) -> Queue:
    """The concerns this person may see, most urgent first and then oldest first."""
    reader = await access.viewer(user, council)
    query = _filtered(reader, filters)
    total = await query.count()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    filters.page = min(filters.page, pages)
    concerns = (
        await query.order_by("urgency_rank", "created_at", "id")
        .offset((filters.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .prefetch_related("category", "ward", "team")
    )
    now = timezone.now()
    return Queue(
        items=[QueueItem(c, overdue=is_overdue(c, now)) for c in concerns],
        total=total,
        filters=filters,
        pages=pages,
        categories=await routing.categories(council, include_retired=True),
        wards=await Ward.filter(council=council).order_by("name"),
        # A key worker sees only their own teams' concerns, so only those teams are worth choosing.
        teams=await Team.filter(council=council, **({} if reader.is_officer else {"id__in": reader.team_ids})).order_by("name"),
        viewer=reader,
    )


CSV_COLUMNS = ["reference", "raised", "urgency", "category", "ward", "status", "team", "respond by", "first opened", "closed", "closed because"]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting like a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(value: datetime | None) -> str:
    return f"{when.local(value):%Y-%m-%d %H:%M}" if value else ""


async def export_csv(user: User | None, council: Council, filters: Filters) -> str:
    """The queue as it is filtered, as CSV, without anything anyone wrote; each concern's access log says so."""
    reader = await access.viewer(user, council)
    reader.require_officer()
    concerns = await _filtered(reader, filters).order_by("urgency_rank", "created_at", "id").prefetch_related("category", "ward", "team")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in concerns:
        writer.writerow(
            _cell(v)
            for v in (
                c.reference, _when(c.created_at), URGENCY[c.urgency].label, c.category.name if c.category else "",
                c.ward.name if c.ward else "", STATUS[c.status], c.team.name if c.team else "", _when(c.due_at),
                _when(c.first_opened_at), _when(c.closed_at), c.closed_reason,
            )
        )
    await access.log(reader.user, council, concerns, "exported")
    return out.getvalue()


@dataclass
class ConcernPage:
    concern: Concern
    viewer: Viewer
    events: list[ConcernEvent]
    referrals: list[Referral]
    teams: list[Team]
    suggested_team: Team | None
    reporter_status: str
    overdue: bool
    duplicates: list[Concern] = field(default_factory=list)
    progress: dict[int, list[handover.ProgressLine]] = field(default_factory=dict)  # how each referral is reaching its team
    recordable: list[tuple[str, str, str]] = field(default_factory=list)  # referral statuses this reader may record here: (status, label, hint)
    team_warnings: dict[int, str] = field(default_factory=dict)  # for the refer form: teams a referral would not reach by itself


async def _mark_opened(concern: Concern, actor: User) -> None:
    """The first time anyone with access opens a concern, it is marked open (a "new" one becomes "open").

    Escalation does not stop here: opening is not answering (`escalation.is_overdue`). What it changes is
    what the duty e-mail says: "opened, but not referred" rather than "not opened yet".
    """
    if concern.first_opened_at is not None:
        return
    now = timezone.now()
    changed = await Concern.filter(id=concern.id, first_opened_at__isnull=True).update(
        first_opened_at=now, status="open" if concern.status == "new" else concern.status
    )
    if changed:
        await ConcernEvent.create(concern=concern, actor=actor, kind="opened")
    await concern.refresh_from_db(fields=["first_opened_at", "status"])


async def open_concern(user: User | None, council: Council, reference: str) -> ConcernPage:
    """The concern page: reading it is logged, and the first reading marks it as being looked at."""
    reader = await access.viewer(user, council)
    concern = await access.find(reader, reference)
    overdue = is_overdue(concern)
    async with in_transaction():
        await access.log(reader.user, council, [concern], "viewed")
        await _mark_opened(concern, reader.user)
    await concern.fetch_related("category", "ward", "team", "merged_into")
    referrals = await Referral.filter(concern=concern).prefetch_related("team", "referred_by")
    teams = await Team.filter(council=council).order_by("name")
    referable = reader.is_officer and concern.status not in ("referred", "closed")
    return ConcernPage(
        concern=concern,
        viewer=reader,
        events=await ConcernEvent.filter(concern=concern).prefetch_related("actor", "team").order_by("created_at", "id"),
        referrals=referrals,
        teams=teams,
        suggested_team=await routing.route(council, concern.category, concern.ward),
        reporter_status=(await intake.reporter_wording(concern))[0],
        overdue=overdue,
        duplicates=await Concern.filter(merged_into=concern).order_by("created_at"),
        progress=await handover.progress(referrals),
        recordable=await handover.recordable(reader, concern, referrals[-1] if referrals else None),
        team_warnings=await handover.team_warnings(teams) if referable else {},
    )


async def _acting(user: User | None, council: Council, reference: str, *, officer: bool = True, open_only: bool = True) -> tuple[Viewer, Concern]:
    reader = await access.viewer(user, council)
    concern = await access.find(reader, reference)
    if officer:
        reader.require_officer()
    if open_only and concern.status == "closed":
        raise Conflict("This concern is closed.")
    return reader, concern


def _text(raw: str, field: str, what: str, limit: int = NOTE_LIMIT) -> str:
    text = (raw or "").replace("\r\n", "\n").strip()
    if not text:
        raise Invalid({field: f"Enter {what}"})
    if len(text) > limit:
        raise Invalid({field: f"{what[0].upper() + what[1:]} must be {limit:,} characters or fewer: you have {len(text):,}"})
    return text


async def assign(user: User | None, council: Council, reference: str, team_id: str) -> Concern:
    """Put a team in charge of looking at the concern; its key workers can then see it."""
    reader, concern = await _acting(user, council, reference)
    team = await Team.get_or_none(id=as_id(team_id), council=council)
    if team is None:
        raise Invalid({"team": "Choose a team"})
    if concern.status == "referred" and team.id != concern.team_id:
        # The referral, and with it the team's system and key workers, would stay where it is: only the label would move.
        holder = await Team.get_or_none(id=concern.team_id) if concern.team_id else None
        name = holder.name if holder else "a team"
        raise Conflict(
            f"This concern was referred to {name}, so it cannot be assigned to another team. "
            f"A referral cannot be moved: add a note for {name} if another team should have it."
        )
    async with in_transaction():
        await _mark_opened(concern, reader.user)
        concern.team_id = team.id
        await concern.save(update_fields=["team_id", "updated_at"])
        await ConcernEvent.create(concern=concern, actor=reader.user, kind="assigned", team=team)
        await audit.record(reader.user, "concern.assigned", concern, council=council, reason=team.name)
    return concern


async def add_note(user: User | None, council: Council, reference: str, text: str) -> ConcernEvent:
    """An internal note, for officers and the team's key workers; the person who raised it never sees it."""
    reader, concern = await _acting(user, council, reference, officer=False, open_only=False)
    note = _text(text, "note", "a note")
    async with in_transaction():
        await _mark_opened(concern, reader.user)
        event = await ConcernEvent.create(concern=concern, actor=reader.user, kind="note", text=note)
        await audit.record(reader.user, "concern.noted", concern, council=council)
    return event


async def ask_for_information(user: User | None, council: Council, reference: str, question: str) -> bool:
    """Ask the person who raised it a question; returns whether they were e-mailed.

    The question shows on their status page. If they gave an e-mail address they are told there is
    a question, by a message that holds only their status link: the officer never sees the address.
    """
    reader, concern = await _acting(user, council, reference)
    text = _text(question, "question", "your question")
    async with in_transaction():
        await _mark_opened(concern, reader.user)
        await ConcernEvent.create(concern=concern, actor=reader.user, kind="info-requested", text=text)
        await audit.record(reader.user, "concern.information_requested", concern, council=council)
        queued = await email_reporter(
            concern, council, concern.status_key,
            f"A question about your concern ({concern.reference})",
            f"{council.name} has a question about the concern you raised, reference {concern.reference}.\n\n"
            "To keep it private, the question is not in this email. Read it and answer here:\n{status_url}\n",
        )
    if queued:
        await mail.deliver(queued)
    return bool(queued)


# Names that only a local network knows: a link to one shows the reporter nothing, or something inside a network.
LOCAL_NAMES = ("localhost", "local", "internal", "intranet", "lan", "home", "corp", "home.arpa")


def _web_address(raw: str, council: Council) -> str:
    """A public https address to give the person who raised it, judged from the address alone (no DNS lookup).

    A page of the council's own site (a scheme in civic's directory) is always fine, even on a test site.
    """
    url = (raw or "").strip()
    if url.startswith(site_url(council) + "/") and len(url) <= 500:
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("Enter the scheme's web address, starting https://") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme != "https" or not host or len(url) > 500:
        raise ValueError("Enter the scheme's web address, starting https://")
    if parts.username or parts.password:
        raise ValueError("Enter the scheme's web address without a user name or password")
    last = host.rsplit(".", 1)[-1]
    # Browsers read a numeric last part (192.168.0.1, 127.1, 2130706433, 0x7f000001) as an IP address.
    if ":" in host or last.isdigit() or last.startswith("0x"):
        raise ValueError("Enter the scheme's web address with its name, like https://www.example.org, not an IP address")
    if "." not in host or any(host == name or host.endswith("." + name) for name in LOCAL_NAMES):
        raise ValueError(f"Enter the address of a public website: {host} works only inside a local network")
    return url


async def signpost(user: User | None, council: Council, reference: str, scheme_name: str, scheme_url: str) -> bool:
    """Point the person who raised it to a local scheme, and close the concern; returns whether they were e-mailed."""
    reader, concern = await _acting(user, council, reference)
    errors: dict[str, str] = {}
    name = " ".join((scheme_name or "").split())
    if not name:
        errors["scheme_name"] = "Enter the scheme's name"
    elif len(name) > 200:
        errors["scheme_name"] = "The scheme's name must be 200 characters or fewer"
    try:
        url = _web_address(scheme_url, council)
    except ValueError as refused:
        errors["scheme_url"] = str(refused)
    if errors:
        raise Invalid(errors)
    async with in_transaction():
        await _mark_opened(concern, reader.user)
        was_referred = concern.status == "referred"
        concern.signpost_name, concern.signpost_url = name, url
        await _close(concern, "signposted")
        await ConcernEvent.create(concern=concern, actor=reader.user, kind="signposted", text=f"{name}: {url}")
        await audit.record(reader.user, "concern.signposted", concern, council=council)
        if was_referred:
            await _withdraw(concern)
        queued = await email_reporter(
            concern, council, concern.status_key,
            f"Local support that could help ({concern.reference})",
            f"Thank you for raising your concern with {council.name}, reference {concern.reference}.\n\n"
            f"We think this local support could help:\n{name}\n{url}\n\n"
            "You can see the status of your concern here:\n{status_url}\n",
        )
    if queued:
        await mail.deliver(queued)
    return bool(queued)


async def _close(concern: Concern, reason: str) -> None:
    concern.status = "closed"
    concern.closed_reason = reason
    concern.closed_at = timezone.now()
    await concern.save(update_fields=["status", "closed_reason", "closed_at", "signpost_name", "signpost_url", "merged_into_id", "updated_at"])


async def _withdraw(concern: Concern) -> None:
    referral = await handover.current_referral(concern)
    if referral is not None:
        await handover.announce("concern.withdrawn", referral)


async def close_no_further_action(user: User | None, council: Council, reference: str, reason: str) -> Concern:
    """Close the concern with no further action; the reason is kept in its history."""
    reader, concern = await _acting(user, council, reference)
    text = _text(reason, "reason", "the reason for no further action")
    async with in_transaction():
        await _mark_opened(concern, reader.user)
        was_referred = concern.status == "referred"
        await _close(concern, "no-further-action")
        await ConcernEvent.create(concern=concern, actor=reader.user, kind="closed", text=text)
        await audit.record(reader.user, "concern.closed", concern, council=council, reason="no further action")
        if was_referred:
            await _withdraw(concern)
    return concern


async def merge(user: User | None, council: Council, reference: str, into_reference: str) -> Concern:
    """Close this concern as a duplicate of another; its reporter's status page then follows the other."""
    reader, concern = await _acting(user, council, reference)
    into = await reader.concerns().filter(reference=access.normalise_reference(into_reference)).first()
    if into is None:
        raise Invalid({"into": "Enter the reference of another concern, like ABCD-2345"})
    if into.id == concern.id:
        raise Invalid({"into": "A concern cannot be merged into itself"})
    if into.merged_into_id:
        root = await Concern.get(id=into.merged_into_id)
        raise Invalid({"into": f"{into.reference} was itself merged into {root.reference}: merge into that one"})
    if into.status == "closed":
        # Merging closes this concern too: into a closed one, it would leave every queue and never escalate.
        raise Invalid({"into": f"{into.reference} is closed. Keep this concern open on its own, or merge it into one that is still open"})
    async with in_transaction():
        await _mark_opened(concern, reader.user)
        was_referred = concern.status == "referred"
        concern.merged_into_id = into.id
        await _close(concern, "merged")
        await ConcernEvent.create(concern=concern, actor=reader.user, kind="merged-into", text=into.reference)
        await ConcernEvent.create(concern=into, actor=reader.user, kind="merged-from", text=concern.reference)
        arriving = [concern, *await Concern.filter(merged_into_id=concern.id).order_by("created_at", "id")]
        await Concern.filter(merged_into_id=concern.id).update(merged_into_id=into.id)  # its own duplicates follow
        await audit.record(reader.user, "concern.merged", concern, council=council, reason=into.reference)
        if was_referred:
            await _withdraw(concern)
        if into.status == "referred":
            # The team holds the kept concern: it gets each duplicate's account, and its reporter's additions from now on.
            referral = await handover.current_referral(into)
            if referral is not None:
                for duplicate in arriving:
                    await handover.announce("concern.updated", referral, duplicate)
    return into


async def refer(user: User | None, council: Council, reference: str, team_id: str = "") -> Referral:
    """Refer to early help: to the chosen team, or the one the routing rules choose."""
    reader, concern = await _acting(user, council, reference)
    if concern.status == "referred":
        team = await Team.get_or_none(id=concern.team_id) if concern.team_id else None
        raise Conflict(f"This concern has already been referred{' to ' + team.name if team else ''}.")
    if team_id:
        team = await Team.get_or_none(id=as_id(team_id), council=council)
        if team is None:
            raise Invalid({"refer_team": "Choose a team"})
    else:
        await concern.fetch_related("category", "ward")
        team = await routing.route(council, concern.category, concern.ward)
        if team is None:
            raise Invalid({"refer_team": "No routing rule or default team fits this concern: choose a team"})
    async with in_transaction():
        await _mark_opened(concern, reader.user)
        referral = await handover.refer_concern(concern, team, reader.user)
    return referral


@dataclass
class Contact:
    how: str
    name: str
    email: str
    phone: str


async def show_contact(user: User | None, council: Council, reference: str) -> tuple[Concern, Contact]:
    """The reporter's contact details, for someone who needs to call or write; each showing is logged."""
    reader, concern = await _acting(user, council, reference, officer=False, open_only=False)
    async with in_transaction():
        await access.log(reader.user, council, [concern], "contact details shown")
        await ConcernEvent.create(concern=concern, actor=reader.user, kind="contact-shown")
    return concern, Contact(concern.contact_by, concern.reporter_name or "", concern.reporter_email or "", concern.reporter_phone or "")
