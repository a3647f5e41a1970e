"""Invitations to organise a scheme: sent by e-mail, seen when signed in with that address, and accepted or declined.

Organisers see volunteers' and requesters' contact details, so nobody becomes one just because an address
was typed: a typo must not hand a stranger safeguarding data. The invited person has to sign in with the
address and accept; until then they see only the scheme's name and who asked them. An invitation nobody
answers lapses after INVITATION_LIFETIME; the organisers can send it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise import timezone
from tortoise.expressions import Q

from civic import audit, config, mail, ratelimit
from civic.accounts import User, normalise_email
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import access, when
from civic.schemes.models import INVITATION_LIFETIME, LISTED_STATUSES, Membership, OrganiserInvitation, Scheme
from civic.schemes.proposals import require_poster, scheme_url

NO_LONGER_ORGANISES = "the organiser who sent it no longer organises the scheme"
# An invitation holds the address someone typed. Once it is answered, withdrawn or lapsed it is kept this
# long (its link goes on saying what became of it, the list shows a lapsed one to send again), then deleted.
KEEP_SETTLED = timedelta(days=30)
SETTLED = ("accepted", "declined", "withdrawn")
LIFETIME_WORDS = f"{INVITATION_LIFETIME.days} days"


def _lapse_words(invitation: OrganiserInvitation) -> str:
    """'2:30pm on Tuesday 17 June 2025', in London time."""
    return f"{when.clock(invitation.lapses_at)} on {when.day_name(invitation.lapses_at)}"


async def pending(scheme: Scheme) -> list[OrganiserInvitation]:
    """The scheme's invitations nobody has answered, oldest first: those still waiting, and those that lapsed
    unanswered (shown so the organisers can send them again)."""
    return list(await OrganiserInvitation.filter(scheme=scheme, status="pending").prefetch_related("invited_by"))


async def invite(actor: User | None, council: Council, slug: str, raw_email: str) -> OrganiserInvitation:
    """An organiser invites someone by e-mail address to be a co-organiser; they are emailed a link to accept."""
    inviter = require_poster(actor)
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    try:
        email = normalise_email(raw_email)
    except Invalid:
        raise Invalid({"email": "Enter their email address, like name@example.com"}) from None
    if scheme.status == "closed":
        raise Conflict("This scheme has closed, so it cannot take on new organisers.")
    # Each invitation e-mails whatever address was typed, and anyone who proposes a scheme organises it.
    await ratelimit.hit(
        config.current().invitation_rate, "organiser-invitation", str(inviter.id),
        message="You have sent several invitations in a short time. Please wait {wait} and try again.",
    )
    async with in_transaction():
        # Locked, so two organisers inviting one address at the same moment make one invitation: the
        # second waits here, then finds the first and is told so.
        await Scheme.select_for_update().only("id").get(id=scheme.id)
        # Someone the council has stopped posting is invited like anyone else, so an organiser cannot
        # learn from the answer that an address has an account, or that it is stopped: they cannot
        # sign in to accept while the stop lasts (see `_mine`).
        person = await User.get_or_none(email=email)
        if person is not None and await access.is_organiser(person, scheme):
            raise Invalid({"email": f"{email} is already an organiser"})
        unanswered = OrganiserInvitation.filter(scheme=scheme, email=email, status="pending")
        if await unanswered.filter(created_at__gt=timezone.now() - INVITATION_LIFETIME).exists():
            raise Invalid({"email": f"You have already invited {email}. They have not answered yet."})
        # Sending again: the lapsed one gives way to the new one, so the list shows each address once.
        await unanswered.update(status="lapsed")
        invitation = await OrganiserInvitation.create(council=council, scheme=scheme, email=email, invited_by=inviter)
        await audit.record(inviter, "scheme.organiser_invited", scheme, council=council, reason=f"invitation {invitation.id}")
        queued = await mail.queue(
            email,
            f"{inviter} has invited you to help organise {scheme.name}",
            f"{inviter} has invited you to be an organiser of {scheme.name} on {council.name}'s site.\n\n"
            "Organisers run the scheme. They can see the names, phone numbers and email addresses of its volunteers, "
            "and the addresses of people who ask it for help. Only accept if you know who invited you and you mean to help.\n\n"
            f"To accept or decline, sign in with this email address and go to:\n\n{scheme_url(council, scheme)}/invitation\n\n"
            f"The invitation lasts {LIFETIME_WORDS}, until {_lapse_words(invitation)}. After that it lapses "
            "and you would need to be invited again.\n\n"
            "If you were not expecting this, you can ignore this email. Nothing changes unless you accept.\n",
            council_id=council.id,
        )
    await mail.deliver([queued])
    return invitation


async def withdraw(actor: User | None, council: Council, slug: str, invitation_id: int) -> OrganiserInvitation:
    """An organiser withdraws an invitation nobody has answered, and its link stops working; one that has
    lapsed is taken off the list and marked lapsed, which is what its link goes on saying."""
    scheme, _ = await access.find_for_organiser(actor, council, slug)
    async with in_transaction():
        invitation = await OrganiserInvitation.select_for_update().get_or_none(id=invitation_id, scheme=scheme)
        if invitation is None:
            raise NotFound()
        if invitation.status == "lapsed":
            raise Conflict("This invitation had already lapsed and is no longer on the list.")
        if invitation.status != "pending":
            raise Conflict(f"This invitation has already been {invitation.status}.")
        lapsed = invitation.lapsed
        invitation.status, invitation.answered_at = ("lapsed", None) if lapsed else ("withdrawn", timezone.now())
        await invitation.save(update_fields=["status", "answered_at"])
        why = ": it had lapsed" if lapsed else ""
        await audit.record(actor, "scheme.organiser_invitation_withdrawn", scheme, council=council, reason=f"invitation {invitation.id}{why}")
    return invitation


async def withdraw_sent_by(actor: User | None, inviter: User, why: str, scheme: Scheme | None = None) -> int:
    """Withdraw the unanswered invitations this person sent, to one scheme or to all of them, once they
    can no longer vouch for anyone (removed, stepped down, suspended, gone). Call inside the transaction
    of that change; returns how many."""
    query = OrganiserInvitation.filter(invited_by=inviter, status="pending")
    if scheme is not None:
        query = query.filter(scheme=scheme)
    withdrawn = 0
    for invitation in await query.select_for_update().prefetch_related("scheme", "council"):
        invitation.status, invitation.answered_at = "withdrawn", timezone.now()
        await invitation.save(update_fields=["status", "answered_at"])
        await audit.record(actor, "scheme.organiser_invitation_withdrawn", invitation.scheme, council=invitation.council, reason=f"invitation {invitation.id}: {why}")
        withdrawn += 1
    return withdrawn


async def forget_settled(batch: int = 1000, max_batches: int = 20) -> int:
    """The worker's job: delete invitations answered or withdrawn more than KEEP_SETTLED ago, and those
    that lapsed more than KEEP_SETTLED ago; returns how many. One still waiting for an answer is kept.

    A batch at a time, so the first run after an upgrade never holds a long lock.
    """
    now = timezone.now()
    # A pending invitation lapses by its age alone, and one marked lapsed did so by then at the latest.
    gone = Q(status__in=SETTLED, answered_at__lt=now - KEEP_SETTLED) | Q(status__in=("pending", "lapsed"), created_at__lt=now - INVITATION_LIFETIME - KEEP_SETTLED)
    forgotten = 0
    for _ in range(max_batches):
        ids = list(await OrganiserInvitation.filter(gone).order_by("id").limit(batch).values_list("id", flat=True))
        if not ids:
            break
        forgotten += await OrganiserInvitation.filter(gone, id__in=ids).delete()
        if len(ids) < batch:
            break
    return forgotten


@dataclass
class InvitationPage:
    """What the invited person sees before they answer: the scheme's name and who asked, nothing private.
    Once it has lapsed, who to ask for another."""

    scheme: Scheme
    invitation: OrganiserInvitation
    lapsed: bool
    ask: str  # who can invite them again
    can_message: bool  # the scheme's page takes messages to its organisers


async def _mine(actor: User | None, council: Council, slug: str) -> tuple[User, Scheme, OrganiserInvitation]:
    """The latest invitation to this scheme for the address the actor signed in with, waiting for an answer
    or lapsed unanswered; NotFound if there is none, or if the latest was answered or withdrawn."""
    person = require_poster(actor)
    # The scheme need not be public: someone may be invited to help with one still waiting for approval.
    scheme = await Scheme.get_or_none(council=council, slug=slug)
    if scheme is None or not person.email_verified:
        raise NotFound()
    invitation = (
        await OrganiserInvitation.filter(scheme=scheme, email=person.email)
        .order_by("-created_at", "-id").prefetch_related("invited_by").first()
    )
    if invitation is None or invitation.status not in ("pending", "lapsed"):
        raise NotFound()
    return person, scheme, invitation


async def invitation_page(actor: User | None, council: Council, slug: str) -> InvitationPage:
    """The invitation to this scheme for the signed-in person, if they have one, and whether it has lapsed."""
    _, scheme, invitation = await _mine(actor, council, slug)
    if not invitation.lapsed:
        return InvitationPage(scheme, invitation, lapsed=False, ask="", can_message=False)
    ask = _ask(invitation, await _inviter_still_organises(scheme, invitation))
    return InvitationPage(scheme, invitation, lapsed=True, ask=ask, can_message=scheme.status in LISTED_STATUSES and not scheme.hidden)


async def mine(actor: User | None, council: Council) -> list[OrganiserInvitation]:
    """The invitations to organise this council's schemes that wait for the signed-in person's answer."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    if not actor.email_verified or actor.suspended:
        return []
    waiting = OrganiserInvitation.filter(council=council, email=actor.email, status="pending", created_at__gt=timezone.now() - INVITATION_LIFETIME)
    return list(await waiting.prefetch_related("scheme"))


