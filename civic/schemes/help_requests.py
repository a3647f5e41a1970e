"""Help requests: a resident asks a scheme for help, an organiser matches volunteers, who see only what the job needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tortoise import timezone

from civic import audit, mail
from civic.accounts import User
from civic.councils import Council, normalise_postcode, site_url
from civic.db import as_id, in_transaction
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.mail import OutgoingEmail
from civic.schemes import access, safeguarding
from civic.schemes.models import Membership, Scheme
from civic.schemes.proposals import require_poster, scheme_url, tell_organisers
from civic.schemes.running import Assignment, HelpRequest, SafeguardingCheck
from civic.schemes.text import one_line, paragraphs, valid_phone
from civic.schemes.when import today

STATUSES = ("open", "matched", "done", "cancelled")
STATUS_NAMES = {"open": "Open", "matched": "Matched", "done": "Done", "cancelled": "Cancelled"}
# What the requester reads under the status on their own page.
STATUS_TEXT = {
    "open": "The organisers have your request and are looking for a volunteer.",
    "matched": "The organisers have matched you with a volunteer.",
    "done": "The help you asked for has been given.",
    "cancelled": "This request was cancelled.",
}
LIVE = ("asked", "accepted")  # assignments still counting towards the job
CONTACT_CHOICES = {"email": "By email", "phone": "By phone"}
SAME_REQUEST_WITHIN = timedelta(minutes=10)  # an identical request sooner than this is the same one sent twice
LIMITS = {"first_name": 40, "what": 2000, "when_needed": 200, "house": 80, "street": 120}


def volunteers_needed(scheme: Scheme, request: HelpRequest) -> int:
    """Two for a home visit when the scheme visits in pairs; otherwise one."""
    return 2 if scheme.visit_in_pairs and request.home_visit else 1


def dbs_needed(scheme: Scheme, request: HelpRequest) -> str:
    """The DBS check a volunteer needs for this request: the scheme's level for home visits; none otherwise."""
    return scheme.home_visit_dbs if request.home_visit else "none"


def _and_names(users: list[User]) -> str:
    return " and ".join(str(u) for u in users)


def first_name(user: User) -> str:
    name = str(user.display_name or "").strip()
    return name.split()[0] if name else "A volunteer"


def _requester_url(council: Council, request: HelpRequest) -> str:
    return f"{site_url(council)}/help-requests/{request.id}"


def _organiser_url(council: Council, scheme: Scheme, request: HelpRequest) -> str:
    return f"{scheme_url(council, scheme)}/requests/{request.id}"


def _job_url(council: Council, scheme: Scheme, request: HelpRequest) -> str:
    return f"{scheme_url(council, scheme)}/jobs/{request.id}"


# Asking for help


