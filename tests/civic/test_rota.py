"""The rota: weekly shifts across British Summer Time, single dates moved or cancelled, checks, capacity, reminders, lone working."""

from __future__ import annotations

import asyncio
import socket
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from civic import mail, worker
from civic.audit import AuditLog
from civic.councils import site_url
from civic.db import in_transaction, is_postgres
from civic.errors import Conflict, Forbidden, Invalid
from civic.schemes import calendars, lone_working, rota
from civic.schemes.models import Scheme
from civic.schemes.running import ShiftOccurrence, ShiftReminder, SignUp
from tests.factories import create_scheme_ok, create_shift_ok, create_user_ok, create_volunteer_ok, emails, mail_to, organiser_of, until_waiting_on_a_lock, use_settings
from tests.peers import need

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


SHIFT_VALUES = {"title": "Pantry", "place": "The hall", "starts_on": "2031-05-06", "start_time": "10:00", "end_time": "12:00", "repeat": "once"}


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


async def _scheme(council, **overrides):
    return await create_scheme_ok(council, **overrides)


# Weekly shifts and single dates


def test_dates_are_read_as_people_in_the_uk_type_them_and_examples_are_dates_to_come():
    from civic.schemes.when import example_date, parse_date

    assert parse_date("2027-03-14") == parse_date("14/3/2027") == parse_date("14/03/27") == parse_date("14.3.27") == date(2027, 3, 14)
    assert parse_date("31/2/27") is None and parse_date("14/3/207") is None
    # A hint for a date to come is a date to come: "like 14/03/2025" was in the past.
    assert example_date(datetime(2026, 12, 2, tzinfo=timezone.utc)) == "14/01/2027"
    assert example_date(datetime(2026, 12, 2, tzinfo=timezone.utc), months_ahead=3) == "14/03/2027"
    assert example_date(datetime(2026, 5, 31, 23, 30, tzinfo=timezone.utc)) == "14/07/2026"  # 1 June in London


async def test_a_weekly_shift_keeps_its_london_time_across_the_change_to_summer_time(council):
    scheme = await _scheme(council)
    now = london(2031, 3, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 3, 18), now=now, repeat="weekly", start_time="10:00", end_time="12:00")
    slots = await rota.expand([shift], now, london(2031, 4, 9))
    assert [s.on for s in slots] == [date(2031, 3, 18), date(2031, 3, 25), date(2031, 4, 1), date(2031, 4, 8)]
    # 10am GMT is 10:00 UTC; after the clocks go forward on 30 March, 10am BST is 09:00 UTC.
    assert [s.starts_at.astimezone(UTC).hour for s in slots] == [10, 10, 9, 9]
    assert {s.starts_at.astimezone(LONDON).hour for s in slots} == {10}
    assert slots[2].when == "Tuesday 1 April 2031, 10am to midday"


async def test_a_night_shift_ends_the_next_morning(council):
    scheme = await _scheme(council)
    shift = await create_shift_ok(scheme, date(2031, 6, 6), now=london(2031, 6, 1), start_time="22:00", end_time="03:00")
    [slot] = await rota.expand([shift], london(2031, 6, 1), london(2031, 6, 10))
    assert slot.ends_at.astimezone(LONDON) == london(2031, 6, 7, 3)


async def test_a_night_shift_says_it_ends_the_next_day_and_one_ending_at_midnight_need_not(council):
    scheme = await _scheme(council)
    now = london(2031, 6, 1)
    night = await create_shift_ok(scheme, date(2031, 6, 6), now=now, start_time="22:00", end_time="03:00")
    evening = await create_shift_ok(scheme, date(2031, 6, 6), now=now, start_time="20:00", end_time="00:00")
    slots = {s.shift.id: s for s in await rota.expand([night, evening], now, london(2031, 6, 10))}
    assert slots[night.id].when == "Friday 6 June 2031, 10pm to 3am (next day)"
    assert slots[night.id].times == "10pm to 3am (next day)"
    assert slots[evening.id].when == "Friday 6 June 2031, 8pm to midnight"


async def test_moving_or_cancelling_one_date_leaves_the_rest_of_the_series_alone(council, mailbox):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=now)

    moved = await rota.move(organiser, council, scheme.slug, shift.id, date(2031, 5, 13),
                            {"date": "2031-05-15", "start_time": "14:00", "end_time": "16:00", "place": "The library"}, now=now)
    assert moved.starts_at.astimezone(LONDON) == london(2031, 5, 15, 14) and moved.place == "The library"
    await rota.cancel(organiser, council, scheme.slug, shift.id, date(2031, 5, 20), "Bank holiday")

    slots = await rota.expand([shift], now, london(2031, 5, 31))
    assert [(s.on, s.starts_at.astimezone(LONDON), s.cancelled) for s in slots] == [
        (date(2031, 5, 6), london(2031, 5, 6, 10), False),
        (date(2031, 5, 13), london(2031, 5, 15, 14), False),  # moved, still the 13 May date of the series
        (date(2031, 5, 20), london(2031, 5, 20, 10), True),
        (date(2031, 5, 27), london(2031, 5, 27, 10), False),
    ]
    assert slots[1].has(volunteer.user)  # sign-ups move with the date
    told = await mailbox.wait_for(volunteer.user.email)
    assert "Now: Thursday 15 May 2031, 2pm to 4pm, The library" in mailbox.body(told[0])


async def test_a_date_that_is_not_in_the_series_cannot_be_signed_up_for(council):
    scheme = await _scheme(council)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly")
    from civic.errors import NotFound

    with pytest.raises(NotFound):
        await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 7), now=now)


async def test_a_date_beyond_the_weeks_the_rota_shows_cannot_be_signed_up_for_yet(council):
    scheme = await _scheme(council)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 2), now=now, repeat="weekly")  # Fridays
    shown = [s.on for s in (await rota.rota_page(volunteer.user, council, scheme.slug, now=now)).slots]
    assert shown[-1] == date(2031, 5, 23)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 23), now=now)
    for later in (date(2031, 5, 30), date(9999, 12, 24)):
        with pytest.raises(Conflict, match="Sign-up for this date opens on"):
            await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, later, now=now)
        page = await rota.slot_page(volunteer.user, council, scheme.slug, shift.id, later, now=now)
        assert page.refusal.startswith("Sign-up for this date opens on")
    assert (await rota.slot_page(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 30), now=now)).refusal == (
        "Sign-up for this date opens on Friday 2 May 2031, 4 weeks before, when it comes onto the rota."
    )
    assert await ShiftOccurrence.filter(shift=shift).values_list("on", flat=True) == [date(2031, 5, 23)]
    assert [s.on for s in await rota.my_slots(volunteer.user, council, now=now)] == [date(2031, 5, 23)]


