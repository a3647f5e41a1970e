"""Demo schemes in Northmere: running, paused and pending ones across the categories and wards, with news and a report."""

from __future__ import annotations

from tortoise import timezone

from civic.accounts import User
from civic.councils import Council, Ward
from civic.schemes import proposals
from civic.schemes.models import NewsPost, Report, Scheme
from civic.schemes.text import slugify

OFFICER = "officer@northmere.example"
# name, organiser, status, categories, audiences, wards, summary, times, venue, description: each scheme in its own words,
# as its organisers would write it, so the directory and a scheme's page read like a real town's.
SCHEMES = [
    ("Abbey Befriending Circle", "organiser@northmere.example", "active", ["befriending", "older-people"], ["older-people"],
     ["Abbey", "St Anne's"], "Weekly phone calls and visits for older neighbours who live alone", "Calls any weekday; visits by arrangement", "In people's own homes",
     "We match older people who live alone with a volunteer who phones once a week for a chat, at a time that suits you.\n\n"
     "If you would like company in person, two of us can visit you at home every other week. Many of our members have been "
     "friends with their volunteer for years."),
    ("Harbourside Food Pantry", "organiser@northmere.example", "active", ["food"], ["everyone"],
     ["Harbourside", "Millbrook"], "Free groceries and a warm drink, no questions asked", "Fridays, 4pm to 6pm", "Harbourside Community Centre, Quay Street",
     "Come along on a Friday and take what you need from tinned food, bread, fruit and vegetables, and toiletries. "
     "You do not need a referral and nobody will ask why you have come.\n\n"
     "The kettle is always on, and there is a quiet corner if you would like to talk to someone about money or bills."),
    ("Lifts to Appointments", "volunteer@northmere.example", "active", ["transport", "health"], ["older-people", "disabled-people"],
     ["Abbey", "Castlefields", "Harbourside", "Millbrook", "Oakridge", "St Anne's"], "Volunteer drivers for hospital and GP appointments",
     "Weekdays, booked two days ahead", "From your door",
     "Our drivers take you from your door to the GP, the dentist or Northmere General Hospital, wait with you, and bring you home.\n\n"
     "We ask for a donation towards petrol if you can afford it, but nobody is turned away. Tell us if you use a wheelchair or a "
     "walking frame: some of our cars have more room."),
    ("Millbrook Youth Club", "volunteer2@northmere.example", "active", ["young-people"], ["young-people"],
     ["Millbrook", "Oakridge"], "Games, music and homework help for 11 to 16 year olds", "Tuesdays and Thursdays, 6pm to 8pm", "Millbrook Scout Hut, Mill Lane",
     "A safe, friendly place to spend two evenings a week: table tennis, pool, a music corner with guitars and a keyboard, "
     "and a quiet room with volunteers who can help with homework.\n\n"
     "It costs 50p a night, with toast and squash included. A parent or carer fills in a short form the first time."),
    ("Castlefields Parents' Group", "volunteer@northmere.example", "active", ["families"], ["families", "children"],
     ["Castlefields"], "Stay and play for parents and carers of under-5s", "Wednesdays, 9.30am to 11am", "Castlefields Library",
     "Bring your baby or toddler to play, sing and share a story in the library's children's corner while you have a cup of "
     "tea with other parents.\n\n"
     "Once a month a health visitor drops in to answer questions about sleep, feeding and growing up. Buggies can be left by the door."),
    ("Oakridge Good Neighbours", "volunteer2@northmere.example", "paused", ["practical"], ["everyone"],
     ["Oakridge"], "Odd jobs, gardening and help with forms", "Saturday mornings", "Around Oakridge",
     "A few neighbours with tools and time to spare: we put up shelves, change light bulbs, tidy gardens and help fill in forms "
     "for benefits or a blue badge.\n\n"
     "We are taking a break while we find a new coordinator, and hope to start again in the spring."),
    ("St Anne's Street Pastors", "organiser@northmere.example", "active", ["other", "health"], ["adults"],
     ["St Anne's", "Abbey"], "Trained volunteers on the streets on Friday and Saturday nights", "Fridays and Saturdays, 10pm to 3am", "Around the town centre",
     "Teams from Northmere's churches walk the town centre late at night to help anyone who is lost, hurt, upset or has had too much "
     "to drink. We hand out water, flip-flops and foil blankets, and wait with people until a friend or a taxi arrives.\n\n"
     "We work alongside the police and the door staff, and every volunteer trains for twelve weeks before their first night."),
    ("Walk and Talk", "resident@northmere.example", "active", ["health", "befriending"], ["adults"],
     ["Castlefields", "Harbourside"], "A gentle hour's walk and a chat, for anyone feeling low", "Sundays at 11am", "Meet at Castlefields Park gates",
     "We walk slowly through Castlefields Park and along the river path, then stop for a coffee at the boathouse. Come on your own "
     "or with a friend; you can talk as much or as little as you like.\n\n"
     "The route is flat and takes about an hour. We still go in the rain, so bring a coat."),
    ("Cwtch Café – Welsh & Polish chat", "volunteer@northmere.example", "active", ["befriending", "other"], ["everyone"],
     ["Abbey"], "Croeso! Witamy! Coffee and conversation in Cymraeg, polski and English", "First Monday of the month, 2pm", "Abbey Methodist Hall",
     "An afternoon of coffee, cake and chat for Welsh and Polish speakers, people learning either language, and anyone who misses "
     "hearing their own.\n\n"
     "Beginners are very welcome: we put a table aside for learners, and there is always someone happy to switch to English."),
    ("Northmere Repair Café", "resident@northmere.example", "pending", ["practical"], ["everyone"],
     ["Millbrook"], "Bring broken things and we fix them together", "Last Saturday of the month, 10am to 1pm", "Millbrook Church Hall",
     "Bring a lamp that will not light, a toaster that will not pop, a torn coat or a wobbly chair, and sit with one of our volunteer "
     "fixers while they mend it and show you how.\n\n"
     "Repairs are free; we ask you to pay for any new parts. We cannot take gas appliances or anything larger than you can carry."),
]
NEWS = {
    "Harbourside Food Pantry": [("Open on the bank holiday", "We will be open as usual on Friday. Bring a bag if you can.")],
    "Millbrook Youth Club": [("Summer trip", "We are going to the coast on 12 August. Forms from the club.")],
}
REPORT = ("Oakridge Good Neighbours", "resident@northmere.example", "wrong", "The phone number goes to a private house, not the scheme.")