def _check_request(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    visit = values.get("home_visit", "")
    missing = {
        "first_name": "Enter your first name",
        "what": "Say what help you need",
        "when_needed": "Say when you need help, like Tuesday mornings",
    }
    # The house and street are asked for only when someone comes to the home; otherwise nobody needs
    # them, so they are neither required nor kept, whatever the form sent.
    address = {"house": "Enter your house number or name", "street": "Enter your street"}
    for name, message in {**missing, **(address if visit == "yes" else {})}.items():
        value = paragraphs(values.get(name)) if name == "what" else one_line(values.get(name))
        if not value:
            errors[name] = message
        elif len(value) > LIMITS[name]:
            errors[name] = f"This must be {LIMITS[name]} characters or fewer (it has {len(value)})"
        checked[name] = value
    if visit != "yes":
        checked.update(house="", street="")
    try:
        checked["postcode"] = normalise_postcode(values.get("postcode", ""))
    except Invalid:
        errors["postcode"] = "Enter your postcode, like NM1 4AB"
    if visit not in ("yes", "no"):
        errors["home_visit"] = "Say whether someone needs to come to your home"
    checked["home_visit"] = visit == "yes"
    contact_by = values.get("contact_by", "")
    if contact_by not in CONTACT_CHOICES:
        errors["contact_by"] = "Choose how the organisers should contact you"
    checked["contact_by"] = contact_by
    phone = one_line(values.get("phone"))
    if contact_by == "phone" and not phone:
        errors["phone"] = "Enter the phone number to call you on"
    elif phone and not valid_phone(phone):
        errors["phone"] = "Enter a UK phone number, like 07700 900 123"
    checked["phone"] = phone or None
    if errors:
        raise Invalid(errors)
    return checked


async def ask(actor: User | None, council: Council, slug: str, values: dict[str, Any]) -> HelpRequest:
    """A signed-in resident asks a scheme for help; only its organisers see the request."""
    actor = require_poster(actor)
    scheme, _ = await access.find(actor, council, slug)
    checked = _check_request(values)
    if scheme.status != "active":
        raise Conflict("This scheme is not taking requests for help at the moment.")
    async with in_transaction():
        # The same request again within minutes is a second press of the button (or a page sent
        # twice on a poor signal): it is the one already made, not a second for the organisers.
        await User.select_for_update().get(id=actor.id)  # PostgreSQL: two at once take turns here
        recent = await HelpRequest.filter(scheme=scheme, requester=actor, status="open", created_at__gte=timezone.now() - SAME_REQUEST_WITHIN)
        same = next((r for r in recent if all(getattr(r, name) == value for name, value in checked.items())), None)
        if same is not None:
            return same
        request = await HelpRequest.create(council=council, scheme=scheme, requester=actor, **checked)
        await audit.record(actor, "help_request.created", request, council=council)
        queued = [
            await mail.queue(
                actor.email,
                f"Your request for help from {scheme.name}",
                f"We have sent your request to the organisers of {scheme.name}. They are local volunteers.\n\n"
                f"We will email you when they match you with a volunteer. You can see where it has got to, "
                f"or cancel it, here:\n\n{_requester_url(council, request)}\n",
                council_id=council.id,
            ),
            *await tell_organisers(
                scheme,
                f"A new request for help to {scheme.name}",
                f"Someone has asked {scheme.name} for help. See what they need and match a volunteer here:\n\n"
                f"{_organiser_url(council, scheme, request)}\n",
            ),
        ]
    await mail.deliver(queued)
    return request


# The requester's own page


async def my_requests(actor: User | None, council: Council) -> list[HelpRequest]:
    """Someone's own requests for help in this council, newest first."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    return list(await HelpRequest.filter(requester=actor, council=council).prefetch_related("scheme"))


async def requester_page(actor: User | None, council: Council, request_id: int) -> HelpRequest:
    """One request, for the person who asked; nobody else may know it exists."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    request = await HelpRequest.get_or_none(id=request_id, council=council, requester=actor).prefetch_related("scheme")
    if request is None:
        raise NotFound()
    return request


async def cancel_as_requester(actor: User | None, council: Council, request_id: int, reason: str) -> HelpRequest:
    """The person who asked cancels their request, saying why."""
    request = await requester_page(actor, council, request_id)
    return await _cancel(actor, council, request.scheme, request, reason, by="requester")


# What organisers see and do


@dataclass
class Candidate:
    """A volunteer an organiser might match, with their check and how many live jobs they have."""

    membership: Membership
    check: safeguarding.CheckStatus
    live_jobs: int
    shortfall: str = ""  # what their check lacks for this job, e.g. "has no DBS check recorded": they cannot do it
    caution: str = ""  # for a home visit the scheme asks no check for: what is missing, so matching them needs a confirmation

    @property
    def user(self) -> User:
        return self.membership.user


@dataclass
class RequestPage:
    scheme: Scheme
    request: HelpRequest
    assignments: list[Assignment] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    needed: int = 1
    needs_dbs: str = "none"  # the check a volunteer needs for this job

    @property
    def live(self) -> list[Assignment]:
        return [a for a in self.assignments if a.status in LIVE]

    @property
    def still_needed(self) -> int:
        return max(0, self.needed - len(self.live)) if self.request.status in ("open", "matched") else 0

    @property
    def needs_confirmation(self) -> bool:
        """Whether someone listed could be matched to this home visit only once the organiser confirms it."""
        return any(c.caution for c in self.candidates)


async def scheme_requests(actor: User | None, council: Council, slug: str) -> tuple[Scheme, dict[str, list[HelpRequest]]]:
    """A scheme's help requests by status, for its organisers only."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    grouped: dict[str, list[HelpRequest]] = {status: [] for status in STATUSES}
    for request in await HelpRequest.filter(scheme=scheme).limit(500):
        grouped[request.status].append(request)
    return scheme, grouped


async def _request(scheme: Scheme, request_id: int) -> HelpRequest:
    request = await HelpRequest.get_or_none(id=request_id, scheme=scheme).prefetch_related("requester")
    if request is None:
        raise NotFound()
    return request


async def request_page(actor: User | None, council: Council, slug: str, request_id: int) -> RequestPage:
    """Everything about one request, and who could be matched to it: for the scheme's organisers only."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    request = await _request(scheme, request_id)
    assignments = list(await Assignment.filter(help_request=request).prefetch_related("volunteer"))
    on = today(timezone.now())
    checks = await safeguarding.checks_by_user(scheme)
    busy: dict[int, int] = {}
    for row in await Assignment.filter(help_request__scheme=scheme, help_request__status__in=("open", "matched"), status__in=LIVE).values("volunteer_id"):
        busy[row["volunteer_id"]] = busy.get(row["volunteer_id"], 0) + 1
    taken = {a.volunteer_id for a in assignments if a.status in LIVE}
    needs = dbs_needed(scheme, request)
    cautious = request.home_visit and needs == "none"
    candidates = [
        Candidate(
            m, safeguarding.status_of(checks.get(m.user_id), on), busy.get(m.user_id, 0),  # type: ignore[attr-defined]
            safeguarding.shortfall(checks.get(m.user_id), needs, on),  # type: ignore[attr-defined]
            safeguarding.caution(checks.get(m.user_id), on) if cautious else "",  # type: ignore[attr-defined]
        )
        for m in await access.helpers(scheme)
        if m.user_id not in taken  # type: ignore[attr-defined]
    ]
    return RequestPage(scheme, request, assignments, candidates, volunteers_needed(scheme, request), needs)


async def assign(
    actor: User | None, council: Council, slug: str, request_id: int, volunteer_ids: list[str], confirm_unchecked: bool = False
) -> HelpRequest:
    """An organiser matches one volunteer to a request, or two for a home visit when the scheme visits in pairs.

    A home visit by someone without a current DBS check, when the scheme asks for none, needs `confirm_unchecked`."""
    page = await request_page(actor, council, slug, request_id)
    scheme, request = page.scheme, page.request
    if request.status not in ("open", "matched") or page.still_needed == 0:
        raise Conflict("This request already has the volunteers it needs." if request.status == "matched" else "This request is closed.")
    wanted = {as_id(raw) for raw in volunteer_ids if str(raw).isascii() and str(raw).isdigit()}  # too big to be an id: 0, refused
    candidates = {c.user.id: c for c in page.candidates}
    if wanted - set(candidates):
        raise Invalid({"volunteers": "Choose from the scheme’s volunteers listed"})
    errors: dict[str, str] = {}
    if len(wanted) != page.still_needed:
        if page.still_needed == 2:
            errors["volunteers"] = "This scheme visits people at home in pairs: choose two volunteers"
        elif page.needed == 2:
            errors["volunteers"] = "Choose one more volunteer to make up the pair"
        else:
            errors["volunteers"] = "Choose one volunteer"
    now = timezone.now()
    async with in_transaction():
        # Their memberships and checks are read again, locked, in the transaction that matches them: a
        # check replaced (or a volunteer removed) a moment ago counts, and one being replaced waits for this.
        memberships = {m.user_id: m for m in await Membership.select_for_update().filter(scheme=scheme, user_id__in=sorted(wanted))}  # type: ignore[attr-defined]
        gone = [candidates[user_id].user for user_id in sorted(wanted) if user_id not in memberships or memberships[user_id].status != "active"]
        if gone:
            raise Invalid({"volunteers": f"{_and_names(gone)} {'is' if len(gone) == 1 else 'are'} no longer with {scheme.name}. Choose someone else"})
        checks = {c.membership_id: c for c in await SafeguardingCheck.select_for_update().filter(membership_id__in=[m.id for m in memberships.values()])}
        on = today(now)
        check_of = {user_id: checks.get(memberships[user_id].id) for user_id in wanted}
        # The rota's rule for shifts, applied to visits: nobody goes into someone's home without the check the scheme asks for.
        lacking = [(user_id, short) for user_id in sorted(wanted) if (short := safeguarding.shortfall(check_of[user_id], page.needs_dbs, on))]
        if lacking:
            who = "; ".join(f"{candidates[user_id].user} {short}" for user_id, short in lacking)
            raise Invalid({"volunteers": f"A home visit for this scheme needs {safeguarding.needs_phrase(page.needs_dbs)}. {who}. Choose someone else, or record their certificate first"})
        # The scheme asks for no check, so it is the organiser's call, but made knowingly: the page tags them, and this asks.
        cautious = request.home_visit and page.needs_dbs == "none"
        unchecked = [(user_id, caution) for user_id in sorted(wanted) if cautious and (caution := safeguarding.caution(check_of[user_id], on))]
        if unchecked and not confirm_unchecked:
            who = "; ".join(f"{candidates[user_id].user} {caution}" for user_id, caution in unchecked)
            errors["confirm_unchecked"] = f"This is a home visit and {who}. Tick to confirm you have checked it is safe, or choose someone else"
        if errors:
            raise Invalid(errors)
        # Re-read under the change: another organiser may have matched it a moment ago.
        if not await HelpRequest.filter(id=request.id, status__in=("open", "matched")).update(status="matched", matched_at=now):
            raise Conflict("This request is closed.")
        chosen = [candidates[user_id].user for user_id in sorted(wanted)]
        for volunteer in chosen:
            assignment, created = await Assignment.get_or_create(
                help_request=request, volunteer=volunteer, defaults={"assigned_by": actor}
            )
            if not created:
                assignment.status, assignment.assigned_by, assignment.answered_at = "asked", actor, None
                await assignment.save()
        without = {user_id for user_id, _ in unchecked}
        reason = ", ".join(f"user {v.id}" + (" (no current DBS check, confirmed)" if v.id in without else "") for v in chosen)
        await audit.record(actor, "help_request.matched", request, council=council, reason=reason)
        queued = [
            await mail.queue(
                volunteer.email,
                f"Can you help? A job from {scheme.name}",
                f"The organisers of {scheme.name} have asked you to help someone.\n\n"
                f"See what is needed, and accept or say you cannot, here:\n\n{_job_url(council, scheme, request)}\n",
                council_id=council.id,
            )
            for volunteer in chosen
        ]
        if request.status == "open" and request.requester_id:
            requester = await User.get(id=request.requester_id)
            names = " and ".join(first_name(a.volunteer) for a in page.live) or ""
            helpers = " and ".join(filter(None, [names, " and ".join(first_name(v) for v in chosen)]))
            queued.append(
                await mail.queue(
                    requester.email,
                    f"{scheme.name} has matched you with a volunteer",
                    f"Good news: {scheme.name} has matched your request with {helpers}. "
                    f"The organisers will be in touch {'by phone' if request.contact_by == 'phone' else 'by email'} to arrange it.\n\n"
                    f"See your request here:\n\n{_requester_url(council, request)}\n",
                    council_id=council.id,
                )
            )
    await mail.deliver(queued)
    return await HelpRequest.get(id=request.id)


async def _cancel(actor: User | None, council: Council, scheme: Scheme, request: HelpRequest, reason: str, by: str) -> HelpRequest:
    # The state first: a request that is done has no cancel form, so asking for a reason would make no sense.
    if request.status not in ("open", "matched"):
        raise Conflict(f"This request is {STATUS_NAMES[request.status].lower()}, so it cannot be cancelled.")
    reason = paragraphs(reason)
    if not reason:
        raise Invalid({"reason": "Say why you are cancelling" if by == "requester" else "Say why, so the person who asked knows"})
    if len(reason) > 1000:
        raise Invalid({"reason": "The reason must be 1000 characters or fewer"})
    now = timezone.now()
    async with in_transaction():
        if not await HelpRequest.filter(id=request.id, status__in=("open", "matched")).update(status="cancelled", cancelled_at=now, cancelled_by=by):
            raise Conflict("This request has just been closed.")
        request = await HelpRequest.get(id=request.id)
        request.cancel_reason = reason
        await request.save(update_fields=["cancel_reason"])
        live = await Assignment.filter(help_request=request, status__in=LIVE).prefetch_related("volunteer")
        await Assignment.filter(help_request=request, status__in=LIVE).update(status="withdrawn", answered_at=now)
        await audit.record(actor, f"help_request.cancelled_by_{by}", request, council=council)
        # The reason goes only to the requester's page and the organisers' page, never into an e-mail body.
        queued = [
            await mail.queue(
                a.volunteer.email,
                f"A job from {scheme.name} is cancelled",
                f"The request for help you were matched with has been cancelled, so you are no longer needed for it.\n\n{scheme_url(council, scheme)}\n",
                council_id=council.id,
            )
            for a in live
        ]
        if request.requester_id:
            requester = await User.get(id=request.requester_id)
            queued.append(
                await mail.queue(
                    requester.email,
                    f"Your request for help from {scheme.name} is cancelled",
                    ("You have cancelled your request. " if by == "requester" else f"The organisers of {scheme.name} have cancelled your request. ")
                    + f"You can see why here:\n\n{_requester_url(council, request)}\n",
                    council_id=council.id,
                )
            )
        if by == "requester":
            queued += await tell_organisers(
                scheme, f"A request for help to {scheme.name} is cancelled",
                f"The person who asked for help has cancelled their request:\n\n{_organiser_url(council, scheme, request)}\n",
            )
    await mail.deliver(queued)
    return request


CLOSED_REASON = "The scheme has closed."


async def end_for_closing(actor: User | None, council: Council, scheme: Scheme) -> list[OutgoingEmail]:
    """The scheme closes: its open and matched requests are cancelled, the people who asked are told
    where else to look and matched volunteers are stood down. Call inside the closing transaction."""
    now = timezone.now()
    queued: list[OutgoingEmail] = []
    directory = f"{site_url(council)}/schemes"
    for request in await HelpRequest.filter(scheme=scheme, status__in=("open", "matched")).prefetch_related("requester"):
        request.status, request.cancelled_at, request.cancelled_by, request.cancel_reason = "cancelled", now, "organiser", CLOSED_REASON
        await request.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"])
        for assignment in await Assignment.filter(help_request=request, status__in=LIVE).prefetch_related("volunteer"):
            assignment.status, assignment.answered_at = "withdrawn", now
            await assignment.save(update_fields=["status", "answered_at"])
            queued.append(await mail.queue(
                assignment.volunteer.email,
                f"A job from {scheme.name} is cancelled: the scheme has closed",
                f"The organisers have closed {scheme.name}, so the request for help you were matched with is cancelled "
                f"and you are no longer needed for it. Thank you for offering your time.\n\n"
                f"If you would like to keep volunteering, you can find other schemes near you here:\n\n{directory}\n",
                council_id=council.id,
            ))
        if request.requester is not None:
            queued.append(await mail.queue(
                request.requester.email,
                f"{scheme.name} has closed",
                f"We are sorry: the organisers have closed {scheme.name}, so they can no longer help with the request you made. "
                f"It has been cancelled.\n\n"
                f"Other local schemes may be able to help. You can search for them by what you need and where you live here:\n\n{directory}\n\n"
                f"Your request:\n\n{_requester_url(council, request)}\n",
                council_id=council.id,
            ))
        await audit.record(actor, "help_request.cancelled_by_closing", request, council=council)
    return queued


async def end_for_deleted_requester(requester: User) -> list[OutgoingEmail]:
    """The person who asked deletes their account: their open and matched requests are cancelled, matched
    volunteers are stood down and told, and the organisers are told. Call inside the deleting transaction,
    before the requests themselves are deleted."""
    now = timezone.now()
    queued: list[OutgoingEmail] = []
    for request in await HelpRequest.filter(requester=requester, status__in=("open", "matched")).prefetch_related("scheme__council"):
        scheme: Scheme = request.scheme
        council: Council = scheme.council
        await HelpRequest.filter(id=request.id).update(status="cancelled", cancelled_at=now, cancelled_by="requester")
        for assignment in await Assignment.filter(help_request=request, status__in=LIVE).prefetch_related("volunteer"):
            assignment.status, assignment.answered_at = "withdrawn", now
            await assignment.save(update_fields=["status", "answered_at"])
            queued.append(await mail.queue(
                assignment.volunteer.email,
                f"A job from {scheme.name} is cancelled",
                "The person who asked for help no longer needs it, so the request you were matched with is cancelled "
                "and you are no longer needed for it. Thank you for being ready to help.\n\n"
                f"{scheme_url(council, scheme)}\n",
                council_id=council.id,
            ))
        queued += await tell_organisers(
            scheme, f"A request for help to {scheme.name} is cancelled",
            "The person who asked for help has deleted their account, so their request is cancelled and its details "
            "have been deleted with it. Any volunteers matched to it have been told they are no longer needed.\n\n"
            f"See the scheme's other requests here:\n\n{scheme_url(council, scheme)}/requests\n",
        )
        await audit.record(None, "help_request.cancelled_by_requester", request, council=council, reason="deleted their account")
    return queued


async def cancel_as_organiser(actor: User | None, council: Council, slug: str, request_id: int, reason: str) -> HelpRequest:
    """An organiser cancels a request, saying why; the requester and any matched volunteers are told."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    return await _cancel(actor, council, scheme, await _request(scheme, request_id), reason, by="organiser")


async def mark_done(actor: User | None, council: Council, slug: str, request_id: int) -> HelpRequest:
    """An organiser, or a volunteer who accepted the job, says the help has been given."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    scheme, who = await access.find(actor, council, slug)
    mine = await Assignment.get_or_none(help_request_id=request_id, help_request__scheme=scheme, volunteer=actor, status__in=LIVE)
    if not (who.is_organiser or mine):
        raise Forbidden("Only the scheme’s organisers and the volunteers on this job can do that.")
    if mine and not who.is_organiser and mine.status != "accepted":
        raise Conflict("Accept the job before you mark it done.")
    request = await _request(scheme, request_id)
    if request.status != "matched":
        raise Conflict("Only a matched request can be marked done." if request.status == "open" else f"This request is already {STATUS_NAMES[request.status].lower()}.")
    async with in_transaction():
        if not await HelpRequest.filter(id=request.id, status="matched").update(status="done", done_at=timezone.now()):
            raise Conflict("This request has just been closed.")
        await audit.record(actor, "help_request.done", request, council=council)
        queued = []
        if request.requester_id:
            requester = await User.get(id=request.requester_id)
            queued.append(
                await mail.queue(
                    requester.email,
                    f"Your request for help from {scheme.name} is done",
                    f"{scheme.name} has marked your request as done. We hope it helped.\n\n"
                    f"If you need help again, you can ask from the scheme's page:\n\n{scheme_url(council, scheme)}\n",
                    council_id=council.id,
                )
            )
        if not who.is_organiser:
            queued += await tell_organisers(scheme, f"A job for {scheme.name} is done", f"A volunteer has marked this request done:\n\n{_organiser_url(council, scheme, request)}\n")
    await mail.deliver(queued)
    return await HelpRequest.get(id=request.id)


# What a matched volunteer sees


@dataclass
class Job:
    """A request as a matched volunteer sees it: only what the job needs; the address once they accept."""

    scheme: Scheme
    request_id: int
    status: str
    assignment: str
    first_name: str
    street: str
    when_needed: str
    what: str
    home_visit: bool
    address: str = ""
    partners: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.assignment == "accepted"

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]