async def test_the_last_day_of_the_calendar_is_no_date_of_a_shift(council):
    from civic.errors import NotFound

    scheme = await _scheme(council)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    # 31 December 9999 is a Friday: a night shift on it would end on a day Python's calendar does not have.
    shift = await create_shift_ok(scheme, date(2031, 5, 2), now=now, repeat="weekly", start_time="22:00", end_time="03:00")
    with pytest.raises(NotFound):
        await rota.slot_page(volunteer.user, council, scheme.slug, shift.id, date(9999, 12, 31), now=now)
    with pytest.raises(NotFound):
        await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(9999, 12, 31), now=now)


async def test_a_date_can_be_moved_no_further_ahead_than_a_shift_can_start(council):
    scheme = await _scheme(council)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now)
    with pytest.raises(Invalid) as refused:
        await rota.move(await organiser_of(scheme), council, scheme.slug, shift.id, date(2031, 5, 6),
                        {"date": "9999-12-31", "start_time": "22:00", "end_time": "03:00"}, now=now)
    assert refused.value.errors == {"date": "The new date must be within the next year"}


@pytest.mark.parametrize("capacity", ["0", "201", "²", "9" * 30, "9" * 5000, "1.5", "-1", ""])
async def test_a_capacity_that_is_not_a_number_from_1_to_200_gets_the_capacity_message(council, capacity):
    with pytest.raises(Invalid) as refused:
        rota.check_shift({**SHIFT_VALUES, "capacity": capacity}, london(2031, 5, 1))
    assert refused.value.errors == {"capacity": "Enter how many volunteers the shift needs, from 1 to 200"}


async def test_stopping_a_weekly_shift_cancels_later_dates_and_tells_those_on_them(council, mailbox):
    scheme = await _scheme(council)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 20), now=now)
    stopped = await rota.stop(await organiser_of(scheme), council, scheme.slug, shift.id, now=london(2031, 5, 10))
    assert [s.on for s in await rota.expand([stopped], now, london(2031, 6, 30))] == [date(2031, 5, 6)]
    assert (await ShiftOccurrence.get(shift=shift, on=date(2031, 5, 20))).cancelled
    assert "is cancelled" in (await mailbox.wait_for(volunteer.user.email))[0]["Subject"]


# Changing a shift


CHANGE = {"title": "Pantry", "place": "The hall", "starts_on": "2031-05-06", "start_time": "10:00", "end_time": "12:00", "capacity": "2"}


async def test_changing_a_shift_moves_it_and_emails_what_changed_to_those_on_it_in_the_same_transaction(council, mailbox):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    on_it, elsewhere = await create_volunteer_ok(scheme), await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, title="Pantry", place="The hall", capacity=2)
    other = await create_shift_ok(scheme, date(2031, 5, 7), now=now, title="Lunch club")
    await rota.sign_up(on_it.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    await rota.sign_up(elsewhere.user, council, scheme.slug, other.id, date(2031, 5, 7), now=now)
    await ShiftReminder.create(occurrence=await ShiftOccurrence.get(shift=shift), volunteer=on_it.user)

    changed = await rota.update_shift(organiser, council, scheme.slug, shift.id,
                                      {**CHANGE, "place": "St Anne's", "starts_on": "2031-05-08", "start_time": "14:00", "end_time": "16:30", "capacity": "4"}, now=now)

    assert (changed.place, changed.starts_on, changed.start_minute, changed.capacity) == ("St Anne's", date(2031, 5, 8), 14 * 60, 4)
    [slot] = await rota.expand([changed], now, london(2031, 6, 1))
    assert (slot.on, slot.starts_at.astimezone(LONDON), slot.ends_at.astimezone(LONDON), slot.place) == (
        date(2031, 5, 8), london(2031, 5, 8, 14), london(2031, 5, 8, 16, 30), "St Anne's")
    assert slot.has(on_it.user)  # the sign-up moved with the date
    assert not await ShiftReminder.filter(occurrence_id=slot.occurrence.id).exists()  # reminded again, of the new time
    queued = await emails(on_it.user.email, subject="Pantry has changed")
    assert len(queued) == 1
    assert "Was: Pantry, Tuesday 6 May 2031, 10am to midday, The hall\nNow: Pantry, Thursday 8 May 2031, 2pm to 4:30pm, St Anne's" in queued[0].body
    assert f"/schemes/{scheme.slug}/shifts/{shift.id}/2031-05-08" in queued[0].body
    assert not await mail_to(elsewhere.user.email).exists()
    entry = await AuditLog.get(action="shift.changed", target_id=str(shift.id))
    assert entry.reason == "place, date, start time, end time, volunteers needed"
    assert "Now: Pantry, Thursday 8 May 2031" in mailbox.body((await mailbox.wait_for(on_it.user.email))[-1])


async def test_a_weekly_shift_not_yet_begun_moves_to_another_day_with_everyone_on_it(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly", repeat_until="2031-05-20", title="Pantry", place="The hall")
    for on in (date(2031, 5, 6), date(2031, 5, 13), date(2031, 5, 20)):
        await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, on, now=now)

    changed = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "2031-05-08"}, now=now)

    assert changed.repeat_until == date(2031, 5, 22)  # still three dates
    slots = await rota.expand([changed], now, london(2031, 6, 30))
    assert [(s.on, s.starts_at.astimezone(LONDON), s.has(volunteer.user)) for s in slots] == [
        (date(2031, 5, 8), london(2031, 5, 8, 10), True), (date(2031, 5, 15), london(2031, 5, 15, 10), True), (date(2031, 5, 22), london(2031, 5, 22, 10), True),
    ]
    [told] = await emails(volunteer.user.email, subject="Pantry has changed")
    assert told.body.count("Was: ") == 3 and "Now: Pantry, Thursday 22 May 2031, 10am to midday, The hall" in told.body


async def test_a_change_is_checked_as_a_new_shift_is_and_changes_nothing_when_refused(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now)

    with pytest.raises(Invalid) as refused:
        await rota.update_shift(organiser, council, scheme.slug, shift.id,
                                {"title": "", "place": "", "starts_on": "2031-04-30", "start_time": "noonish", "end_time": "", "capacity": "0"}, now=now)
    assert set(refused.value.errors) == {"title", "place", "starts_on", "start_time", "end_time", "capacity"}
    assert refused.value.errors["starts_on"] == "The date must be today or in the future"
    with pytest.raises(Invalid) as too_soon:
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "2031-05-01", "start_time": "08:00"}, now=now)
    assert too_soon.value.errors == {"start_time": "The shift must start later than now"}
    assert (await rota.Shift.get(id=shift.id)).starts_on == date(2031, 5, 6)
    assert not await AuditLog.filter(action="shift.changed", target_id=str(shift.id)).exists()


async def test_a_shift_cannot_need_fewer_volunteers_than_have_signed_up(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly", capacity=5, title="Pantry")
    for person in [await create_volunteer_ok(scheme) for _ in range(3)]:
        await rota.sign_up(person.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=now)

    with pytest.raises(Invalid) as refused:
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "start_time": "11:00", "capacity": "2"}, now=now)
    assert refused.value.errors == {"capacity": "3 volunteers have signed up for Tuesday 13 May 2031. Enter 3 or more"}
    unchanged = await rota.Shift.get(id=shift.id)
    assert (unchanged.capacity, unchanged.start_minute) == (5, 10 * 60)
    assert not await emails(subject="Pantry has changed", council=council)  # queued in the transaction, so gone with it
    assert (await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "capacity": "3"}, now=now)).capacity == 3


