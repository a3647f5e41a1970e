"""Raising a concern: the steps of the form, the encrypted draft between them, sending, and the status page."""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise import timezone

from civic import audit, config, mail, ratelimit
from civic.accounts import EMAIL, User
from civic.concerns import handover, routing
from civic.concerns.access import normalise_reference
from civic.concerns.models import Category, Concern, ConcernDraft, ConcernEvent
from civic.concerns.notices import email_reporter, status_url
from civic.concerns.vocabulary import (
    ABOUT,
    CONTACT,
    CRISIS_CATEGORIES,
    DETAILS_LIMIT,
    KNOWS,
    REPORTER_NEXT,
    REPORTER_REFERRAL_NEXT,
    REPORTER_REFERRAL_STATUS,
    REPORTER_STATUS,
    URGENCY,
)
from civic.councils import Council, Ward, known_outside, normalise_postcode_or_part, not_in_area, ward_for_postcode
from civic.db import as_id, in_transaction
from civic.errors import Invalid, NotFound

STEPS = ("about", "category", "details", "where", "urgency", "knows", "contact", "check")
# From the last step saved. Short, because the device may be shared with the person the concern is
# about: long enough to finish after an interruption, not long enough to be found the next day.
DRAFT_LIFETIME = timedelta(hours=2)
# How long a sent draft remembers the concern it became, so the same form sent again (after a timeout on a
# poor signal) shows its reference rather than an empty form. A few minutes are enough for that, and no
# more: on a shared device, sending the form again is a way back to the concern's status page.
SENT_REMEMBERED = timedelta(minutes=5)
SENT = "sent"  # the one answer of a draft already sent: the concern's reference
# No 0/O, 1/I/L: a reference read out over the phone or copied by hand stays right.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PHONE = re.compile(r"^\+?[0-9 ()-]{10,20}$")
NAME_LIMIT = 80

# Which answers each step sets; a step is done when its required answers are there.
STEP_FIELDS = {
    "about": ("about", "subject_name"),
    "category": ("category",),
    "details": ("details",),
    "where": ("postcode", "ward"),
    "urgency": ("urgency",),
    "knows": ("knows",),
    "contact": ("contact_by", "reporter_name", "reporter_email", "reporter_phone"),
}
REQUIRED = {"about": "about", "category": "category", "details": "details", "urgency": "urgency", "knows": "knows", "contact": "contact_by"}
POLITE_LIMIT = (
    "You have sent several concerns in a short time, so we cannot take another just now. "
    "Please wait {wait} and send it again: your answers are saved."
)


class OutsideArea(Invalid):
    """A step's problems, one of them a postcode known to be in another council's area: the page says
    where to find that council (civic.councils.FIND_YOUR_COUNCIL)."""


# The draft


async def load_draft(council: Council, draft_id: str | None) -> dict[str, str]:
    """The answers so far, or none when there is no live draft (or it has been sent)."""
    draft = await _draft(council, draft_id)
    answers = json.loads(draft.answers) if draft else {}
    return {} if SENT in answers else answers


async def _draft(council: Council, draft_id: str | None) -> ConcernDraft | None:
    if not draft_id or len(draft_id) > 64:
        return None
    draft = await ConcernDraft.get_or_none(id=draft_id, council=council)
    if draft is None or draft.expires_at <= timezone.now():
        return None
    return draft


async def delete_draft(council: Council, draft_id: str | None) -> None:
    """Forget the answers so far at once, as someone on a shared device may need to."""
    if draft_id and len(draft_id) <= 64:
        await ConcernDraft.filter(id=draft_id, council=council).delete()


def steps_for(answers: dict[str, str]) -> tuple[str, ...]:
    """The steps this person goes through: someone worried about themselves is not asked whether "the person" knows."""
    if answers.get("about") == "myself":
        return tuple(step for step in STEPS if step != "knows")
    return STEPS


def needs_crisis_support(answers: dict[str, str]) -> bool:
    """Someone worried about their own mental health is told where to get help today, not only how we follow up."""
    return answers.get("about") == "myself" and answers.get("category") in CRISIS_CATEGORIES