def _job(scheme: Scheme, request: HelpRequest, mine: Assignment, others: list[Assignment]) -> Job:
    return Job(
        scheme=scheme,
        request_id=request.id,
        status=request.status,
        assignment=mine.status,
        first_name=request.first_name,
        street=request.street,
        when_needed=request.when_needed,
        what=request.what,
        home_visit=request.home_visit,
        address=request.full_address if mine.status == "accepted" and request.status == "matched" else "",
        partners=[first_name(a.volunteer) for a in others if a.status in LIVE],
    )


async def _my_assignment(actor: User | None, scheme: Scheme, request_id: int) -> tuple[HelpRequest, Assignment, list[Assignment]]:
    if actor is None:
        raise Forbidden("Sign in to continue.")
    request = await HelpRequest.get_or_none(id=request_id, scheme=scheme)
    if request is None:
        raise NotFound()
    assignments = list(await Assignment.filter(help_request=request).prefetch_related("volunteer"))
    mine = next((a for a in assignments if a.volunteer_id == actor.id and a.status in LIVE), None)
    if mine is None:
        raise NotFound()
    return request, mine, [a for a in assignments if a is not mine]


async def job_page(actor: User | None, council: Council, slug: str, request_id: int) -> Job:
    """A job for one of the volunteers matched to it; anyone else is told it does not exist."""
    scheme, _ = await access.find(actor, council, slug)
    request, mine, others = await _my_assignment(actor, scheme, request_id)
    return _job(scheme, request, mine, others)


