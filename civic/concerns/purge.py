"""Retention: closed concerns lose every personal detail after the configured time; counts stay for reporting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise import timezone
from tortoise.expressions import F

from civic import config
from civic.accounts import User, require_role
from civic.concerns.models import Concern, ConcernDraft, ConcernTally
from civic.concerns.notices import scrub_for
from civic.councils import Council
from civic.db import in_transaction

NO_CATEGORY = "No category"
NO_WARD = "Not given"


def _month(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


async def purge_closed_concerns(now: datetime | None = None) -> int:
    """Delete concerns closed longer ago than CIVIC_CONCERN_PURGE_DAYS, counting each in its tally first.

    Each concern goes in its own transaction, and only the run that deletes it counts it, so running
    twice (or in two workers at once) counts nothing twice.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=config.current().concern_purge_days)
    purged = 0
    while True:
        batch = await Concern.filter(status="closed", closed_at__lt=cutoff).prefetch_related("category", "ward").order_by("id").limit(200)
        if not batch:
            return purged
        for concern in batch:
            async with in_transaction():
                await scrub_for(concern)
                # Its history, referrals and e-mail links go with it (ON DELETE CASCADE).
                if not await Concern.filter(id=concern.id).delete():
                    continue
                key = {
                    "council_id": concern.council_id,
                    "month": _month(concern.created_at),
                    "category_name": concern.category.name if concern.category else NO_CATEGORY,
                    "ward_name": concern.ward.name if concern.ward else NO_WARD,
                }
                tally, _ = await ConcernTally.get_or_create(**key, defaults={"count": 0})
                await ConcernTally.filter(id=tally.id).update(count=F("count") + 1)
                purged += 1


async def purge_expired_drafts() -> int:
    """Forget answers of forms that were never sent."""
    return await ConcernDraft.filter(expires_at__lt=timezone.now()).delete()


@dataclass
class CountRow:
    month: date
    category: str
    ward: str
    count: int


async def counts(user: User | None, council: Council) -> list[CountRow]:
    """Concerns by month, category and ward: those still held and those purged, with no personal data."""
    await require_role(user, council, "officer", "admin")
    totals: dict[tuple[date, str, str], int] = {}
    for tally in await ConcernTally.filter(council=council):
        key = (tally.month, tally.category_name, tally.ward_name)
        totals[key] = totals.get(key, 0) + tally.count
    for row in await Concern.filter(council=council).values("created_at", "category__name", "ward__name"):
        key = (_month(row["created_at"]), row["category__name"] or NO_CATEGORY, row["ward__name"] or NO_WARD)
        totals[key] = totals.get(key, 0) + 1
    rows = [CountRow(month, category, ward, count) for (month, category, ward), count in totals.items()]
    rows.sort(key=lambda r: (-r.month.toordinal(), r.category, r.ward))
    return rows