def first_unanswered(answers: dict[str, str]) -> str:
    """The first step still to answer ("check" when everything is)."""
    steps = steps_for(answers)
    for step, name in REQUIRED.items():
        if step in steps and not answers.get(name):
            return step
    return "check"


def resume_at(answers: dict[str, str]) -> str:
    """Where someone who left part-way picks up: the first step they have not been through, optional ones
    included ("where" has no required answer, but they have not seen it)."""
    for step in steps_for(answers)[:-1]:
        if any(name not in answers for name in STEP_FIELDS[step]):
            return step
    return first_unanswered(answers)


def may_visit(step: str, answers: dict[str, str]) -> bool:
    steps = steps_for(answers)
    return step in steps and steps.index(step) <= steps.index(first_unanswered(answers))


def step_after(step: str, answers: dict[str, str]) -> str:
    steps = steps_for(answers)
    return steps[steps.index(step) + 1]


def step_before(step: str, answers: dict[str, str]) -> str | None:
    steps = steps_for(answers)
    return steps[steps.index(step) - 1] if step in steps and steps.index(step) > 0 else None


async def save_step(council: Council, draft_id: str | None, step: str, form: dict[str, str]) -> str:
    """Check one step's answers and keep them in the encrypted draft; returns the draft's id.

    Raises Invalid with every problem on the step; nothing is kept until they are all fixed.
    """
    if step not in STEP_FIELDS:
        raise NotFound()
    cleaned = await _clean(council, step, form)
    draft = await _draft(council, draft_id)
    now = timezone.now()
    if draft is not None and SENT in json.loads(draft.answers):
        await draft.delete()  # a new concern: the one sent is not found from this form any more
        draft = None
    if draft is None:
        draft = ConcernDraft(id=secrets.token_urlsafe(32), council=council, answers="{}")
    answers = json.loads(draft.answers)
    answers.update(cleaned)
    draft.answers = json.dumps(answers)
    draft.expires_at = now + DRAFT_LIFETIME
    await draft.save()
    return draft.id


async def _clean(council: Council, step: str, form: dict[str, str]) -> dict[str, str]:
    value = {k: (form.get(k) or "").strip() for k in STEP_FIELDS[step]}
    errors: dict[str, str] = {}
    if step == "about":
        if value["about"] not in ABOUT:
            errors["about"] = "Select who you are worried about"
        if len(value["subject_name"]) > NAME_LIMIT:
            errors["subject_name"] = f"The name must be {NAME_LIMIT} characters or fewer"
    elif step == "category":
        slugs = {c.slug for c in await routing.categories(council)}
        if value["category"] not in slugs:
            errors["category"] = "Select what it is about"
    elif step == "details":
        text = (form.get("details") or "").replace("\r\n", "\n").strip()
        value["details"] = text
        if not text:
            errors["details"] = "Tell us what is worrying you"
        elif len(text) > DETAILS_LIMIT:
            errors["details"] = f"What is worrying you must be {DETAILS_LIMIT:,} characters or fewer: you have {len(text):,}"
    elif step == "where":
        if value["postcode"]:
            # The first part of a postcode is enough to find the team (a sector places it in its ward) and
            # says less about where the person lives: the hint offers it to someone not sure of the rest.
            try:
                value["postcode"] = normalise_postcode_or_part(value["postcode"])
            except Invalid:
                errors["postcode"] = "Enter a postcode, like NM1 4AB, or its first part, like NM1 4 or NM1, or leave it blank"
        if value["ward"] and not await Ward.filter(id=as_id(value["ward"]), council=council).exists():
            errors["ward"] = "Select a neighbourhood from the list"
        if value["postcode"] and "postcode" not in errors:
            ward = await ward_for_postcode(council, value["postcode"])
            # Only a postcode known to be elsewhere is refused; one the council's list does not know is kept.
            if ward is None and await known_outside(council, value["postcode"]):
                errors["postcode"] = (
                    f"{not_in_area(council, value['postcode'])} If the person lives elsewhere, "
                    "contact their own council. You can also leave the postcode blank."
                )
                raise OutsideArea(errors)
            if not errors and not value["ward"]:
                value["ward"] = str(ward.id) if ward else ""
    elif step == "urgency":
        if value["urgency"] not in URGENCY:
            errors["urgency"] = "Select how soon someone should look at this"
    elif step == "knows":
        if value["knows"] not in KNOWS:
            errors["knows"] = "Select whether they know you are telling us"
    elif step == "contact":
        how = value["contact_by"]
        if how not in CONTACT:
            errors["contact_by"] = "Select whether we can contact you"
        if how == "email" and not (EMAIL.match(value["reporter_email"]) and len(value["reporter_email"]) <= 254):
            errors["reporter_email"] = "Enter your email address, like name@example.com"
        if how == "phone" and not PHONE.match(value["reporter_phone"]):
            errors["reporter_phone"] = "Enter your phone number, like 07700 900 982"
        if len(value["reporter_name"]) > NAME_LIMIT:
            errors["reporter_name"] = f"Your name must be {NAME_LIMIT} characters or fewer"
        if how == "none":
            # Anonymous means anonymous: nothing that says who they are is kept.
            value.update(reporter_name="", reporter_email="", reporter_phone="")
        elif how == "email":
            value["reporter_phone"] = ""
        elif how == "phone":
            value["reporter_email"] = ""
    if errors:
        raise Invalid(errors)
    return value


