"""iCalendar files (RFC 5545) with the icalendar library: shifts and events in London time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar
from icalendar import Event as VEvent
from tortoise import timezone

from civic import config
from civic.schemes.when import local

PRODUCT = "-//civic//Support schemes//EN"


@dataclass(frozen=True)
class Entry:
    """One calendar entry: a shift on a date, or an event."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    place: str
    description: str = ""
    url: str = ""
    cancelled: bool = False


def uid(kind: str, *parts: object) -> str:
    """A UID that stays the same when the entry changes, so calendars update it rather than add another."""
    host = config.current().base_url.split("://")[-1].split("/")[0].split(":")[0]
    return f"{kind}-{'-'.join(str(p) for p in parts)}@{host}"


def calendar(name: str, entries: list[Entry], method: str = "") -> str:
    """An iCalendar file of these entries, with the Europe/London time zone included."""
    cal = Calendar()
    cal.add("prodid", PRODUCT)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/London")
    stamp = timezone.now()
    for entry in entries:
        event = VEvent()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        # London wall-clock times with a TZID, so a calendar shows 10am whether it is GMT or BST.
        event.add("dtstart", local(entry.starts_at))
        event.add("dtend", local(entry.ends_at))
        event.add("summary", entry.summary)
        event.add("location", entry.place)
        if entry.description:
            event.add("description", entry.description)
        if entry.url:
            event.add("url", entry.url)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical().decode("utf-8")
