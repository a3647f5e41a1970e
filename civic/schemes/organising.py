"""Running a scheme: pausing and closing it, co-organisers (invited in invitations.py), news posts and messages to the organisers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from civic import audit, config, mail, ratelimit
from civic.accounts import User
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.kept import Kept
from civic.schemes import access, events, help_requests, invitations, rota
from civic.schemes.models import Membership, NewsPost, OrganiserInvitation, Report, Scheme
from civic.schemes.proposals import LINE_FIELDS, TEXT_FIELDS, require_poster, tell_organisers
from civic.schemes.running import EventReply, HelpRequest
from civic.schemes.text import one_line, paragraphs
from civic.schemes.when import utc

# From -> to, for the organisers' own buttons.
TRANSITIONS = {"pause": (("active",), "paused"), "resume": (("paused",), "active"), "close": (("active", "paused"), "closed")}
PAST = {"pause": "paused", "resume": "resumed", "close": "closed"}
MESSAGE_LIMIT = 2000
LATEST_NEWS = 3


async def change_status(actor: User | None, council: Council, slug: str, action: str, now: datetime | None = None) -> Scheme:
    """An organiser pauses, resumes or closes an approved scheme.

    Closing ends what is still open: help requests are cancelled (the people who asked are pointed
    to the directory, matched volunteers stood down) and shifts and events to come are cancelled
    with notice to everyone on them.
    """
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    if action not in TRANSITIONS:
        raise NotFound()
    allowed, to = TRANSITIONS[action]
    if scheme.status not in allowed:
        raise Conflict(f"A scheme that is {scheme.status_name.lower()} cannot be {PAST[action]}.")
    now = utc(now)
    queued: list[mail.OutgoingEmail] = []
    async with in_transaction():
        # Locked, so a second organiser pressing "close" at the same moment waits and then is refused.
        locked = await Scheme.select_for_update().get(id=scheme.id)
        if locked.status not in allowed:
            raise Conflict(f"A scheme that is {locked.status_name.lower()} cannot be {PAST[action]}.")
        scheme.status = to
        await scheme.save(update_fields=["status", "updated_at"])
        await audit.record(actor, f"scheme.{PAST[action]}", scheme, council=council)
        if to == "closed":
            queued += await help_requests.end_for_closing(actor, council, scheme)
            queued += await rota.end_for_closing(scheme, now)
            queued += await events.end_for_closing(actor, council, scheme, now)
    await mail.deliver(queued)
    return scheme


@dataclass
class Closing:
    """What closing the scheme would end, for the organiser to confirm."""

    scheme: Scheme
    help_requests: int
    shifts: int
    volunteers_on_shifts: int
    events: int
    people_coming: int


async def closing_page(actor: User | None, council: Council, slug: str, now: datetime | None = None) -> Closing:
    """How many open help requests, shifts and events to come closing would end: for the scheme's organisers."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    if scheme.status not in TRANSITIONS["close"][0]:
        raise Conflict(f"A scheme that is {scheme.status_name.lower()} cannot be closed.")
    now = utc(now)
    slots = await rota.upcoming_signed_up(scheme, now)
    coming = await events.upcoming(scheme, now)
    return Closing(
        scheme=scheme,
        help_requests=await HelpRequest.filter(scheme=scheme, status__in=("open", "matched")).count(),
        shifts=len(slots),
        volunteers_on_shifts=len({s.volunteer_id for slot in slots for s in slot.signups}),
        events=len(coming),
        people_coming=await EventReply.filter(event_id__in=[e.id for e in coming]).count() if coming else 0,
    )


# Organisers


async def organisers(scheme: Scheme) -> list[Membership]:
    return list(await Membership.filter(scheme=scheme, role="organiser", status="active").prefetch_related("user").order_by("created_at", "id"))