async def test_a_weekly_shift_under_way_changes_its_dates_to_come_and_keeps_its_day(council, mailbox):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    early, later = await create_volunteer_ok(scheme), await create_volunteer_ok(scheme)
    made = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=made, repeat="weekly", title="Pantry", place="The hall")
    await rota.sign_up(early.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=made)
    for on in (date(2031, 5, 13), date(2031, 5, 20)):
        await rota.sign_up(later.user, council, scheme.slug, shift.id, on, now=made)
    await rota.move(organiser, council, scheme.slug, shift.id, date(2031, 5, 20), {"date": "2031-05-21", "start_time": "09:00", "end_time": "11:00"}, now=made)
    now = london(2031, 5, 6, 11)  # the first date is under way

    with pytest.raises(Invalid) as refused:
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "2031-05-07"}, now=now)
    assert refused.value.errors["starts_on"].startswith("This weekly shift has begun, so it keeps its day")
    changed = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "", "title": "Food bank", "start_time": "13:00", "end_time": "15:00"}, now=now)

    slots = await rota.expand([changed], london(2031, 5, 6), london(2031, 5, 28))
    assert [(s.on, s.shift.title, s.starts_at.astimezone(LONDON)) for s in slots] == [
        (date(2031, 5, 6), "Food bank", london(2031, 5, 6, 10)),  # under way: it keeps the time it started at
        (date(2031, 5, 13), "Food bank", london(2031, 5, 13, 13)),
        (date(2031, 5, 20), "Food bank", london(2031, 5, 21, 9)),  # moved on its own: it keeps its move
        (date(2031, 5, 27), "Food bank", london(2031, 5, 27, 13)),
    ]
    assert not await emails(early.user.email, subject="Pantry has changed")
    [told] = await emails(later.user.email, subject="Pantry has changed")  # one e-mail, both dates, named as they knew it
    assert "Was: Pantry, Tuesday 13 May 2031, 10am to midday, The hall\nNow: Food bank, Tuesday 13 May 2031, 1pm to 3pm, The hall" in told.body
    assert "Was: Pantry, Wednesday 21 May 2031, 9am to 11am, The hall\nNow: Food bank, Wednesday 21 May 2031, 9am to 11am, The hall" in told.body


async def test_a_shift_that_has_started_or_ended_cannot_be_changed_nor_one_of_a_closed_scheme(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    made = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=made)
    weekly = await create_shift_ok(scheme, date(2031, 5, 6), now=made, repeat="weekly", repeat_until="2031-05-13")

    for now, says in ((london(2031, 5, 6, 10, 30), "This shift has started"), (london(2031, 5, 6, 13), "This shift is over")):
        with pytest.raises(Conflict, match=says):
            await rota.update_shift(organiser, council, scheme.slug, shift.id, CHANGE, now=now)
    # Its last date under way, it has none to come: it can be changed only to give it one (see the restart test).
    assert (await rota.shift_to_change(organiser, council, scheme.slug, weekly.id, now=london(2031, 5, 13, 10, 30))).restarting
    await rota.cancel(organiser, council, scheme.slug, shift.id, date(2031, 5, 6), "Rain")
    with pytest.raises(Conflict, match="This shift is cancelled"):
        await rota.shift_to_change(organiser, council, scheme.slug, shift.id, now=made)
    await rota.shift_to_change(organiser, council, scheme.slug, weekly.id, now=made)
    await Scheme.filter(id=scheme.id).update(status="closed")
    with pytest.raises(Conflict, match="This scheme has closed"):
        await rota.shift_to_change(organiser, council, scheme.slug, weekly.id, now=made)


async def test_a_new_time_already_past_on_a_date_someone_is_on_is_refused(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    made = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=made, repeat="weekly", start_time="18:00", end_time="20:00")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=made)
    now = london(2031, 5, 13, 12)

    with pytest.raises(Invalid) as refused:
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "", "start_time": "09:00", "end_time": "11:00"}, now=now)
    assert refused.value.errors == {"start_time": "Volunteers have signed up for Tuesday 13 May 2031, and at this time it would already have started. Choose a later time"}
    assert (await ShiftOccurrence.get(shift=shift, on=date(2031, 5, 13))).starts_at == london(2031, 5, 13, 18)


async def test_a_sign_up_counts_against_the_number_the_shift_needs_now(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, capacity=2)
    first, second = await create_volunteer_ok(scheme), await create_volunteer_ok(scheme)
    await rota.sign_up(first.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "capacity": "1"}, now=now)
    with pytest.raises(Conflict, match="full"):
        await rota.sign_up(second.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)


async def test_an_earlier_last_date_cancels_the_dates_it_drops_and_tells_their_volunteers_once(council, mailbox):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    dropped, kept = await create_volunteer_ok(scheme), await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly", title="Pantry", place="The hall")
    for on in (date(2031, 5, 13), date(2031, 5, 20), date(2031, 5, 27)):
        await rota.sign_up(dropped.user, council, scheme.slug, shift.id, on, now=now)
    await rota.sign_up(kept.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=now)

    changed = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "repeat": "weekly", "repeat_until": "2031-05-13"}, now=now)

    assert changed.repeat_until == date(2031, 5, 13)
    assert [s.on for s in await rota.expand([changed], now, london(2031, 6, 30))] == [date(2031, 5, 6), date(2031, 5, 13)]
    # Cancelled, so no reminder and no visit alert comes for a date no longer in the shift.
    assert [row.cancelled for row in await ShiftOccurrence.filter(shift=shift).order_by("on")] == [False, True, True]
    [told] = await mail_to(dropped.user.email)
    assert told.subject == "Pantry has changed"
    assert "Cancelled: Pantry, Tuesday 20 May 2031, 10am to midday, The hall\nThe shift’s last date is now Tuesday 13 May 2031." in told.body
    assert "Cancelled: Pantry, Tuesday 27 May 2031" in told.body and "13 May 2031, 10am" not in told.body
    assert not await mail_to(kept.user.email).exists()  # their date is as it was
    assert (await AuditLog.get(action="shift.changed", target_id=str(shift.id))).reason == "last date; 2 dates with volunteers cancelled"
    assert "Cancelled: Pantry, Tuesday 20 May 2031" in mailbox.body((await mailbox.wait_for(dropped.user.email))[-1])