def _ask(invitation: OrganiserInvitation, inviter_organises: bool) -> str:
    # Only someone still running the scheme can invite again.
    return str(invitation.invited_by) if inviter_organises else "one of its organisers"


async def _answer(invitation: OrganiserInvitation, status: str, lapsed_message: str) -> None:
    locked = await OrganiserInvitation.select_for_update().get(id=invitation.id)
    # Checked under the lock, at the moment of answering: a page opened just before it lapsed is refused too.
    if locked.lapsed:
        raise Conflict(lapsed_message)
    if locked.status != "pending":
        raise Conflict(f"This invitation has already been {locked.status}.")
    invitation.status, invitation.answered_at = status, timezone.now()
    await invitation.save(update_fields=["status", "answered_at"])


async def _inviter_still_organises(scheme: Scheme, invitation: OrganiserInvitation) -> bool:
    inviter = invitation.invited_by
    return inviter is not None and not inviter.suspended and await access.is_organiser(inviter, scheme)


async def _tell_inviter(council: Council, scheme: Scheme, invitation: OrganiserInvitation, subject: str, body: str) -> list[mail.OutgoingEmail]:
    # Only someone still running the scheme hears how it went: the answer (and the new organiser's
    # address) is no business of someone removed or suspended since.
    if not await _inviter_still_organises(scheme, invitation):
        return []
    return [await mail.queue(invitation.invited_by.email, subject, body, council_id=council.id)]