async def organiser_to_remove(actor: User | None, council: Council, slug: str, membership_id: int) -> tuple[Scheme, Membership]:
    """A co-organiser (or the actor), for the page asking whether to remove them."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await Membership.get_or_none(id=membership_id, scheme=scheme, role="organiser", status="active").prefetch_related("user")
    if membership is None:
        raise NotFound()
    if await Membership.filter(scheme=scheme, role="organiser", status="active").count() <= 1:
        raise Conflict("A scheme needs at least one organiser. Add someone else before you step down.")
    return scheme, membership


async def remove_organiser(actor: User | None, council: Council, slug: str, membership_id: int) -> Membership:
    """An organiser removes a co-organiser (or steps down); the last organiser cannot leave."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    membership = await Membership.get_or_none(id=membership_id, scheme=scheme, role="organiser", status="active").prefetch_related("user")
    if membership is None:
        raise NotFound()
    async with in_transaction():
        if await Membership.filter(scheme=scheme, role="organiser", status="active").count() <= 1:
            raise Conflict("A scheme needs at least one organiser. Add someone else before you step down.")
        membership.status = "removed"
        await membership.save(update_fields=["status"])
        await invitations.withdraw_sent_by(actor, membership.user, invitations.NO_LONGER_ORGANISES, scheme)
        await audit.record(actor, "scheme.organiser_removed", scheme, council=council, reason=f"user {membership.user_id}")  # type: ignore[attr-defined]
    return membership


# News


async def news(scheme: Scheme, who: access.Viewer, limit: int | None = None) -> list[NewsPost]:
    """The scheme's news, newest first; hidden posts only for its organisers and the council's officers."""
    query = NewsPost.filter(scheme=scheme).prefetch_related("author")
    if not (who.is_organiser or who.is_officer):
        query = query.filter(hidden=False)
    if limit:
        query = query.limit(limit)
    return list(await query)


def check_news(title: str, body: str) -> tuple[str, str]:
    """A news post's title and text, tidied, or Invalid with every problem."""
    title, body = one_line(title), paragraphs(body)
    errors = {}
    if not title:
        errors["title"] = "Enter a title"
    elif len(title) > 120:
        errors["title"] = "Title must be 120 characters or fewer"
    if not body:
        errors["body"] = "Enter the news"
    elif len(body) > 5000:
        errors["body"] = "The news must be 5000 characters or fewer"
    if errors:
        raise Invalid(errors)
    return title, body


async def post_news(actor: User | None, council: Council, slug: str, title: str, body: str) -> NewsPost:
    """An organiser posts news on their scheme's page."""
    require_poster(actor)
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    title, body = check_news(title, body)
    if scheme.status == "closed":
        raise Conflict("This scheme has closed, so it cannot post news.")
    async with in_transaction():
        post = await NewsPost.create(council=council, scheme=scheme, author=actor, title=title, body=body)
        await audit.record(actor, "news.posted", post, council=council)
    return post


async def news_post(actor: User | None, council: Council, slug: str, post_id: int) -> tuple[Scheme, NewsPost]:
    """One of the scheme's news posts, for its organisers to change or delete."""
    require_poster(actor)
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    post = await NewsPost.get_or_none(id=post_id, scheme=scheme)
    if post is None:
        raise NotFound()
    return scheme, post


@dataclass(frozen=True)
class Unchangeable:
    """Why organisers cannot change something for now: a short line to show beside it, and the fuller answer if they try."""

    line: str
    answer: str


def why_news_is_fixed(council: Council, scheme: Scheme, post: NewsPost, reported: bool) -> Unchangeable | None:
    """Why this news post cannot be changed now, or None when its organisers may change it. Not while the
    council is looking at it (`reported`: it has an open report) or has hidden it, since the words it is
    deciding on must stay as they were; nor once the scheme has closed."""
    if scheme.status == "closed":
        closed = "This scheme has closed, so its news can no longer be changed."
        return Unchangeable(closed, closed)
    if post.hidden:
        return Unchangeable(
            f"{council.name} has hidden this news, so it cannot be changed.",
            f"{council.name} has hidden this news, so it cannot be changed. If you think it should be shown again, contact {council.name}.",
        )
    if reported:
        return Unchangeable(
            f"{council.name} is looking at this news, so it cannot be changed for now.",
            f"Someone has reported this news and {council.name} is looking at it, so it cannot be changed until they have decided. "
            f"If it needs correcting urgently, contact {council.name}.",
        )
    return None


