"""Reporting schemes, news and offers of help, and the officers' moderation: hide, restore, dismiss, stop someone posting and let them post again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from tortoise import timezone
from tortoise.queryset import QuerySet

from civic import accounts, audit, config, mail, ratelimit
from civic.accounts import User, require_role
from civic.audit import AuditLog
from civic.councils import Council
from civic.db import as_id, in_transaction
from civic.errors import Conflict, Invalid, NotFound
from civic.mail import OutgoingEmail
from civic.officers import AttentionItem, Section
from civic.schemes import access
from civic.schemes.models import REPORT_REASONS, NewsPost, Report, Scheme
from civic.schemes.proposals import require_poster, scheme_url, tell_organisers
from civic.schemes.running import HelpOffer
from civic.schemes.text import paragraphs

REASON_LIMIT = 2000
DETAILS_LIMIT = 2000
ALREADY_REPORTED = "You have already reported this. An officer will look at it and tell you what they decide."


def _reason(raw: str, field_name: str = "reason", missing: str = "Say why, for the audit log") -> str:
    reason = paragraphs(raw)
    if not reason:
        raise Invalid({field_name: missing})
    if len(reason) > REASON_LIMIT:
        raise Invalid({field_name: f"The reason must be {REASON_LIMIT} characters or fewer"})
    return reason


# Reporting


async def _visible_post(user: User | None, council: Council, slug: str, post_id: int) -> tuple[Scheme, NewsPost, access.Viewer]:
    scheme, who = await access.find(user, council, slug)
    post = await NewsPost.get_or_none(id=post_id, scheme=scheme)
    if post is None or (post.hidden and not (who.is_organiser or who.is_officer)):
        raise NotFound()
    return scheme, post, who


async def _visible_offer(user: User | None, council: Council, slug: str, offer_id: int) -> tuple[Scheme, HelpOffer]:
    scheme, who = await access.find(user, council, slug)
    offer = await HelpOffer.get_or_none(id=offer_id, scheme=scheme, removed_at__isnull=True)
    if offer is None or (offer.hidden and not (who.is_organiser or who.is_officer)):
        raise NotFound()
    return scheme, offer


@dataclass
class Reported:
    """What a report is about: a scheme, or one of its news posts or offers of help."""

    scheme: Scheme
    post: NewsPost | None = None
    offer: HelpOffer | None = None


def _refuse_if_hidden(council: Council, item: Scheme | NewsPost | HelpOffer) -> None:
    """Organisers and officers still see what the council hid; a report on it would reopen what the council has decided."""
    if item.hidden:
        noun = "news" if isinstance(item, NewsPost) else "offer" if isinstance(item, HelpOffer) else "scheme"
        raise Conflict(f"{council.name} has already hidden this {noun}.")


async def report_target(user: User | None, council: Council, slug: str, post_id: int | None, offer_id: int | None = None) -> Reported:
    """What a report form is about: a scheme, or one of its news posts or offers of help, that this person can see
    and the council has not hidden."""
    if post_id is not None:
        scheme, post, _ = await _visible_post(user, council, slug, post_id)
        target = Reported(scheme, post=post)
    elif offer_id is not None:
        scheme, offer = await _visible_offer(user, council, slug, offer_id)
        target = Reported(scheme, offer=offer)
    else:
        scheme, _ = await access.find(user, council, slug)
        target = Reported(scheme)
    _refuse_if_hidden(council, target.post or target.offer or target.scheme)
    return target


async def _lock_target(council: Council, target: Reported) -> None:
    """Hold what a report is about until the report is saved, and check it is still there to report.

    An organiser deleting the news (or anyone taking the offer down) and an officer hiding it hold the same
    row, so each either finishes first, and the report is refused here, or waits and then finds it reported.
    """
    if target.post is not None:
        post = await NewsPost.select_for_update().get_or_none(id=target.post.id)
        if post is None:
            raise Conflict("This news has just been deleted, so there is nothing to report.")
        _refuse_if_hidden(council, post)
    elif target.offer is not None:
        offer = await HelpOffer.select_for_update().get_or_none(id=target.offer.id)
        if offer is None or offer.removed_at is not None:
            raise Conflict("This offer has just been taken down, so there is nothing to report.")
        _refuse_if_hidden(council, offer)
    else:
        _refuse_if_hidden(council, await Scheme.select_for_update().get(id=target.scheme.id))


def _about(query: QuerySet[Report], post: NewsPost | None, offer: HelpOffer | None) -> QuerySet[Report]:
    """Reports about this post, this offer, or (with neither) about the scheme itself."""
    if post is not None:
        return query.filter(post=post)
    if offer is not None:
        return query.filter(offer=offer)
    return query.filter(post_id__isnull=True, offer_id__isnull=True)


async def report(
    actor: User | None, council: Council, slug: str, post_id: int | None, reason: str, details: str, offer_id: int | None = None
) -> Report:
    """Anyone signed in reports a scheme, a news post or an offer of help, saying why; officers see it in their queue."""
    reporter = require_poster(actor)
    target = await report_target(actor, council, slug, post_id, offer_id)
    scheme, post, offer = target.scheme, target.post, target.offer
    details = paragraphs(details)
    errors = {}
    if reason not in REPORT_REASONS:
        errors["reason"] = "Choose what is wrong"
    if not details:
        errors["details"] = "Tell us what is wrong, so an officer can check"
    elif len(details) > DETAILS_LIMIT:
        errors["details"] = f"Details must be {DETAILS_LIMIT} characters or fewer (they have {len(details)})"
    if errors:
        raise Invalid(errors)
    reported_before = _about(Report.filter(scheme=scheme, reporter=reporter, status="open"), post, offer)
    if await reported_before.exists():
        raise Conflict(ALREADY_REPORTED)
    await ratelimit.hit(
        config.current().report_rate, "scheme-report", str(reporter.id),
        message="You have sent several reports in a short time. Please wait {wait} and try again.",
    )
    async with in_transaction():
        await _lock_target(council, target)
        if await reported_before.exists():  # sent twice at once: the second waited for the first
            raise Conflict(ALREADY_REPORTED)
        row = await Report.create(council=council, scheme=scheme, post=post, offer=offer, reporter=reporter, reason=reason, details=details)
        await audit.record(reporter, "report.made", row, council=council, reason=reason)
    return row


# The queue


# What a report's page and the queue show of it: what it is about, who wrote that and who reported it.
REPORT_JOINS = ("scheme", "post", "offer", "reporter", "scheme__proposed_by", "post__author", "offer__author")


@dataclass
class Queue:
    reports: list[Report] = field(default_factory=list)
    pending: list[Scheme] = field(default_factory=list)
    hidden_schemes: list[Scheme] = field(default_factory=list)
    hidden_posts: list[NewsPost] = field(default_factory=list)
    hidden_offers: list[HelpOffer] = field(default_factory=list)


async def queue(actor: User | None, council: Council) -> Queue:
    """Everything waiting for a moderator in this council: open reports, proposals, hidden content."""
    await require_role(actor, council, *access.STAFF_ROLES)
    return Queue(
        reports=list(await Report.filter(council=council, status="open").prefetch_related(*REPORT_JOINS)),
        pending=list(await Scheme.filter(council=council, status="pending").prefetch_related("proposed_by").order_by("created_at", "id")),
        hidden_schemes=list(await Scheme.filter(council=council, hidden=True).order_by("name")),
        hidden_posts=list(await NewsPost.filter(council=council, hidden=True).prefetch_related("scheme")),
        hidden_offers=list(await HelpOffer.filter(council=council, hidden=True, removed_at__isnull=True).prefetch_related("scheme", "author")),
    )


async def _close_reports(actor: User, council: Council, reports: list[Report], status: str, outcome: str, told: str) -> list[OutgoingEmail]:
    """Mark reports handled and queue a note to each reporter saying what was decided."""
    queued = []
    now = timezone.now()
    for row in reports:
        # Only if still open: another officer deciding it at the same moment (hiding what it is about, or
        # dismissing it) has decided it, and the reporter hears once.
        if not await Report.filter(id=row.id, status="open").update(status=status, outcome=outcome, handled_by_id=actor.id, handled_at=now):
            continue
        row.status, row.outcome, row.handled_by, row.handled_at = status, outcome, actor, now
        await audit.record(actor, f"report.{status}", row, council=council, reason=outcome)
        if row.reporter is not None and not row.reporter.suspended:
            queued.append(await mail.queue(row.reporter.email, "What happened to your report", f"Thank you for your report about {row.scheme.name}.\n\n{told}\n\nThe officer's note: {outcome}\n", council_id=council.id))
    return queued


async def _open_reports(scheme: Scheme, post: NewsPost | None, offer: HelpOffer | None = None) -> list[Report]:
    return list(await _about(Report.filter(scheme=scheme, status="open"), post, offer).prefetch_related("reporter", "scheme"))


async def hide_scheme(actor: User | None, council: Council, slug: str, reason: str) -> Scheme:
    """An officer hides a scheme from every listing, page and feed; reporters and organisers are told."""
    scheme, _ = await access.find_for_officer(actor, council, slug)
    assert actor is not None
    reason = _reason(reason)
    if scheme.hidden:
        raise Conflict("This scheme is already hidden.")
    async with in_transaction():
        # Locked, as reports hold it: a second officer hiding it at the same moment waits, then is refused.
        if (await Scheme.select_for_update().get(id=scheme.id)).hidden:
            raise Conflict("This scheme is already hidden.")
        scheme.hidden, scheme.hidden_reason = True, reason
        await scheme.save(update_fields=["hidden", "hidden_reason", "updated_at"])
        await audit.record(actor, "scheme.hidden", scheme, council=council, reason=reason)
        queued = await _close_reports(actor, council, await _open_reports(scheme, None), "hidden", reason, "An officer has checked it and hidden the scheme from the site.")
        queued += await tell_organisers(
            scheme, f"{scheme.name} has been hidden",
            f"{council.name} has hidden your scheme, {scheme.name}, from the public. The reason:\n\n{reason}\n\n"
            "You can still see it when signed in. Contact the council to talk about it.\n",
        )
    await mail.deliver(queued)
    return scheme


async def restore_scheme(actor: User | None, council: Council, slug: str, reason: str) -> Scheme:
    """An officer brings a hidden scheme back, saying why."""
    scheme, _ = await access.find_for_officer(actor, council, slug)
    reason = _reason(reason)
    if not scheme.hidden:
        raise Conflict("This scheme is not hidden.")
    async with in_transaction():
        if not (await Scheme.select_for_update().get(id=scheme.id)).hidden:
            raise Conflict("This scheme is not hidden.")
        scheme.hidden, scheme.hidden_reason = False, ""
        await scheme.save(update_fields=["hidden", "hidden_reason", "updated_at"])
        await audit.record(actor, "scheme.restored", scheme, council=council, reason=reason)
        queued = await tell_organisers(
            scheme, f"{scheme.name} is visible again", f"{council.name} has restored your scheme, {scheme.name}:\n\n{scheme_url(council, scheme)}\n"
        )
    await mail.deliver(queued)
    return scheme


async def officer_scheme(actor: User | None, council: Council, slug: str) -> Scheme:
    """A scheme of this council, for its officers to moderate."""
    scheme, _ = await access.find_for_officer(actor, council, slug)
    return scheme


async def officer_post(actor: User | None, council: Council, post_id: int) -> NewsPost:
    """A news post of this council, for its officers to moderate."""
    await require_role(actor, council, *access.STAFF_ROLES)
    post = await NewsPost.get_or_none(id=post_id, council=council).prefetch_related("scheme", "author")
    if post is None:
        raise NotFound()
    return post


async def hide_post(actor: User | None, council: Council, post_id: int, reason: str) -> NewsPost:
    """An officer hides a news post; reporters and its author are told."""
    return await _hide(actor, council, await officer_post(actor, council, post_id), reason)


async def restore_post(actor: User | None, council: Council, post_id: int, reason: str) -> NewsPost:
    """An officer brings a hidden news post back, saying why."""
    return await _restore(actor, council, await officer_post(actor, council, post_id), reason)


async def officer_offer(actor: User | None, council: Council, offer_id: int) -> HelpOffer:
    """An offer of help on a board of this council, for its officers to moderate."""
    await require_role(actor, council, *access.STAFF_ROLES)
    offer = await HelpOffer.get_or_none(id=offer_id, council=council).prefetch_related("scheme", "author")
    if offer is None:
        raise NotFound()
    return offer


def _quoted(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return f"‘{line if len(line) <= limit else line[: limit - 1].rstrip() + '…'}’"


async def hide_offer(actor: User | None, council: Council, offer_id: int, reason: str) -> HelpOffer:
    """An officer hides an offer of help from the scheme's board; reporters and the person who offered are told."""
    return await _hide(actor, council, await officer_offer(actor, council, offer_id), reason)


