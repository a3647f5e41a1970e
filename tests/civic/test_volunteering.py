"""Volunteers and members, safeguarding checks, help requests and events, through the domain functions."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from tortoise import Tortoise

from civic.audit import AuditLog
from civic.db import in_transaction, is_postgres
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import events, help_requests, organising, rota, safeguarding, volunteers
from civic.schemes.models import Membership
from civic.schemes.running import Assignment, ContactConsent, Event, HelpRequest, SafeguardingCheck, Shift, ShiftOccurrence, SignUp
from tests.factories import (
    HELP_REQUEST,
    create_help_request_ok,
    create_scheme_ok,
    create_shift_ok,
    create_user_ok,
    create_volunteer_ok,
    organiser_of,
    postcode_in,
    until_waiting_on_a_lock,
)
from tests.peers import need

LONDON = ZoneInfo("Europe/London")


# Offering to volunteer


async def test_offering_to_volunteer_records_the_exact_wording_and_time_of_consent(council, mailbox):
    scheme = await create_scheme_ok(council, name="Abbey Befriending")
    resident = await create_user_ok(council)
    before = datetime.now(timezone.utc)
    membership = await volunteers.offer(resident, council, scheme.slug, {"role": "volunteer", "phone": "07700 900 456", "note": "Weekday mornings", "consent": "yes"})
    assert (membership.role, membership.status) == ("volunteer", "offered")
    consent = await ContactConsent.get(membership=membership)
    assert consent.wording == volunteers.consent_wording(scheme)
    assert "the organisers of Abbey Befriending may see my name, my email address and any phone number" in consent.wording
    assert consent.given_at >= before - timedelta(seconds=1) and consent.phone == "07700 900 456"
    organiser = await organiser_of(scheme)
    assert "wants to join" in (await mailbox.wait_for(organiser.email))[0]["Subject"]


async def test_an_offer_without_consent_is_refused_with_every_problem(council):
    scheme = await create_scheme_ok(council)
    with pytest.raises(Invalid) as error:
        await volunteers.offer(await create_user_ok(council), council, scheme.slug, {"role": "boss", "phone": "12", "note": "x" * 1001})
    assert set(error.value.errors) == {"role", "phone", "note", "consent"}
    assert not await ContactConsent.filter(scheme=scheme).exists()


async def test_organisers_accept_decline_set_roles_and_remove_people(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    keen, unsure = await create_user_ok(council), await create_user_ok(council)
    yes = await volunteers.offer(keen, council, scheme.slug, {"role": "volunteer", "consent": "yes"})
    no = await volunteers.offer(unsure, council, scheme.slug, {"role": "member", "consent": "yes"})
    await volunteers.accept(organiser, council, scheme.slug, yes.id)
    await volunteers.decline(organiser, council, scheme.slug, no.id, "We are full")
    assert "Welcome to" in (await mailbox.wait_for(keen.email))[0]["Subject"]
    assert "We are full" in mailbox.body((await mailbox.wait_for(unsure.email))[0])
    assert await ContactConsent.filter(membership=no, withdrawn_at__isnull=True).count() == 0  # details no longer shown

    await volunteers.set_role(organiser, council, scheme.slug, yes.id, "organiser")
    assert (await Membership.get(id=yes.id)).role == "organiser"
    await volunteers.remove(organiser, council, scheme.slug, yes.id)
    assert (await Membership.get(id=yes.id)).status == "removed"
    with pytest.raises(Forbidden):
        await volunteers.accept(keen, council, scheme.slug, no.id)


async def test_the_last_organiser_cannot_be_removed_demoted_or_leave(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    mine = await Membership.get(scheme=scheme, user=organiser)
    with pytest.raises(Conflict):
        await volunteers.set_role(organiser, council, scheme.slug, mine.id, "volunteer")
    with pytest.raises(Conflict):
        await volunteers.remove(organiser, council, scheme.slug, mine.id)
    with pytest.raises(Conflict):
        await volunteers.leave(organiser, council, scheme.slug)


async def test_leaving_withdraws_consent_frees_future_shifts_and_hands_back_jobs(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    day = (datetime.now(timezone.utc) + timedelta(days=3)).astimezone(LONDON).date()
    shift = await create_shift_ok(scheme, day)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, day)
    request = await create_help_request_ok(scheme, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])

    await volunteers.leave(volunteer.user, council, scheme.slug)
    assert (await Membership.get(id=volunteer.id)).status == "left"
    assert await ContactConsent.filter(membership_id=volunteer.id, withdrawn_at__isnull=True).count() == 0
    assert not await SignUp.filter(volunteer=volunteer.user).exists()
    assert (await HelpRequest.get(id=request.id)).status == "open"
    assert (await Assignment.get(help_request=request)).status == "withdrawn"
    people = await volunteers.people_page(organiser, council, scheme.slug)
    assert volunteer.user.id not in {p.user.id for p in people.people + people.offers}


async def test_only_organisers_see_the_people_page(council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    officer = await create_user_ok(council, role="officer")
    for someone in (volunteer.user, officer, await create_user_ok(council)):
        with pytest.raises(Forbidden):
            await volunteers.people_page(someone, council, scheme.slug)
    page = await volunteers.people_page(await organiser_of(scheme), council, scheme.slug)
    [person] = [p for p in page.people if p.user.id == volunteer.user.id]
    assert person.consent.phone == "07700 900 123"


# Safeguarding checks


async def test_a_check_is_current_for_the_configured_days(council, settings):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    check = await safeguarding.record_check(
        await organiser_of(scheme), council, scheme.slug, volunteer.id,
        {"level": "enhanced-barred", "certificate_date": "14/03/2024", "checked_by": "Gwen Roberts"},
    )
    lapses = date(2024, 3, 14) + timedelta(days=settings.dbs_valid_days)
    assert safeguarding.lapses_on(check) == lapses
    assert safeguarding.status_of(check, lapses - timedelta(days=1)).current
    assert not safeguarding.status_of(check, lapses).current
    assert safeguarding.status_of(check, lapses).summary == f"Enhanced with barred lists, lapsed on {lapses:%A} {lapses.day} {lapses:%B %Y}"


async def test_recording_a_check_reports_every_problem(council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    with pytest.raises(Invalid) as error:
        await safeguarding.record_check(await organiser_of(scheme), council, scheme.slug, volunteer.id, {"level": "enhanced", "certificate_date": "31/02/2024"})
    assert set(error.value.errors) == {"certificate_date", "checked_by"}


async def test_organisers_are_reminded_once_before_a_check_lapses(council, mailbox, settings):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    certified = date(2030, 6, 1)
    volunteer = await create_volunteer_ok(scheme, check="enhanced", certified=certified)
    lapses = certified + timedelta(days=settings.dbs_valid_days)
    early = datetime.combine(lapses - timedelta(days=45), datetime.min.time(), tzinfo=timezone.utc)
    soon = datetime.combine(lapses - timedelta(days=20), datetime.min.time(), tzinfo=timezone.utc)
    await safeguarding.remind_lapsing_checks(now=early)
    assert not mailbox.to(organiser.email)
    await safeguarding.remind_lapsing_checks(now=soon)
    await safeguarding.remind_lapsing_checks(now=soon + timedelta(days=1))
    [reminder] = await mailbox.wait_for(organiser.email)
    assert "about to lapse" in reminder["Subject"]
    assert f"{volunteer.user}'s enhanced DBS check" in mailbox.body(reminder)
    assert len(mailbox.to(organiser.email)) == 1


async def test_a_check_shows_as_lapsing_soon_from_the_day_organisers_are_emailed(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme, check="enhanced", certified=date(2030, 6, 1))
    check = await safeguarding.check_for(volunteer.id)
    emailed_on = safeguarding.lapses_on(check) - safeguarding.REMIND_BEFORE
    day_before = emailed_on - timedelta(days=1)
    assert not safeguarding.status_of(check, day_before).lapses_soon
    assert await safeguarding.remind_lapsing_checks(now=datetime.combine(day_before, datetime.min.time(), tzinfo=LONDON)) == 0
    assert safeguarding.status_of(check, emailed_on).lapses_soon
    assert await safeguarding.remind_lapsing_checks(now=datetime.combine(emailed_on, datetime.min.time(), tzinfo=LONDON)) == 1
    assert await mailbox.wait_for(organiser.email)
    assert not safeguarding.status_of(check, safeguarding.lapses_on(check)).lapses_soon, "a lapsed check is lapsed, not lapsing"


# Help requests


async def test_a_help_request_keeps_who_and_where_encrypted_at_rest(council):
    scheme = await create_scheme_ok(council)
    request = await create_help_request_ok(scheme, first_name="Maud", street="Mill Lane", phone="01632 960 555")
    connection = Tortoise.get_connection("default")
    [row] = await connection.execute_query_dict(f"SELECT * FROM scheme_help_request WHERE id = {request.id}")
    stored = b"".join(bytes(v) for v in row.values() if isinstance(v, (bytes, memoryview)))
    for secret in (b"Maud", b"Mill Lane", b"01632 960 555", b"shopping", postcode_in(council).encode()):
        assert secret not in stored
    again = await HelpRequest.get(id=request.id)
    assert (again.first_name, again.street, again.phone) == ("Maud", "Mill Lane", "01632 960 555")


async def test_asking_for_help_checks_every_field(council):
    scheme = await create_scheme_ok(council)
    with pytest.raises(Invalid) as error:
        await help_requests.ask(await create_user_ok(council), council, scheme.slug, {"contact_by": "phone", "postcode": "nope"})
    assert set(error.value.errors) == {"first_name", "what", "when_needed", "postcode", "home_visit", "phone"}
    # The house and street only for a home visit.
    with pytest.raises(Invalid) as error:
        await help_requests.ask(await create_user_ok(council), council, scheme.slug, {"contact_by": "phone", "postcode": "nope", "home_visit": "yes"})
    assert set(error.value.errors) == {"first_name", "what", "when_needed", "house", "street", "postcode", "phone"}


async def test_a_scheme_that_visits_in_pairs_needs_two_volunteers_for_a_home_visit(council):
    scheme = await create_scheme_ok(council)
    scheme.visit_in_pairs = True
    await scheme.save()
    organiser = await organiser_of(scheme)
    first, second = await create_volunteer_ok(scheme, check="basic"), await create_volunteer_ok(scheme, check="basic")
    visit = await create_help_request_ok(scheme, home_visit="yes")
    with pytest.raises(Invalid, match="in pairs: choose two volunteers"):
        await help_requests.assign(organiser, council, scheme.slug, visit.id, [str(first.user.id)])
    matched = await help_requests.assign(organiser, council, scheme.slug, visit.id, [str(first.user.id), str(second.user.id)])
    assert matched.status == "matched"
    call = await create_help_request_ok(scheme, home_visit="no")
    with pytest.raises(Invalid, match="Choose one volunteer"):
        await help_requests.assign(organiser, council, scheme.slug, call.id, [str(first.user.id), str(second.user.id)])


async def test_a_matched_volunteer_sees_only_what_the_job_needs_and_the_address_once_they_accept(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer, bystander = await create_volunteer_ok(scheme, check="basic"), await create_volunteer_ok(scheme)
    request = await create_help_request_ok(scheme, home_visit="yes")  # the address is asked for a home visit only
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])
    job = await help_requests.job_page(volunteer.user, council, scheme.slug, request.id)
    assert (job.first_name, job.street, job.when_needed, job.what) == ("Maud", "Mill Lane", "Tuesday mornings", HELP_REQUEST["what"])
    assert job.address == ""
    assert not hasattr(job, "phone") and not hasattr(job, "postcode")
    job = await help_requests.accept_job(volunteer.user, council, scheme.slug, request.id)
    assert job.address == f"Flat 2, 14, Mill Lane, {postcode_in(council)}"
    for outsider in (bystander.user, organiser, await create_user_ok(council, role="officer")):
        with pytest.raises(NotFound):
            await help_requests.job_page(outsider, council, scheme.slug, request.id)


async def test_a_volunteer_who_cannot_help_sends_the_request_back_to_open(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    request = await create_help_request_ok(scheme, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])
    await help_requests.decline_job(volunteer.user, council, scheme.slug, request.id)
    assert (await HelpRequest.get(id=request.id)).status == "open"
    messages = await mailbox.wait_for(organiser.email, count=2)
    assert "needs another volunteer" in messages[-1]["Subject"]


async def test_the_requester_is_emailed_at_each_step_and_can_cancel_with_a_reason(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Zofia Nowak"))
    requester = await create_user_ok(council)
    first = await create_help_request_ok(scheme, requester, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, first.id, [str(volunteer.user.id)])
    await help_requests.accept_job(volunteer.user, council, scheme.slug, first.id)
    await help_requests.mark_done(volunteer.user, council, scheme.slug, first.id)
    second = await create_help_request_ok(scheme, requester)
    with pytest.raises(Invalid):
        await help_requests.cancel_as_requester(requester, council, second.id, "")
    await help_requests.cancel_as_requester(requester, council, second.id, "My daughter is visiting instead")
    subjects = [m["Subject"] for m in await mailbox.wait_for(requester.email, count=5)]
    assert subjects == [
        f"Your request for help from {scheme.name}",
        f"{scheme.name} has matched you with a volunteer",
        f"Your request for help from {scheme.name} is done",
        f"Your request for help from {scheme.name}",
        f"Your request for help from {scheme.name} is cancelled",
    ]
    assert "matched your request with Zofia" in mailbox.body(mailbox.to(requester.email)[1])
    assert (await HelpRequest.get(id=second.id)).cancel_reason == "My daughter is visiting instead"
    with pytest.raises(NotFound):
        await help_requests.requester_page(await create_user_ok(council), council, second.id)


async def test_only_organisers_see_a_schemes_help_requests(council):
    scheme = await create_scheme_ok(council)
    await create_help_request_ok(scheme)
    volunteer = await create_volunteer_ok(scheme)
    for someone in (volunteer.user, await create_user_ok(council, role="officer"), await create_user_ok(council, role="admin")):
        with pytest.raises(Forbidden):
            await help_requests.scheme_requests(someone, council, scheme.slug)
    _, grouped = await help_requests.scheme_requests(await organiser_of(scheme), council, scheme.slug)
    assert len(grouped["open"]) == 1


# Events


async def test_an_event_takes_replies_up_to_its_capacity(council):
    scheme = await create_scheme_ok(council)
    day = (datetime.now(timezone.utc) + timedelta(days=5)).astimezone(LONDON).date()
    event = await events.create_event(await organiser_of(scheme), council, scheme.slug, {
        "title": "Coffee morning", "place": "The hall", "date": day.isoformat(), "start_time": "10:00", "end_time": "11:30", "capacity": "2",
    })
    first, second, third = [await create_user_ok(council) for _ in range(3)]
    await events.reply(first, council, scheme.slug, event.id)
    await events.reply(second, council, scheme.slug, event.id)
    with pytest.raises(Conflict, match="full"):
        await events.reply(third, council, scheme.slug, event.id)
    await events.cancel_reply(first, council, scheme.slug, event.id)
    await events.reply(third, council, scheme.slug, event.id)
    page = await events.event_page(await organiser_of(scheme), council, scheme.slug, event.id)
    assert page.coming == 2 and page.places_left == 0 and sorted(page.names) == sorted([str(second), str(third)])
    assert (await events.event_page(second, council, scheme.slug, event.id)).names == []  # only organisers see who


EVENT = {"title": "Coffee morning", "place": "The hall", "start_time": "10:00", "end_time": "11:30"}


async def test_an_event_more_than_a_year_ahead_is_refused_like_a_shift(council):
    now = datetime(2031, 5, 1, 9, tzinfo=LONDON)
    for far in ("2032-05-02", "2999-01-01", "9999-12-31"):
        with pytest.raises(Invalid) as refused:
            events.check_event({**EVENT, "date": far, "end_time": "09:00"}, now)
        assert refused.value.errors == {"date": "The date must be within the next year"}
    assert events.check_event({**EVENT, "date": "2032-05-01"}, now)["starts_at"].year == 2032


@pytest.mark.parametrize("capacity", ["0", "10001", "²", "9" * 30, "9" * 5000, "1.5"])
async def test_an_event_capacity_that_is_not_a_number_from_1_to_10000_gets_the_capacity_message(capacity):
    with pytest.raises(Invalid) as refused:
        events.check_event({**EVENT, "date": "2031-05-06", "capacity": capacity}, datetime(2031, 5, 1, tzinfo=LONDON))
    assert refused.value.errors == {"capacity": "Enter how many people can come, from 1 to 10,000, or leave it blank if there is no limit"}


async def test_an_event_ending_before_its_start_time_ends_the_next_day_and_says_so(council):
    scheme = await create_scheme_ok(council)
    day = (datetime.now(timezone.utc) + timedelta(days=5)).astimezone(LONDON).date()
    event = await events.create_event(await organiser_of(scheme), council, scheme.slug, {**EVENT, "date": day.isoformat(), "start_time": "11:00", "end_time": "10:00"})
    assert event.ends_at - event.starts_at == timedelta(hours=23)
    assert (await events.event_page(None, council, scheme.slug, event.id)).when.endswith(", 11am to 10am (next day)")


async def test_an_event_under_way_can_still_be_corrected_but_not_moved_into_the_past(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    event = await events.create_event(organiser, council, scheme.slug, {**EVENT, "date": "2031-05-06"}, now=datetime(2031, 5, 1, 9, tzinfo=LONDON))
    under_way = datetime(2031, 5, 6, 10, 30, tzinfo=LONDON)
    same_start = {**EVENT, "date": "2031-05-06"}

    changed = await events.update_event(organiser, council, scheme.slug, event.id, {**same_start, "place": "The church hall", "end_time": "12:00"}, now=under_way)

    assert (changed.place, changed.starts_at, changed.ends_at) == ("The church hall", event.starts_at, datetime(2031, 5, 6, 12, tzinfo=LONDON))
    with pytest.raises(Invalid) as refused:
        await events.update_event(organiser, council, scheme.slug, event.id, {**same_start, "start_time": "10:15"}, now=under_way)
    assert refused.value.errors == {"date": "The event has started. Keep the date and start time it has, or move it to a time still to come"}
    with pytest.raises(Invalid) as refused:
        await events.update_event(organiser, council, scheme.slug, event.id, {**same_start, "end_time": "10:20"}, now=under_way)
    assert refused.value.errors == {"end_time": "The event has started, so its end time must be later than now"}
    moved = await events.update_event(organiser, council, scheme.slug, event.id, {**EVENT, "date": "2031-05-07"}, now=under_way)
    assert moved.starts_at == datetime(2031, 5, 7, 10, tzinfo=LONDON)


# Demo data


async def test_the_demo_has_volunteers_with_and_without_checks_a_rota_with_gaps_requests_and_an_event(database):
    from civic import demo
    from civic.councils import Council
    from civic.demo.foundation import COUNCIL
    from civic.schemes.models import Scheme
    from civic.schemes.running import Event, SafeguardingCheck, Shift

    await Council.get_or_create(slug="northmere", defaults={**COUNCIL, "hostnames": "northmere.test"})
    await demo.seed()
    council = await Council.get(slug="northmere")
    scheme = await Scheme.get(council=council, slug="abbey-befriending-circle")
    volunteers = await Membership.filter(scheme=scheme, role="volunteer", status="active").values_list("id", flat=True)
    checked = await SafeguardingCheck.filter(membership_id__in=volunteers).count()
    assert 0 < checked < len(volunteers)
    shifts = list(await Shift.filter(scheme=scheme))
    assert {s.repeat for s in shifts} == {"weekly"}
    page = await rota.roster_page(await organiser_of(scheme), council, scheme.slug)
    assert page.gaps > 0 and any(slot.signups for slot in page.slots)
    assert {r.status for r in await HelpRequest.filter(scheme=scheme)} == {"open", "matched"}
    assert await Event.filter(scheme=scheme).count() == 1
    # It asks volunteers for a DBS check for home visits, and its safeguarding rules agree.
    assert "a DBS check if you will visit people at home" in scheme.how_to_volunteer and scheme.home_visit_dbs == "enhanced"
    [visit] = await HelpRequest.filter(scheme=scheme, home_visit=True)
    match_page = await help_requests.request_page(await organiser_of(scheme), council, scheme.slug, visit.id)
    assert {str(c.user) for c in match_page.candidates if c.shortfall} >= {"Kwame Mensah"}
    counts = (len(shifts), await HelpRequest.filter(scheme=scheme).count(), await ContactConsent.filter(scheme=scheme).count())
    updated = (await Scheme.get(id=scheme.id)).updated_at
    await demo.seed()
    assert (await Shift.filter(scheme=scheme).count(), await HelpRequest.filter(scheme=scheme).count(), await ContactConsent.filter(scheme=scheme).count()) == counts
    assert (await Scheme.get(id=scheme.id)).updated_at == updated, "running it again changes nothing"


# Closing a scheme


async def test_closing_a_scheme_ends_its_requests_shifts_and_events_and_tells_everyone(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer, helper = await create_volunteer_ok(scheme), await create_volunteer_ok(scheme)
    asker, waiting, guest = await create_user_ok(council), await create_user_ok(council), await create_user_ok(council)
    matched = await create_help_request_ok(scheme, asker, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, matched.id, [str(volunteer.user.id)])
    still_open = await create_help_request_ok(scheme, waiting, home_visit="no")
    day = (datetime.now(LONDON) + timedelta(days=3)).date()
    shift = await create_shift_ok(scheme, day, repeat="weekly")
    await rota.sign_up(helper.user, council, scheme.slug, shift.id, day)
    event = await events.create_event(organiser, council, scheme.slug, {
        "title": "Coffee morning", "place": "The hall", "date": day.isoformat(), "start_time": "10:00", "end_time": "11:00",
    })
    await events.reply(guest, council, scheme.slug, event.id)

    page = await organising.closing_page(organiser, council, scheme.slug)
    assert (page.help_requests, page.shifts, page.volunteers_on_shifts, page.events, page.people_coming) == (2, 1, 1, 1, 1)

    await organising.change_status(organiser, council, scheme.slug, "close")
    for request in (matched, still_open):
        again = await HelpRequest.get(id=request.id)
        assert (again.status, again.cancel_reason) == ("cancelled", "The scheme has closed.")
    assert (await Assignment.get(help_request_id=matched.id)).status == "withdrawn"
    assert (await ShiftOccurrence.get(shift_id=shift.id, on=day)).cancelled
    assert not (await Shift.get(id=shift.id)).falls_on(day + timedelta(days=7)), "the weekly shift stops"
    assert (await Event.get(id=event.id)).cancelled

    for person in (asker, waiting):
        [closed] = [m for m in await mailbox.wait_for(person.email, count=2) if m["Subject"] == f"{scheme.name} has closed"]
        assert f"{council.hostnames}/schemes\r\n" in mailbox.body(closed), "points to the directory for other help"
    assert any("the scheme has closed" in m["Subject"] for m in await mailbox.wait_for(volunteer.user.email, count=2))
    assert any("is cancelled" in m["Subject"] for m in await mailbox.wait_for(helper.user.email))
    assert any(m["Subject"] == "Coffee morning is cancelled" for m in await mailbox.wait_for(guest.email))
    with pytest.raises(Conflict, match="has closed"):
        await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, day)


async def test_a_home_visit_is_matched_only_to_volunteers_with_the_check_the_scheme_asks_for(council, settings):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    await safeguarding.update_rules(organiser, council, scheme.slug, {"home_visit_dbs": "enhanced", "visit_in_pairs": ""})
    unchecked = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Ned Nocheck"))
    basic = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Bea Basic"), check="basic")
    lapsed = await create_volunteer_ok(
        scheme, user=await create_user_ok(council, display_name="Len Lapsed"), check="enhanced",
        certified=date.today() - timedelta(days=settings.dbs_valid_days + 1),
    )
    checked = await create_volunteer_ok(scheme, check="enhanced-barred")
    visit = await create_help_request_ok(scheme, home_visit="yes")

    page = await help_requests.request_page(organiser, council, scheme.slug, visit.id)
    assert {c.user.id: c.shortfall for c in page.candidates if c.shortfall and c.user.id != organiser.id} == {
        unchecked.user.id: "has no DBS check recorded", basic.user.id: "has a basic check",
        lapsed.user.id: f"has an enhanced check that lapsed on {safeguarding.day_name(date.today() - timedelta(days=1))}",
    }
    for one in (unchecked, basic, lapsed):
        with pytest.raises(Invalid) as error:
            await help_requests.assign(organiser, council, scheme.slug, visit.id, [str(one.user.id)])
        message = error.value.errors["volunteers"]
        assert message.startswith("A home visit for this scheme needs an enhanced DBS check or higher, current on the day.")
        assert str(one.user) in message
    assert not await Assignment.filter(help_request_id=visit.id).exists()
    assert (await help_requests.assign(organiser, council, scheme.slug, visit.id, [str(checked.user.id)])).status == "matched"

    call = await create_help_request_ok(scheme, home_visit="no")
    assert (await help_requests.assign(organiser, council, scheme.slug, call.id, [str(unchecked.user.id)])).status == "matched"


@pytest.mark.parametrize("change", ["check replaced with none", "volunteer removed"])
async def test_a_check_or_volunteer_taken_away_while_an_organiser_matches_a_home_visit_stops_the_match(council, change):
    # The organiser's page showed a current check; at the moment they press Match, another organiser
    # records no check for the volunteer, or removes them. The match must wait, and read them as they then are.
    need(is_postgres(), "PostgreSQL")
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    await safeguarding.update_rules(organiser, council, scheme.slug, {"home_visit_dbs": "basic", "visit_in_pairs": ""})
    volunteer = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Cara Checked"), check="basic")
    visit = await create_help_request_ok(scheme, home_visit="yes")
    holding, release = asyncio.Event(), asyncio.Event()

    async def another_organiser_changes_it() -> None:  # as record_check's update_or_create does: the row locked, then changed
        async with in_transaction():
            if change == "volunteer removed":
                await Membership.select_for_update().get(id=volunteer.id)
            else:
                await SafeguardingCheck.select_for_update().get(membership_id=volunteer.id)
            holding.set()
            await release.wait()
            if change == "volunteer removed":
                await Membership.filter(id=volunteer.id).update(status="removed")
            else:
                await SafeguardingCheck.filter(membership_id=volunteer.id).update(level="none", certificate_date=None)

    changing = asyncio.create_task(another_organiser_changes_it())
    await holding.wait()
    matching = asyncio.create_task(help_requests.assign(organiser, council, scheme.slug, visit.id, [str(volunteer.user.id)]))
    await until_waiting_on_a_lock(matching)
    release.set()
    await changing
    with pytest.raises(Invalid) as refused:
        await matching
    assert refused.value.errors == {"volunteers": (
        f"Cara Checked is no longer with {scheme.name}. Choose someone else" if change == "volunteer removed" else
        "A home visit for this scheme needs a basic DBS check or higher, current on the day. Cara Checked has no DBS check recorded. "
        "Choose someone else, or record their certificate first"
    )}
    assert not await Assignment.filter(help_request_id=visit.id).exists()
    assert (await HelpRequest.get(id=visit.id)).status == "open"


async def test_a_home_visit_by_someone_without_a_current_check_needs_confirming_when_the_scheme_asks_for_none(council, settings):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    assert scheme.home_visit_dbs == "none"
    unchecked = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Ned Nocheck"))
    lapsed = await create_volunteer_ok(
        scheme, user=await create_user_ok(council, display_name="Len Lapsed"), check="basic",
        certified=date.today() - timedelta(days=settings.dbs_valid_days + 1),
    )
    checked = await create_volunteer_ok(scheme, check="basic")
    visit = await create_help_request_ok(scheme, home_visit="yes")

    page = await help_requests.request_page(organiser, council, scheme.slug, visit.id)
    assert page.needs_confirmation
    cautions = {c.user.id: c.caution for c in page.candidates}
    assert cautions[unchecked.user.id] == "has no DBS check recorded"
    assert cautions[lapsed.user.id].startswith("has a basic check that lapsed on")
    assert cautions[checked.user.id] == ""
    for one in (unchecked, lapsed):
        with pytest.raises(Invalid) as error:
            await help_requests.assign(organiser, council, scheme.slug, visit.id, [str(one.user.id)])
        assert set(error.value.errors) == {"confirm_unchecked"} and str(one.user) in error.value.errors["confirm_unchecked"]
    assert not await Assignment.filter(help_request_id=visit.id).exists()
    matched = await help_requests.assign(organiser, council, scheme.slug, visit.id, [str(unchecked.user.id)], confirm_unchecked=True)
    assert matched.status == "matched"

    call = await create_help_request_ok(scheme, home_visit="no")
    assert not (await help_requests.request_page(organiser, council, scheme.slug, call.id)).needs_confirmation
    assert (await help_requests.assign(organiser, council, scheme.slug, call.id, [str(lapsed.user.id)])).status == "matched"
    other_visit = await create_help_request_ok(scheme, home_visit="yes")
    assert (await help_requests.assign(organiser, council, scheme.slug, other_visit.id, [str(checked.user.id)])).status == "matched"


async def test_an_organiser_takes_a_job_back_from_a_volunteer_who_never_answered(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    silent, keen = await create_volunteer_ok(scheme), await create_volunteer_ok(scheme)
    request = await create_help_request_ok(scheme, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(silent.user.id)])
    assignment = await Assignment.get(help_request_id=request.id, volunteer=silent.user)
    with pytest.raises(Forbidden):
        await help_requests.take_back(keen.user, council, scheme.slug, request.id, assignment.id)

    await help_requests.take_back(organiser, council, scheme.slug, request.id, assignment.id)
    assert (await Assignment.get(id=assignment.id)).status == "withdrawn"
    assert (await HelpRequest.get(id=request.id)).status == "open"
    assert await AuditLog.filter(action="help_request.taken_back", target_id=str(request.id), actor=organiser).exists()
    [_, told] = await mailbox.wait_for(silent.user.email, count=2)
    assert told["Subject"] == f"You are no longer needed for a job from {scheme.name}"
    with pytest.raises(NotFound):
        await help_requests.job_page(silent.user, council, scheme.slug, request.id)
    with pytest.raises(Conflict):
        await help_requests.take_back(organiser, council, scheme.slug, request.id, assignment.id)
    assert (await help_requests.assign(organiser, council, scheme.slug, request.id, [str(keen.user.id)])).status == "matched"


# Volunteers dropping out


async def test_organisers_hear_when_a_volunteer_withdraws_from_a_shift_first_when_it_is_soon(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Wyn Withdrawn"))
    tomorrow = (datetime.now(LONDON) + timedelta(days=1)).date()
    later = tomorrow + timedelta(days=7)
    soon_shift = await create_shift_ok(scheme, tomorrow, title="Pantry")
    later_shift = await create_shift_ok(scheme, later, title="Garden")
    for shift, day in ((soon_shift, tomorrow), (later_shift, later)):
        await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, day)
        await rota.withdraw(volunteer.user, council, scheme.slug, shift.id, day)
    soon, not_soon = await mailbox.wait_for(organiser.email, count=2)
    assert soon["Subject"] == f"Within 48 hours: Pantry on {safeguarding.day_name(tomorrow)} has a free place"
    assert mailbox.body(soon).startswith("This shift starts within 48 hours")
    assert "Wyn Withdrawn is no longer down for this shift" in mailbox.body(soon)
    assert "2 of 2 places free" in mailbox.body(soon)
    assert not_soon["Subject"] == f"Garden on {safeguarding.day_name(later)} has a free place"
    assert "48 hours" not in mailbox.body(not_soon)


async def test_organisers_hear_which_shifts_and_jobs_a_volunteer_who_leaves_was_down_for(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Lou Leaving"))
    day = (datetime.now(LONDON) + timedelta(days=5)).date()
    shift = await create_shift_ok(scheme, day, title="Pantry")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, day)
    request = await create_help_request_ok(scheme, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])
    before = len(mailbox.to(organiser.email))

    await volunteers.leave(volunteer.user, council, scheme.slug)
    messages = (await mailbox.wait_for(organiser.email, count=before + 2))[before:]
    subjects = {m["Subject"]: m for m in messages}
    freed = subjects[f"Pantry on {safeguarding.day_name(day)} has a free place"]
    assert "Lou Leaving is no longer down for this shift" in mailbox.body(freed)
    job = subjects[f"A request to {scheme.name} needs another volunteer"]
    assert "Lou Leaving is no longer helping" in mailbox.body(job)
    assert (await HelpRequest.get(id=request.id)).status == "open"
