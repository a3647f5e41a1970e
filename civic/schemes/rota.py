"""The rota: shifts once or weekly, changed as a whole or single dates moved or cancelled, sign-up within capacity, and reminders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from civic import audit, mail
from civic.accounts import User
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.mail import OutgoingEmail
from civic.schemes import access, ics, safeguarding
from civic.schemes.models import Membership, Scheme
from civic.schemes.proposals import scheme_url, tell_organisers
from civic.schemes.running import SafeguardingCheck, Shift, ShiftOccurrence, ShiftReminder, SignUp
from civic.schemes.text import number_up_to, one_line, paragraphs
from civic.schemes.when import at, clock, day_name, example_date, local, parse_date, parse_time, span, times, today, utc, when

REPEATS = {"once": "Once", "weekly": "Every week"}
MAX_CAPACITY = 200
# How far ahead the rota shows (and so how far ahead anyone may sign up: a sign-up further
# ahead would be on no one's rota or roster), and how far ahead a shift, a moved date or an event may be.
ROTA_WEEKS = 4
FURTHEST_START = timedelta(days=366)
# Reminders go out once a shift is this close (the worker runs every minute).
REMIND_AHEAD = timedelta(hours=24)
# A place freed this close to the start is flagged to the organisers: there is little time to fill it.
FREE_PLACE_SOON = timedelta(hours=48)


@dataclass
class Slot:
    """One date of a shift, whether or not anyone has signed up yet (then it has no row)."""

    shift: Shift
    on: date
    starts_at: datetime
    ends_at: datetime
    place: str
    moved: bool = False
    cancelled: bool = False
    cancel_reason: str = ""
    occurrence: ShiftOccurrence | None = None
    signups: list[SignUp] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/schemes/{self.shift.scheme.slug}/shifts/{self.shift.id}/{self.on.isoformat()}"

    @property
    def when(self) -> str:
        return when(self.starts_at, self.ends_at)

    @property
    def times(self) -> str:
        return times(self.starts_at, self.ends_at)

    @property
    def day(self) -> date:
        """The day it happens in London (a moved date may differ from `on`)."""
        return today(self.starts_at)

    @property
    def taken(self) -> int:
        return len(self.signups)

    @property
    def places_left(self) -> int:
        return max(0, self.shift.capacity - self.taken)

    @property
    def needs_dbs_name(self) -> str:
        return safeguarding.level_name(self.shift.needs_dbs)

    def has(self, user: User | None) -> bool:
        return user is not None and any(s.volunteer_id == user.id for s in self.signups)

    def signup_of(self, user: User | None) -> SignUp | None:
        return next((s for s in self.signups if user is not None and s.volunteer_id == user.id), None)

    def entry(self, council: Council) -> ics.Entry:
        """This shift as a calendar entry, linking to the council's site."""
        scheme = self.shift.scheme
        return ics.Entry(
            uid=ics.uid("shift", self.shift.id, self.on.isoformat()),
            summary=f"{self.shift.title} ({scheme.name})",
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            place=self.place,
            url=f"{scheme_url(council, scheme)}/shifts/{self.shift.id}/{self.on.isoformat()}",
            cancelled=self.cancelled,
        )


def slot_from(shift: Shift, on: date, row: ShiftOccurrence | None) -> Slot:
    """One date of a shift, from its row (with sign-ups prefetched) if it has one."""
    if row is None:
        starts_at, ends_at = span(on, shift.start_time, shift.end_time)
        return Slot(shift, on, starts_at, ends_at, shift.place)
    # Every query for rows prefetches their sign-ups.
    return Slot(shift, on, row.starts_at, row.ends_at, row.place or shift.place, row.moved, row.cancelled, row.cancel_reason, row, list(row.signups))


def series_dates(shift: Shift, first: date, last: date) -> list[date]:
    """The dates of the series between first and last, inclusive."""
    last = min(last, shift.repeat_until) if shift.repeat_until else last
    if shift.repeat != "weekly":
        return [shift.starts_on] if first <= shift.starts_on <= last else []
    if first <= shift.starts_on:
        day = shift.starts_on
    else:
        day = first + timedelta(days=(shift.starts_on.weekday() - first.weekday()) % 7)
    dates = []
    while day <= last:
        dates.append(day)
        day += timedelta(days=7)
    return dates


async def expand(shifts: Iterable[Shift], start: datetime, end: datetime) -> list[Slot]:
    """Every date of these shifts that runs between start and end, with moves, cancellations and sign-ups."""
    shifts = list(shifts)
    if not shifts:
        return []
    by_id = {s.id: s for s in shifts}
    first, last = today(start) - timedelta(days=1), today(end) + timedelta(days=1)
    rows = await ShiftOccurrence.filter(
        Q(on__gte=first, on__lte=last) | Q(starts_at__lt=end, ends_at__gt=start), shift_id__in=list(by_id)
    ).prefetch_related("signups")
    found = {(row.shift_id, row.on): row for row in rows}
    keys = {(shift.id, day) for shift in shifts for day in series_dates(shift, first, last)}
    # A date moved into the window from outside it still belongs to the series.
    keys |= {key for key, row in found.items() if by_id[key[0]].falls_on(key[1])}
    slots = [slot_from(by_id[shift_id], day, found.get((shift_id, day))) for shift_id, day in keys]
    return sorted((s for s in slots if s.ends_at > start and s.starts_at < end), key=lambda s: (s.starts_at, s.shift.id))


async def _shift(scheme: Scheme, shift_id: int) -> Shift:
    shift = await Shift.get_or_none(id=shift_id, scheme=scheme)
    if shift is None:
        raise NotFound()
    shift.scheme = scheme
    return shift


async def find_slot(scheme: Scheme, shift_id: int, on: date | None) -> Slot:
    """One date of a shift; NotFound when the shift has no date then."""
    shift = await _shift(scheme, shift_id)
    # The calendar's last day is no date of any shift: a night shift then would end on a day that does not exist.
    if on is None or on >= date.max or not shift.falls_on(on):
        raise NotFound()
    row = await ShiftOccurrence.get_or_none(shift=shift, on=on).prefetch_related("signups")
    return slot_from(shift, on, row)


async def materialise(shift: Shift, on: date) -> ShiftOccurrence:
    """The row for one date of a shift, written the first time it is needed."""
    row = await ShiftOccurrence.get_or_none(shift=shift, on=on)
    if row is not None:
        return row
    starts_at, ends_at = span(on, shift.start_time, shift.end_time)
    try:
        async with in_transaction():  # a savepoint when inside a transaction: two first sign-ups may race here
            return await ShiftOccurrence.create(shift=shift, on=on, starts_at=starts_at, ends_at=ends_at)
    except IntegrityError:
        return await ShiftOccurrence.get(shift=shift, on=on)


# Creating shifts


def _minutes(raw: str | None) -> int | None:
    value = parse_time(raw)
    return None if value is None else value.hour * 60 + value.minute


