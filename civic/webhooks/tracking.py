"""Whether each referral reached its team: its deliveries on the concern page, stuck referrals on the officer home, and teams a referral would not reach."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import timezone

from civic.concerns import access
from civic.concerns.handover import ProgressLine
from civic.concerns.models import Referral, Team
from civic.councils import Council
from civic.officers import AttentionItem, Section
from civic.schemes import when
from civic.webhooks.models import KeyWorkerEndpoint, WebhookDelivery

REFERRED = "concern.referred"
# The first three tries (at once, after 5 seconds, after 5 minutes) are over by then: a delivery still
# not through is not a blip, and the retries that follow can take a day and a half.
RETRYING_AFTER = timedelta(minutes=10)
# About a working day: a team that has the concern should have said it received it by then (a Friday
# referral is flagged on Saturday, which errs on the side of someone looking).
UNACKNOWLEDGED_AFTER = timedelta(hours=24)
# A delivery row is written in its referral's transaction, a moment after the referral row.
CLOCK_SLACK = timedelta(seconds=5)
# The officer home names this many stuck referrals, then says how many more there are.
SHOWN = 10
# Referrals looked at for the officer home, oldest first: far more than ever wait at once.
SCANNED = 500


@dataclass
class _Stuck:
    rank: int  # 0 is the worst: nobody has it
    tag: str
    why: str


def _answer(row: WebhookDelivery) -> str:
    return f"HTTP {row.last_status_code}" if row.last_status_code is not None else (row.last_error or "no answer")


def _tries(n: int) -> str:
    return f"{n} {'try' if n == 1 else 'tries'}"


def _held(endpoint: KeyWorkerEndpoint) -> str:
    """Why deliveries to this system wait rather than go, or "" if they go."""
    if not endpoint.active:
        return f"{endpoint.name} is {endpoint.status_name.lower()}"
    if endpoint.url != endpoint.confirmed_url:
        return f"no council officer has confirmed {endpoint.name}'s web address yet"
    return ""


def _delivery_line(row: WebhookDelivery, endpoint: KeyWorkerEndpoint) -> ProgressLine:
    href = f"/admin/endpoints/{endpoint.id}/deliveries/{row.id}"
    if row.status == "delivered":
        return ProgressLine("Delivered", "green", f"Delivered to {endpoint.name} on {when.moment(row.delivered_at)}.", href)
    if row.status == "dead":
        return ProgressLine(
            "Not delivered", "red",
            f"Could not be delivered to {endpoint.name} after every retry ({_tries(row.attempts)}, the last answer: {_answer(row)}). "
            "The team's system does not have it.",
            href,
            action="Tell the team another way, then mark it as handled, or send it again.",
        )
    if row.status == "cancelled":
        told = row.handled_note or ""
        return ProgressLine("Handled", "grey", f"Not sent to {endpoint.name}: marked as handled." + (f" How the team was told: {told}" if told else ""), href)
    held = _held(endpoint)
    if held:
        again = "an administrator switches it on again" if not endpoint.active else "an officer confirms it on the system's page"
        return ProgressLine("Waiting", "orange", f"Waiting to be sent: {held}. It goes once {again}.", href)
    if row.attempts == 0:
        return ProgressLine("Sending", "blue", f"Being sent to {endpoint.name}.", href)
    return ProgressLine(
        "Retrying", "orange",
        f"Not yet delivered to {endpoint.name}: {_tries(row.attempts)} so far, the last answer: {_answer(row)}. "
        f"Next try {when.moment(row.next_attempt_at)}.",
        href,
    )


def _unsent_line(referral: Referral, key_workers: int) -> ProgressLine:
    # The referral stands whatever reached the team: these lines say only that no case system was sent it.
    team = referral.team.name
    if referral.status != "sent":
        return ProgressLine("No case system", "grey", f"Nothing was sent to a case system: {team} has none set up in civic. Its key workers follow the concern here.")
    if key_workers:
        return ProgressLine("No case system", "yellow", f"Nothing was sent to a case system: {team} has none set up in civic. "
                            "Its key workers can see the concern here, and record what the team does with it.",
                            action="Tell them another way that it is here: civic does not tell them.")
    return ProgressLine("Nobody can see it", "red", f"Nothing was sent to a case system: {team} has none set up in civic, and no key workers in civic, "
                        "so nobody in the team can see this concern.",
                        action="Tell the team another way. To follow it up here, add one of the team's key workers to it "
                        "on the \"Teams, categories and routing rules\" page.")


async def _gather(referrals: list[Referral]) -> tuple[dict[int, list[tuple[WebhookDelivery, KeyWorkerEndpoint]]], dict[int, int]]:
    """Each referral's deliveries (with the note of any marked as handled) and each team's number of key workers."""
    concern_ids = {r.concern_id for r in referrals}
    rows = await WebhookDelivery.filter(concern_id__in=concern_ids, event_type=REFERRED).order_by("created_at", "id").prefetch_related("endpoint") if concern_ids else []
    rows_of: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for row in rows:
        rows_of[row.concern_id].append(row)  # type: ignore[index]
    referrals_of: dict[int, list[Referral]] = defaultdict(list)
    for referral in referrals:
        referrals_of[referral.concern_id].append(referral)
    by_referral: dict[int, list[tuple[WebhookDelivery, KeyWorkerEndpoint]]] = defaultdict(list)
    for referral in referrals:
        # A delivery row is written in the referral's own transaction, to the endpoints of its team; a
        # later referral of the concern to the same team has its own.
        later = [r.created_at for r in referrals_of[referral.concern_id] if r.team_id == referral.team_id and r.created_at > referral.created_at]
        until = min(later, default=None)
        for row in rows_of[referral.concern_id]:
            if row.endpoint.team_id == referral.team_id and row.created_at >= referral.created_at - CLOCK_SLACK and (until is None or row.created_at < until):
                by_referral[referral.id].append((row, row.endpoint))
    return by_referral, await access.key_workers_by_team({r.team_id for r in referrals})


async def team_warnings(teams: Iterable[Team]) -> dict[int, str]:
    """For the refer form: what an officer should know before referring to each team that a concern would not reach by itself."""
    teams = list(teams)
    systems: dict[int, list[KeyWorkerEndpoint]] = defaultdict(list)
    for endpoint in await KeyWorkerEndpoint.filter(team_id__in=[t.id for t in teams]) if teams else []:
        if REFERRED in (endpoint.event_types or []):
            systems[endpoint.team_id].append(endpoint)
    key_workers = await access.key_workers_by_team(t.id for t in teams)
    warnings: dict[int, str] = {}
    for team in teams:
        endpoints, readers = systems[team.id], key_workers.get(team.id, 0)
        if any(not _held(e) for e in endpoints):
            continue  # its case system gets it
        if not endpoints:
            warnings[team.id] = (
                "No case system: you will need to tell its key workers another way that a concern is waiting for them in civic." if readers
                else "No one in this team can see concerns yet: it has no case system and no key workers in civic. You will need to tell the team another way."
            )
            continue
        held = _held(endpoints[0])
        warnings[team.id] = (
            f"Its case system will not get it for now: {held}. Its key workers can see it in civic, but you will need to tell them it is there." if readers
            else f"No one in this team can see it for now: {held}, and the team has no key workers in civic. You will need to tell the team another way."
        )
    return warnings


async def referral_progress(referrals: Iterable[Referral]) -> dict[int, list[ProgressLine]]:
    """For the concern page: how each referral is reaching its team (the hook civic.concerns.handover.PROGRESS calls)."""
    referrals = list(referrals)
    for referral in referrals:
        await referral.fetch_related("team")
    by_referral, key_workers = await _gather(referrals)
    progress: dict[int, list[ProgressLine]] = {}
    for referral in referrals:
        deliveries = by_referral.get(referral.id, [])
        lines = [_delivery_line(row, endpoint) for row, endpoint in deliveries]
        progress[referral.id] = lines or [_unsent_line(referral, key_workers[referral.team_id])]
    return progress


def _stuck(referral: Referral, deliveries: list[tuple[WebhookDelivery, KeyWorkerEndpoint]], key_workers: int, now: datetime) -> _Stuck | None:
    statuses = {row.status for row, _ in deliveries}
    if not deliveries:
        if not key_workers:
            return _Stuck(0, "Nobody can see it", f"{referral.team.name} has no case system and no key workers, so nobody in the team can see it")
        return _Stuck(2, "No case system", f"{referral.team.name} has no case system, so only its key workers in civic can see it, and none has said they received it")
    if "delivered" not in statuses and "cancelled" not in statuses:
        if "dead" in statuses:
            names = ", ".join(endpoint.name for row, endpoint in deliveries if row.status == "dead")
            return _Stuck(1, "Not delivered", f"could not be delivered to {names} after every retry")
        waiting = [(row, endpoint) for row, endpoint in deliveries if row.status in ("pending", "delivering")]
        if waiting and min(row.created_at for row, _ in waiting) < now - RETRYING_AFTER:
            row, endpoint = waiting[0]
            if _held(endpoint):
                return _Stuck(1, "Waiting", f"not sent: {_held(endpoint)}")
            return _Stuck(1, "Retrying", f"still not delivered to {endpoint.name} after {_tries(row.attempts)}")
        return None
    if referral.created_at < now - UNACKNOWLEDGED_AFTER:
        hours = int((now - referral.created_at).total_seconds() // 3600)
        return _Stuck(3, "Not acknowledged", f"{referral.team.name} has not said it received it, {hours} hours after it was referred")
    return None


async def officer_section(council: Council) -> Section:
    """For the officer home: referrals no team has acknowledged that did not reach anyone, are still retrying, or wait too long."""
    now = timezone.now()
    referrals = list(
        await Referral.filter(council=council, status="sent", concern__status="referred")
        .order_by("created_at", "id").limit(SCANNED).prefetch_related("concern", "team")
    )
    # Only each concern's latest referral is the one in hand.
    latest: dict[int, Referral] = {}
    for referral in referrals:
        latest[referral.concern_id] = referral
    by_referral, key_workers = await _gather(list(latest.values()))
    found = []
    for referral in latest.values():
        stuck = _stuck(referral, by_referral.get(referral.id, []), key_workers[referral.team_id], now)
        if stuck is not None:
            found.append((stuck, referral))
    found.sort(key=lambda pair: (pair[0].rank, pair[1].created_at))
    items = [
        AttentionItem(f"{referral.concern.reference}: referred to {referral.team.name}; {stuck.why}", href=f"/officer/concerns/{referral.concern.reference}", tag=stuck.tag)
        for stuck, referral in found[:SHOWN]
    ]
    if len(found) > SHOWN:
        more = len(found) - SHOWN
        items.append(AttentionItem(f"{more} more referral{'s' if more != 1 else ''} not yet received by their team", href="/officer/concerns?status=referred"))
    return Section(
        "Referrals", items,
        empty="Every referral has reached its team, and each team has said it received it within a day.",
        href="/officer/concerns?status=referred", order=12,
    )
