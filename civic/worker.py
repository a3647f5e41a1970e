"""The background loop: e-mail, webhook deliveries, reminders, escalations and purges."""

from __future__ import annotations

import asyncio
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("civic.worker")


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function", imported when the worker starts
    every: float  # seconds between runs; the worker's own interval is the floor


# Each job is idempotent: running it twice, or in two workers at once, does no harm.
JOBS = [
    Job("send e-mail", "civic.mail:deliver_due", 0),
    Job("recover e-mail left mid-send", "civic.mail:recover_stuck", 300),
    Job("delete e-mail sent more than 30 days ago", "civic.mail:forget_old", 3600),
    Job("purge expired sessions and e-mailed links", "civic.accounts:purge_expired_sessions", 3600),
    Job("escalate overdue concerns", "civic.concerns.escalation:escalate_overdue", 60),
    Job("purge closed concerns", "civic.concerns.purge:purge_closed_concerns", 3600),
    Job("forget unsent concern drafts", "civic.concerns.purge:purge_expired_drafts", 3600),
    Job("scrub sent e-mail to people who raised concerns", "civic.concerns.notices:scrub_sent_reporter_email", 60),
    Job("open and close priority rounds on time", "civic.voting.rounds:advance_rounds", 15),
    Job("deliver webhooks", "civic.webhooks.delivery:deliver_due", 0),
    Job("empty old webhook payloads", "civic.webhooks.delivery:purge_bodies", 3600),
    Job("remind volunteers of tomorrow's shifts", "civic.schemes.rota:send_due_reminders", 60),
    Job("alert when a volunteer has not left a visit", "civic.schemes.lone_working:alert_missed_departures", 60),
    Job("remind organisers before DBS checks lapse", "civic.schemes.safeguarding:remind_lapsing_checks", 3600),
    Job("forget invitations to organise settled 30 days ago", "civic.schemes.invitations:forget_settled", 3600),
]


def _load(job: Job) -> Callable[[], Awaitable[object]]:
    return pkgutil.resolve_name(job.target)


async def run_once(jobs: list[Job] | None = None) -> dict[str, object]:
    """Run every job once now (tests and `civic worker --once`); a failing job does not stop the rest."""
    results: dict[str, object] = {}
    for job in jobs or JOBS:
        try:
            results[job.name] = await _load(job)()
        except Exception:  # noqa: BLE001 - one broken job must not stop the others
            log.exception("job %r failed", job.name)
            results[job.name] = None
    return results


async def run_forever(interval: float, stop: asyncio.Event | None = None) -> None:
    """Run each job when it is due, until `stop` is set."""
    stop = stop or asyncio.Event()
    loaded = [(job, _load(job)) for job in JOBS]
    last_run: dict[str, float] = {}
    log.info("worker started: %d jobs, every %.1fs", len(loaded), interval)
    while not stop.is_set():
        for job, function in loaded:
            if stop.is_set():
                break
            now = time.monotonic()
            if now - last_run.get(job.name, -1e9) < job.every:
                continue
            last_run[job.name] = now
            try:
                await function()
            except Exception:  # noqa: BLE001 - keep the loop alive; the failure is logged
                log.exception("job %r failed", job.name)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
    log.info("worker stopped")