async def test_a_later_last_date_opens_the_dates_a_stop_cancelled_and_keeps_those_cancelled_on_purpose(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    made = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=made, repeat="weekly", title="Pantry", place="The hall")
    for on in (date(2031, 5, 13), date(2031, 5, 20)):
        await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, on, now=made)
    await rota.cancel(organiser, council, scheme.slug, shift.id, date(2031, 5, 27), "Bank holiday")
    now = london(2031, 5, 6, 8)  # its first date is still to come
    await rota.stop(organiser, council, scheme.slug, shift.id, now=now)

    again = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "repeat": "weekly", "repeat_until": "2031-06-10"}, now=now)

    slots = await rota.expand([again], now, london(2031, 6, 30))
    assert [(s.on, s.cancelled, s.cancel_reason, s.taken) for s in slots] == [
        (date(2031, 5, 6), False, "", 0),
        (date(2031, 5, 13), False, "", 0),  # the stop cancelled it and told its volunteer: open again, and they are not on it unasked
        (date(2031, 5, 20), False, "", 0),
        (date(2031, 5, 27), True, "Bank holiday", 0),  # cancelled on purpose: it stays cancelled
        (date(2031, 6, 3), False, "", 0),
        (date(2031, 6, 10), False, "", 0),
    ]
    # The volunteer whose sign-ups the stop ended is told, once, that those dates are back, and how to
    # sign up for them again; nothing else about the change concerns them.
    assert not await emails(volunteer.user.email, subject="Pantry has changed")
    [told] = await emails(volunteer.user.email, subject="2 dates of Pantry are back on the rota")
    url = f"{site_url(council)}/schemes/{scheme.slug}/shifts/{shift.id}"
    assert told.body == (
        f"The organisers of {scheme.name} have put back on the rota dates of Pantry you were signed up for. You were told they were cancelled:\n\n"
        f"Pantry, Tuesday 13 May 2031, 10am to midday, The hall\nTo sign up for it: {url}/2031-05-13\n\n"
        f"Pantry, Tuesday 20 May 2031, 10am to midday, The hall\nTo sign up for it: {url}/2031-05-20\n\n"
        "You are not on them now. If you can still come, sign up again.\n"
    )
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=now)
    assert (await rota.find_slot(scheme, shift.id, date(2031, 5, 13))).has(volunteer.user)


async def test_a_later_last_date_opens_again_the_dates_an_earlier_one_dropped(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 20), now=now)
    await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "repeat": "weekly", "repeat_until": "2031-05-13"}, now=now)
    assert (await ShiftOccurrence.get(shift=shift, on=date(2031, 5, 20))).cancelled

    again = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "repeat": "weekly", "repeat_until": "2031-05-27"}, now=now)
    assert [(s.on, s.cancelled, s.taken) for s in await rota.expand([again], now, london(2031, 6, 30))] == [
        (date(2031, 5, 6), False, 0), (date(2031, 5, 13), False, 0), (date(2031, 5, 20), False, 0), (date(2031, 5, 27), False, 0),
    ]
    [told] = await emails(volunteer.user.email, subject="Pantry on Tuesday 20 May 2031 is back on the rota")
    assert "You were told it was cancelled:\n\nPantry, Tuesday 20 May 2031, 10am to midday, The hall\nTo sign up for it: " in told.body
    assert told.body.endswith(f"/shifts/{shift.id}/2031-05-20\n\nYou are not on it now. If you can still come, sign up again.\n")


async def test_a_stopped_shift_with_no_date_to_come_is_restarted_by_a_later_last_date(council, mailbox):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    made = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=made, repeat="weekly", title="Pantry", place="The hall")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=made)
    await rota.stop(organiser, council, scheme.slug, shift.id, now=london(2031, 5, 8))
    with pytest.raises(Conflict, match="This shift has already stopped. To restart it, change the shift and give it a later last date."):
        await rota.stop(organiser, council, scheme.slug, shift.id, now=london(2031, 5, 9))
    now = london(2031, 5, 9, 9)  # nothing of it is still to come

    change = await rota.shift_to_change(organiser, council, scheme.slug, shift.id, now=now)
    assert (change.fixed, change.restarting, change.keeps_its_day) == ("", True, True)
    for last in ("2031-05-08", "2031-05-09"):  # as it is, or no later than today: still nothing to come
        with pytest.raises(Invalid) as refused:
            await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "repeat": "weekly", "repeat_until": last}, now=now)
        assert refused.value.errors == {"repeat_until": rota.RESTART}
    assert (await rota.Shift.get(id=shift.id)).repeat_until == date(2031, 5, 8)

    again = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "repeat": "weekly", "repeat_until": "2031-05-27"}, now=now)

    assert again.repeat_until == date(2031, 5, 27)
    assert [(s.on, s.cancelled, s.taken) for s in await rota.expand([again], now, london(2031, 6, 30))] == [
        (date(2031, 5, 13), False, 0), (date(2031, 5, 20), False, 0), (date(2031, 5, 27), False, 0),
    ]
    assert await emails(volunteer.user.email, subject="Pantry on Tuesday 13 May 2031 is back on the rota")
    assert not (await rota.shift_to_change(organiser, council, scheme.slug, shift.id, now=now)).restarting
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 20), now=now)
    # Stopped again and restarted with no last date, it keeps going.
    await rota.stop(organiser, council, scheme.slug, shift.id, now=london(2031, 5, 21))
    endless = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "repeat": "weekly", "repeat_until": ""}, now=london(2031, 5, 22))
    assert endless.repeat_until is None
    assert [s.on for s in await rota.expand([endless], london(2031, 5, 22), london(2031, 6, 12))] == [date(2031, 5, 27), date(2031, 6, 3), date(2031, 6, 10)]


