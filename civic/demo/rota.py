"""Demo volunteering in Northmere: volunteers with and without checks, a weekly rota with gaps, help requests, an event."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from civic import accounts
from civic.accounts import User
from civic.councils import Council
from civic.schemes import events, help_requests, rota
from civic.schemes.models import Membership, Scheme
from civic.schemes.running import ContactConsent, Event, HelpOffer, HelpRequest, SafeguardingCheck, Shift
from civic.schemes.text import slugify
from civic.schemes.volunteers import consent_wording
from civic.schemes.when import today

SCHEME = "Abbey Befriending Circle"
ORGANISER = "organiser@northmere.example"
HOME_VISIT_DBS = "enhanced"  # as its "how to volunteer" text promises, and as the Tuesday home visits need
# email, name, postcode, role, status, DBS level, certificate age in days (None: no check)
VOLUNTEERS = [
    ("volunteer@northmere.example", "Zofia Nowak", "NM4 1LN", "volunteer", "active", "enhanced-barred", 200),
    ("volunteer2@northmere.example", "Kwame Mensah", "NM1 2PQ", "volunteer", "active", None, None),
    ("gareth@northmere.example", "Gareth Hughes", "NM1 1BD", "volunteer", "active", "enhanced", 3 * 365 - 20),  # lapses soon
    ("ines@northmere.example", "Inês Costa", "NM1 4RS", "member", "active", None, None),
    ("resident@northmere.example", "Sam Carter", "NM2 3GH", "volunteer", "offered", None, None),
]


async def _person(email: str, name: str, postcode: str) -> User:
    user, created = await User.get_or_create(email=email, defaults={"email_verified": True})
    if created or not user.profile_complete:
        await accounts.complete_profile(user, name, postcode)
    return user


async def seed_rota(council: Council) -> str:
    """Load the demo volunteering for the befriending scheme; running it again changes nothing."""
    scheme = await Scheme.get_or_none(council=council, slug=slugify(SCHEME))
    if scheme is None:
        return "Volunteering: no befriending scheme to add it to"
    organiser = await User.get(email=ORGANISER)
    # The scheme tells volunteers it asks for a DBS check for home visits, so its rules say so too.
    if not scheme.visit_in_pairs or not scheme.safeguarding_lead_email or scheme.home_visit_dbs != HOME_VISIT_DBS:
        scheme.visit_in_pairs, scheme.safeguarding_lead_email, scheme.home_visit_dbs = True, "safeguarding@northmere.example", HOME_VISIT_DBS
        await scheme.save(update_fields=["visit_in_pairs", "safeguarding_lead_email", "home_visit_dbs"])
    now = timezone.now()
    people: dict[str, User] = {}
    for email, name, postcode, role, status, level, age in VOLUNTEERS:
        user = people[email] = await _person(email, name, postcode)
        membership, created = await Membership.get_or_create(scheme=scheme, user=user, defaults={"role": role, "status": status, "added_by": organiser})
        if created:
            await ContactConsent.create(scheme=scheme, user=user, membership=membership, wording=consent_wording(scheme), phone="07700 900 " + str(100 + len(people)))
        if level and not await SafeguardingCheck.exists(membership=membership):
            await SafeguardingCheck.create(
                council=council, scheme=scheme, membership=membership, level=level,
                certificate_date=today(now) - timedelta(days=age), checked_by="Gwen Roberts", recorded_by=organiser,
            )

    added = []
    if not await Shift.exists(scheme=scheme):
        start = today(now) + timedelta(days=(1 - today(now).weekday()) % 7 or 7)  # next Tuesday
        visits = await rota.create_shift(organiser, council, scheme.slug, {
            "title": "Tuesday home visits", "place": "Around Abbey ward", "starts_on": start.isoformat(), "start_time": "10:00",
            "end_time": "12:00", "repeat": "weekly", "capacity": "2", "needs_dbs": "enhanced", "home_visit": "yes",
        })
        calls = await rota.create_shift(organiser, council, scheme.slug, {
            "title": "Friday phone calls", "place": "St Anne's church hall, Mill Lane", "starts_on": (start + timedelta(days=3)).isoformat(),
            "start_time": "14:00", "end_time": "16:00", "repeat": "weekly", "capacity": "3", "public": "yes",
        })
        # Some places taken, most left as gaps for the roster to show.
        await rota.sign_up(people["volunteer@northmere.example"], council, scheme.slug, visits.id, start)
        await rota.sign_up(people["volunteer2@northmere.example"], council, scheme.slug, calls.id, start + timedelta(days=3))
        await rota.sign_up(organiser, council, scheme.slug, calls.id, start + timedelta(days=3))
        added.append("a weekly rota")

    if not await HelpRequest.exists(scheme=scheme):
        requester = await _person("maud@northmere.example", "Maud Jenkins", "NM1 1EF")
        await help_requests.ask(requester, council, scheme.slug, {
            "first_name": "Maud", "what": "Someone to chat to once a week. I do not get out much since my fall.",
            "when_needed": "Weekday mornings", "home_visit": "yes", "house": "Flat 3, 22", "street": "Abbey Road",
            "postcode": "NM1 1EF", "contact_by": "phone", "phone": "01632 960 418",
        })
        matched = await help_requests.ask(people["resident@northmere.example"], council, scheme.slug, {
            "first_name": "Sam", "what": "A phone call to check in while my carer is away.", "when_needed": "Next two weeks, evenings",
            "home_visit": "no", "postcode": "NM2 3GH", "contact_by": "email",
        })
        await help_requests.assign(organiser, council, scheme.slug, matched.id, [str(people["volunteer2@northmere.example"].id)])
        added.append("two help requests")

    if not await Event.exists(scheme=scheme):
        day = today(now) + timedelta(days=14)
        await events.create_event(organiser, council, scheme.slug, {
            "title": "Volunteers' coffee morning", "description": "Meet the other volunteers and hear about safeguarding.",
            "place": "St Anne's church hall, Mill Lane", "date": day.isoformat(), "start_time": "10:30", "end_time": "12:00", "capacity": "20",
        })
        added.append("an event")

    if not await HelpOffer.exists(scheme=scheme):
        await HelpOffer.create(council=council, scheme=scheme, author=people["ines@northmere.example"],
                               text="I can lend a wheelchair for days out. Ask the organisers to put us in touch.")

    volunteers = await Membership.filter(scheme=scheme, role="volunteer", status="active").count()
    return f"Volunteering: {volunteers} volunteers in {SCHEME}" + (f" ({', '.join(added)} added)" if added else "")