async def restore_offer(actor: User | None, council: Council, offer_id: int, reason: str) -> HelpOffer:
    """An officer brings a hidden offer of help back onto the board, saying why."""
    return await _restore(actor, council, await officer_offer(actor, council, offer_id), reason)


# What moderation calls each thing it hides: in a refusal, and in e-mails.
_NAMES = {NewsPost: ("news post", "news post"), HelpOffer: ("offer", "offer of help")}
Hideable = TypeVar("Hideable", NewsPost, HelpOffer)


def _described(item: NewsPost | HelpOffer) -> str:
    return f"news post ‘{item.title}’" if isinstance(item, NewsPost) else f"offer of help {_quoted(item.text)}"


async def _locked(item: Hideable) -> Hideable:
    """The item as it is now, held until the transaction ends: organisers changing or deleting it, a report
    on it and another officer's decision hold the same row, so each sees what the one before it did."""
    short, _ = _NAMES[type(item)]
    current = await type(item).select_for_update().get_or_none(id=item.id)
    if current is None:
        raise Conflict(f"This {short} has just been deleted.")
    return current


async def _hide(actor: User | None, council: Council, item: Hideable, reason: str) -> Hideable:
    assert actor is not None
    short, name = _NAMES[type(item)]
    reason = _reason(reason)
    if item.hidden:
        raise Conflict(f"This {short} is already hidden.")
    post, offer = (item, None) if isinstance(item, NewsPost) else (None, item)
    async with in_transaction():
        if (await _locked(item)).hidden:
            raise Conflict(f"This {short} is already hidden.")
        item.hidden, item.hidden_reason = True, reason
        await item.save(update_fields=["hidden", "hidden_reason"])
        await audit.record(actor, "news.hidden" if post is not None else "help_offer.hidden", item, council=council, reason=reason)
        queued = await _close_reports(
            actor, council, await _open_reports(item.scheme, post, offer), "hidden", reason, f"An officer has checked it and hidden the {name} from the site."
        )
        if item.author is not None and not item.author.suspended:
            queued.append(await mail.queue(
                item.author.email, f"Your {name} on {item.scheme.name} has been hidden",
                f"{council.name} has hidden your {_described(item)}. The reason:\n\n{reason}\n",
                council_id=council.id,
            ))
    await mail.deliver(queued)
    return item


