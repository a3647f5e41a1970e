"""Keeping people safe: volunteers' DBS checks, whether they are current, and the scheme's safeguarding lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from civic import audit, config, mail
from civic.accounts import EMAIL, User
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Invalid, NotFound
from civic.schemes import access
from civic.schemes.models import Membership, Scheme
from civic.schemes.proposals import scheme_url, tell_organisers
from civic.schemes.running import SafeguardingCheck
from civic.schemes.text import one_line
from civic.schemes.when import day_name, parse_date, today, utc

# The DBS's own levels, lowest first: a shift needing one is open to that level and any above it.
DBS_LEVELS = {
    "none": "No check",
    "basic": "Basic",
    "standard": "Standard",
    "enhanced": "Enhanced",
    "enhanced-barred": "Enhanced with barred lists",
}
RANK = {level: rank for rank, level in enumerate(DBS_LEVELS)}
# Organisers hear this long before a check stops being current, so there is time to renew it; from then on
# the check is shown as lapsing soon, so the e-mail and the pages agree.
REMIND_BEFORE = timedelta(days=30)


def level_name(level: str) -> str:
    return DBS_LEVELS.get(level, level)


def _article(level: str) -> str:
    return "an" if level_name(level)[0].lower() in "aeiou" else "a"


def valid_days() -> int:
    return config.current().dbs_valid_days


def valid_for() -> str:
    """How long a check counts as current, as people say it: '3 years' rather than '1095 days'."""
    days = valid_days()
    if days % 365 == 0:
        years = days // 365
        return "a year" if years == 1 else f"{years} years"
    return "a day" if days == 1 else f"{days:,} days"


def lapses_on(check: SafeguardingCheck) -> date | None:
    """The first day the check is no longer current; None when there is no certificate."""
    if check.level == "none" or check.certificate_date is None:
        return None
    return check.certificate_date + timedelta(days=valid_days())


@dataclass(frozen=True)
class CheckStatus:
    """A volunteer's check as organisers and the rota see it on a given day."""

    level: str = "none"
    certificate_date: date | None = None
    checked_by: str = ""
    lapses: date | None = None
    current: bool = False
    lapses_soon: bool = False  # current, but within REMIND_BEFORE of lapsing: organisers have been e-mailed

    @property
    def level_name(self) -> str:
        return level_name(self.level)

    @property
    def summary(self) -> str:
        if self.level == "none" or self.certificate_date is None:
            return "No check recorded"
        if self.current:
            return f"{self.level_name}, current until {day_name(self.lapses - timedelta(days=1))}"  # type: ignore[operator]
        return f"{self.level_name}, lapsed on {day_name(self.lapses)}"  # type: ignore[arg-type]


def status_of(check: SafeguardingCheck | None, on: date) -> CheckStatus:
    """Whether the check is current on this day."""
    if check is None:
        return CheckStatus()
    lapses = lapses_on(check)
    current = lapses is not None and on < lapses
    return CheckStatus(check.level, check.certificate_date, check.checked_by, lapses, current, current and lapses <= on + REMIND_BEFORE)  # type: ignore[operator]


def refusal(check: SafeguardingCheck | None, needs: str, on: date, organiser: bool = False) -> str:
    """Why someone with this check cannot take a shift on this day that needs this level; '' if they can.

    An organiser records checks, their own included, so they are not told to ask one."""
    if RANK.get(needs, 0) == 0:
        return ""
    wanted = f"{_article(needs)} {level_name(needs).lower()} DBS check"
    status = status_of(check, on)
    if status.level == "none" or status.certificate_date is None:
        ask = "As an organiser, you can record your own certificate." if organiser else "Ask an organiser to record your certificate."
        return f"This shift needs {wanted}, and the scheme has no check recorded for you. {ask}"
    if RANK[status.level] < RANK[needs]:
        return f"This shift needs {wanted} or higher. The check recorded for you is {status.level_name.lower()}."
    if not status.current:
        return (
            f"This shift needs a current {level_name(needs).lower()} DBS check. Yours, from {day_name(status.certificate_date)}, "
            f"is current for {valid_days()} days, so it is not current on {day_name(on)}. "
            + ("As an organiser, you can record your new certificate." if organiser else "Ask an organiser to record a new certificate.")
        )
    return ""


def shortfall(check: SafeguardingCheck | None, needs: str, on: date) -> str:
    """What is missing from someone's check for work on this day that needs this level, as organisers read it; '' if nothing."""
    if RANK.get(needs, 0) == 0:
        return ""
    status = status_of(check, on)
    if status.level == "none" or status.certificate_date is None:
        return "has no DBS check recorded"
    if RANK[status.level] < RANK[needs]:
        return f"has {_article(status.level)} {status.level_name.lower()} check"
    if not status.current:
        return f"has {_article(status.level)} {status.level_name.lower()} check that lapsed on {day_name(status.lapses)}"  # type: ignore[arg-type]
    return ""


def caution(check: SafeguardingCheck | None, on: date) -> str:
    """For a home visit when the scheme asks for no level: what someone's check lacks, as organisers read it; '' if they have a current one."""
    return shortfall(check, "basic", on)  # the lowest level: any current check will do


def needs_phrase(needs: str) -> str:
    """'an enhanced DBS check or higher, current on the day', for messages and hints."""
    return f"{_article(needs)} {level_name(needs).lower()} DBS check or higher, current on the day"


async def check_for(membership_id: int) -> SafeguardingCheck | None:
    return await SafeguardingCheck.get_or_none(membership_id=membership_id)