async def test_a_weekly_shift_not_yet_begun_can_happen_once_and_a_one_off_can_repeat(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    weekly = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly", repeat_until="2031-05-27", title="Pantry", place="The hall")
    await rota.sign_up(volunteer.user, council, scheme.slug, weekly.id, date(2031, 5, 20), now=now)

    once = await rota.update_shift(organiser, council, scheme.slug, weekly.id, {**CHANGE, "repeat": "once", "repeat_until": "2031-05-27"}, now=now)
    assert (once.repeat, once.repeat_until) == ("once", None)
    assert [s.on for s in await rota.expand([once], now, london(2031, 6, 30))] == [date(2031, 5, 6)]
    [told] = await mail_to(volunteer.user.email)
    assert "Cancelled: Pantry, Tuesday 20 May 2031, 10am to midday, The hall\nThe shift now happens once, on Tuesday 6 May 2031." in told.body

    again = await rota.update_shift(organiser, council, scheme.slug, weekly.id, {**CHANGE, "repeat": "weekly", "repeat_until": "2031-05-20"}, now=now)
    # 20 May is back, open to sign up for: its volunteer was told it was cancelled, so is no longer on it.
    assert [(s.on, s.cancelled, s.taken) for s in await rota.expand([again], now, london(2031, 6, 30))] == [
        (date(2031, 5, 6), False, 0), (date(2031, 5, 13), False, 0), (date(2031, 5, 20), False, 0),
    ]
    assert (await AuditLog.filter(action="shift.changed", target_id=str(weekly.id)).order_by("id").values_list("reason", flat=True)) == [
        "how often, last date; 1 date with volunteers cancelled", "how often, last date; 1 cancelled date open again",
    ]


async def test_the_check_a_shift_needs_cannot_be_raised_above_what_someone_on_a_date_to_come_has(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    basic = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Bea Basic"), check="basic", certified=date(2031, 1, 1))
    enhanced = await create_volunteer_ok(scheme, check="enhanced", certified=date(2031, 1, 1))
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly", title="Pantry", place="The hall")
    for on in (date(2031, 5, 20), date(2031, 5, 13)):
        await rota.sign_up(basic.user, council, scheme.slug, shift.id, on, now=now)
    await rota.sign_up(enhanced.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=now)

    with pytest.raises(Invalid) as refused:
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "needs_dbs": "enhanced"}, now=now)
    # Every date they are on, so the organiser knows which to take them off.
    assert refused.value.errors == {"needs_dbs": (
        "The shift would then need an enhanced DBS check or higher, current on the day. Bea Basic has a basic check and is signed up for "
        "Tuesday 13 May 2031 and Tuesday 20 May 2031. Record their certificates first, or take them off those dates: on each date’s page, "
        "choose “Take a volunteer off this date”"
    )}
    await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 20), basic.user.id, now=now)
    with pytest.raises(Invalid, match="is signed up for Tuesday 13 May 2031. Record"):
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "needs_dbs": "enhanced"}, now=now)
    assert (await rota.Shift.get(id=shift.id)).needs_dbs == "none"
    # As high as everyone on it has is allowed, and needs no e-mail: they all have it.
    assert (await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "needs_dbs": "basic"}, now=now)).needs_dbs == "basic"
    assert (await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "needs_dbs": "none"}, now=now)).needs_dbs == "none"
    assert not await emails(subject="Pantry has changed", council=council)
    assert (await AuditLog.filter(action="shift.changed", target_id=str(shift.id)).values_list("reason", flat=True)) == ["DBS check", "DBS check"]


async def test_a_change_form_that_leaves_out_a_setting_keeps_it_as_the_shift_has_it(council):
    scheme = await _scheme(council)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly", repeat_until="2031-05-20", needs_dbs="enhanced", home_visit="yes", place="The hall")
    changed = await rota.update_shift(await organiser_of(scheme), council, scheme.slug, shift.id, {**CHANGE, "title": "Visits"}, now=now)
    assert (changed.repeat, changed.repeat_until, changed.needs_dbs, changed.home_visit, changed.public) == ("weekly", date(2031, 5, 20), "enhanced", True, False)
    assert (await AuditLog.get(action="shift.changed", target_id=str(shift.id))).reason == "name"


async def test_a_shift_that_becomes_a_visit_tells_its_volunteers_and_leaves_the_public_calendar(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, title="Pantry", place="The hall", public="yes")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    assert (await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "public": "no"}, now=now)).public is False
    assert (await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "public": "yes"}, now=now)).public is True
    assert not await mail_to(volunteer.user.email).exists()  # the calendar is nothing to them

    visit = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "home_visit": "yes", "public": "yes"}, now=now)

    assert (visit.home_visit, visit.public) == (True, False)  # visits are never on the public calendar
    [told] = await mail_to(volunteer.user.email)
    assert told.body.startswith(f"The organisers of {scheme.name} have changed a shift you are on:\n\n{rota.NOW_A_VISIT}\n\nPantry, Tuesday 6 May 2031, 10am to midday, The hall\n")
    assert (await AuditLog.filter(action="shift.changed", target_id=str(shift.id)).order_by("-id").first()).reason == "visit, public calendar"
    await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "home_visit": "no"}, now=now)
    assert rota.NO_LONGER_A_VISIT in (await mail_to(volunteer.user.email).order_by("-id").first()).body


async def test_a_weekly_shift_that_has_begun_keeps_repeating_stays_a_visit_or_not_and_keeps_its_dates_begun(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    made = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=made, repeat="weekly", title="Pantry")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=made)
    now = london(2031, 5, 13, 11)  # its second date is under way

    with pytest.raises(Invalid) as refused:
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "", "repeat": "once", "home_visit": "yes"}, now=now)
    assert refused.value.errors == {
        "repeat": "This weekly shift has begun, so it keeps repeating. To end it, give it a last date, or stop it",
        "home_visit": "This weekly shift has begun, so whether it is a visit stays as it is. To change that, stop it and add a new shift",
    }
    with pytest.raises(Invalid) as too_early:
        await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "", "repeat_until": "2031-05-06"}, now=now)
    assert too_early.value.errors == {"repeat_until": "The shift on Tuesday 13 May 2031 has already begun, so the last date must be that day or later"}
    assert (await rota.Shift.get(id=shift.id)).repeat_until is None
    ended = await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "starts_on": "", "repeat_until": "2031-05-13"}, now=now)
    assert [s.on for s in await rota.expand([ended], made, london(2031, 6, 30))] == [date(2031, 5, 6), date(2031, 5, 13)]
    assert not (await ShiftOccurrence.get(shift=shift, on=date(2031, 5, 13))).cancelled


async def test_the_shift_form_reports_every_problem_at_once(council):
    scheme = await _scheme(council)
    with pytest.raises(Invalid) as error:
        await rota.create_shift(await organiser_of(scheme), council, scheme.slug, {"start_time": "25:00", "capacity": "0", "repeat": "daily"})
    assert set(error.value.errors) == {"title", "place", "starts_on", "start_time", "end_time", "repeat", "capacity"}


# Checks


async def test_without_a_current_enhanced_check_a_volunteer_cannot_take_a_shift_that_needs_one(council):
    scheme = await _scheme(council)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, needs_dbs="enhanced", capacity=10)

    async def sign_up(membership):
        return await rota.sign_up(membership.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)

    missing = await create_volunteer_ok(scheme)
    too_low = await create_volunteer_ok(scheme, check="standard", certified=date(2031, 1, 1))
    lapsed = await create_volunteer_ok(scheme, check="enhanced", certified=date(2028, 1, 1))  # three years ago
    lapses_first = await create_volunteer_ok(scheme, check="enhanced", certified=date(2028, 5, 5))  # current today, not on the day
    with pytest.raises(Conflict, match="no check recorded for you"):
        await sign_up(missing)
    with pytest.raises(Conflict, match="needs an enhanced DBS check or higher. The check recorded for you is standard"):
        await sign_up(too_low)
    with pytest.raises(Conflict, match="needs a current enhanced DBS check.*not current on Tuesday 6 May 2031"):
        await sign_up(lapsed)
    with pytest.raises(Conflict, match="not current on Tuesday 6 May 2031"):
        await sign_up(lapses_first)

    current = await create_volunteer_ok(scheme, check="enhanced", certified=date(2030, 9, 1))
    barred_lists = await create_volunteer_ok(scheme, check="enhanced-barred", certified=date(2030, 9, 1))
    await sign_up(current)
    await sign_up(barred_lists)
    assert set(await SignUp.filter(occurrence__shift=shift).values_list("volunteer_id", flat=True)) == {current.user.id, barred_lists.user.id}