def why_news_is_kept(council: Council, post: NewsPost, ever_reported: bool, fixed: Unchangeable | None) -> Unchangeable | None:
    """Why organisers cannot delete this news post, or None when they may: not once anyone has reported
    it (`ever_reported`, whatever the council decided), since deleting a post deletes its reports and the
    council's record of what it was asked and decided must stay; nor while the council has it hidden, reported
    or not, since what an officer hid stays for them to keep hidden or restore. `fixed` is why it cannot be changed either."""
    if not ever_reported:
        if post.hidden:  # and so `fixed` says it cannot be changed
            return Unchangeable(
                f"Nor can it be deleted while {council.name} has it hidden.",
                f"{council.name} has hidden this news, so it cannot be deleted while it is hidden. If you think it should be shown again, contact {council.name}.",
            )
        return None
    if fixed is not None:
        line = f"It has been reported to {council.name}, so it cannot be deleted either."
    else:
        line = f"It has been reported to {council.name}, so it cannot be deleted. You can still change it."
    return Unchangeable(line, f"Someone has reported this news to {council.name}, so it cannot be deleted." + (" You can change it instead." if fixed is None else ""))


async def _reported(posts: list[NewsPost], status: str | None = "open") -> set[int]:
    """Which of these posts have a report the council has not yet decided on (or, with `status=None`, any report)."""
    if not posts:
        return set()
    query = Report.filter(post_id__in=[p.id for p in posts])
    if status is not None:
        query = query.filter(status=status)
    return set(await query.values_list("post_id", flat=True))


async def news_fixed(council: Council, scheme: Scheme, posts: list[NewsPost]) -> dict[int, Unchangeable]:
    """For each of these posts its organisers cannot change now, why (by post id)."""
    reported = await _reported(posts)
    return {p.id: why for p in posts if (why := why_news_is_fixed(council, scheme, p, p.id in reported))}


async def news_kept(council: Council, posts: list[NewsPost], fixed: dict[int, Unchangeable]) -> dict[int, Unchangeable]:
    """For each of these posts its organisers cannot delete, why (by post id); `fixed` is what `news_fixed` said of them."""
    reported = await _reported(posts, status=None)
    return {p.id: why for p in posts if (why := why_news_is_kept(council, p, p.id in reported, fixed.get(p.id)))}


async def _why_fixed(council: Council, scheme: Scheme, post: NewsPost) -> Unchangeable | None:
    return why_news_is_fixed(council, scheme, post, bool(await _reported([post])))


async def _why_kept(council: Council, post: NewsPost, fixed: Unchangeable | None) -> Unchangeable | None:
    return why_news_is_kept(council, post, bool(await _reported([post], status=None)), fixed)


async def _locked_post(scheme: Scheme, post_id: int) -> NewsPost:
    """The post as it is now, held until the transaction ends. A report on it and an officer hiding it hold
    the same row (moderation.py), so a change or deletion either comes first or sees them and is refused."""
    post = await NewsPost.select_for_update().get_or_none(id=post_id, scheme=scheme)
    if post is None:
        raise NotFound()
    return post


async def news_post_and_why_fixed(actor: User | None, council: Council, slug: str, post_id: int) -> tuple[Scheme, NewsPost, Unchangeable | None]:
    """One of the scheme's news posts, for its organisers, and why they cannot change it now (None when they can)."""
    scheme, post = await news_post(actor, council, slug, post_id)
    return scheme, post, await _why_fixed(council, scheme, post)


async def news_post_to_delete(actor: User | None, council: Council, slug: str, post_id: int) -> tuple[Scheme, NewsPost, Unchangeable | None]:
    """One of the scheme's news posts, for its organisers to delete unless `why_news_is_kept` says they may not,
    and why they cannot change it instead (None when they can)."""
    scheme, post, fixed = await news_post_and_why_fixed(actor, council, slug, post_id)
    if kept := await _why_kept(council, post, fixed):
        raise Conflict(kept.answer)
    return scheme, post, fixed


