"""The shareholder report: progress on each priority after the results, told to the residents who backed it."""

from __future__ import annotations

from collections.abc import Mapping

from itsdangerous import BadSignature, URLSafeSerializer

from civic import audit, config, mail
from civic.accounts import User
from civic.councils import Council, site_url
from civic.db import in_transaction
from civic.errors import Invalid, NotFound
from civic.voting.models import PROGRESS, Ballot, Priority, ProgressUpdate, Round
from civic.voting.results import require_published
from civic.voting.rounds import staff_priority

PROGRESS_NAMES = {"planned": "Planned", "in_progress": "In progress", "delivered": "Delivered"}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(config.current().secret_key, salt="civic.voting.report-optout")


def stop_token(ballot_id: int) -> str:
    """The token in every progress e-mail that stops further ones, without signing in."""
    return _serializer().dumps(ballot_id)


def _ballot_for(token: str) -> int:
    try:
        return int(_serializer().loads(token))
    except (BadSignature, ValueError, TypeError):
        raise NotFound("That link is not recognised.") from None


async def stop_page(token: str) -> Round:
    """The round whose progress e-mails this link stops."""
    ballot = await Ballot.get_or_none(id=_ballot_for(token)).prefetch_related("round")
    if ballot is None:
        raise NotFound("That link is not recognised.")
    return ballot.round


async def stop_report_emails(token: str) -> Round:
    """Stop progress e-mails for the ballot named by an e-mailed link."""
    ballot = await Ballot.get_or_none(id=_ballot_for(token)).prefetch_related("round")
    if ballot is None:
        raise NotFound("That link is not recognised.")
    if ballot.report_emails:
        await Ballot.filter(id=ballot.id).update(report_emails=False)
    return ballot.round


async def post_progress(actor: User | None, council: Council, round_id: int | str, priority_id: int | str, values: Mapping[str, str]) -> ProgressUpdate:
    """An officer reports progress on a priority; every backer who has not opted out is e-mailed."""
    round_, priority = await staff_priority(actor, council, round_id, priority_id)
    require_published(round_)
    errors: dict[str, str] = {}
    status = (values.get("status") or "").strip()
    if status not in PROGRESS:
        errors["status"] = "Choose planned, in progress or delivered"
    note = (values.get("note") or "").strip()
    if not note:
        errors["note"] = "Say what has happened, in a sentence or two"
    elif len(note) > 2000:
        errors["note"] = "The note must be 2000 characters or fewer"
    if errors:
        raise Invalid(errors)
    base = site_url(council)
    backers = await Ballot.filter(
        round=round_, voter_id__isnull=False, report_emails=True, allocations__priority=priority, allocations__shares__gt=0
    ).distinct().prefetch_related("voter")
    async with in_transaction():
        update = await ProgressUpdate.create(council=council, round=round_, priority=priority, status=status, note=note, posted_by=actor, emailed=len(backers))
        queued = [
            await mail.queue(
                ballot.voter.email,
                f"{PROGRESS_NAMES[status]}: {priority.title}",
                f"You gave shares to \"{priority.title}\" in \"{round_.title}\". Here is the latest from the council.\n\n"
                f"Status: {PROGRESS_NAMES[status]}\n\n{note}\n\n"
                f"Every priority's progress: {base}/rounds/{round_.id}\n\n"
                f"To stop these emails about this round: {base}/rounds/report/stop/{stop_token(ballot.id)}\n",
                council_id=council.id,
            )
            for ballot in backers
        ]
        await audit.record(actor, "round.progress_posted", round_, council=council, reason=f"{priority.title}: {PROGRESS_NAMES[status]}")
    await mail.deliver(queued)
    return update


async def progress_of(round_: Round) -> dict[int, list[ProgressUpdate]]:
    """Each priority's updates, newest first."""
    found: dict[int, list[ProgressUpdate]] = {}
    for update in await ProgressUpdate.filter(round=round_):
        found.setdefault(update.priority_id, []).append(update)  # type: ignore[attr-defined]
    return found


async def backed_priorities(actor: User | None, round_: Round, ballot: Ballot | None = None) -> set[int]:
    """The priorities this person gave shares to, to mark them on the report (`ballot`: theirs, if already read)."""
    if actor is None:
        return set()
    ballot = ballot or await Ballot.get_or_none(round=round_, voter=actor)
    if ballot is None:
        return set()
    return set(await Priority.filter(allocations__ballot=ballot, allocations__shares__gt=0).values_list("id", flat=True))