def prefill(step: str, answers: dict[str, str], user: User | None) -> dict[str, str]:
    """What the step's form shows: the answers so far, or a signed-in resident's own details."""
    values = dict(answers)
    if step == "contact" and user is not None and not answers.get("contact_by"):
        values.setdefault("reporter_name", user.display_name)
        values.setdefault("reporter_email", user.email)
    return values


@dataclass
class Summary:
    """The check-your-answers page: each question, its answer and the step that changes it."""

    rows: list[tuple[str, str, str]]
    crisis_support: bool = False


async def summary(council: Council, answers: dict[str, str]) -> Summary:
    category = next((c.name for c in await routing.categories(council, include_retired=True) if c.slug == answers.get("category")), "")
    ward = await Ward.get_or_none(id=as_id(answers.get("ward", "")), council=council) if answers.get("ward") else None
    where = ", ".join(p for p in (answers.get("postcode", ""), ward.name if ward else "") if p) or "Not given"
    contact = CONTACT.get(answers.get("contact_by", ""), "")
    if answers.get("contact_by") in ("email", "phone"):
        details = [answers.get("reporter_name", ""), answers.get("reporter_email") or answers.get("reporter_phone", "")]
        contact += ": " + ", ".join(d for d in details if d)
    about = ABOUT.get(answers.get("about", ""), "")
    if answers.get("subject_name"):
        about += f" ({answers['subject_name']})"
    rows = [
        ("Who it is about", about, "about"),
        ("What it is about", category, "category"),
        ("What is worrying you", answers.get("details", ""), "details"),
        ("Where", where, "where"),
        ("How soon", URGENCY[answers["urgency"]].label if answers.get("urgency") in URGENCY else "", "urgency"),
        ("They know you are telling us", KNOWS.get(answers.get("knows", ""), ""), "knows"),
        ("Contact", contact, "contact"),
    ]
    steps = steps_for(answers)
    return Summary(rows=[row for row in rows if row[2] in steps], crisis_support=needs_crisis_support(answers))


# Sending


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