def check_shift(values: dict[str, Any], now: datetime, kept_on: date | None = None) -> dict[str, Any]:
    """Every field of the shift form checked at once. `kept_on` is the first date of a weekly shift
    being changed that has already begun: kept as it is, it may have passed."""
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    checked["title"] = one_line(values.get("title"))
    if not checked["title"]:
        errors["title"] = "Enter what the shift is, like Tuesday visits"
    elif len(checked["title"]) > 120:
        errors["title"] = "The name must be 120 characters or fewer"
    checked["place"] = one_line(values.get("place"))
    if not checked["place"]:
        errors["place"] = "Enter where the shift happens"
    elif len(checked["place"]) > 300:
        errors["place"] = "The place must be 300 characters or fewer"
    checked["starts_on"] = parse_date(values.get("starts_on"))
    if checked["starts_on"] is None:
        errors["starts_on"] = f"Enter the date of the (first) shift, like {example_date()}"
    elif checked["starts_on"] != kept_on and checked["starts_on"] < today(now):
        errors["starts_on"] = "The date must be today or in the future"
    elif checked["starts_on"] > today(now) + FURTHEST_START:
        errors["starts_on"] = "The date must be within the next year"
    checked["start_minute"] = _minutes(values.get("start_time"))
    if checked["start_minute"] is None:
        errors["start_time"] = "Enter the start time, like 10:00 or 2pm"
    checked["end_minute"] = _minutes(values.get("end_time"))
    if checked["end_minute"] is None:
        errors["end_time"] = "Enter the end time, like 12:00 or 4pm"
    elif checked["end_minute"] == checked["start_minute"]:
        errors["end_time"] = "The end time must be different from the start time"
    checked["repeat"] = values.get("repeat", "")
    if checked["repeat"] not in REPEATS:
        errors["repeat"] = "Choose whether the shift happens once or every week"
    checked["repeat_until"] = None
    raw_until = (values.get("repeat_until") or "").strip()
    if checked["repeat"] == "weekly" and raw_until:
        checked["repeat_until"] = parse_date(raw_until)
        if checked["repeat_until"] is None:
            errors["repeat_until"] = f"Enter the last date, like {example_date(months_ahead=3)}, or leave it blank"
        elif checked["starts_on"] and checked["repeat_until"] < checked["starts_on"]:
            errors["repeat_until"] = "The last date must be on or after the first"
    checked["capacity"] = number_up_to(values.get("capacity"), MAX_CAPACITY)
    if checked["capacity"] is None or checked["capacity"] < 1:
        errors["capacity"] = f"Enter how many volunteers the shift needs, from 1 to {MAX_CAPACITY}"
    checked["needs_dbs"] = values.get("needs_dbs", "none") or "none"
    if checked["needs_dbs"] not in safeguarding.DBS_LEVELS:
        errors["needs_dbs"] = "Choose the DBS check the shift needs"
    checked["home_visit"] = values.get("home_visit") == "yes"
    # Visits to people's homes never go on the public calendar, whatever was ticked.
    checked["public"] = values.get("public") == "yes" and not checked["home_visit"]
    if errors:
        raise Invalid(errors)
    if checked["starts_on"] != kept_on and at(checked["starts_on"], time(checked["start_minute"] // 60, checked["start_minute"] % 60)) <= now:
        raise Invalid({"start_time": "The shift must start later than now"})
    return checked


async def create_shift(actor: User | None, council: Council, slug: str, values: dict[str, Any], now: datetime | None = None) -> Shift:
    """An organiser adds a shift to the rota, once or weekly."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    checked = check_shift(values, utc(now))
    if scheme.status in ("closed",):
        raise Conflict("This scheme has closed, so it cannot add shifts.")
    async with in_transaction():
        shift = await Shift.create(council=council, scheme=scheme, created_by=actor, **checked)
        await audit.record(actor, "shift.created", shift, council=council, reason=shift.repeat)
    shift.scheme = scheme
    return shift


# Changing a shift

# What the change form sends. The settings below are kept as the shift has them when a form leaves one
# out: the change form always sends them (a visit and the calendar as yes/no, never an unticked box).
CHANGEABLE = ("title", "place", "starts_on", "start_time", "end_time", "capacity")
SETTINGS = ("repeat", "repeat_until", "needs_dbs", "home_visit", "public")
CHANGE_WORDS = {
    "title": "name", "place": "place", "starts_on": "date", "start_minute": "start time", "end_minute": "end time", "capacity": "volunteers needed",
    "repeat": "how often", "repeat_until": "last date", "needs_dbs": "DBS check", "home_visit": "visit", "public": "public calendar",
}
RESTART = "This shift has no dates still to come. To restart it, give it a last date after today, or leave the last date blank to keep it going until you stop it"
NOW_A_VISIT = "It is now a visit to someone’s home: on the day, tap “I’ve arrived” on the shift’s page when you get there, and “I’ve left” when you go."
NO_LONGER_A_VISIT = "It is no longer a visit to someone’s home, so there is nothing to tap on the day."


@dataclass
class ShiftChange:
    """A shift as its organisers would change it, and why they cannot just now ('' when they can)."""

    scheme: Scheme
    shift: Shift
    first: Slot  # its first date: a shift that happens once has no other
    begun: bool  # some date of it has started, so its first date stays as it is
    fixed: str
    restarting: bool = False  # a weekly shift with no date still to come (stopped, or past its last date): a change must give it one

    @property
    def keeps_its_day(self) -> bool:
        """A weekly shift that has begun keeps its day, keeps repeating, and stays a visit or not."""
        return self.shift.repeat == "weekly" and self.begun

    @property
    def current(self) -> dict[str, Any]:
        """What the change form can change, as it is now: for a shift that happens once, its date as it is (moved or not)."""
        if self.shift.repeat == "once":
            starts, ends = local(self.first.starts_at), local(self.first.ends_at)
            day, start, end, place = starts.date(), starts.hour * 60 + starts.minute, ends.hour * 60 + ends.minute, self.first.place
        else:
            day, start, end, place = self.shift.starts_on, self.shift.start_minute, self.shift.end_minute, self.shift.place
        return {
            "title": self.shift.title, "place": place, "starts_on": day, "start_minute": start, "end_minute": end, "capacity": self.shift.capacity,
            "repeat": self.shift.repeat, "repeat_until": self.shift.repeat_until, "needs_dbs": self.shift.needs_dbs,
            "home_visit": self.shift.home_visit, "public": self.shift.public,
        }

    @property
    def values(self) -> dict[str, str]:
        """The change form, filled in as the shift is now."""
        now = self.current
        return {
            "title": now["title"], "place": now["place"], "starts_on": now["starts_on"].isoformat(),
            "start_time": f"{now['start_minute'] // 60:02d}:{now['start_minute'] % 60:02d}",
            "end_time": f"{now['end_minute'] // 60:02d}:{now['end_minute'] % 60:02d}",
            "capacity": str(now["capacity"]), "repeat": now["repeat"],
            "repeat_until": now["repeat_until"].isoformat() if now["repeat_until"] else "", "needs_dbs": now["needs_dbs"],
            "home_visit": "yes" if now["home_visit"] else "no", "public": "yes" if now["public"] else "no",
        }


def why_shift_is_fixed(scheme: Scheme, shift: Shift, first: Slot, coming: list[Slot], now: datetime) -> str:
    """Why organisers cannot change this shift now, or '' when they can: it needs a date still to come
    that is not cancelled (a date that has started or ended is never moved), and a scheme still running."""
    if scheme.status == "closed":
        return "This scheme has closed, so its shifts can no longer be changed."
    if coming:
        return ""
    if shift.repeat == "weekly" and shift.repeat_until is not None:
        return ""  # stopped, or past its last date: a later last date restarts it (`ShiftChange.restarting`)
    if shift.repeat == "weekly":
        return "This weekly shift has no dates still to come, so it can no longer be changed."
    if first.cancelled:
        return "This shift is cancelled, so it cannot be changed."
    if first.ends_at <= now:
        return "This shift is over, so it can no longer be changed."
    return "This shift has started, so it can no longer be changed."


async def shift_change(scheme: Scheme, shift: Shift, now: datetime) -> ShiftChange:
    """What changing this shift would touch, and whether its organisers may."""
    row = await ShiftOccurrence.get_or_none(shift=shift, on=shift.starts_on).prefetch_related("signups")
    first = slot_from(shift, shift.starts_on, row)
    coming = [s for s in await expand([shift], now, now + FURTHEST_START * 3) if s.starts_at > now and not s.cancelled]
    begun = first.starts_at <= now or await ShiftOccurrence.filter(shift=shift, starts_at__lte=now).exists()
    fixed = why_shift_is_fixed(scheme, shift, first, coming, now)
    return ShiftChange(scheme, shift, first, begun, fixed, restarting=not fixed and not coming)


async def shift_to_change(actor: User | None, council: Council, slug: str, shift_id: int, now: datetime | None = None) -> ShiftChange:
    """A shift for its organisers to change, unless `why_shift_is_fixed` says they may not."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    change = await shift_change(scheme, await _shift(scheme, shift_id), utc(now))
    if change.fixed:
        raise Conflict(change.fixed)
    return change


def _as_made(shift: Shift) -> tuple:
    return (
        shift.title, shift.place, shift.starts_on, shift.start_minute, shift.end_minute, shift.capacity,
        shift.repeat, shift.repeat_until, shift.needs_dbs, shift.home_visit, shift.public,
    )


def _volunteers(n: int) -> str:
    return f"{n} volunteer{'s' if n != 1 else ''}"


def _given(change: ShiftChange, values: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The change form's values, with the settings it left out as the shift has them, and what a shift
    that has begun may not change."""
    shift, current = change.shift, change.values
    given = {name: values.get(name) or "" for name in CHANGEABLE}
    given |= {name: current[name] if values.get(name) is None else str(values[name]) for name in SETTINGS}
    errors: dict[str, str] = {}
    if change.keeps_its_day:
        if not given["starts_on"].strip():
            given["starts_on"] = shift.starts_on.isoformat()
        elif parse_date(given["starts_on"]) != shift.starts_on:
            errors["starts_on"] = "This weekly shift has begun, so it keeps its day. To run it on another day, stop it and add a new shift"
        if given["repeat"] != "weekly":
            errors["repeat"] = "This weekly shift has begun, so it keeps repeating. To end it, give it a last date, or stop it"
        # A visit just done may still be waiting for its "I've left", and lone-working alerts look back at it.
        if given["home_visit"] != current["home_visit"]:
            errors["home_visit"] = "This weekly shift has begun, so whether it is a visit stays as it is. To change that, stop it and add a new shift"
    # The last date moves with the first unless it is changed too, so the shift keeps as many dates.
    first = parse_date(given["starts_on"])
    if shift.repeat_until is not None and given["repeat_until"].strip() == current["repeat_until"] and first is not None:
        given["repeat_until"] = (shift.repeat_until + (first - shift.starts_on)).isoformat()
    return given, errors


def _and(words: list[str]) -> str:
    return " and ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " and " + words[-1]


async def _lacking_the_check(scheme: Scheme, needs: str, dates: list[tuple[date, list[SignUp]]]) -> str:
    """Who, signed up for these dates, would not have the check a shift needing `needs` asks for, and on
    which of them, so organisers know whom to take off which date: '' if nobody."""
    checks = await safeguarding.checks_by_user(scheme)
    lacking: dict[int, tuple[str, list[str]]] = {}  # volunteer id -> what they lack, the days they lack it
    for day, signups in sorted(dates, key=lambda d: d[0]):
        for signup in signups:
            if short := safeguarding.shortfall(checks.get(signup.volunteer_id), needs, day):
                lacking.setdefault(signup.volunteer_id, (f"{signup.volunteer} {short}", []))[1].append(day_name(day))
    return "; ".join(f"{who} and is signed up for {_and(days)}" for who, days in lacking.values())


async def update_shift(actor: User | None, council: Council, slug: str, shift_id: int, values: dict[str, Any], now: datetime | None = None) -> Shift:
    """An organiser changes a shift, checked as a new shift is: its name, place, date, times, how many
    volunteers it needs, how often it happens and its last date, the DBS check it needs, whether it is a
    visit and whether it is on the public calendar. A weekly shift changes from its next date still to
    come; one that has begun keeps its day, keeps repeating and stays a visit or not. Dates that have
    started keep their times, and dates moved on their own keep theirs. It cannot need fewer volunteers
    than have signed up for a date, nor a check that someone signed up for a date to come lacks. A date
    someone signed up for that is no longer in the shift (an earlier last date, or it no longer repeats)
    is cancelled; one cancelled that way that comes back (a later last date) opens again, and those who were
    on it are e-mailed that it is back, not put back on it. Each volunteer on a date that changed is e-mailed
    once, with every date: what changed, what is cancelled, and whether it is now a visit."""
    now = utc(now)
    change = await shift_to_change(actor, council, slug, shift_id, now)
    scheme, shift = change.scheme, change.shift
    given, errors = _given(change, values)
    try:
        checked = check_shift(given, now, kept_on=shift.starts_on if change.keeps_its_day else None)
    except Invalid as error:
        raise Invalid({**error.errors, **errors}) from None
    if errors:
        raise Invalid(errors)
    checked = {name: checked[name] for name in CHANGE_WORDS}
    changed = [words for name, words in CHANGE_WORDS.items() if checked[name] != change.current[name]]
    by = checked["starts_on"] - shift.starts_on  # days every date moves: only before any has begun
    raising = safeguarding.RANK[checked["needs_dbs"]] > safeguarding.RANK[shift.needs_dbs]
    async with in_transaction():
        # Locked: sign-ups to the shift wait (they lock it too), so the counts below stay true while it changes.
        locked = await Shift.select_for_update().get(id=shift.id)
        if _as_made(locked) != _as_made(shift):
            raise Conflict("Someone else has just changed this shift. Look at it again before you change it.")
        was_repeat, was_title, was_visit = locked.repeat, locked.title, locked.home_visit
        rows = list(await ShiftOccurrence.select_for_update().filter(shift_id=shift.id, starts_at__gt=now))
        on_row: dict[int, list[SignUp]] = {row.id: [] for row in rows}
        if rows:
            for signup in await SignUp.filter(occurrence_id__in=list(on_row)).prefetch_related("volunteer"):
                on_row[signup.occurrence_id].append(signup)
        going_ahead = [row for row in rows if not row.cancelled and locked.falls_on(row.on) and on_row[row.id]]
        was = {row.id: (locked.title, when(row.starts_at, row.ends_at), row.place or locked.place) for row in going_ahead}
        for name, value in checked.items():
            setattr(locked, name, value)
        # A date that has started stays in the series: its volunteers may still have to say they have left.
        begun = await ShiftOccurrence.filter(shift_id=shift.id, starts_at__lte=now, cancelled=False).order_by("-on").first()
        if begun is not None and not locked.falls_on(begun.on):
            raise Invalid({"repeat_until": f"The shift on {day_name(begun.on)} has already begun, so the last date must be that day or later"})
        staying = [row for row in going_ahead if locked.falls_on(row.on + by)]
        if fullest := max(staying, key=lambda row: len(on_row[row.id]), default=None):
            taken = len(on_row[fullest.id])
            if taken > checked["capacity"]:
                raise Invalid({"capacity": f"{_volunteers(taken)} {'has' if taken == 1 else 'have'} signed up for {day_name(fullest.starts_at)}. Enter {taken} or more"})
        await locked.save(update_fields=list(checked))
        now_is: dict[int, tuple[date, str, str, str]] = {}
        on_the_day: list[tuple[date, list[SignUp]]] = []  # the days volunteers are signed up for, as they now fall
        dropped: set[int] = set()
        reopened: set[int] = set()
        # Every date moves by the same days, the furthest first, so two never meet on one day.
        for row in sorted(rows, key=lambda r: r.on, reverse=by.days > 0):
            on = row.on + by
            if not locked.falls_on(on):  # no longer in the series: cancelled, so no reminder or visit alert comes for it
                if row.id in was:
                    dropped.add(row.id)
                    await ShiftOccurrence.filter(id=row.id).update(on=on, cancelled=True, cancel_reason="The shift no longer has this date.", off_the_series=True)
                    await forget_reminders(row.id)
                else:
                    await ShiftOccurrence.filter(id=row.id).update(on=on)
                continue
            if row.cancelled and row.off_the_series:
                # Back in the series (a later last date, or weekly again): open for sign-up as a new date would be.
                # Its volunteers were told it is cancelled and may have made other plans, so they are not put
                # back on it unasked: they are told it is open again, with the link to sign up.
                await SignUp.filter(occurrence_id=row.id).delete()
                await forget_reminders(row.id)
                await ShiftOccurrence.filter(id=row.id).update(cancelled=False, cancel_reason="", off_the_series=False)
                reopened.add(row.id)
            if row.moved and was_repeat == "weekly":  # moved on its own: it keeps its time and place
                starts_at, ends_at, place, moved = row.starts_at, row.ends_at, row.place, True
            else:  # it takes the shift's new times and place; a shift that happens once is its one date, moved or not
                (starts_at, ends_at), place, moved = span(on, locked.start_time, locked.end_time), "", False
            if row.id in was and starts_at <= now:
                raise Invalid({"start_time": f"Volunteers have signed up for {day_name(on)}, and at this time it would already have started. Choose a later time"})
            if starts_at != row.starts_at:
                await forget_reminders(row.id)  # so the worker reminds them of the new time
            await ShiftOccurrence.filter(id=row.id).update(on=on, starts_at=starts_at, ends_at=ends_at, place=place, moved=moved)
            now_is[row.id] = (on, locked.title, when(starts_at, ends_at), place or locked.place)
            if row.id in was:
                on_the_day.append((today(starts_at), on_row[row.id]))
        if change.restarting and not [s for s in await expand([locked], now, now + FURTHEST_START * 3) if s.starts_at > now and not s.cancelled]:
            raise Invalid({"repeat_until": RESTART})
        if raising and (who := await _lacking_the_check(scheme, locked.needs_dbs, on_the_day)):
            raise Invalid({"needs_dbs": f"The shift would then need {safeguarding.needs_phrase(locked.needs_dbs)}. {who}. Record their certificates first, or take them off those dates: on each date’s page, choose “Take a volunteer off this date”"})
        if changed:
            reason = ", ".join(changed) + (f"; {len(dropped)} date{'s' if len(dropped) != 1 else ''} with volunteers cancelled" if dropped else "")
            reason += f"; {len(reopened)} cancelled date{'s' if len(reopened) != 1 else ''} open again" if reopened else ""
            await audit.record(actor, "shift.changed", locked, council=council, reason=reason)
        visit = "" if locked.home_visit == was_visit else NOW_A_VISIT if locked.home_visit else NO_LONGER_A_VISIT
        queued = await _tell_about_change(council, scheme, locked, was_title, on_row, was, now_is, dropped, visit)
        queued += await _tell_about_reopened(council, scheme, locked, on_row, now_is, reopened)
    await mail.deliver(queued)
    locked.scheme = scheme
    return locked


async def _tell_about_change(
    council: Council, scheme: Scheme, shift: Shift, was_title: str, on_row: dict[int, list[SignUp]],
    was: dict[int, tuple[str, str, str]], now_is: dict[int, tuple[date, str, str, str]], dropped: set[int], visit: str,
) -> list[OutgoingEmail]:
    """One e-mail to each volunteer on a date whose name, time or place changed, or that is no longer in the
    shift, saying how, date by date; and, when the shift now is or is no longer a visit, to everyone on it."""
    if shift.repeat == "once":
        ending = f"The shift now happens once, on {day_name(shift.starts_on)}."
    else:
        ending = f"The shift’s last date is now {day_name(shift.repeat_until)}." if shift.repeat_until else ""
    changes: dict[int, tuple[User, list[str], bool]] = {}  # volunteer id -> them, a block per date, whether they are on a date still to come
    for row_id, (old_title, old_when, old_place) in was.items():
        if row_id in dropped:
            block, staying = f"Cancelled: {old_title}, {old_when}, {old_place}\n{ending}".rstrip(), False
        else:
            on, title, new_when, place = now_is[row_id]
            if (old_title, old_when, old_place) == (title, new_when, place) and not visit:
                continue
            what = f"{title}, {new_when}, {place}" if (old_title, old_when, old_place) == (title, new_when, place) else (
                f"Was: {old_title}, {old_when}, {old_place}\nNow: {title}, {new_when}, {place}"
            )
            block = f"{what}\nIf you cannot make it now, withdraw here: {scheme_url(council, scheme)}/shifts/{shift.id}/{on.isoformat()}"
            staying = True
        for signup in on_row[row_id]:
            volunteer, blocks, on_one = changes.get(signup.volunteer_id, (signup.volunteer, [], False))
            changes[signup.volunteer_id] = (volunteer, [*blocks, block], on_one or staying)
    queued = []
    for volunteer, blocks, on_one in changes.values():
        queued.append(await mail.queue(
            volunteer.email,
            f"{was_title} has changed",
            f"The organisers of {scheme.name} have changed a shift you are on:\n\n" + (f"{visit}\n\n" if visit and on_one else "") + "\n\n".join(blocks) + "\n",
            council_id=council.id,
        ))
    return queued


async def _tell_about_reopened(
    council: Council, scheme: Scheme, shift: Shift, on_row: dict[int, list[SignUp]], now_is: dict[int, tuple[date, str, str, str]], reopened: set[int],
) -> list[OutgoingEmail]:
    """One e-mail to each volunteer who was on a date cancelled when it left the shift (a stop, an earlier
    last date, or no longer repeating) and now back in it: it is on again, they are not on it, and where to sign up."""
    on_again: dict[int, tuple[User, list[int]]] = {}  # volunteer id -> them, the dates on again they were on
    for row_id in sorted(reopened, key=lambda row_id: now_is[row_id][0]):
        for signup in on_row[row_id]:
            on_again.setdefault(signup.volunteer_id, (signup.volunteer, []))[1].append(row_id)
    queued = []
    for volunteer, row_ids in on_again.values():
        blocks = []
        for row_id in row_ids:
            on, title, new_when, place = now_is[row_id]
            blocks.append(f"{title}, {new_when}, {place}\nTo sign up for it: {scheme_url(council, scheme)}/shifts/{shift.id}/{on.isoformat()}")
        one = len(row_ids) == 1
        queued.append(await mail.queue(
            volunteer.email,
            f"{shift.title} on {day_name(now_is[row_ids[0]][0])} is back on the rota" if one else f"{len(row_ids)} dates of {shift.title} are back on the rota",
            f"The organisers of {scheme.name} have put back on the rota {'a date' if one else 'dates'} of {shift.title} you were signed up for. "
            f"You were told {'it was' if one else 'they were'} cancelled:\n\n" + "\n\n".join(blocks) + "\n\n"
            f"You are not on {'it' if one else 'them'} now. If you can still come, sign up again.\n",
            council_id=council.id,
        ))
    return queued


# Seeing the rota


@dataclass
class RotaPage:
    scheme: Scheme
    who: access.Viewer
    slots: list[Slot]
    refusals: dict[str, str] = field(default_factory=dict)  # slot path -> why this person cannot sign up
    names: dict[int, str] = field(default_factory=dict)  # user id -> name, for organisers only
    own_page: int | None = None  # an organiser refused for want of a check: their membership, whose page records it
    stopped: list[Shift] = field(default_factory=list)  # for organisers: weekly shifts stopped lately, which they may restart

    @property
    def gaps(self) -> int:
        return sum(s.places_left for s in self.slots if not s.cancelled)


async def require_helper(actor: User | None, council: Council, slug: str) -> tuple[Scheme, access.Viewer]:
    """The scheme, for one of its active volunteers or organisers; others get Forbidden."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    scheme, who = await access.find(actor, council, slug)
    if not who.is_helper:
        raise Forbidden("Only the scheme’s volunteers and organisers can see its rota.")
    return scheme, who


def _not_open_yet(slot: Slot, now: datetime) -> str:
    """Why a date is too far ahead to sign up for, or '' once the rota shows it."""
    opens = slot.starts_at - timedelta(weeks=ROTA_WEEKS)
    if opens < now:
        return ""
    return f"Sign-up for this date opens on {day_name(opens)}, {ROTA_WEEKS} weeks before, when it comes onto the rota."


async def _refusals(scheme: Scheme, user: User, slots: list[Slot]) -> tuple[dict[str, str], int | None]:
    """Why this person cannot take each slot for want of a check; and, for an organiser so refused, their membership."""
    membership = await Membership.get(scheme=scheme, user=user)
    check = await SafeguardingCheck.get_or_none(membership=membership)
    organiser = membership.role == "organiser"
    refusals = {s.path: reason for s in slots if (reason := safeguarding.refusal(check, s.shift.needs_dbs, today(s.starts_at), organiser))}
    return refusals, membership.id if organiser and refusals else None


async def _scheme_slots(scheme: Scheme, start: datetime, end: datetime) -> list[Slot]:
    shifts = list(await Shift.filter(scheme=scheme))
    for shift in shifts:
        shift.scheme = scheme
    return await expand(shifts, start, end)


async def rota_page(actor: User | None, council: Council, slug: str, now: datetime | None = None, weeks: int = ROTA_WEEKS) -> RotaPage:
    """The coming weeks of the rota, for the scheme's volunteers and organisers, with what each may take."""
    scheme, who = await require_helper(actor, council, slug)
    now = utc(now)
    slots = await _scheme_slots(scheme, now, now + timedelta(weeks=weeks))
    refusals, own_page = await _refusals(scheme, actor, slots)  # type: ignore[arg-type]
    return RotaPage(scheme, who, slots, refusals, own_page=own_page)


async def _names(slots: list[Slot]) -> dict[int, str]:
    ids = {s.volunteer_id for slot in slots for s in slot.signups}
    return {u.id: str(u) for u in await User.filter(id__in=ids)} if ids else {}


async def roster_page(actor: User | None, council: Council, slug: str, now: datetime | None = None, weeks: int = ROTA_WEEKS) -> RotaPage:
    """Who is on each shift and where the gaps are: for the scheme's organisers."""
    scheme, who = await access.find_for_organiser(actor, council, slug)
    now = utc(now)
    shifts = list(await Shift.filter(scheme=scheme))
    for shift in shifts:
        shift.scheme = scheme
    slots = await expand(shifts, now, now + timedelta(weeks=weeks))
    on_the_rota = {slot.shift.id for slot in slots}
    stopped = [] if scheme.status == "closed" else sorted(
        (s for s in shifts if _stopped_lately(s, now) and s.id not in on_the_rota), key=lambda s: s.repeat_until, reverse=True,  # type: ignore[arg-type, return-value]
    )
    return RotaPage(scheme, who, slots, names=await _names(slots), stopped=stopped[:STOPPED_SHOWN])


# The roster lists weekly shifts stopped within this time, so organisers can find them to restart, and
# at most this many: one stopped longer ago is better added again.
STOPPED_WITHIN = timedelta(days=366)
STOPPED_SHOWN = 20


def _stopped_lately(shift: Shift, now: datetime) -> bool:
    return shift.repeat == "weekly" and shift.repeat_until is not None and today(now) - STOPPED_WITHIN <= shift.repeat_until <= today(now)


@dataclass
class SlotPage:
    scheme: Scheme
    who: access.Viewer
    slot: Slot
    refusal: str = ""
    names: dict[int, str] = field(default_factory=dict)
    now: datetime | None = None
    shift_fixed: str = ""  # for organisers: why they cannot change the shift now
    shift_restarting: bool = False  # for organisers: the shift has no date still to come, but a later last date restarts it
    own_page: int | None = None  # an organiser refused for want of a check: their membership, whose page records it

    @property
    def started(self) -> bool:
        return self.now is not None and self.slot.starts_at <= self.now

    @property
    def mine(self) -> SignUp | None:
        return self.slot.signup_of(self.who.user)

    @property
    def on_it(self) -> list[tuple[int, str]]:
        """For organisers: who is on this date, as choices of whom to take off it."""
        return [(s.volunteer_id, self.names.get(s.volunteer_id, "")) for s in self.slot.signups]

    @property
    def move_values(self) -> dict[str, str]:
        """The form to move this date, filled in as it is now."""
        starts, ends = local(self.slot.starts_at), local(self.slot.ends_at)
        return {"date": f"{starts:%Y-%m-%d}", "start_time": f"{starts:%H:%M}", "end_time": f"{ends:%H:%M}", "place": self.slot.place}


async def slot_page(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, now: datetime | None = None) -> SlotPage:
    """One date of a shift: for volunteers, whether they can take it; for organisers, who is on it."""
    scheme, who = await require_helper(actor, council, slug)
    now = utc(now)
    slot = await find_slot(scheme, shift_id, on)
    refusals, own_page = await _refusals(scheme, actor, [slot])  # type: ignore[arg-type]
    refusal = _not_open_yet(slot, now) or refusals.get(slot.path, "")
    names = await _names([slot]) if who.is_organiser else {}
    change = await shift_change(scheme, slot.shift, now) if who.is_organiser else None
    return SlotPage(
        scheme, who, slot, refusal, names, now, change.fixed if change else "", change is not None and change.restarting,
        own_page if refusal == refusals.get(slot.path) else None,
    )


# Signing up and withdrawing


async def sign_up(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, now: datetime | None = None) -> SignUp:
    """A volunteer takes a place on a shift: refused, with the reason, without the check it needs or when it is full."""
    scheme, _ = await require_helper(actor, council, slug)
    assert actor is not None
    if scheme.status == "closed":
        raise Conflict("This scheme has closed, so its rota has stopped.")
    now = utc(now)
    slot = await find_slot(scheme, shift_id, on)
    reason = _not_open_yet(slot, now) or (await _refusals(scheme, actor, [slot]))[0].get(slot.path)
    if reason:
        raise Conflict(reason)
    async with in_transaction():
        # The shift's row lock makes sign-ups to it wait for each other and for an organiser changing it,
        # so its dates, the count below and how many it needs stay true.
        shift = await Shift.select_for_update().get(id=slot.shift.id)
        if not shift.falls_on(slot.on) or (shift.start_minute, shift.end_minute) != (slot.shift.start_minute, slot.shift.end_minute):
            raise Conflict("The organisers have just changed this shift. Check its new date and time, and try again.")
        if shift.needs_dbs != slot.shift.needs_dbs:  # the check above was against what it needed before
            raise Conflict("The organisers have just changed the DBS check this shift needs. Look at it again, and try again.")
        locked = await ShiftOccurrence.select_for_update().get(id=(await materialise(shift, slot.on)).id)
        if locked.cancelled:
            raise Conflict("This shift is cancelled.")
        if locked.starts_at <= now:
            raise Conflict("This shift has already started.")
        if await SignUp.filter(occurrence=locked, volunteer=actor).exists():
            raise Conflict("You are already on this shift.")
        if await SignUp.filter(occurrence=locked).count() >= shift.capacity:
            raise Conflict("This shift is full. Choose another date, or ask an organiser.")
        signup = await SignUp.create(occurrence=locked, volunteer=actor)
        await audit.record(actor, "shift.signed_up", locked, council=council)
    return signup


async def withdraw(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, now: datetime | None = None) -> None:
    """A volunteer gives up their place before the shift starts; no reminder about it goes to them."""
    scheme, _ = await require_helper(actor, council, slug)
    assert actor is not None
    now = utc(now)
    slot = await find_slot(scheme, shift_id, on)
    if slot.signup_of(actor) is None or slot.occurrence is None:
        raise Conflict("You are not on this shift.")
    if slot.starts_at <= now:
        raise Conflict(WITHDRAW_TOO_LATE)
    async with in_transaction():
        # Locked as a sign-up locks them, the shift and then the date: a second press of the button, a
        # sign-up to the place it frees, or an organiser changing the shift waits for this to finish.
        await Shift.select_for_update().get(id=slot.shift.id)
        locked = await ShiftOccurrence.select_for_update().get(id=slot.occurrence.id)
        if locked.starts_at <= now:  # moved to an earlier time a moment ago
            raise Conflict(WITHDRAW_TOO_LATE)
        if not await SignUp.filter(occurrence=locked, volunteer=actor).delete():
            raise Conflict("You are not on this shift.")
        await forget_reminders(locked.id, actor.id)
        await audit.record(actor, "shift.withdrawn", locked, council=council)
        freed = await find_slot(scheme, shift_id, slot.on)
        queued = await tell_about_free_places(council, scheme, actor, [freed], now)
    await mail.deliver(queued)


WITHDRAW_TOO_LATE = "This shift has already started. Tell an organiser if you cannot stay."


TAKE_OFF_REASON_LIMIT = 300


async def take_off(
    actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, volunteer_id: int | None, why: str = "", now: datetime | None = None,
) -> Slot:
    """An organiser takes one volunteer off one date of a shift before it starts, optionally saying why;
    the volunteer is e-mailed, and the place is free again. Their other dates stay theirs."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    now = utc(now)
    slot = await find_slot(scheme, shift_id, on)
    why = paragraphs(why)
    errors: dict[str, str] = {}
    if volunteer_id is None:
        errors["volunteer"] = "Choose who to take off this date"
    if len(why) > TAKE_OFF_REASON_LIMIT:
        errors["why"] = f"The reason must be {TAKE_OFF_REASON_LIMIT} characters or fewer"
    if errors:
        raise Invalid(errors)
    volunteer = await User.get_or_none(id=volunteer_id)
    async with in_transaction():
        # Locked as a sign-up locks them, the shift and then the date: a sign-up to the freed place, or a
        # second organiser taking the same person off, waits for this to finish.
        shift = await Shift.select_for_update().get(id=slot.shift.id)
        row = await ShiftOccurrence.get_or_none(shift=shift, on=slot.on)
        locked = await ShiftOccurrence.select_for_update().get(id=row.id) if row is not None else None
        if locked is not None and locked.cancelled:
            raise Conflict("This date is cancelled, so nobody needs taking off it.")
        if locked is not None and locked.starts_at <= now:
            raise Conflict("This shift has started, so who was on it stays as it is.")
        if volunteer is None or locked is None or not await SignUp.filter(occurrence=locked, volunteer=volunteer).delete():
            raise Conflict(f"{volunteer or 'That volunteer'} is not on this date. Someone may have just taken them off, or they withdrew.")
        # Should they be put back on it, the worker reminds them again.
        await forget_reminders(locked.id, volunteer.id)
        await audit.record(actor, "shift.volunteer_removed", locked, council=council, reason=f"user {volunteer.id}")
        said = f"They said:\n\n{why}\n\n" if why else ""
        queued = await mail.queue(
            volunteer.email,
            f"You are no longer on {slot.shift.title} on {day_name(slot.starts_at)}",
            f"The organisers of {scheme.name} have taken you off this shift:\n\n{slot.shift.title}, {slot.when}, {slot.place}\n\n{said}"
            f"Your other shifts are as they were. You can see the rota here:\n\n{scheme_url(council, scheme)}/rota\n",
            council_id=council.id,
        )
    await mail.deliver([queued])
    return await find_slot(scheme, shift_id, slot.on)


async def drop_future_signups(scheme: Scheme, user: User, now: datetime) -> list[Slot]:
    """Someone stops helping: free their places on shifts that have not started. Returns the dates
    still going ahead that now have a free place. Call inside a transaction."""
    rows = await ShiftOccurrence.filter(signups__volunteer=user, shift__scheme=scheme, starts_at__gt=now).values_list("id", flat=True)
    if not rows:
        return []
    await SignUp.filter(volunteer=user, occurrence_id__in=list(rows)).delete()
    for row_id in rows:
        await forget_reminders(row_id, user.id)
    freed = await ShiftOccurrence.filter(id__in=list(rows), cancelled=False).prefetch_related("signups", "shift")
    slots = []
    for row in freed:
        row.shift.scheme = scheme
        if row.shift.falls_on(row.on):
            slots.append(slot_from(row.shift, row.on, row))
    return sorted(slots, key=lambda s: s.starts_at)


async def tell_about_free_places(council: Council, scheme: Scheme, volunteer: User, slots: list[Slot], now: datetime) -> list[OutgoingEmail]:
    """Tell the organisers which shifts a volunteer has left a place on, saying first which start within 48 hours."""
    slots = [s for s in slots if not s.cancelled and s.starts_at > now]
    if not slots:
        return []
    soon = [s for s in slots if s.starts_at - now <= FREE_PLACE_SOON]
    lines = []
    for s in slots:
        flag = "Starts within 48 hours: " if s in soon else ""
        lines.append(
            f"{flag}{s.shift.title}, {s.when}, {s.place}\n"
            f"{s.places_left} of {s.shift.capacity} places free. {scheme_url(council, scheme)}/shifts/{s.shift.id}/{s.on.isoformat()}"
        )
    if len(slots) == 1:
        subject = f"{slots[0].shift.title} on {day_name(slots[0].starts_at)} has a free place"
    else:
        subject = f"{len(slots)} shifts for {scheme.name} have a free place"
    if soon:
        subject = f"Within 48 hours: {subject}"
    intro = (
        f"{'One of these shifts starts' if len(slots) > 1 else 'This shift starts'} within 48 hours, so it may need someone quickly.\n\n" if soon else ""
    )
    body = (
        f"{intro}{volunteer} is no longer down for {'these shifts' if len(slots) > 1 else 'this shift'} with {scheme.name}:\n\n"
        + "\n\n".join(lines)
        + "\n\nYou can see the whole roster here:\n\n"
        f"{scheme_url(council, scheme)}/roster\n"
    )
    return await tell_organisers(scheme, subject, body)


# Moving and cancelling a single date


async def _tell_signed_up(slot: Slot, subject: str, body: str) -> list[OutgoingEmail]:
    users = await User.filter(id__in=[s.volunteer_id for s in slot.signups]) if slot.signups else []
    return [await mail.queue(u.email, subject, body, council_id=slot.shift.council_id) for u in users]


async def move(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, values: dict[str, Any], now: datetime | None = None) -> Slot:
    """An organiser moves one date of a shift (day, times or place) without touching the rest of the series."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    now = utc(now)
    slot = await find_slot(scheme, shift_id, on)
    if slot.cancelled:
        raise Conflict("This shift is cancelled, so it cannot be moved.")
    errors: dict[str, str] = {}
    day = parse_date(values.get("date"))
    if day is None:
        errors["date"] = f"Enter the new date, like {example_date()}"
    elif day > today(now) + FURTHEST_START:
        errors["date"] = "The new date must be within the next year"
    start, end = parse_time(values.get("start_time")), parse_time(values.get("end_time"))
    if start is None:
        errors["start_time"] = "Enter the start time, like 10:00 or 2pm"
    if end is None:
        errors["end_time"] = "Enter the end time, like 12:00 or 4pm"
    elif start is not None and end == start:
        errors["end_time"] = "The end time must be different from the start time"
    place = one_line(values.get("place")) or slot.shift.place
    if len(place) > 300:
        errors["place"] = "The place must be 300 characters or fewer"
    if errors:
        raise Invalid(errors)
    starts_at, ends_at = span(day, start, end)  # type: ignore[arg-type]
    if starts_at <= now:
        raise Invalid({"date": "The new time must be in the future"})
    occurrence = await materialise(slot.shift, slot.on)
    async with in_transaction():
        await ShiftOccurrence.filter(id=occurrence.id).update(
            starts_at=starts_at, ends_at=ends_at, place="" if place == slot.shift.place else place, moved=True
        )
        # A reminder about the old time is no use: let the worker send one for the new time.
        await forget_reminders(occurrence.id)
        await audit.record(actor, "shift.moved", occurrence, council=council, reason=f"{slot.on} to {starts_at:%Y-%m-%d %H:%M}")
        moved = await find_slot(scheme, shift_id, slot.on)
        queued = await _tell_signed_up(
            moved,
            f"{slot.shift.title} on {day_name(slot.starts_at)} has moved",
            f"The {scheme.name} shift you are on has moved.\n\nWas: {slot.when}, {slot.place}\nNow: {moved.when}, {moved.place}\n\n"
            f"If you cannot make the new time, withdraw here:\n\n{scheme_url(council, scheme)}/shifts/{shift_id}/{slot.on.isoformat()}\n",
        )
    await mail.deliver(queued)
    return moved


async def cancel(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, reason: str) -> Slot:
    """An organiser cancels one date of a shift, saying why; everyone on it is told."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    slot = await find_slot(scheme, shift_id, on)
    reason = paragraphs(reason)
    if not reason:
        raise Invalid({"reason": "Say why, so the volunteers know"})
    if len(reason) > 500:
        raise Invalid({"reason": "The reason must be 500 characters or fewer"})
    if slot.cancelled:
        raise Conflict("This shift is already cancelled.")
    occurrence = await materialise(slot.shift, slot.on)
    async with in_transaction():
        await ShiftOccurrence.filter(id=occurrence.id).update(cancelled=True, cancel_reason=reason, off_the_series=False)  # on purpose: it stays cancelled
        await forget_reminders(occurrence.id)
        await audit.record(actor, "shift.cancelled", occurrence, council=council)
        queued = await _tell_signed_up(
            slot,
            f"{slot.shift.title} on {day_name(slot.starts_at)} is cancelled",
            f"The {scheme.name} shift you were on, {slot.when}, is cancelled. The organisers said:\n\n{reason}\n",
        )
    await mail.deliver(queued)
    return await find_slot(scheme, shift_id, slot.on)


async def stop_page(actor: User | None, council: Council, slug: str, shift_id: int, now: datetime | None = None) -> tuple[Shift, int]:
    """A weekly shift its organisers may stop, and how many sign-ups to later dates stopping it cancels."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    shift = await _shift(scheme, shift_id)
    now = utc(now)
    last = today(now)
    if shift.repeat != "weekly":
        raise Conflict("Only a weekly shift can be stopped. Cancel this date instead.")
    if shift.repeat_until is not None and (shift.repeat_until <= last or shift.repeat_until < shift.starts_on):
        raise Conflict("This shift has already stopped. To restart it, change the shift and give it a later last date.")
    later = await expand([shift], now, now + FURTHEST_START * 3)
    return shift, sum(slot.taken for slot in later if slot.on > last and not slot.cancelled)


async def stop(actor: User | None, council: Council, slug: str, shift_id: int, now: datetime | None = None) -> Shift:
    """An organiser stops a weekly shift after today; later dates anyone had signed up for are cancelled and they are told."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    shift = await _shift(scheme, shift_id)
    now = utc(now)
    last = today(now)
    if shift.repeat_until is not None and shift.repeat_until <= last:
        raise Conflict("This shift has already stopped. To restart it, change the shift and give it a later last date.")
    later = await expand([shift], now, now + FURTHEST_START * 3) if shift.repeat == "weekly" else []
    async with in_transaction():
        queued = await _end_series(scheme, shift, [s for s in later if s.on > last], last, "The shift has stopped.", "the organisers have stopped it")
        await audit.record(actor, "shift.stopped", shift, council=council)
    await mail.deliver(queued)
    return shift


async def _end_series(scheme: Scheme, shift: Shift, later: list[Slot], last: date, reason: str, why: str) -> list[OutgoingEmail]:
    """No dates after `last`; of `later`, those anyone had signed up for are cancelled and they are told."""
    until = max(last, shift.starts_on - timedelta(days=1))
    if shift.repeat_until is None or shift.repeat_until > until:  # never brings back dates of a series already stopped
        shift.repeat_until = until
        await shift.save(update_fields=["repeat_until"])
    queued = []
    for slot in later:
        if slot.occurrence is not None and not slot.cancelled:
            await ShiftOccurrence.filter(id=slot.occurrence.id).update(cancelled=True, cancel_reason=reason, off_the_series=True)
            await forget_reminders(slot.occurrence.id)
            queued += await _tell_signed_up(
                slot, f"{shift.title} on {day_name(slot.starts_at)} is cancelled",
                f"The {scheme.name} shift you were on, {slot.when}, is cancelled: {why}.\n",
            )
    return queued


async def upcoming_signed_up(scheme: Scheme, now: datetime) -> list[Slot]:
    """The dates still to come that someone has signed up for and that are not cancelled."""
    slots = await _scheme_slots(scheme, now, now + FURTHEST_START * 3)
    return [s for s in slots if s.starts_at > now and s.signups and not s.cancelled]


async def end_for_closing(scheme: Scheme, now: datetime) -> list[OutgoingEmail]:
    """The scheme closes: every shift stops, and each date still to come that volunteers signed up for
    is cancelled with notice to them. Call inside the closing transaction."""
    coming = await upcoming_signed_up(scheme, now)
    queued: list[OutgoingEmail] = []
    for shift in await Shift.filter(scheme=scheme):
        shift.scheme = scheme
        # Today stays in the series, so a visit under way can still be ended with "I've left";
        # what starts later today is cancelled with the rest.
        later = [s for s in coming if s.shift.id == shift.id]
        queued += await _end_series(scheme, shift, later, today(now), "The scheme has closed.", f"{scheme.name} has closed")
    return queued


# Someone's own shifts


async def my_slots(actor: User | None, council: Council, now: datetime | None = None, start: datetime | None = None, end: datetime | None = None) -> list[Slot]:
    """The shifts someone is signed up for in this council, from start (default: now) to end (default: a year on)."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    now = utc(now)
    start, end = start or now, end or now + FURTHEST_START
    rows = await ShiftOccurrence.filter(
        signups__volunteer=actor, shift__council=council, ends_at__gt=start, starts_at__lt=end
    ).prefetch_related("signups", "shift__scheme")
    slots = [slot_from(row.shift, row.on, row) for row in {row.id: row for row in rows}.values() if row.shift.falls_on(row.on)]
    return sorted(slots, key=lambda s: s.starts_at)


# Reminders


def reminder_topic(occurrence_id: int, volunteer_id: int) -> str:
    """The topic of one volunteer's reminder about one date, so an unsent one can be stopped (`mail.supersede`)."""
    return f"shift-reminder:{occurrence_id}:{volunteer_id}"


async def forget_reminders(occurrence_id: int, volunteer_id: int | None = None) -> None:
    """No reminder already made about this date goes (to this volunteer, or to anyone), and the worker
    may remind them afresh should they be on it again. Call inside the change's transaction."""
    reminded = ShiftReminder.filter(occurrence_id=occurrence_id)
    if volunteer_id is not None:
        reminded = reminded.filter(volunteer_id=volunteer_id)
    for who in await reminded.values_list("volunteer_id", flat=True):
        await mail.supersede(reminder_topic(occurrence_id, who))  # type: ignore[arg-type]
    await reminded.delete()


async def send_due_reminders(now: datetime | None = None) -> int:
    """E-mail each volunteer once about each shift starting within 24 hours, with an .ics file. Returns how many."""
    now = utc(now)
    soon = await ShiftOccurrence.filter(starts_at__gt=now, starts_at__lte=now + REMIND_AHEAD, cancelled=False).values_list("id", flat=True)
    if not soon:
        return 0
    # Left out before the loop, so volunteers already reminded never crowd out those still waiting.
    reminded = set(await ShiftReminder.filter(occurrence_id__in=list(soon)).values_list("occurrence_id", "volunteer_id"))
    signups = await SignUp.filter(occurrence_id__in=list(soon)).prefetch_related("occurrence__shift__scheme__council", "occurrence__signups", "volunteer")
    queued = []
    for signup in signups:
        row = signup.occurrence
        if (row.id, signup.volunteer_id) in reminded or not row.shift.falls_on(row.on):
            continue
        slot = slot_from(row.shift, row.on, row)
        try:
            async with in_transaction():
                # Locked as a withdrawal locks them, the date and then the sign-up: one under way makes this
                # wait and then find nothing; one that comes after finds the reminder made here, and stops it
                # going. A date cancelled or moved meanwhile is left to the next run, which sees it as it is.
                fresh = await ShiftOccurrence.select_for_update().get_or_none(id=row.id, cancelled=False)
                if fresh is None or (fresh.starts_at, fresh.ends_at, fresh.place) != (row.starts_at, row.ends_at, row.place):
                    continue
                if not await SignUp.select_for_update().filter(id=signup.id).only("id"):
                    continue
                # The unique (shift date, volunteer) row is the promise of once: a second worker's insert fails here.
                await ShiftReminder.create(occurrence_id=row.id, volunteer_id=signup.volunteer_id)
                queued.append(await mail.queue(
                    signup.volunteer.email,
                    f"Reminder: {slot.shift.title}, {clock(slot.starts_at)} {day_name(slot.starts_at)}",
                    f"You are on the {slot.shift.scheme.name} rota:\n\n{slot.shift.title}\n{slot.when}\n{slot.place}\n\n"
                    + ("This is a visit: tap “I’ve arrived” when you get there and “I’ve left” when you go.\n\n" if slot.shift.home_visit else "")
                    + f"If you cannot make it, withdraw here so someone else can:\n\n{scheme_url(slot.shift.scheme.council, slot.shift.scheme)}/shifts/{slot.shift.id}/{slot.on.isoformat()}\n",
                    attachments=[{
                        "filename": "shift.ics",
                        "content_type": "text/calendar",
                        "content": ics.calendar(slot.shift.scheme.name, [slot.entry(slot.shift.scheme.council)], method="PUBLISH"),
                    }],
                    council_id=slot.shift.council_id,
                    topic=reminder_topic(row.id, signup.volunteer_id),
                ))
        except IntegrityError:
            continue
    if queued:
        await mail.deliver(queued)
    return len(queued)
