"""Events: meetings and activities a scheme runs, changed or cancelled by its organisers, with replies from people coming, up to a capacity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from civic import audit, mail
from civic.accounts import User
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import access, ics
from civic.schemes.models import Scheme
from civic.schemes.proposals import require_poster, scheme_url
from civic.schemes.rota import FURTHEST_START
from civic.schemes.running import Event, EventReply
from civic.schemes.text import number_up_to, one_line, paragraphs
from civic.schemes.when import example_date, local, parse_date, parse_time, span, today, utc, when

MAX_CAPACITY = 10_000


def entry(council: Council, event: Event, scheme: Scheme) -> ics.Entry:
    """An event as a calendar entry, linking to the council's site."""
    return ics.Entry(
        uid=ics.uid("event", event.id),
        summary=f"{event.title} ({scheme.name})",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        place=event.place,
        description=event.description,
        url=f"{scheme_url(council, scheme)}/events/{event.id}",
        cancelled=event.cancelled,
    )


def check_event(values: dict[str, Any], now: datetime, started_at: datetime | None = None) -> dict[str, Any]:
    """Every field of the event form checked at once. `started_at` is the start an event being changed
    already has: kept as it is, it may have passed, so an event under way can still be corrected."""
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    checked["title"] = one_line(values.get("title"))
    if not checked["title"]:
        errors["title"] = "Enter the event’s name"
    elif len(checked["title"]) > 120:
        errors["title"] = "The name must be 120 characters or fewer"
    checked["description"] = paragraphs(values.get("description"))
    if len(checked["description"]) > 3000:
        errors["description"] = "The description must be 3000 characters or fewer"
    checked["place"] = one_line(values.get("place"))
    if not checked["place"]:
        errors["place"] = "Enter where the event is"
    elif len(checked["place"]) > 300:
        errors["place"] = "The place must be 300 characters or fewer"
    day = parse_date(values.get("date"))
    if day is None:
        errors["date"] = f"Enter the date, like {example_date()}"
    elif day > today(now) + FURTHEST_START:
        errors["date"] = "The date must be within the next year"
    start, end = parse_time(values.get("start_time")), parse_time(values.get("end_time"))
    if start is None:
        errors["start_time"] = "Enter the start time, like 10:00 or 2pm"
    if end is None:
        errors["end_time"] = "Enter the end time, like 12:00 or 4pm"
    elif start is not None and start == end:
        errors["end_time"] = "The end time must be different from the start time"
    raw = (values.get("capacity") or "").strip()
    checked["capacity"] = number_up_to(raw, MAX_CAPACITY) if raw else None
    if raw and (checked["capacity"] is None or checked["capacity"] < 1):
        errors["capacity"] = f"Enter how many people can come, from 1 to {MAX_CAPACITY:,}, or leave it blank if there is no limit"
    if errors:
        raise Invalid(errors)
    checked["starts_at"], checked["ends_at"] = span(day, start, end)  # type: ignore[arg-type]
    if checked["starts_at"] != started_at and checked["starts_at"] <= now:
        if started_at is not None and started_at <= now:
            raise Invalid({"date": "The event has started. Keep the date and start time it has, or move it to a time still to come"})
        raise Invalid({"date": "The event must be in the future"})
    if checked["ends_at"] <= now:  # only when an event under way keeps its start
        raise Invalid({"end_time": "The event has started, so its end time must be later than now"})
    return checked


async def create_event(actor: User | None, council: Council, slug: str, values: dict[str, Any], now: datetime | None = None) -> Event:
    """An organiser announces an event on the scheme's page."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    checked = check_event(values, utc(now))
    if scheme.status == "closed":
        raise Conflict("This scheme has closed, so it cannot add events.")
    async with in_transaction():
        event = await Event.create(council=council, scheme=scheme, created_by=actor, **checked)
        await audit.record(actor, "event.created", event, council=council)
    return event


def form_values_of(event: Event) -> dict[str, str]:
    """The event as its form shows it, for changing it."""
    starts, ends = local(event.starts_at), local(event.ends_at)
    return {
        "title": event.title, "description": event.description, "place": event.place,
        "date": f"{starts:%Y-%m-%d}", "start_time": f"{starts:%H:%M}", "end_time": f"{ends:%H:%M}",
        "capacity": "" if event.capacity is None else str(event.capacity),
    }


def why_event_is_fixed(scheme: Scheme, event: Event, now: datetime) -> str:
    """Why organisers cannot change or cancel this event now, or '' when they can: not once it is
    cancelled or over, nor once the scheme has closed (closing cancels the events to come). An event
    under way can still be corrected, or called off."""
    if event.cancelled:
        return "This event is cancelled, so it cannot be changed."
    if event.ends_at <= now:
        return "This event is over, so it cannot be changed or cancelled."
    if scheme.status == "closed":
        return "This scheme has closed, so its events can no longer be changed or cancelled."
    return ""


async def event_for_change(actor: User | None, council: Council, slug: str, event_id: int, now: datetime | None = None) -> tuple[Scheme, Event]:
    """An event its organisers may still change (see `why_event_is_fixed`)."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    event = await _event(scheme, event_id)
    if fixed := why_event_is_fixed(scheme, event, utc(now)):
        raise Conflict(fixed)
    return scheme, event


