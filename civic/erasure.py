"""Deleting your own account: what goes with it, what stays without your name on it, and what must happen first."""

from __future__ import annotations

from dataclasses import dataclass, field

from civic import audit, mail
from civic.accounts import LoginToken, RoleGrant, Session, User
from civic.audit import AuditLog
from civic.concerns.models import Concern, ConcernEmail
from civic.councils import site_url
from civic.db import in_transaction
from civic.errors import Conflict
from civic.mail import OutgoingEmail
from civic.schemes import help_requests, invitations, volunteers
from civic.schemes.models import Membership, NewsPost, OrganiserInvitation, Report, Scheme
from civic.schemes.running import HelpOffer, HelpRequest
from civic.voting.models import Ballot

# A scheme in one of these states still has people relying on it, so it cannot be left with no organiser.
RUNNING = ("pending", "active", "paused")
# A ballot in a round not yet counted is removed rather than kept without a voter: kept, it would
# still count, and the same person signing up again could then vote a second time.
UNCOUNTED = ("draft", "open")


@dataclass
class Blocker:
    """Something that must be done before the account can go, and where to do it."""

    message: str
    links: list[tuple[str, str]] = field(default_factory=list)


async def blockers(user: User) -> list[Blocker]:
    """Why this account cannot be deleted yet: a council role, or being the only organiser of a scheme people rely on."""
    found: list[Blocker] = []
    grants = await RoleGrant.filter(user=user).prefetch_related("council").order_by("council_id", "role")
    for council_name in dict.fromkeys(grant.council.name for grant in grants):
        found.append(Blocker(
            f"You have a council role at {council_name}. An administrator at {council_name} must remove it "
            "before you can delete your account."
        ))
    organising = await Membership.filter(user=user, role="organiser", status="active", scheme__status__in=RUNNING).prefetch_related("scheme__council")
    for membership in organising:
        scheme: Scheme = membership.scheme
        others = Membership.filter(scheme=scheme, status__in=("active", "offered")).exclude(user=user)
        if await others.filter(role="organiser", status="active").exists():
            continue
        if scheme.status == "pending" and not await others.exists():
            continue  # a proposal nobody else has joined: the officers see it with no proposer
        url = f"{site_url(scheme.council)}/schemes/{scheme.slug}"
        found.append(Blocker(
            f"You are the only organiser of {scheme.name}, and people rely on it. Make someone else an organiser, "
            "or close the scheme, before you delete your account.",
            [(f"Add an organiser to {scheme.name}", f"{url}/organisers"), (f"Go to {scheme.name} to close it", url)],
        ))
    return found


async def delete_account(user: User) -> None:
    """Delete this person's account and what is only theirs; keep council records without their name on them.

    Refused (Conflict) while `blockers` finds anything. A suspended account may still be deleted.
    """
    async with in_transaction():
        # Read again inside the transaction: a role granted a moment ago still stops it.
        if found := await blockers(user):
            raise Conflict(" ".join(blocker.message for blocker in found))
        # The audit trail is the council's: what they did stays, no longer saying who.
        await AuditLog.filter(actor=user).update(actor_id=None)
        await Ballot.filter(voter=user, round__status__in=UNCOUNTED).delete()
        await Ballot.filter(voter=user).update(voter_id=None, report_emails=False)
        # Before anything of theirs goes: the volunteers matched to what they asked for, and the
        # organisers relying on them for jobs and shifts, must hear of it rather than be left waiting.
        queued = await help_requests.end_for_deleted_requester(user)
        queued += await volunteers.stand_down_everywhere(user)
        await HelpRequest.filter(requester=user).delete()
        await HelpOffer.filter(author=user).delete()
        await NewsPost.filter(author=user).update(author_id=None)
        await Report.filter(reporter=user).update(reporter_id=None)
        # A concern is the council's safeguarding record: it stays, with the contact details given in
        # it, until it is purged after closing. Only the link to the account goes.
        await Concern.filter(reporter=user).update(reporter_id=None)
        # Memberships take their consent records and safeguarding (DBS) checks with them; rota
        # sign-ups, event replies, assignments, calendar feeds, sessions and sign-in identities go
        # with the user row (ON DELETE CASCADE).
        await Membership.filter(user=user).delete()
        await Session.filter(user=user).delete()
        await LoginToken.filter(email=user.email).delete()
        # Invitations to organise hold the address they went to; those they sent stay without their name
        # (invited_by is SET NULL), withdrawn if unanswered, and changes of address waiting for a click go with the user row.
        await OrganiserInvitation.filter(email=user.email).delete()
        await invitations.withdraw_sent_by(None, user, "the organiser who sent it has deleted their account")
        # Messages about a concern they raised go with the concern (its purge deletes them).
        # Addresses are encrypted: their messages are found by the address's keyed digest.
        theirs = mail.address_digests(user.email)
        about_concerns = await ConcernEmail.filter(email__to_digest__in=theirs).values_list("email_id", flat=True)
        await OutgoingEmail.filter(to_digest__in=theirs).exclude(id__in=list(about_concerns)).delete()
        await audit.record(None, "user.deleted", user, reason="deleted their own account")
        await user.delete()
    # Anything queued to their own address (as an organiser told of their own leaving) went with the rest.
    await mail.deliver(queued)