async def submit(council: Council, draft_id: str | None, user: User | None, ip: str, honeypot: str = "") -> tuple[Concern, str]:
    """Turn the draft into a concern; returns it and the secret for its status link.

    A draft sent again (after a timeout, or twice at once) returns the concern it became, and no other.
    A filled-in honeypot field or too many concerns from one address or account are refused, and
    the draft is kept so nothing typed is lost.
    """
    draft = await _draft(council, draft_id)
    answers = json.loads(draft.answers) if draft else {}
    if SENT in answers:
        return await _sent_as(council, answers)
    if draft is None or first_unanswered(answers) != "check":
        raise Invalid({"draft": "Some answers are missing"})
    if honeypot.strip():
        raise Invalid({"website": "Leave this field empty. It helps us stop automated messages."})
    rate = config.current().concern_rate
    await ratelimit.hit(rate, "concern-ip", ip, message=POLITE_LIMIT)
    if user is not None:
        await ratelimit.hit(rate, "concern-user", str(user.id), message=POLITE_LIMIT)

    categories = {c.slug: c for c in await routing.categories(council, include_retired=True)}
    category: Category | None = categories.get(answers["category"])
    ward = await Ward.get_or_none(id=as_id(answers.get("ward", "")), council=council) if answers.get("ward") else None
    urgency = URGENCY[answers["urgency"]]
    key = secrets.token_urlsafe(18)
    reference = new_reference()
    while await Concern.filter(reference=reference).exists():
        reference = new_reference()
    contact_by = answers["contact_by"]
    now = timezone.now()
    async with in_transaction():
        # Two sends at once take turns here (PostgreSQL locks the row; SQLite runs one transaction at a
        # time): the second finds the draft sent and makes nothing.
        locked = await ConcernDraft.select_for_update().get_or_none(id=draft.id)
        if locked is None:
            raise Invalid({"draft": "Some answers are missing"})
        if SENT in json.loads(locked.answers):
            sent = json.loads(locked.answers)
        else:
            sent = None
            concern = await Concern.create(
                council=council,
                reference=reference,
                status_key=key,
                about=answers["about"],
                category=category,
                ward=ward,
                urgency=answers["urgency"],
                urgency_rank=urgency.rank,
                # Someone worried about themselves is the person, and knows.
            person_knows="yes" if answers["about"] == "myself" else answers["knows"],
                details=answers["details"],
                subject_name=answers.get("subject_name") or None,
                postcode=answers.get("postcode") or None,
                contact_by=contact_by,
                reporter_name=answers.get("reporter_name") or None if contact_by != "none" else None,
                reporter_email=answers.get("reporter_email") or None if contact_by == "email" else None,
                reporter_phone=answers.get("reporter_phone") or None if contact_by == "phone" else None,
                reporter=user if contact_by != "none" else None,
                due_at=now + urgency.respond_within,
            )
            await ConcernEvent.create(concern=concern, kind="created")
            await audit.record(None, "concern.raised", concern, council=council)
            # The answers go; the draft keeps only the reference, for a while, in case the same form comes again.
            locked.answers, locked.expires_at = json.dumps({SENT: reference}), now + SENT_REMEMBERED
            await locked.save(update_fields=["answers", "expires_at"])
            if category is not None and category.refer_straight_away:
                team = await routing.route(council, category, ward)
                if team is not None:
                    await handover.refer_concern(concern, team, None, automatic=True)
                else:
                    await ConcernEvent.create(
                        concern=concern, kind="auto-refer-failed",
                        text="This category is referred straight away, but no team is set up for it: triage it instead.",
                    )
            queued = await email_reporter(
                concern, council, key,
                f"We have received your concern ({reference})",
                f"Thank you for telling {council.name} about your concern. Your reference is {reference}.\n\n"
                f"We aim to have someone look at it {urgency.promise}.\n\n"
                f"You can see how it is going here (keep this link to yourself):\n{{status_url}}\n\n"
                f"If someone is in immediate danger, call {council.emergency_phone}.\n",
            )
    if sent is not None:
        return await _sent_as(council, sent)
    if queued:
        await mail.deliver(queued)
    return concern, key


async def _sent_as(council: Council, answers: dict[str, str]) -> tuple[Concern, str]:
    concern = await Concern.get_or_none(council=council, reference=answers[SENT])
    if concern is None:  # purged or deleted since
        raise Invalid({"draft": "Some answers are missing"})
    return concern, concern.status_key


# The status page, for the person who raised it


