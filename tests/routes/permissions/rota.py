"""Running a scheme: volunteers, help requests, jobs, the offers board, the rota, visits, events and calendars.

Nobody in the council-wide matrix belongs to the scheme, so they see only its public pages. Each Case
also says what the scheme's own people get, checked by tests/routes/test_rota.py:
`organiser`; `volunteer` (with a current enhanced check); `assigned` (matched to the help request,
and accepted it); `requester` (asked for help, posted the offer, coming to the event); `member`;
`other-organiser` (runs another scheme of the same council).
Help requests and contact details are for the scheme's organisers alone: officers are refused too.
A request's own page exists only for the person who asked, a job's only for its volunteers (404).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.routes.permissions import HIDDEN, ROLES, SIGN_IN, Case, World

SCHEME_ROLES = ("organiser", "volunteer", "assigned", "requester", "member", "other-organiser")
HELPERS = {"organiser", "volunteer", "assigned"}
EVERY = (*ROLES, *SCHEME_ROLES)


def expect(ok: set[str], status: int = 200, others: int = 403, anonymous: int | None = None) -> dict[str, int]:
    """`status` for these people, `others` for everyone else; anonymous visitors are sent to sign in (or refused a POST)."""
    result = {role: (status if role in ok else others) for role in EVERY}
    result["anonymous"] = anonymous if anonymous is not None else (SIGN_IN if status == 200 else 403)
    return result


def everyone(status: int = 200) -> dict[str, int]:
    return {role: status for role in EVERY}


def signed_in(status: int = 200) -> dict[str, int]:
    return expect(set(EVERY) - {"anonymous"}, status)


def organisers(status: int = 200) -> dict[str, int]:
    return expect({"organiser"}, status)


def helpers(status: int = 200, others: int = 403) -> dict[str, int]:
    return expect(HELPERS, status, others)


SHIFT = {"title": "Added by {role}", "place": "The hall", "starts_on": "{next_week}", "start_time": "10:00", "end_time": "12:00", "repeat": "once", "capacity": "3"}
SHIFT_CHANGE = {"title": "Changed by {role}", "place": "The hall", "starts_on": "{next_week}", "start_time": "10:00", "end_time": "12:00", "capacity": "10"}
EVENT = {"title": "Meeting set by {role}", "place": "The hall", "date": "{next_week}", "start_time": "18:00", "end_time": "19:00"}
REQUEST = {"what": "A lift", "when_needed": "Friday", "home_visit": "no", "first_name": "Edna", "house": "3", "street": "Quay Street",
           "postcode": "NM1 4AB", "contact_by": "email"}
REASON = {"reason": "Checked by {role}"}
SLOT = "/schemes/{slug}/shifts/{shift_id}/{on}"

CASES = [
    # Joining and leaving
    Case("GET", "/schemes/{slug}/join", signed_in()),
    Case("POST", "/schemes/{slug}/join", {**signed_in(303), **{r: 409 for r in ("organiser", "volunteer", "assigned", "member")}},
         data={"role": "volunteer", "consent": "yes"}, fresh=True, note="people already in it are told so"),
    Case("POST", "/schemes/{slug}/leave", {**expect({"volunteer", "assigned", "member"}, 303, others=409), "anonymous": 403},
         fresh=True, note="the only organiser cannot leave; people not in it are told so"),
    # The organisers' people pages; {membership_id} is the volunteer, already accepted
    Case("GET", "/schemes/{slug}/people", organisers()),
    Case("GET", "/schemes/{slug}/people/{membership_id}", organisers()),
    Case("POST", "/schemes/{slug}/people/{membership_id}/accept", organisers(409), note="already accepted"),
    Case("POST", "/schemes/{slug}/people/{membership_id}/decline", organisers(409), data={"reason": "Full"}, note="already accepted"),
    Case("POST", "/schemes/{slug}/people/{membership_id}/check", organisers(303),
         data={"level": "enhanced", "certificate_date": "01/02/2025", "checked_by": "Gwen Roberts"}),
    Case("POST", "/schemes/{slug}/people/{membership_id}/role", organisers(303), data={"role": "member"}, fresh=True),
    Case("GET", "/schemes/{slug}/people/{membership_id}/remove", organisers()),
    Case("POST", "/schemes/{slug}/people/{membership_id}/remove", organisers(303), fresh=True),
    Case("GET", "/schemes/{slug}/safeguarding", organisers()),
    Case("POST", "/schemes/{slug}/safeguarding", organisers(303), data={"safeguarding_lead_email": "lead@example.test", "visit_in_pairs": "yes"}, fresh=True),
    # Someone's own volunteering page and calendar address
    Case("GET", "/volunteering", signed_in()),
    Case("POST", "/volunteering/calendar", signed_in(303)),
    Case("POST", "/volunteering/calendar/revoke", signed_in(303)),
    # Asking for help, and the requester's own pages
    Case("GET", "/schemes/{slug}/ask", signed_in()),
    Case("POST", "/schemes/{slug}/ask", signed_in(303), data=REQUEST),
    Case("GET", "/help-requests", signed_in()),
    Case("GET", "/help-requests/{request_id}", expect({"requester"}, 200, others=HIDDEN)),
    Case("POST", "/help-requests/{request_id}/cancel", expect({"requester"}, 303, others=HIDDEN), data={"reason": "Sorted"}, fresh=True),
    # Help requests: the scheme's organisers only, never officers. {request_id} is matched and accepted.
    Case("GET", "/schemes/{slug}/requests", organisers()),
    Case("GET", "/schemes/{slug}/requests/{request_id}", organisers()),
    Case("POST", "/schemes/{slug}/requests/{request_id}/assign", organisers(409), data={"volunteers": "{volunteer_id}"}, note="it has its volunteer"),
    Case("POST", "/schemes/{slug}/requests/{request_id}/done", expect({"organiser", "assigned"}, 303), fresh=True),
    Case("POST", "/schemes/{slug}/requests/{request_id}/cancel", organisers(303), data=REASON, fresh=True),
    Case("POST", "/schemes/{slug}/requests/{request_id}/assignments/{assignment_id}/take-back", organisers(303), fresh=True),
    # A job: only the volunteers matched to it know it exists
    Case("GET", "/schemes/{slug}/jobs/{request_id}", expect({"assigned"}, 200, others=HIDDEN)),
    Case("POST", "/schemes/{slug}/jobs/{request_id}/accept", expect({"assigned"}, 303, others=HIDDEN)),
    Case("POST", "/schemes/{slug}/jobs/{request_id}/decline", expect({"assigned"}, 303, others=HIDDEN), fresh=True),
    Case("POST", "/schemes/{slug}/jobs/{request_id}/done", expect({"assigned", "organiser"}, 303), fresh=True),
    # The offers board: public; taken down by its author, the organisers or the council's officers
    Case("GET", "/schemes/{slug}/offers", everyone()),
    Case("POST", "/schemes/{slug}/offers", signed_in(303), data={"text": "Offered by {role}"}),
    Case("POST", "/schemes/{slug}/offers/{offer_id}/remove", expect({"requester", "organiser", "officer", "admin"}, 303), fresh=True),
    Case("GET", "/schemes/{slug}/offers/{offer_id}/report", signed_in()),
    Case("POST", "/schemes/{slug}/offers/{offer_id}/report", signed_in(303), data={"reason": "spam", "details": "Reported by {role}"}),
    # The rota: its volunteers and organisers; the roster and changes: organisers. {on} is next week.
    Case("GET", "/schemes/{slug}/rota", helpers()),
    Case("GET", "/schemes/{slug}/roster", organisers()),
    Case("GET", "/schemes/{slug}/shifts/new", organisers()),
    Case("POST", "/schemes/{slug}/shifts", organisers(303), data=SHIFT),
    Case("GET", SLOT, helpers()),
    Case("POST", SLOT + "/signup", helpers(303)),
    Case("POST", SLOT + "/withdraw", helpers(303), note="each helper signed up in the case before"),
    Case("POST", SLOT + "/arrived", helpers(409), note="not a visit: tested in tests/routes/test_rota.py"),
    Case("POST", SLOT + "/left", helpers(409), note="not a visit"),
    Case("POST", SLOT + "/move", organisers(303), data={"date": "{next_week}", "start_time": "11:00", "end_time": "13:00"}),
    Case("POST", SLOT + "/cancel", organisers(303), data=REASON, fresh=True),
    Case("POST", SLOT + "/take-off", organisers(303), data={"volunteer": "{on_it_id}", "why": "Taken off by {role}"},
         note="{on_it_id} is a volunteer outside the matrix, on {on} from the start"),
    Case("GET", "/schemes/{slug}/shifts/{shift_id}/edit", organisers()),
    Case("POST", "/schemes/{slug}/shifts/{shift_id}/edit", organisers(303), data=SHIFT_CHANGE),
    Case("GET", "/schemes/{slug}/shifts/{shift_id}/stop", organisers()),
    Case("POST", "/schemes/{slug}/shifts/{shift_id}/stop", organisers(303), fresh=True),
    # Events
    Case("GET", "/schemes/{slug}/events", everyone()),
    Case("GET", "/schemes/{slug}/events/new", organisers()),
    Case("POST", "/schemes/{slug}/events", organisers(303), data=EVENT),
    Case("GET", "/schemes/{slug}/events/{event_id}", everyone()),
    Case("POST", "/schemes/{slug}/events/{event_id}/reply", {**signed_in(303), "requester": 409}, note="the requester is already coming"),
    Case("POST", "/schemes/{slug}/events/{event_id}/reply/cancel", {**signed_in(409), "requester": 303}, fresh=True),
    Case("GET", "/schemes/{slug}/events/{event_id}/edit", organisers()),
    Case("POST", "/schemes/{slug}/events/{event_id}/edit", organisers(303), data=EVENT),
    Case("POST", "/schemes/{slug}/events/{event_id}/cancel", organisers(303), data=REASON, fresh=True),
    # Calendars: the scheme's is public; a personal address is its own key, until revoked
    Case("GET", "/schemes/{slug}/calendar.ics", everyone()),
    Case("GET", "/calendars/{token}.ics", everyone(), note="{token} is the volunteer's; a revoked one is tested in test_rota.py"),
]


async def setup(world: World) -> dict[str, str]:
    from civic.schemes import calendars, events, help_requests, rota
    from civic.schemes.models import Membership
    from civic.schemes.running import Assignment, HelpOffer
    from civic.schemes.when import today
    from tests.factories import create_help_request_ok, create_scheme_ok, create_user_ok, create_volunteer_ok

    council = world.council
    organiser = await create_user_ok(council, display_name="Olwen Organiser")
    scheme = await create_scheme_ok(council, organiser)
    other = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme, check="enhanced")
    assigned = await create_volunteer_ok(scheme)
    member = await create_volunteer_ok(scheme, role="member")
    requester = await create_user_ok(council)
    world.people.update({
        "organiser": organiser, "volunteer": volunteer.user, "assigned": assigned.user, "requester": requester,
        "member": member.user, "other-organiser": (await Membership.get(scheme=other).prefetch_related("user")).user,
    })

    request = await create_help_request_ok(scheme, requester, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(assigned.user.id)])
    await help_requests.accept_job(assigned.user, council, scheme.slug, request.id)
    offer = await HelpOffer.create(council=council, scheme=scheme, author=requester, text="A spare lawnmower")
    next_week = today(datetime.now(timezone.utc)) + timedelta(days=7)
    shift = await rota.create_shift(organiser, council, scheme.slug, {
        "title": "Pantry", "place": "The hall", "starts_on": next_week.isoformat(), "start_time": "10:00", "end_time": "12:00",
        "repeat": "weekly", "capacity": "10",
    })
    event = await events.create_event(organiser, council, scheme.slug, {
        "title": "Coffee", "place": "The hall", "date": next_week.isoformat(), "start_time": "10:00", "end_time": "11:00",
    })
    await events.reply(requester, council, scheme.slug, event.id)
    on_it = await create_volunteer_ok(scheme)
    await rota.sign_up(on_it.user, council, scheme.slug, shift.id, next_week)
    token = (await calendars.new_feed(volunteer.user, council)).rsplit("/", 1)[1].removesuffix(".ics")
    return {
        "slug": scheme.slug,
        "membership_id": str(volunteer.id),
        "volunteer_id": str(volunteer.user.id),
        "request_id": str(request.id),
        "assignment_id": str((await Assignment.get(help_request=request)).id),
        "offer_id": str(offer.id),
        "next_week": next_week.isoformat(),
        "shift_id": str(shift.id),
        "on": next_week.isoformat(),
        "on_it_id": str(on_it.user.id),
        "event_id": str(event.id),
        "token": token,
    }
