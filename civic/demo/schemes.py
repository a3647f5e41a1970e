"""Demo schemes in Northmere: running, paused and pending ones across the categories and wards, with news and a report."""

from __future__ import annotations

from tortoise import timezone

from civic.accounts import User
from civic.councils import Council, Ward
from civic.schemes import proposals
from civic.schemes.models import NewsPost, Report, Scheme
from civic.schemes.text import slugify

OFFICER = "officer@northmere.example"
# name, organiser, status, categories, audiences, wards, summary, times, venue
SCHEMES = [
    ("Abbey Befriending Circle", "organiser@northmere.example", "active", ["befriending", "older-people"], ["older-people"],
     ["Abbey", "St Anne's"], "Weekly phone calls and visits for older neighbours who live alone", "Calls any weekday; visits by arrangement", "In people's own homes"),
    ("Harbourside Food Pantry", "organiser@northmere.example", "active", ["food"], ["everyone"],
     ["Harbourside", "Millbrook"], "Free groceries and a warm drink, no questions asked", "Fridays, 4pm to 6pm", "Harbourside Community Centre, Quay Street"),
    ("Lifts to Appointments", "volunteer@northmere.example", "active", ["transport", "health"], ["older-people", "disabled-people"],
     ["Abbey", "Castlefields", "Harbourside", "Millbrook", "Oakridge", "St Anne's"], "Volunteer drivers for hospital and GP appointments",
     "Weekdays, booked two days ahead", "From your door"),
    ("Millbrook Youth Club", "volunteer2@northmere.example", "active", ["young-people"], ["young-people"],
     ["Millbrook", "Oakridge"], "Games, music and homework help for 11 to 16 year olds", "Tuesdays and Thursdays, 6pm to 8pm", "Millbrook Scout Hut, Mill Lane"),
    ("Castlefields Parents' Group", "volunteer@northmere.example", "active", ["families"], ["families", "children"],
     ["Castlefields"], "Stay and play for parents and carers of under-5s", "Wednesdays, 9.30am to 11am", "Castlefields Library"),
    ("Oakridge Good Neighbours", "volunteer2@northmere.example", "paused", ["practical"], ["everyone"],
     ["Oakridge"], "Odd jobs, gardening and help with forms", "Saturday mornings", "Around Oakridge"),
    ("St Anne's Street Pastors", "organiser@northmere.example", "active", ["other", "health"], ["adults"],
     ["St Anne's", "Abbey"], "Trained volunteers on the streets on Friday and Saturday nights", "Fridays and Saturdays, 10pm to 3am", "Around the town centre"),
    ("Walk and Talk", "resident@northmere.example", "active", ["health", "befriending"], ["adults"],
     ["Castlefields", "Harbourside"], "A gentle hour's walk and a chat, for anyone feeling low", "Sundays at 11am", "Meet at Castlefields Park gates"),
    ("Cwtch Café – Welsh & Polish chat", "volunteer@northmere.example", "active", ["befriending", "other"], ["everyone"],
     ["Abbey"], "Croeso! Witamy! Coffee and conversation in Cymraeg, polski and English", "First Monday of the month, 2pm", "Abbey Methodist Hall"),
    ("Northmere Repair Café", "resident@northmere.example", "pending", ["practical"], ["everyone"],
     ["Millbrook"], "Bring broken things and we fix them together", "Last Saturday of the month, 10am to 1pm", "Millbrook Church Hall"),
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
    for name, organiser_email, status, categories, audiences, ward_names, summary, times, venue in SCHEMES:
        if await Scheme.exists(council=council, slug=slugify(name)):
            continue
        organiser = await User.get(email=organiser_email)
        values = {
            "name": name, "summary": summary, "times": times, "venue": venue, "categories": categories, "audiences": audiences,
            "wards": [str(wards[w].id) for w in ward_names],
            "description": f"{summary}.\n\nEveryone is welcome. We are all volunteers and we visit in pairs.",
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
