"""Dates and times as people in the UK give and read them: London's clock, stored as UTC."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$|^\s*(\d{1,2})[/. -](\d{1,2})[/. -](\d{4}|\d{2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)


def parse_date(raw: str | None) -> date | None:
    """'2025-03-04' (what a date field sends) or '4/3/2025' or '4/3/25' (typed the British way); None if neither.

    A two-digit year is this century's: nobody arranging a shift or an event means 1925.
    """
    match = _DATE.match(raw or "")
    if not match:
        return None
    if match.group(1):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    else:
        day, month, year = int(match.group(4)), int(match.group(5)), int(match.group(6))
        if len(match.group(6)) == 2:
            year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


def example_date(now: datetime | None = None, *, months_ahead: int = 1) -> str:
    """A date to show in a hint, like '14/01/2027': the 14th, a month or so ahead, so it reads as one to come."""
    day = today(utc(now))
    month = day.month - 1 + months_ahead
    return date(day.year + month // 12, month % 12 + 1, 14).strftime("%d/%m/%Y")


def parse_time(raw: str | None) -> time | None:
    """'14:30' (what a time field sends), '2.30pm' or '2pm'; None if not a time of day."""
    match = _TIME.match(raw or "")
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def at(day: date, clock: time) -> datetime:
    """The moment a London clock shows this time on this day (BST or GMT as it was), in UTC."""
    return datetime.combine(day, clock, tzinfo=LONDON).astimezone(UTC)


def span(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Start and end in UTC; an end at or before the start is the next morning (a night shift)."""
    ends_on = day if end > start else day + timedelta(days=1)
    return at(day, start), at(ends_on, end)


def local(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


def today(now: datetime) -> date:
    """The date in London at this moment."""
    return local(now).date()


def clock(moment: datetime | time) -> str:
    """'10am', '2:30pm', 'midday', 'midnight' in London time."""
    value = moment if isinstance(moment, time) else local(moment).time()
    if value == time(12, 0):
        return "midday"
    if value == time(0, 0):
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def day_name(day: date | datetime) -> str:
    """'Tuesday 4 March 2025'."""
    value = local(day).date() if isinstance(day, datetime) else day
    return f"{value:%A} {value.day} {value:%B %Y}"


def times(starts_at: datetime, ends_at: datetime) -> str:
    """'10am to midday'; '10pm to 3am (next day)' for a night shift (an end at midnight needs no saying)."""
    next_day = today(ends_at) > today(starts_at) and local(ends_at).time() != time(0, 0)
    return f"{clock(starts_at)} to {clock(ends_at)}{' (next day)' if next_day else ''}"


def on_day(moment: datetime) -> str:
    """'4 March 2025': the day it was in London (a moment late at night in summer is the next day's in UTC)."""
    value = local(moment)
    return f"{value.day} {value:%B %Y}"


def moment(value: datetime) -> str:
    """'4 March 2025 at 2:30pm', in London time: when something happened or is due, as GOV.UK writes it."""
    return f"{on_day(value)} at {clock(value)}"


def short_moment(value: datetime) -> str:
    """'4 Mar, 2:30pm', in London time: for lists and tables where a line is short."""
    shown = local(value)
    return f"{shown.day} {shown:%b}, {clock(value)}"


def exact(value: datetime) -> str:
    """'4 March 2025 at 2:30:05pm', in London time: to the second, for logs people compare with other logs."""
    shown = local(value)
    hour = shown.hour % 12 or 12
    return f"{on_day(value)} at {hour}:{shown.minute:02d}:{shown.second:02d}{'am' if shown.hour < 12 else 'pm'}"


def when(starts_at: datetime, ends_at: datetime) -> str:
    """'Tuesday 4 March 2025, 10am to midday'."""
    return f"{day_name(starts_at)}, {times(starts_at, ends_at)}"


def utc(now: datetime | None = None) -> datetime:
    """This moment (or the present one) in UTC: how every time is stored and compared.

    SQLite compares stored times as text, so a London time with "+01:00" must never reach a query.
    """
    return (now or datetime.now(UTC)).astimezone(UTC)