async def test_only_the_schemes_volunteers_and_organisers_can_sign_up(council):
    from civic.errors import Forbidden

    scheme = await _scheme(council)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now)
    member = await create_volunteer_ok(scheme, role="member")
    offered = await create_volunteer_ok(scheme, status="offered")
    for person in (member.user, offered.user, await create_user_ok(council)):
        with pytest.raises(Forbidden):
            await rota.sign_up(person, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    await rota.sign_up(await organiser_of(scheme), council, scheme.slug, shift.id, date(2031, 5, 6), now=now)


# Capacity


async def test_a_full_shift_refuses_the_next_volunteer_and_a_withdrawal_frees_the_place(council):
    scheme = await _scheme(council)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, capacity=2)
    first, second, third = [await create_volunteer_ok(scheme) for _ in range(3)]
    for person in (first, second):
        await rota.sign_up(person.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    with pytest.raises(Conflict, match="full"):
        await rota.sign_up(third.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    await rota.withdraw(first.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    await rota.sign_up(third.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
    with pytest.raises(Conflict, match="already started"):
        await rota.withdraw(third.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=london(2031, 5, 6, 10, 30))


async def test_an_organiser_takes_one_volunteer_off_one_date_and_they_are_told_why(council, mailbox):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    now = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, repeat="weekly", capacity=2, title="Pantry", place="The hall")
    taken_off, staying, waiting = [await create_volunteer_ok(scheme) for _ in range(3)]
    for person in (taken_off, staying):
        await rota.sign_up(person.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=now)
    await rota.sign_up(taken_off.user, council, scheme.slug, shift.id, date(2031, 5, 20), now=now)

    slot = await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 13), taken_off.user.id, "  We need a driver that day ", now=now)

    assert not slot.has(taken_off.user) and slot.has(staying.user)
    assert (await rota.find_slot(scheme, shift.id, date(2031, 5, 20))).has(taken_off.user)  # only that date
    await rota.sign_up(waiting.user, council, scheme.slug, shift.id, date(2031, 5, 13), now=now)  # the place is free again
    [told] = await emails(taken_off.user.email)
    assert told.subject == "You are no longer on Pantry on Tuesday 13 May 2031"
    assert "have taken you off this shift:\n\nPantry, Tuesday 13 May 2031, 10am to midday, The hall" in told.body
    assert "They said:\n\nWe need a driver that day\n" in told.body
    assert f"/schemes/{scheme.slug}/rota" in told.body
    assert not await mail_to(staying.user.email).exists()
    entry = await AuditLog.get(action="shift.volunteer_removed", council=council)
    assert (entry.target_id, entry.reason) == (str(slot.occurrence.id), f"user {taken_off.user.id}")  # why is for the volunteer, not the log
    assert "You are no longer on Pantry" in (await mailbox.wait_for(taken_off.user.email))[0]["Subject"]

    # Without a reason, the e-mail says none was given rather than quoting nothing.
    await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 20), taken_off.user.id, "", now=now)
    [_, second] = await emails(taken_off.user.email)
    assert "They said" not in second.body and "Tuesday 20 May 2031" in second.body


async def test_only_the_schemes_organisers_take_a_volunteer_off_a_date_and_not_once_it_has_started(council):
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer, other = await create_volunteer_ok(scheme), await create_volunteer_ok(scheme)
    made = london(2031, 5, 1, 9)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=made, repeat="weekly")
    for on in (date(2031, 5, 6), date(2031, 5, 13)):
        await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, on, now=made)
    elsewhere = await organiser_of(await _scheme(council))

    for person in (other.user, volunteer.user, elsewhere):
        with pytest.raises(Forbidden):
            await rota.take_off(person, council, scheme.slug, shift.id, date(2031, 5, 6), volunteer.user.id, "", now=made)
    with pytest.raises(Invalid) as refused:
        await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 6), None, "x" * 301, now=made)
    assert refused.value.errors == {"volunteer": "Choose who to take off this date", "why": "The reason must be 300 characters or fewer"}
    with pytest.raises(Conflict, match="is not on this date"):
        await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 6), other.user.id, "", now=made)
    with pytest.raises(Conflict, match="This shift has started, so who was on it stays as it is"):
        await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 6), volunteer.user.id, "", now=london(2031, 5, 6, 10, 30))
    await rota.cancel(organiser, council, scheme.slug, shift.id, date(2031, 5, 13), "Rain")
    with pytest.raises(Conflict, match="This date is cancelled"):
        await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 13), volunteer.user.id, "", now=made)
    assert await SignUp.filter(volunteer=volunteer.user).count() == 2
    assert not await AuditLog.filter(action="shift.volunteer_removed", council=council).exists()


async def test_two_organisers_taking_one_volunteer_off_at_once_tell_them_once(council):
    need(is_postgres(), "PostgreSQL")
    scheme = await _scheme(council)
    first = await organiser_of(scheme)
    second = await create_volunteer_ok(scheme, role="organiser")
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)

    async def attempt(organiser):
        try:
            await rota.take_off(organiser, council, scheme.slug, shift.id, date(2031, 5, 6), volunteer.user.id, "", now=now)
            return "done"
        except Conflict:
            return "refused"

    assert sorted(await asyncio.gather(attempt(first), attempt(second.user))) == ["done", "refused"]
    assert await mail_to(volunteer.user.email).count() == 1
    assert await AuditLog.filter(action="shift.volunteer_removed", council=council).count() == 1


async def test_fifty_concurrent_sign_ups_to_five_places_leave_exactly_five(council):
    need(is_postgres(), "PostgreSQL")
    scheme = await _scheme(council)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, capacity=5)
    people = [await create_volunteer_ok(scheme, phone="") for _ in range(50)]

    async def attempt(membership):
        try:
            await rota.sign_up(membership.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
            return "in"
        except Conflict:
            return "full"

    outcomes = await asyncio.gather(*(attempt(p) for p in people))
    assert outcomes.count("in") == 5 and outcomes.count("full") == 45
    assert await SignUp.filter(occurrence__shift=shift).count() == 5
    assert await ShiftOccurrence.filter(shift=shift).count() == 1


async def test_a_shift_changed_while_volunteers_sign_up_never_has_more_on_it_than_it_needs(council):
    need(is_postgres(), "PostgreSQL")
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, capacity=10)
    people = [await create_volunteer_ok(scheme, phone="") for _ in range(10)]

    async def attempt(membership):
        try:
            await rota.sign_up(membership.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
        except Conflict:
            pass

    async def fewer():
        try:
            await rota.update_shift(organiser, council, scheme.slug, shift.id, {**CHANGE, "capacity": "2"}, now=now)
        except Invalid:
            pass  # too late: more than two had signed up

    await asyncio.gather(fewer(), *(attempt(p) for p in people))
    needed = (await rota.Shift.get(id=shift.id)).capacity
    assert await SignUp.filter(occurrence__shift=shift).count() <= needed


async def test_a_sign_up_waiting_while_the_check_is_raised_is_refused_rather_than_taken_without_it(council):
    # The sign-up read the shift (needing no check) before an organiser raised it; it must not then
    # take the place on what the shift needed before.
    need(is_postgres(), "PostgreSQL")
    scheme = await _scheme(council)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now)
    volunteer = await create_volunteer_ok(scheme, phone="")  # no check
    holding, release = asyncio.Event(), asyncio.Event()

    async def organiser_raises_the_check() -> None:  # as update_shift does, holding the shift's row while it changes
        async with in_transaction():
            await rota.Shift.select_for_update().get(id=shift.id)
            holding.set()
            await release.wait()
            await rota.Shift.filter(id=shift.id).update(needs_dbs="basic")

    change = asyncio.create_task(organiser_raises_the_check())
    await holding.wait()
    signing = asyncio.create_task(rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now))
    await until_waiting_on_a_lock(signing)
    release.set()
    await change
    with pytest.raises(Conflict, match="The organisers have just changed the DBS check this shift needs"):
        await signing
    assert not await SignUp.filter(occurrence__shift=shift).exists()