async def update_event(actor: User | None, council: Council, slug: str, event_id: int, values: dict[str, Any], now: datetime | None = None) -> Event:
    """An organiser corrects an event; if its date, time or place changed, everyone coming is told."""
    scheme, event = await event_for_change(actor, council, slug, event_id, now)
    checked = check_event(values, utc(now), started_at=event.starts_at)
    async with in_transaction():
        # Locked so that a reply cannot take a place the new capacity no longer has.
        locked = await Event.select_for_update().get(id=event.id)
        replies = list(await EventReply.filter(event=locked).prefetch_related("user"))
        if checked["capacity"] is not None and checked["capacity"] < len(replies):
            raise Invalid({"capacity": f"{len(replies)} people have said they are coming. Enter {len(replies)} or more, or leave it blank if there is no limit"})
        was = when(locked.starts_at, locked.ends_at), locked.place
        moved = (locked.starts_at, locked.ends_at, locked.place) != (checked["starts_at"], checked["ends_at"], checked["place"])
        for name, value in checked.items():
            setattr(locked, name, value)
        await locked.save(update_fields=list(checked))
        await audit.record(actor, "event.changed", locked, council=council, reason="date, time or place changed" if moved else "")
        queued = []
        if moved:
            for r in replies:
                queued.append(await mail.queue(
                    r.user.email,
                    f"{locked.title} has changed",
                    f"{scheme.name} has changed an event you said you are coming to.\n\n"
                    f"Was: {was[0]}, {was[1]}\nNow: {when(locked.starts_at, locked.ends_at)}, {locked.place}\n\n"
                    f"If you can no longer come, please say so here so someone else can have your place:\n\n"
                    f"{scheme_url(council, scheme)}/events/{locked.id}\n",
                    council_id=council.id,
                ))
    await mail.deliver(queued)
    return locked


@dataclass
class EventPage:
    scheme: Scheme
    who: access.Viewer
    event: Event
    coming: int
    replied: bool
    names: list[str] = field(default_factory=list)  # for organisers
    fixed: str = ""  # for organisers: why they cannot change or cancel it now
    started: bool = False  # replies close, and can no longer be taken back, when it starts (see `reply` and `cancel_reply`)

    @property
    def places_left(self) -> int | None:
        return None if self.event.capacity is None else max(0, self.event.capacity - self.coming)

    @property
    def when(self) -> str:
        return when(self.event.starts_at, self.event.ends_at)


async def events_page(actor: User | None, council: Council, slug: str, now: datetime | None = None) -> tuple[Scheme, access.Viewer, list[Event]]:
    """A scheme's coming events, for anyone who can see the scheme."""
    scheme, who = await access.find(actor, council, slug)
    events = list(await Event.filter(scheme=scheme, ends_at__gt=utc(now)).limit(100))
    return scheme, who, events


async def _event(scheme: Scheme, event_id: int) -> Event:
    event = await Event.get_or_none(id=event_id, scheme=scheme)
    if event is None:
        raise NotFound()
    return event


async def event_page(actor: User | None, council: Council, slug: str, event_id: int, now: datetime | None = None) -> EventPage:
    """One event, how many are coming, and whether this person is."""
    scheme, who = await access.find(actor, council, slug)
    event = await _event(scheme, event_id)
    replies = list(await EventReply.filter(event=event).prefetch_related("user"))
    replied = actor is not None and any(r.user_id == actor.id for r in replies)  # type: ignore[attr-defined]
    names = [str(r.user) for r in replies] if who.is_organiser else []
    now = utc(now)
    fixed = why_event_is_fixed(scheme, event, now) if who.is_organiser else ""
    return EventPage(scheme, who, event, len(replies), replied, names, fixed, started=event.starts_at <= now)