async def news_post_to_change(actor: User | None, council: Council, slug: str, post_id: int) -> tuple[Scheme, NewsPost]:
    """One of the scheme's news posts, for its organisers to correct, unless `why_news_is_fixed` says they may not."""
    scheme, post, fixed = await news_post_and_why_fixed(actor, council, slug, post_id)
    if fixed is not None:
        raise Conflict(fixed.answer)
    return scheme, post


async def update_news(actor: User | None, council: Council, slug: str, post_id: int, title: str, body: str) -> NewsPost:
    """An organiser corrects a news post, unless it is reported, hidden or the scheme has closed."""
    scheme, post = await news_post_to_change(actor, council, slug, post_id)
    title, body = check_news(title, body)
    async with in_transaction():
        post = await _locked_post(scheme, post.id)
        if fixed := await _why_fixed(council, scheme, post):  # reported or hidden since the check above
            raise Conflict(fixed.answer)
        post.title, post.body = title, body
        await post.save(update_fields=["title", "body"])
        await audit.record(actor, "news.changed", post, council=council)
    return post


async def delete_news(actor: User | None, council: Council, slug: str, post_id: int) -> NewsPost:
    """An organiser deletes a news post, unless someone has reported it to the council or the council has hidden it."""
    scheme, post, _ = await news_post_to_delete(actor, council, slug, post_id)
    async with in_transaction():
        post = await _locked_post(scheme, post.id)
        if kept := await _why_kept(council, post, await _why_fixed(council, scheme, post)):  # reported or hidden since the check above
            raise Conflict(kept.answer)
        await audit.record(actor, "news.deleted", post, council=council, reason=post.title)
        await post.delete()
    return post


# Messages to the organisers


async def message_organisers(actor: User | None, council: Council, slug: str, text: str, share_email: bool) -> None:
    """A signed-in person writes to the organisers; their e-mail address goes only if they agree."""
    sender = require_poster(actor)
    scheme, _ = await access.find(actor, council, slug)
    text = paragraphs(text)
    if not text:
        raise Invalid({"message": "Write your message"})
    if len(text) > MESSAGE_LIMIT:
        raise Invalid({"message": f"Your message must be {MESSAGE_LIMIT} characters or fewer (it has {len(text)})"})
    if scheme.status == "closed":
        raise Conflict("This scheme has closed, so its organisers no longer get messages here.")
    await ratelimit.hit(
        config.current().scheme_message_rate, "scheme-message", str(sender.id),
        message="You have sent several messages in a short time. Please wait {wait} and try again.",
    )
    reply = (
        f"They are happy for you to reply to: {sender.email}\n"
        if share_email
        else "They chose not to share their email address, so you cannot reply to this message directly.\n"
    )
    async with in_transaction():
        queued = await tell_organisers(
            scheme,
            f"A message about {scheme.name}",
            f"{sender} sent this message through {council.name}'s page for {scheme.name}:\n\n{text}\n\n{reply}",
        )
        await audit.record(sender, "scheme.messaged", scheme, council=council, reason="reply address shared" if share_email else "")
    await mail.deliver(queued)


@dataclass
class MySchemes:
    """The schemes someone organises, and those they are invited to organise."""

    schemes: list[Scheme]
    invitations: list[OrganiserInvitation]


async def my_schemes_page(actor: User | None, council: Council) -> MySchemes:
    """The signed-in person's schemes and their invitations to organise others."""
    return MySchemes(await my_schemes(actor, council), await invitations.mine(actor, council))


async def my_schemes(actor: User | None, council: Council) -> list[Scheme]:
    """The schemes of this council that this person organises, whatever their status."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    ids = Membership.filter(user=actor, role="organiser", status="active").values_list("scheme_id", flat=True)
    return list(await Scheme.filter(council=council, id__in=await ids).order_by("name"))


@dataclass
class SchemePage:
    """Everything the scheme's page shows to this person."""

    scheme: Scheme
    who: access.Viewer
    news: list[NewsPost]
    organisers: list[Membership]
    invitations: list[OrganiserInvitation] = field(default_factory=list)  # unanswered (waiting, or lapsed), for organisers
    fixed: dict[int, Unchangeable] = field(default_factory=dict)  # post id -> why its organisers cannot change it now
    kept: dict[int, Unchangeable] = field(default_factory=dict)  # post id -> why its organisers cannot delete it