async def checks_by_user(scheme: Scheme) -> dict[int, SafeguardingCheck]:
    """Every recorded check in the scheme, by the volunteer's user id."""
    memberships = {m.id: m.user_id for m in await Membership.filter(scheme=scheme)}  # type: ignore[attr-defined]
    return {memberships[c.membership_id]: c for c in await SafeguardingCheck.filter(scheme=scheme) if c.membership_id in memberships}


async def record_check(actor: User | None, council: Council, slug: str, membership_id: int, values: dict[str, Any], now: datetime | None = None) -> SafeguardingCheck:
    """An organiser records the DBS check they saw for a volunteer (replacing any earlier one)."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await Membership.get_or_none(id=membership_id, scheme=scheme, status="active").prefetch_related("user")
    if membership is None:
        raise NotFound()
    now = utc(now)
    errors: dict[str, str] = {}
    level = values.get("level", "")
    if level not in DBS_LEVELS:
        errors["level"] = "Choose the level of the check"
    certificate_date = None
    raw_date = (values.get("certificate_date") or "").strip()
    if level in DBS_LEVELS and level != "none":
        certificate_date = parse_date(raw_date)
        if not raw_date:
            errors["certificate_date"] = "Enter the date printed on the certificate"
        elif certificate_date is None:
            errors["certificate_date"] = "Enter the date as it is on the certificate, like 14/03/2024"
        elif certificate_date > today(now):
            errors["certificate_date"] = "The certificate date must be today or in the past"
    checked_by = one_line(values.get("checked_by"))
    if not checked_by:
        errors["checked_by"] = "Enter the name of the person who saw the certificate"
    elif len(checked_by) > 80:
        errors["checked_by"] = "Name must be 80 characters or fewer"
    if errors:
        raise Invalid(errors)
    async with in_transaction():
        check, _ = await SafeguardingCheck.update_or_create(
            membership=membership,
            defaults={
                "council": council, "scheme": scheme, "level": level, "certificate_date": certificate_date,
                "checked_by": checked_by, "recorded_by": actor, "lapse_reminded_at": None,
            },
        )
        # Never the certificate itself: only the level and its date, which is all the rota needs.
        await audit.record(actor, "volunteer.check_recorded", scheme, council=council, reason=f"user {membership.user_id}: {level}")  # type: ignore[attr-defined]
    return check


# The scheme's own safety rules


async def update_rules(actor: User | None, council: Council, slug: str, values: dict[str, Any]) -> Scheme:
    """An organiser sets the safeguarding lead's e-mail address, whether home visits are in pairs and the DBS check they need."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    email = one_line(values.get("safeguarding_lead_email"))
    errors: dict[str, str] = {}
    if email and (not EMAIL.match(email) or len(email) > 254):
        errors["safeguarding_lead_email"] = "Enter an email address in the correct format, like name@example.com, or leave it blank"
    # A page opened before the setting existed sends no level: the scheme keeps what it had.
    home_visit_dbs = values.get("home_visit_dbs") or scheme.home_visit_dbs
    if home_visit_dbs not in DBS_LEVELS:
        errors["home_visit_dbs"] = "Choose the DBS check a volunteer needs for a home visit"
    if errors:
        raise Invalid(errors)
    async with in_transaction():
        scheme.safeguarding_lead_email = email
        scheme.visit_in_pairs = values.get("visit_in_pairs") == "yes"
        scheme.home_visit_dbs = home_visit_dbs
        await scheme.save(update_fields=["safeguarding_lead_email", "visit_in_pairs", "home_visit_dbs", "updated_at"])
        rules = ["visits in pairs"] if scheme.visit_in_pairs else []
        rules.append(f"home visits need {home_visit_dbs}")
        await audit.record(actor, "scheme.safeguarding_changed", scheme, council=council, reason=", ".join(rules))
    return scheme


# Reminders before a check lapses


async def remind_lapsing_checks(now: datetime | None = None) -> int:
    """Tell a scheme's organisers, once, when a volunteer's check is about to lapse (or has). Returns how many."""
    now = utc(now)
    latest_certificate = today(now) + REMIND_BEFORE - timedelta(days=valid_days())
    due = await SafeguardingCheck.filter(
        lapse_reminded_at__isnull=True, certificate_date__isnull=False, certificate_date__lte=latest_certificate, membership__status="active"
    ).exclude(level="none").prefetch_related("scheme__council", "membership__user").limit(200)
    queued = []
    for check in due:
        membership = check.membership
        async with in_transaction():
            # A conditional update claims it, so two workers never both send it.
            if not await SafeguardingCheck.filter(id=check.id, lapse_reminded_at__isnull=True).update(lapse_reminded_at=now):
                continue
            lapses = lapses_on(check)
            tense = "stops" if lapses and lapses > today(now) else "stopped"
            queued += await tell_organisers(
                check.scheme,
                f"A DBS check for {check.scheme.name} is about to lapse" if tense == "stops" else f"A DBS check for {check.scheme.name} has lapsed",
                f"{membership.user}'s {level_name(check.level).lower()} DBS check, from {day_name(check.certificate_date)}, "
                f"{tense} being current on {day_name(lapses)}.\n\n"  # type: ignore[arg-type]
                f"Until a new certificate is recorded they cannot sign up for shifts that need it. Record it here:\n\n"
                f"{scheme_url(check.scheme.council, check.scheme)}/people/{membership.id}\n",
            )
    if queued:
        await mail.deliver(queued)
    return len(queued)