async def _restore(actor: User | None, council: Council, item: Hideable, reason: str) -> Hideable:
    short, _ = _NAMES[type(item)]
    reason = _reason(reason)
    if not item.hidden:
        raise Conflict(f"This {short} is not hidden.")
    async with in_transaction():
        current = await _locked(item)
        if not current.hidden:
            raise Conflict(f"This {short} is not hidden.")
        if isinstance(current, HelpOffer) and current.removed_at is not None:
            raise Conflict("This offer has been taken down from the board, so there is nothing to restore.")
        item.hidden, item.hidden_reason = False, ""
        await item.save(update_fields=["hidden", "hidden_reason"])
        await audit.record(actor, "news.restored" if isinstance(item, NewsPost) else "help_offer.restored", item, council=council, reason=reason)
    return item


async def officer_report(actor: User | None, council: Council, report_id: int) -> Report:
    """A report made in this council, for its officers."""
    await require_role(actor, council, *access.STAFF_ROLES)
    row = await Report.get_or_none(id=report_id, council=council).prefetch_related(*REPORT_JOINS)
    if row is None:
        raise NotFound()
    return row


async def dismiss(actor: User | None, council: Council, report_id: int, reason: str) -> Report:
    """An officer decides a report needs no action, saying why; the reporter is told."""
    row = await officer_report(actor, council, report_id)
    assert actor is not None
    reason = _reason(reason)
    if row.status != "open":
        raise Conflict("This report has already been dealt with.")
    async with in_transaction():
        # Locked: an officer hiding what it is about at the same moment waits, or is waited for and then decided.
        if (await Report.select_for_update().get(id=row.id)).status != "open":
            raise Conflict("This report has already been dealt with.")
        queued = await _close_reports(actor, council, [row], "dismissed", reason, "An officer has checked it and decided to leave it as it is.")
    await mail.deliver(queued)
    return row