@dataclass
class ReporterView:
    """Safe wording only: never the outcome, never what anyone else wrote about the person."""

    reference: str
    raised_at: Any
    status: str
    status_text: str
    next_text: str
    promise: str
    questions: list[ConcernEvent]
    signpost_name: str
    signpost_url: str
    can_add: bool
    url: str


async def _reporter_concern(council: Council, reference: str, key: str) -> Concern:
    concern = await Concern.get_or_none(council=council, reference=normalise_reference(reference))
    # Compare in constant time, and answer a wrong key exactly as an unknown reference.
    if concern is None or not hmac.compare_digest(concern.status_key.encode(), (key or "").encode()):
        raise NotFound()
    return concern


async def reporter_wording(concern: Concern) -> tuple[str, str]:
    """The safe status and "what next" the person who raised it reads, refined by what the team reported."""
    if concern.status == "referred":
        referral = await handover.current_referral(concern)
        if referral is not None and referral.status in REPORTER_REFERRAL_STATUS:
            return REPORTER_REFERRAL_STATUS[referral.status], REPORTER_REFERRAL_NEXT[referral.status]
    return REPORTER_STATUS[concern.status], REPORTER_NEXT[concern.status]


async def reporter_view(council: Council, reference: str, key: str) -> ReporterView:
    """What the person who raised the concern may see, by its reference and the secret in their link."""
    concern = await _reporter_concern(council, reference, key)
    shown = concern
    if concern.merged_into_id:
        # A duplicate follows the concern it was merged into, so nobody is told "closed" while it is being handled.
        shown = await Concern.get_or_none(id=concern.merged_into_id) or concern
    # The council's questions, and when the reporter added something: not what they added, which,
    # like their concern, is not shown to whoever holds the link (it may be the person it is about).
    # Only this reporter's own additions: what a duplicate's reporter added is kept on the concern it
    # was merged into, and showing it here would say someone else raised it too.
    questions = list(await ConcernEvent.filter(concern=concern, kind__in=["info-requested", "info-added"], from_duplicate="").order_by("created_at", "id"))
    if shown is not concern:
        questions += await ConcernEvent.filter(concern=shown, kind="info-added", from_duplicate=concern.reference)
        questions.sort(key=lambda event: (event.created_at, event.id))
    status_text, next_text = await reporter_wording(shown)
    return ReporterView(
        reference=concern.reference,
        raised_at=concern.created_at,
        status=shown.status,
        status_text=status_text,
        next_text=next_text,
        promise=URGENCY[concern.urgency].promise,
        questions=questions,
        signpost_name=concern.signpost_name,
        signpost_url=concern.signpost_url,
        can_add=shown.status != "closed",
        url=status_url(concern.reference, key, council),
    )


async def add_information(council: Council, reference: str, key: str, text: str, ip: str) -> None:
    """The person who raised it adds something: the officers see it in the history."""
    concern = await _reporter_concern(council, reference, key)
    from_duplicate = ""
    if concern.merged_into_id:
        from_duplicate = concern.reference  # so nobody reads it as the kept concern's own reporter's
        concern = await Concern.get(id=concern.merged_into_id)
    text = (text or "").replace("\r\n", "\n").strip()
    if concern.status == "closed":
        raise Invalid({"information": "This concern is closed. If you are still worried, raise a new concern."})
    if not text:
        raise Invalid({"information": "Enter what you want to add"})
    if len(text) > DETAILS_LIMIT:
        raise Invalid({"information": f"What you add must be {DETAILS_LIMIT:,} characters or fewer: you have {len(text):,}"})
    await ratelimit.hit(config.current().concern_rate, "concern-ip", ip, message=POLITE_LIMIT)
    async with in_transaction():
        await ConcernEvent.create(concern=concern, kind="info-added", text=text, from_duplicate=from_duplicate)
        concern.updated_at = timezone.now()
        await concern.save(update_fields=["updated_at"])
        if concern.status == "referred":
            referral = await handover.current_referral(concern)
            if referral is not None:
                await handover.announce("concern.updated", referral)
