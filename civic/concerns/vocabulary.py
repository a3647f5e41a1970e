"""The words of the concern form and of its statuses, in one place: what residents and officers read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# Who the concern is about.
ABOUT = {
    "myself": "Myself",
    "family": "My family",
    "neighbour": "A neighbour",
    "child": "A child I know",
    "someone-else": "Someone else",
}


@dataclass(frozen=True)
class Urgency:
    label: str
    rank: int  # the queue sorts by this first: 0 is most urgent
    respond_within: timedelta
    promise: str  # completes "We aim to have someone look at it ..."


URGENCY = {
    "day": Urgency("Within a day", 0, timedelta(days=1), "within a day"),
    "week": Urgency("Within a week", 1, timedelta(days=7), "within a week"),
    "when-you-can": Urgency("When you can", 2, timedelta(days=28), "within four weeks"),
}

# Does the person know you are raising this?
KNOWS = {
    "yes": "Yes",
    "no": "No",
    "not-sure": "I'm not sure",
}

# May we contact you, and how.
CONTACT = {
    "email": "Yes, by email",
    "phone": "Yes, by phone",
    "none": "No, I want to stay anonymous",
}
# What each choice means for the person choosing: only an email address gets the private link sent to
# it. Everyone sees the link once, on the page after sending (civic.concerns.intake.submit).
CONTACT_HINTS = {
    "email": "We email you your reference and a private link to see how it is going, and tell you when we have a question.",
    "phone": "We ring you if we need to. We send you nothing, so keep the private link you see after sending: it shows how it is going.",
    "none": (
        "We will not know who you are, and we cannot contact you. Keep the private link you see after sending: "
        "it is the only way to see how it is going or answer a question, and we cannot send it to you again."
    ),
}

# The same answers as officers read them on the concern page: the resident's words above speak as the reporter.
OFFICER_ABOUT = {
    "myself": "The reporter themself",
    "family": "The reporter's family",
    "neighbour": "A neighbour of the reporter",
    "child": "A child the reporter knows",
    "someone-else": "Someone else",
}
OFFICER_KNOWS = {
    "yes": "Yes",
    "no": "No",
    "not-sure": "The reporter is not sure",
}
OFFICER_CONTACT = {
    "email": "By email",
    "phone": "By phone",
    "none": "Anonymous: they did not want to be contacted",
}

# The council's own list starts as these; officers add, rename and retire categories.
DEFAULT_CATEGORIES = [
    ("isolation", "Isolation or loneliness"),
    ("money-housing", "Money or housing worries"),
    ("caring", "Pressure from caring for someone"),
    ("child-wellbeing", "A child's wellbeing"),
    ("leaving-home", "A young person at risk of leaving home"),
    ("mental-health", "Mental health"),
    ("other", "Something else"),
]

# Categories (by slug) where someone worried about themselves is shown crisis support beside 999: the
# default list's, and those a council is likely to add for self-harm or suicide.
CRISIS_CATEGORIES = frozenset({"mental-health", "self-harm", "suicide", "suicidal-thoughts"})

# Internal statuses, as officers see them.
STATUS = {
    "new": "New",
    "open": "Being looked at",
    "referred": "Referred to early help",
    "closed": "Closed",
}

# Statuses in which the person who raised it is still waiting for an answer: past its respond-by time,
# a concern in one of these is overdue (opening it is not an answer; referring or closing it is).
UNANSWERED = ("new", "open")

# What the person who raised it sees: safe wording only, never an outcome.
REPORTER_STATUS = {
    "new": "Received",
    "open": "Being looked at",
    "referred": "Passed to the early help team",
    "closed": "Closed",
}

REPORTER_NEXT = {
    "new": "Someone will read what you told us and decide who is best placed to help.",
    "open": "Someone at the council is looking at what you told us.",
    "referred": "The council's early help team has what you told us. They work with families and people "
    "who need support, and they will decide what to do next.",
    "closed": "The council has finished looking at this. Thank you for telling us.",
}

# Once referred, what the team's system reports (part 2's API) may refine the wording; never an outcome.
REPORTER_REFERRAL_STATUS = {
    "allocated": "A key worker has been allocated",
}
REPORTER_REFERRAL_NEXT = {
    "allocated": "The council's early help team has given what you told us to one of its key workers, "
    "who will decide what to do next.",
}

# A referral's status, as officers and key workers read it: "sent" until the team says it has it. A
# referral is "sent" even to a team with no case system, so the words say only that it was referred: how
# it reached the team (or did not) is the concern page's progress lines.
REFERRAL_STATUS = {
    "sent": "Referred: the team has not yet said it received it",
    "received": "Received by the team",
    "allocated": "Allocated to a key worker",
    "closed": "Closed by the team",
}

# Why a concern was closed, for officers and reports.
CLOSED_REASONS = {
    "no-further-action": "No further action",
    "signposted": "Signposted to a local scheme",
    "merged": "Merged into another concern",
    "closed-by-team": "Closed by the early help team",
}

# History entries, as officers read them.
EVENT = {
    "created": "Concern raised",
    "opened": "First opened",
    "assigned": "Assigned to a team",
    "note": "Internal note",
    "info-requested": "Asked the person who raised it for more information",
    "info-added": "More information from the person who raised it",
    "signposted": "Signposted to a scheme",
    "closed": "Closed with no further action",
    "merged-into": "Merged into another concern",
    "merged-from": "A duplicate was merged into this concern",
    "referred": "Referred to early help",
    "auto-refer-failed": "Could not be referred straight away",
    "escalated": "Not opened in time: the duty address was told",
    "escalated-untold": "Not opened in time: no duty address is set, so nobody was emailed",
    "escalated-unanswered": "Not referred or closed in time: the duty address was told",
    "escalated-unanswered-untold": "Not referred or closed in time: no duty address is set, so nobody was emailed",
    "contact-shown": "Contact details shown",
    "status": "Status update from the early help team",
}
# An "info-added" entry from the reporter of a duplicate merged into the concern, not from its own.
FROM_DUPLICATE = "More information from the person who raised duplicate {reference}"

DETAILS_LIMIT = 1200  # characters: enough for what matters, short enough to read at once
NOTE_LIMIT = 2000