async def seed_schemes(council: Council) -> str:
    """Load the demo schemes; running it again changes nothing."""
    officer = await User.get(email=OFFICER)
    wards = {w.name: w for w in await Ward.filter(council=council)}
    created = 0
    for name, organiser_email, status, categories, audiences, ward_names, summary, times, venue, description in SCHEMES:
        if await Scheme.exists(council=council, slug=slugify(name)):
            continue
        organiser = await User.get(email=organiser_email)
        values = {
            "name": name, "summary": summary, "times": times, "venue": venue, "categories": categories, "audiences": audiences,
            "wards": [str(wards[w].id) for w in ward_names],
            "description": description,
            "how_to_get_help": "Send us a message from this page and one of us will get back to you within two days.",
            "how_to_volunteer": "Send us a message. We ask every volunteer for a reference, and a DBS check if you will visit people at home.",
            "safeguarding_lead_name": "Gwen Roberts", "safeguarding_lead_role": "Safeguarding lead for the committee",
        }
        scheme = await proposals.propose(organiser, council, values)
        if status != "pending":
            await Scheme.filter(id=scheme.id).update(status=status, decided_by=officer, decided_at=timezone.now())
        for title, body in NEWS.get(name, []):
            await NewsPost.create(council=council, scheme=scheme, author=organiser, title=title, body=body)
        created += 1
    scheme_name, reporter_email, reason, details = REPORT
    reported = await Scheme.get(council=council, slug=slugify(scheme_name))
    await Report.get_or_create(
        council=council, scheme=reported, reporter=await User.get(email=reporter_email), defaults={"reason": reason, "details": details}
    )
    total = await Scheme.filter(council=council).count()
    return f"Schemes: {total} ({created} added), one waiting for approval and one reported"