async def accept_job(actor: User | None, council: Council, slug: str, request_id: int) -> Job:
    """A matched volunteer accepts the job, and then sees the full address."""
    scheme, _ = await access.find(actor, council, slug)
    request, mine, others = await _my_assignment(actor, scheme, request_id)
    if request.status != "matched":
        raise Conflict(f"This request is {STATUS_NAMES[request.status].lower()}.")
    if mine.status != "accepted":
        async with in_transaction():
            mine.status, mine.answered_at = "accepted", timezone.now()
            await mine.save(update_fields=["status", "answered_at"])
            await audit.record(actor, "help_request.accepted", request, council=council)
            queued = await tell_organisers(
                scheme, f"{actor} accepted a job for {scheme.name}", f"{actor} has accepted this request:\n\n{_organiser_url(council, scheme, request)}\n"
            )
        await mail.deliver(queued)
    return _job(scheme, request, mine, others)


async def decline_job(actor: User | None, council: Council, slug: str, request_id: int) -> None:
    """A matched volunteer says they cannot do it; the organisers are told to match someone else."""
    scheme, _ = await access.find(actor, council, slug)
    request, mine, _ = await _my_assignment(actor, scheme, request_id)
    async with in_transaction():
        mine.status, mine.answered_at = "declined", timezone.now()
        await mine.save(update_fields=["status", "answered_at"])
        await audit.record(actor, "help_request.declined_by_volunteer", request, council=council)
        queued = await _reopen_if_short(council, scheme, request, f"{actor} cannot help with this request")
    await mail.deliver(queued)