def _kind(row: Report) -> str:
    return "post" if row.about_post else "offer" if row.about_offer else "scheme"


def report_author(row: Report) -> User | None:
    """Who wrote what was reported: the news post's author, the person who offered help, or the scheme's proposer."""
    if row.post is not None:
        return row.post.author
    if row.offer is not None:
        return row.offer.author
    return row.scheme.proposed_by


async def suspend_author(actor: User | None, council: Council, report_id: int, reason: str) -> User:
    """An officer stops the author of reported content from posting (and signing in)."""
    row = await officer_report(actor, council, report_id)
    reason = _reason(reason)
    author = report_author(row)
    if author is None:
        raise Conflict("The person who wrote this no longer has an account.")
    if author.id == actor.id or await accounts.has_role(author, council, *access.STAFF_ROLES):  # type: ignore[union-attr]
        raise Conflict("Council staff cannot be stopped from posting here. Ask an administrator to remove their role first.")
    if author.suspended:
        raise Conflict(f"{author} is already stopped from posting.")
    await accounts.suspend(actor, council, author, reason)
    return author


@dataclass
class Suspension:
    """Someone this council stopped posting, as the audit log recorded it."""

    user: User
    since: datetime
    reason: str
    by: User | None


def _suspensions() -> QuerySet[AuditLog]:
    return AuditLog.filter(action="user.suspended", target_type="User").prefetch_related("actor")