# Reminders


def _ics(message) -> icalendar.Calendar:
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_filename() == "shift.ics"
    return icalendar.Calendar.from_ical(attachment.get_content())


@pytest.mark.parametrize("season, day", [("summer time", date(2031, 7, 2)), ("winter", date(2031, 12, 3))])
async def test_each_volunteer_gets_one_reminder_with_a_calendar_file_even_when_the_worker_runs_twice(council, mailbox, season, day):
    scheme = await _scheme(council)
    created = london(day.year, day.month, 1)
    soon = await create_shift_ok(scheme, day, now=created, start_time="10:00", end_time="12:30", place="St Anne's church hall", capacity=3)
    later = await create_shift_ok(scheme, day + timedelta(days=2), now=created, capacity=3)
    volunteers = [await create_volunteer_ok(scheme) for _ in range(2)]
    for membership in volunteers:
        await rota.sign_up(membership.user, council, scheme.slug, soon.id, day, now=created)
        await rota.sign_up(membership.user, council, scheme.slug, later.id, day + timedelta(days=2), now=created)

    now = london(day.year, day.month, day.day - 1, 12)  # 22 hours before
    assert await rota.send_due_reminders(now=now) == 2
    assert await rota.send_due_reminders(now=now + timedelta(minutes=1)) == 0
    await worker.run_once([worker.Job("again", "civic.schemes.rota:send_due_reminders", 0)])  # the real clock: years before
    for membership in volunteers:
        [message] = await mailbox.wait_for(membership.user.email)
        await asyncio.sleep(0.2)
        assert len(mailbox.to(membership.user.email)) == 1, "exactly one reminder each"
        [event] = _ics(message).walk("VEVENT")
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert start == london(day.year, day.month, day.day, 10) and end == london(day.year, day.month, day.day, 12, 30)
        assert str(start.tzinfo) == "Europe/London" and event["dtstart"].params["TZID"] == "Europe/London"
        assert str(event["location"]) == "St Anne's church hall"
        assert "Tuesday visits" in str(event["summary"])
    assert await ShiftReminder.filter(occurrence__shift=soon).count() == 2
    assert await ShiftReminder.filter(occurrence__shift=later).count() == 0


def _closed_port() -> int:
    """A local port nothing listens on: a mail relay that is down."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return free.getsockname()[1]


async def test_a_volunteer_who_withdraws_is_not_sent_the_reminder_waiting_to_go(council, mailbox):
    scheme = await _scheme(council)
    created = london(2031, 8, 1)
    shift = await create_shift_ok(scheme, date(2031, 8, 6), now=created, title="Pantry", place="The hall")
    volunteer = await create_volunteer_ok(scheme)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 8, 6), now=created)
    with use_settings(smtp_port=_closed_port()):  # the relay is down: the reminder waits to be tried again
        assert await rota.send_due_reminders(now=london(2031, 8, 5, 12)) == 1
    [waiting] = await mail_to(volunteer.user.email)
    assert waiting.status == "pending"

    await rota.withdraw(volunteer.user, council, scheme.slug, shift.id, date(2031, 8, 6), now=london(2031, 8, 5, 13))

    assert (await mail_to(volunteer.user.email).get(id=waiting.id)).status == "superseded"
    assert not await ShiftReminder.filter(occurrence__shift=shift).exists()
    # Signed up again, they are reminded again, of the date as it is.
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 8, 6), now=london(2031, 8, 5, 14))
    assert await rota.send_due_reminders(now=london(2031, 8, 5, 14, 1)) == 1
    await mail.deliver(list(await mail_to(volunteer.user.email, status="pending")))  # as the worker does
    await asyncio.sleep(0.2)  # anything wrongly sent has time to arrive
    [reminder] = await mailbox.wait_for(volunteer.user.email)
    assert reminder["Subject"] == "Reminder: Pantry, 10am Wednesday 6 August 2031"
    assert len(mailbox.to(volunteer.user.email)) == 1


async def test_a_volunteer_pressing_withdraw_twice_at_once_withdraws_once(council, mailbox):
    need(is_postgres(), "PostgreSQL")
    scheme = await _scheme(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    now = london(2031, 5, 1)
    shift = await create_shift_ok(scheme, date(2031, 5, 6), now=now, title="Pantry")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)

    async def attempt():
        try:
            await rota.withdraw(volunteer.user, council, scheme.slug, shift.id, date(2031, 5, 6), now=now)
            return "done"
        except Conflict:
            return "refused"

    assert sorted(await asyncio.gather(attempt(), attempt())) == ["done", "refused"]
    assert await AuditLog.filter(action="shift.withdrawn", council=council).count() == 1
    assert len(await emails(organiser.email, subject="Pantry on Tuesday 6 May 2031 has a free place")) == 1


async def _reminders_made_while(change, now: datetime) -> int:
    """Run the reminder worker while `change()` is written in a transaction not yet committed; once the worker
    waits on its locks (or has finished), commit. Returns how many reminders the worker sent."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with in_transaction():
            await change()
            holding.set()
            await release.wait()

    changing = asyncio.create_task(hold())
    await holding.wait()
    reminding = asyncio.create_task(rota.send_due_reminders(now=now))
    await until_waiting_on_a_lock(reminding)
    release.set()
    await changing
    return await reminding


async def test_a_reminder_made_as_the_volunteer_withdraws_waits_for_them_and_does_not_go(council, mailbox):
    need(is_postgres(), "PostgreSQL")
    scheme = await _scheme(council)
    created = london(2031, 8, 1)
    shift = await create_shift_ok(scheme, date(2031, 8, 6), now=created)
    volunteer = await create_volunteer_ok(scheme, phone="")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 8, 6), now=created)

    async def volunteer_withdraws() -> None:  # as withdraw does: their sign-up deleted
        await SignUp.filter(volunteer=volunteer.user).delete()

    assert await _reminders_made_while(volunteer_withdraws, now=london(2031, 8, 5, 12)) == 0
    assert not await ShiftReminder.filter(occurrence__shift=shift).exists()
    assert not await mail_to(volunteer.user.email).exists()