async def accept(actor: User | None, council: Council, slug: str) -> Membership:
    """The invited person accepts and becomes an organiser; whoever invited them is told."""
    person, scheme, invitation = await _mine(actor, council, slug)
    if scheme.status == "closed":
        raise Conflict("This scheme has closed, so it no longer needs organisers.")
    async with in_transaction():
        # Someone removed or suspended since they sent it can no longer vouch for anyone: the invitation
        # is withdrawn instead. Their removal withdraws what they sent under the row lock `_answer`
        # takes, so the two never cross.
        vouched = await _inviter_still_organises(scheme, invitation)
        lapsed = f"This invitation has lapsed. Ask {_ask(invitation, vouched)} to invite you again."
        await _answer(invitation, "accepted" if vouched else "withdrawn", lapsed)
        if not vouched:
            await audit.record(None, "scheme.organiser_invitation_withdrawn", scheme, council=council, reason=f"invitation {invitation.id}: {NO_LONGER_ORGANISES}")
        else:
            membership, _ = await Membership.get_or_create(scheme=scheme, user=person, defaults={"role": "organiser", "added_by": invitation.invited_by})
            membership.role, membership.status, membership.added_by = "organiser", "active", invitation.invited_by
            await membership.save()
            await audit.record(person, "scheme.organiser_added", scheme, council=council, reason=f"user {person.id} accepted invitation {invitation.id}")
            queued = await _tell_inviter(
                council, scheme, invitation, f"{person} is now an organiser of {scheme.name}",
                f"{person} ({person.email}) has accepted your invitation and is now an organiser of {scheme.name}.\n\n{scheme_url(council, scheme)}/organisers\n",
            )
    if not vouched:
        raise Conflict(
            f"The person who invited you no longer organises {scheme.name}, so this invitation cannot be accepted. "
            "If you would still like to help run it, ask one of its organisers to invite you again."
        )
    await mail.deliver(queued)
    return membership


async def decline(actor: User | None, council: Council, slug: str) -> OrganiserInvitation:
    """The invited person says no; whoever invited them is told."""
    person, scheme, invitation = await _mine(actor, council, slug)
    async with in_transaction():
        await _answer(invitation, "declined", "This invitation has lapsed, so there is nothing to decline. Nothing has changed for you.")
        await audit.record(person, "scheme.organiser_invitation_declined", scheme, council=council, reason=f"invitation {invitation.id}")
        queued = await _tell_inviter(
            council, scheme, invitation, f"{invitation.email} will not be an organiser of {scheme.name}",
            f"{invitation.email} has declined your invitation to be an organiser of {scheme.name}.\n",
        )
    await mail.deliver(queued)
    return invitation