async def suspended_people(actor: User | None, council: Council) -> list[Suspension]:
    """Everyone this council has stopped posting who still cannot post, most recently stopped first."""
    await require_role(actor, council, *access.STAFF_ROLES)
    # A set, not DISTINCT: PostgreSQL refuses DISTINCT beside the audit log's default ordering.
    ours = set(await AuditLog.filter(council=council, action="user.suspended", target_type="User").values_list("target_id", flat=True))
    people = {str(u.id): u for u in await User.filter(id__in=[as_id(i) for i in ours], suspended=True)}
    latest: dict[str, AuditLog] = {}
    for entry in await _suspensions().filter(target_id__in=list(people)):  # newest first
        latest.setdefault(entry.target_id, entry)
    # Someone another council has stopped again since is that council's to lift.
    return [Suspension(people[i], e.created_at, e.reason, e.actor) for i, e in latest.items() if e.council_id == council.id]  # type: ignore[attr-defined]


async def officer_suspension(actor: User | None, council: Council, user_id: int) -> Suspension:
    """A person this council stopped posting and who still cannot post, for its officers."""
    await require_role(actor, council, *access.STAFF_ROLES)
    # Only the council that imposed the latest suspension may lift it.
    entry = await _suspensions().filter(target_id=str(user_id)).first()
    if entry is None or entry.council_id != council.id:  # type: ignore[attr-defined]
        raise NotFound()
    person = await User.get_or_none(id=user_id)
    if person is None:
        raise NotFound()
    if not person.suspended:
        raise Conflict(f"{person} can already sign in and post.")
    return Suspension(person, entry.created_at, entry.reason, entry.actor)


async def lift_suspension(actor: User | None, council: Council, user_id: int, reason: str) -> User:
    """An officer lets someone their council stopped posting sign in and post again; they are told by e-mail."""
    suspension = await officer_suspension(actor, council, user_id)
    reason = _reason(reason, missing="Say why they can post again, for the audit log")
    await accounts.unsuspend(actor, council, suspension.user, reason)
    return suspension.user


# Sections of the officer home


async def pending_section(council: Council) -> Section:
    schemes = await Scheme.filter(council=council, status="pending").order_by("created_at", "id").limit(10)
    items = [AttentionItem(f"{s.name} (proposed {s.created_at:%d %b})", href=f"/schemes/{s.slug}", tag="To approve") for s in schemes]
    return Section("Schemes waiting for approval", items, empty="No schemes are waiting for approval.", href="/officer/moderation", order=20)


async def reports_section(council: Council) -> Section:
    reports = await Report.filter(council=council, status="open").prefetch_related("scheme").limit(10)
    about = {"post": "news on ", "offer": "an offer of help on ", "scheme": ""}
    items = [
        AttentionItem(f"{row.reason_name}: {about[_kind(row)]}{row.scheme.name}", href=f"/officer/moderation#report-{row.id}")
        for row in reports
    ]
    return Section("Reports to moderate", items, empty="No reports are waiting.", href="/officer/moderation", order=21)