async def test_a_reminder_made_as_the_date_moves_waits_and_then_reminds_of_the_new_time(council, mailbox):
    need(is_postgres(), "PostgreSQL")
    scheme = await _scheme(council)
    created = london(2031, 8, 1)
    shift = await create_shift_ok(scheme, date(2031, 8, 6), now=created, title="Pantry", start_time="10:00", end_time="12:00")
    volunteer = await create_volunteer_ok(scheme, phone="")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 8, 6), now=created)

    async def organiser_moves_it() -> None:  # as move does: the date's new time written
        await ShiftOccurrence.filter(shift=shift).update(starts_at=london(2031, 8, 6, 14), ends_at=london(2031, 8, 6, 16), moved=True)

    assert await _reminders_made_while(organiser_moves_it, now=london(2031, 8, 5, 12)) == 0  # not a reminder of the old time
    assert await rota.send_due_reminders(now=london(2031, 8, 5, 12, 1)) == 0  # 2pm is more than 24 hours away
    assert await rota.send_due_reminders(now=london(2031, 8, 5, 14, 1)) == 1
    [reminder] = await mailbox.wait_for(volunteer.user.email)
    assert reminder["Subject"] == "Reminder: Pantry, 2pm Wednesday 6 August 2031"


async def test_a_cancelled_shift_sends_no_reminder(council, mailbox):
    scheme = await _scheme(council)
    created = london(2031, 8, 1)
    shift = await create_shift_ok(scheme, date(2031, 8, 6), now=created)
    volunteer = await create_volunteer_ok(scheme)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 8, 6), now=created)
    await rota.cancel(await organiser_of(scheme), council, scheme.slug, shift.id, date(2031, 8, 6), "Hall closed")
    await rota.send_due_reminders(now=london(2031, 8, 5, 12))
    assert await ShiftReminder.filter(occurrence__shift=shift).count() == 0


# Lone working


async def _visit(council, lead_email: str = ""):
    scheme = await _scheme(council)
    if lead_email:
        scheme.safeguarding_lead_email = lead_email
        await scheme.save()
    created = london(2031, 9, 1)
    shift = await create_shift_ok(scheme, date(2031, 9, 3), now=created, home_visit="yes", start_time="14:00", end_time="15:00")
    volunteer = await create_volunteer_ok(scheme)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 9, 3), now=created)
    await lone_working.arrived(volunteer.user, council, scheme.slug, shift.id, date(2031, 9, 3), now=london(2031, 9, 3, 14, 2))
    return scheme, shift, volunteer


async def test_a_missed_ive_left_alerts_the_organiser_and_the_safeguarding_lead_once(council, mailbox, settings):
    lead = f"lead-{council.id}@example.test"
    scheme, shift, volunteer = await _visit(council, lead_email=lead)
    organiser = await organiser_of(scheme)
    grace = timedelta(minutes=settings.lone_working_grace_minutes)
    assert await lone_working.alert_missed_departures(now=london(2031, 9, 3, 15) + grace - timedelta(minutes=1)) == 0
    assert await lone_working.alert_missed_departures(now=london(2031, 9, 3, 15) + grace + timedelta(minutes=1)) == 2
    assert await lone_working.alert_missed_departures(now=london(2031, 9, 3, 15) + grace + timedelta(minutes=5)) == 0
    for address in (organiser.email, lead):
        [alert] = await mailbox.wait_for(address)
        assert str(volunteer.user) in alert["Subject"]
        assert "They said they arrived at 2:02pm." in mailbox.body(alert)
    assert len(mailbox.to(organiser.email)) == 1


async def test_a_timely_ive_left_alerts_nobody(council, mailbox):
    scheme, shift, volunteer = await _visit(council, lead_email=f"lead-{council.id}@example.test")
    await lone_working.left(volunteer.user, council, scheme.slug, shift.id, date(2031, 9, 3), now=london(2031, 9, 3, 15, 5))
    assert await lone_working.alert_missed_departures(now=london(2031, 9, 3, 18)) == 0
    assert (await SignUp.get(volunteer=volunteer.user)).alerted_at is None


async def test_only_visits_have_arrived_and_left(council):
    scheme = await _scheme(council)
    shift = await create_shift_ok(scheme, date(2031, 9, 3), now=london(2031, 9, 1))
    volunteer = await create_volunteer_ok(scheme)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, date(2031, 9, 3), now=london(2031, 9, 1))
    with pytest.raises(Conflict, match="not a visit"):
        await lone_working.arrived(volunteer.user, council, scheme.slug, shift.id, date(2031, 9, 3), now=london(2031, 9, 3, 10))


# Calendars


async def test_the_scheme_feed_has_public_shifts_and_events_but_never_visits(council):
    from civic.schemes import events

    scheme = await _scheme(council)
    now = datetime.now(UTC)
    tomorrow = (now + timedelta(days=2)).astimezone(LONDON).date()
    await create_shift_ok(scheme, tomorrow, title="Pantry shift", public="yes")
    await create_shift_ok(scheme, tomorrow, title="Private shift")
    await create_shift_ok(scheme, tomorrow, title="Home visits", public="yes", home_visit="yes")
    await events.create_event(await organiser_of(scheme), council, scheme.slug, {
        "title": "Coffee morning", "place": "The hall", "date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:00",
    })
    feed = icalendar.Calendar.from_ical(await calendars.scheme_feed(council, scheme.slug))
    assert sorted(str(e["summary"]) for e in feed.walk("VEVENT")) == [f"Coffee morning ({scheme.name})", f"Pantry shift ({scheme.name})"]
    assert feed.walk("VTIMEZONE")[0]["tzid"] == "Europe/London"


async def test_a_personal_feed_lists_my_shifts_and_stops_working_when_revoked(council):
    from civic.errors import NotFound

    scheme = await _scheme(council)
    volunteer = await create_volunteer_ok(scheme)
    day = (datetime.now(UTC) + timedelta(days=3)).astimezone(LONDON).date()
    mine = await create_shift_ok(scheme, day, title="Mine")
    await create_shift_ok(scheme, day, title="Not mine")
    await rota.sign_up(volunteer.user, council, scheme.slug, mine.id, day)
    url = await calendars.new_feed(volunteer.user, council)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = icalendar.Calendar.from_ical(await calendars.personal_feed(council, token))
    assert [str(e["summary"]) for e in feed.walk("VEVENT")] == [f"Mine ({scheme.name})"]
    assert await calendars.current_feed(volunteer.user, council) == url
    await calendars.revoke_feed(volunteer.user, council)
    with pytest.raises(NotFound):
        await calendars.personal_feed(council, token)
    newer = await calendars.new_feed(volunteer.user, council)
    assert newer != url