async def take_back(actor: User | None, council: Council, slug: str, request_id: int, assignment_id: int) -> Assignment:
    """An organiser takes a job back from a volunteer who has not answered, or who can no longer do it; they are told kindly."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    request = await _request(scheme, request_id)
    assignment = await Assignment.get_or_none(id=assignment_id, help_request=request).prefetch_related("volunteer")
    if assignment is None:
        raise NotFound()
    if assignment.status not in LIVE or request.status not in ("open", "matched"):
        raise Conflict(f"{assignment.volunteer} is no longer on this job." if assignment.status not in LIVE else f"This request is {STATUS_NAMES[request.status].lower()}.")
    async with in_transaction():
        # Conditional, so the volunteer accepting or declining at this moment is not overwritten twice over.
        if not await Assignment.filter(id=assignment.id, status__in=LIVE).update(status="withdrawn", answered_at=timezone.now()):
            raise Conflict(f"{assignment.volunteer} has just answered. Look at the request again.")
        if await Assignment.filter(help_request=request, status__in=LIVE).count() < volunteers_needed(scheme, request):
            await HelpRequest.filter(id=request.id, status="matched").update(status="open", matched_at=None)
        await audit.record(actor, "help_request.taken_back", request, council=council, reason=f"user {assignment.volunteer_id}")
        queued = [await mail.queue(
            assignment.volunteer.email,
            f"You are no longer needed for a job from {scheme.name}",
            f"The organisers of {scheme.name} have given the request for help you were asked to take to someone else, "
            f"so you do not need to do anything more about it. Thank you for being ready to help.\n\n"
            f"If you have any questions, you can message the organisers from the scheme's page:\n\n{scheme_url(council, scheme)}\n",
            council_id=council.id,
        )]
    await mail.deliver(queued)
    return assignment


async def _reopen_if_short(council: Council, scheme: Scheme, request: HelpRequest, why: str) -> list[OutgoingEmail]:
    """After a volunteer drops out: back to open if the request is now short of volunteers; organisers are told."""
    if request.status != "matched":
        return []
    live = await Assignment.filter(help_request=request, status__in=LIVE).count()
    if live < volunteers_needed(scheme, request):
        await HelpRequest.filter(id=request.id, status="matched").update(status="open", matched_at=None)
    return await tell_organisers(scheme, f"A request to {scheme.name} needs another volunteer", f"{why}. Match someone else here:\n\n{_organiser_url(council, scheme, request)}\n")


async def release(council: Council, scheme: Scheme, user: User) -> list[OutgoingEmail]:
    """Someone stops helping the scheme: their live jobs go back to the organisers. Call inside a transaction."""
    queued: list[OutgoingEmail] = []
    for assignment in await Assignment.filter(volunteer=user, help_request__scheme=scheme, help_request__status__in=("open", "matched"), status__in=LIVE).prefetch_related("help_request"):
        assignment.status, assignment.answered_at = "withdrawn", timezone.now()
        await assignment.save(update_fields=["status", "answered_at"])
        queued += await _reopen_if_short(council, scheme, assignment.help_request, f"{user} is no longer helping {scheme.name}")
    return queued


async def my_jobs(actor: User | None, council: Council) -> list[Job]:
    """The jobs someone has been matched to and not yet finished, in every scheme of this council."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    jobs = []
    for assignment in await Assignment.filter(volunteer=actor, status__in=LIVE, help_request__council=council, help_request__status="matched").prefetch_related("help_request__scheme"):
        request = assignment.help_request
        others = list(await Assignment.filter(help_request=request).exclude(id=assignment.id).prefetch_related("volunteer"))
        jobs.append(_job(request.scheme, request, assignment, others))
    return jobs