async def reply(actor: User | None, council: Council, slug: str, event_id: int, now: datetime | None = None) -> EventReply:
    """Someone signed in says they are coming, while there is room."""
    actor = require_poster(actor)
    scheme, _ = await access.find(actor, council, slug)
    event = await _event(scheme, event_id)
    now = utc(now)
    async with in_transaction():
        # Locked so that replies to the last places wait for each other.
        locked = await Event.select_for_update().get(id=event.id)
        if locked.cancelled:
            raise Conflict("This event is cancelled.")
        if locked.starts_at <= now:
            raise Conflict("This event has already started.")
        if await EventReply.filter(event=locked, user=actor).exists():
            raise Conflict("You have already said you are coming.")
        if locked.capacity is not None and await EventReply.filter(event=locked).count() >= locked.capacity:
            raise Conflict("This event is full.")
        row = await EventReply.create(event=locked, user=actor)
        await audit.record(actor, "event.replied", locked, council=council)
    return row


async def cancel_reply(actor: User | None, council: Council, slug: str, event_id: int, now: datetime | None = None) -> None:
    """Someone is no longer coming, until the event starts; their place is free again. Once it has
    started, the replies are the organisers' record of who said they were coming, and stay as they are."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    scheme, _ = await access.find(actor, council, slug)
    event = await _event(scheme, event_id)
    now = utc(now)
    async with in_transaction():
        # Locked as `reply` locks it, so the start is read under the same lock as the places.
        locked = await Event.select_for_update().get(id=event.id)
        if locked.starts_at <= now:
            raise Conflict("This event has started, so you can no longer take back your reply.")
        if not await EventReply.filter(event=locked, user=actor).delete():
            raise Conflict("You had not said you were coming.")
        await audit.record(actor, "event.reply_taken_back", locked, council=council)


def _check_cancellable(scheme: Scheme, event: Event, now: datetime) -> None:
    if event.cancelled:
        raise Conflict("This event is already cancelled.")
    if fixed := why_event_is_fixed(scheme, event, now):
        raise Conflict(fixed)


async def cancel_event(actor: User | None, council: Council, slug: str, event_id: int, reason: str, now: datetime | None = None) -> Event:
    """An organiser cancels an event that is not over, saying why; everyone coming is told."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    event = await _event(scheme, event_id)
    now = utc(now)
    _check_cancellable(scheme, event, now)
    reason = paragraphs(reason)
    if not reason:
        raise Invalid({"reason": "Say why, so the people coming know"})
    if len(reason) > 500:
        raise Invalid({"reason": "The reason must be 500 characters or fewer"})
    async with in_transaction():
        # Locked, so two organisers cancelling at once tell the people coming once.
        locked = await Event.select_for_update().get(id=event.id)
        _check_cancellable(scheme, locked, now)
        queued = await _cancel(council, scheme, locked, reason)
        await audit.record(actor, "event.cancelled", locked, council=council)
    await mail.deliver(queued)
    return locked


async def _cancel(council: Council, scheme: Scheme, event: Event, reason: str) -> list[mail.OutgoingEmail]:
    event.cancelled, event.cancel_reason = True, reason
    await event.save(update_fields=["cancelled", "cancel_reason"])
    replies = await EventReply.filter(event=event).prefetch_related("user")
    return [
        await mail.queue(
            r.user.email,
            f"{event.title} is cancelled",
            f"{scheme.name} has cancelled {event.title} ({when(event.starts_at, event.ends_at)}). They said:\n\n{reason}\n",
            council_id=council.id,
        )
        for r in replies
    ]


async def upcoming(scheme: Scheme, now: datetime) -> list[Event]:
    """The scheme's events still to start that are not cancelled."""
    return list(await Event.filter(scheme=scheme, starts_at__gt=now, cancelled=False))


async def end_for_closing(actor: User | None, council: Council, scheme: Scheme, now: datetime) -> list[mail.OutgoingEmail]:
    """The scheme closes: its events still to come are cancelled and everyone coming is told. Call inside the closing transaction."""
    queued: list[mail.OutgoingEmail] = []
    for event in await upcoming(scheme, now):
        queued += await _cancel(council, scheme, event, f"{scheme.name} has closed, so this event will not go ahead.")
        await audit.record(actor, "event.cancelled", event, council=council, reason="the scheme closed")
    return queued