# A scheme's page as visitors who are not signed in see it (the same for all of them) is kept for
# CIVIC_PUBLIC_CACHE_SECONDS: when a story sends a crowd to one scheme, each process reads it once.
# Signed-in people always read it afresh, so organisers see their edits and officers their decisions.
_kept_public_pages: Kept[SchemePage] = Kept(1000)


async def scheme_page(actor: User | None, council: Council, slug: str) -> SchemePage:
    """The scheme as this person may see it, with its latest news."""
    if actor is None:
        return await _kept_public_pages.fetch((council.id, slug), lambda: _read_scheme_page(None, council, slug))
    return await _read_scheme_page(actor, council, slug)


async def _read_scheme_page(actor: User | None, council: Council, slug: str) -> SchemePage:
    scheme, who = await access.find(actor, council, slug, joined=("proposed_by",))
    await scheme.fetch_related("categories", "audiences", "wards")
    latest = await news(scheme, who, limit=LATEST_NEWS)
    return SchemePage(
        scheme=scheme,
        who=who,
        news=latest,
        organisers=await organisers(scheme) if (who.is_organiser or who.is_officer) else [],
        **await _news_limits(council, scheme, latest, who),
    )


async def news_page(actor: User | None, council: Council, slug: str) -> SchemePage:
    """All of a scheme's news, for its news page."""
    scheme, who = await access.find(actor, council, slug)
    posts = await news(scheme, who)
    return SchemePage(scheme=scheme, who=who, news=posts, organisers=[], **await _news_limits(council, scheme, posts, who))


async def _news_limits(council: Council, scheme: Scheme, posts: list[NewsPost], who: access.Viewer) -> dict[str, dict[int, Unchangeable]]:
    """What organisers cannot change or delete among these posts, as SchemePage's `fixed` and `kept`; nothing for anyone else."""
    if not who.is_organiser:
        return {}
    fixed = await news_fixed(council, scheme, posts)
    return {"fixed": fixed, "kept": await news_kept(council, posts, fixed)}


async def organisers_page(actor: User | None, council: Council, slug: str) -> SchemePage:
    """The organisers of a scheme, for its organisers to manage."""
    scheme, who = await access.find_for_organiser(actor, council, slug)
    return SchemePage(scheme=scheme, who=who, news=[], organisers=await organisers(scheme), invitations=await invitations.pending(scheme))


async def form_values(actor: User | None, council: Council, slug: str) -> tuple[Scheme, dict[str, Any]]:
    """The scheme's details as the edit form shows them, for its organisers."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    await scheme.fetch_related("categories", "audiences", "wards")
    values: dict[str, Any] = {name: getattr(scheme, name) for name in (*LINE_FIELDS, *TEXT_FIELDS)}
    values["categories"] = [term.slug for term in scheme.category_terms]
    values["audiences"] = [term.slug for term in scheme.audience_terms]
    values["wards"] = [str(ward.id) for ward in scheme.wards]
    return scheme, values


async def decision_page(actor: User | None, council: Council, slug: str) -> SchemePage:
    """A proposed scheme, for an officer deciding on it."""
    scheme, who = await access.find_for_officer(actor, council, slug)
    if scheme.status != "pending":
        raise Conflict(f"This scheme is not waiting for approval: it is {scheme.status_name.lower()}.")
    return SchemePage(scheme=scheme, who=who, news=[], organisers=[])


async def contact_page(actor: User | None, council: Council, slug: str) -> SchemePage:
    """The scheme someone wants to write to, if they may."""
    require_poster(actor)
    scheme, who = await access.find(actor, council, slug)
    if scheme.status == "closed":
        raise Conflict("This scheme has closed, so its organisers no longer get messages here.")
    return SchemePage(scheme=scheme, who=who, news=[], organisers=[])
