"""Scheme routes: the directory, scheme pages, organisers' pages, officers' decisions, moderation and the feed.

`slug` is an approved scheme run by someone who holds no other role; `pending_slug` waits for approval.
Residents cannot change a scheme they do not organise (403); nobody but the council's own officers may
even know a pending scheme exists (404), so another council's officers cannot approve it. `offer_id` is
an offer of help on the scheme's board, and `hidden_offer_id` one the council has hidden.
"""

from __future__ import annotations

from tests.factories import create_post_ok, create_report_ok, create_scheme_ok, create_user_ok, ward
from tests.routes.permissions import HIDDEN, SIGN_IN, Case, World, council_roles, everyone, signed_in

STAFF = {"officer", "admin"}


def staff_only(ok: int = 200, others: int = 403, anonymous: int = SIGN_IN) -> dict[str, int]:
    return council_roles(STAFF, ok=ok, denied=others, anonymous=anonymous)


def organisers_only(anonymous: int = SIGN_IN) -> dict[str, int]:
    """Nobody in the matrix organises the scheme: every one of them is refused."""
    return {**everyone(403), "anonymous": anonymous}


def invited_only(ok: int, anonymous: int = SIGN_IN) -> dict[str, int]:
    """The resident is invited to organise the scheme; nobody else may know the invitation exists."""
    return {**everyone(HIDDEN), "resident": ok, "anonymous": anonymous}


def pending(ok: int) -> dict[str, int]:
    """A pending scheme: the council's officers may act; everyone else is told it does not exist."""
    return staff_only(ok=ok, others=HIDDEN, anonymous=HIDDEN)


NEW_SCHEME = {
    "name": "Scheme proposed by {role}", "summary": "A summary", "description": "What it does", "categories": "food",
    "audiences": "everyone", "wards": "{ward_id}", "times": "Mondays", "venue": "The hall", "how_to_get_help": "Ask us",
    "safeguarding_lead_name": "Gwen Roberts", "safeguarding_lead_role": "Chair",
}
REASON = {"reason": "Checked by {role}"}

CASES = [
    # The directory and a scheme's page
    Case("GET", "/schemes", everyone()),
    Case("GET", "/schemes/{slug}", everyone()),
    Case("GET", "/schemes/{pending_slug}", pending(200), note="a proposed scheme is invisible to the public"),
    Case("GET", "/schemes/{slug}/news", everyone()),
    Case("GET", "/schemes/mine", signed_in()),
    # Starting a scheme
    Case("GET", "/schemes/new", signed_in()),
    Case("POST", "/schemes", signed_in(303, anonymous=403), data=NEW_SCHEME),
    # Running a scheme: only its organisers
    Case("GET", "/schemes/{slug}/edit", organisers_only()),
    Case("POST", "/schemes/{slug}/edit", organisers_only(anonymous=403), data=NEW_SCHEME),
    Case("POST", "/schemes/{slug}/status", organisers_only(anonymous=403), data={"action": "pause"}),
    Case("GET", "/schemes/{slug}/close", organisers_only()),
    Case("GET", "/schemes/{slug}/organisers", organisers_only()),
    Case("POST", "/schemes/{slug}/organisers", organisers_only(anonymous=403), data={"email": "helper-{role}@example.test"}),
    Case("GET", "/schemes/{slug}/organisers/{membership_id}/remove", organisers_only()),
    Case("POST", "/schemes/{slug}/organisers/{membership_id}/remove", organisers_only(anonymous=403)),
    Case("POST", "/schemes/{slug}/organisers/invitations/{invitation_id}/withdraw", organisers_only(anonymous=403)),
    # An invitation to organise: only the person invited (the resident) sees it or answers it
    Case("GET", "/schemes/{slug}/invitation", invited_only(200)),
    Case("POST", "/schemes/{slug}/invitation/accept", invited_only(303, anonymous=403), fresh=True),
    Case("POST", "/schemes/{slug}/invitation/decline", invited_only(303, anonymous=403), fresh=True),
    Case("POST", "/schemes/{slug}/news", organisers_only(anonymous=403), data={"title": "Hello", "body": "News"}),
    Case("GET", "/schemes/{slug}/news/{post_id}/edit", organisers_only()),
    Case("POST", "/schemes/{slug}/news/{post_id}/edit", organisers_only(anonymous=403), data={"title": "Changed by {role}", "body": "News"}),
    Case("GET", "/schemes/{slug}/news/{post_id}/delete", organisers_only()),
    Case("POST", "/schemes/{slug}/news/{post_id}/delete", organisers_only(anonymous=403)),
    Case("GET", "/schemes/{pending_slug}/edit", {**pending(403), "anonymous": HIDDEN}, note="officers see it but cannot edit it"),
    # Officers decide on proposals
    Case("POST", "/schemes/{slug}/approve", staff_only(ok=409, anonymous=403), note="an approved scheme cannot be approved again"),
    Case("POST", "/schemes/{pending_slug}/approve", pending(303), fresh=True),
    Case("GET", "/schemes/{slug}/decline", staff_only(ok=409)),
    Case("GET", "/schemes/{pending_slug}/decline", pending(200)),
    Case("POST", "/schemes/{slug}/decline", staff_only(ok=409, anonymous=403), data={"decline_reason": "No"}),
    Case("POST", "/schemes/{pending_slug}/decline", pending(303), data={"decline_reason": "Please name a safeguarding lead"}, fresh=True),
    # Messages and reports: anyone signed in
    Case("GET", "/schemes/{slug}/contact", signed_in()),
    Case("POST", "/schemes/{slug}/contact", signed_in(303, anonymous=403), data={"message": "Hello from {role}"}),
    Case("GET", "/schemes/{pending_slug}/contact", {**pending(200), "anonymous": SIGN_IN}, note="officers may write to a proposer"),
    Case("GET", "/schemes/{slug}/report", signed_in()),
    Case("POST", "/schemes/{slug}/report", signed_in(303, anonymous=403), data={"reason": "wrong", "details": "Reported by {role}"}),
    Case("GET", "/schemes/{slug}/news/{post_id}/report", signed_in()),
    Case("POST", "/schemes/{slug}/news/{post_id}/report", signed_in(303, anonymous=403), data={"reason": "spam", "details": "Reported by {role}"}),
    # Moderation: the council's officers only
    Case("GET", "/officer/moderation", staff_only()),
    Case("GET", "/officer/moderation/schemes/{slug}/hide", staff_only()),
    Case("GET", "/officer/moderation/schemes/{pending_slug}/hide", pending(200)),
    Case("POST", "/officer/moderation/schemes/{slug}/hide", staff_only(ok=303, anonymous=403), data=REASON, fresh=True),
    Case("GET", "/officer/moderation/schemes/{slug}/restore", staff_only()),
    Case("POST", "/officer/moderation/schemes/{slug}/restore", staff_only(ok=409, anonymous=403), data=REASON, note="it is not hidden"),
    Case("POST", "/officer/moderation/schemes/{hidden_slug}/restore", staff_only(ok=303, others=HIDDEN, anonymous=HIDDEN), data=REASON, fresh=True),
    Case("GET", "/officer/moderation/posts/{post_id}/hide", staff_only()),
    Case("POST", "/officer/moderation/posts/{post_id}/hide", staff_only(ok=303, anonymous=403), data=REASON, fresh=True),
    Case("GET", "/officer/moderation/posts/{post_id}/restore", staff_only()),
    Case("POST", "/officer/moderation/posts/{post_id}/restore", staff_only(ok=409, anonymous=403), data=REASON, note="it is not hidden"),
    Case("GET", "/officer/moderation/offers/{offer_id}/hide", staff_only()),
    Case("POST", "/officer/moderation/offers/{offer_id}/hide", staff_only(ok=303, anonymous=403), data=REASON, fresh=True),
    Case("GET", "/officer/moderation/offers/{offer_id}/restore", staff_only()),
    Case("POST", "/officer/moderation/offers/{offer_id}/restore", staff_only(ok=409, anonymous=403), data=REASON, note="it is not hidden"),
    Case("POST", "/officer/moderation/offers/{hidden_offer_id}/restore", staff_only(ok=303, anonymous=403), data=REASON, fresh=True),
    Case("GET", "/officer/moderation/reports/{report_id}/dismiss", staff_only()),
    Case("POST", "/officer/moderation/reports/{report_id}/dismiss", staff_only(ok=303, anonymous=403), data=REASON, fresh=True),
    Case("GET", "/officer/moderation/reports/{report_id}/suspend", staff_only()),
    Case("POST", "/officer/moderation/reports/{report_id}/suspend", staff_only(ok=303, anonymous=403), data=REASON, fresh=True),
    # The Open Referral UK feed: public, and only approved schemes
    Case("GET", "/api/openreferral", everyone()),
    Case("GET", "/api/openreferral/services", everyone()),
    Case("GET", "/api/openreferral/services/{id}", everyone()),
    Case("GET", "/api/openreferral/services/{pending_id}", everyone(404)),
]


async def setup(world: World) -> dict[str, str]:
    from civic.schemes.models import Membership, OrganiserInvitation, Scheme
    from civic.schemes.running import HelpOffer

    council = world.council
    organiser, helper = await create_user_ok(council), await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    co_organiser = await Membership.create(scheme=scheme, user=helper, role="organiser", added_by=organiser)
    proposed = await create_scheme_ok(council, organiser, status="pending")
    hidden = await create_scheme_ok(council, organiser)
    await Scheme.filter(id=hidden.id).update(hidden=True, hidden_reason="Spam")
    post = await create_post_ok(scheme, organiser)
    offer = await HelpOffer.create(council=council, scheme=scheme, author=helper, text="Lifts to the surgery")
    hidden_offer = await HelpOffer.create(council=council, scheme=scheme, author=helper, text="Cheap tickets", hidden=True, hidden_reason="Selling")
    report = await create_report_ok(scheme, reporter=helper)
    invitation = await OrganiserInvitation.create(council=council, scheme=scheme, email=world.people["resident"].email, invited_by=organiser)
    return {
        "slug": scheme.slug,
        "pending_slug": proposed.slug,
        "hidden_slug": hidden.slug,
        "id": str(scheme.uuid),
        "pending_id": str(proposed.uuid),
        "post_id": str(post.id),
        "offer_id": str(offer.id),
        "hidden_offer_id": str(hidden_offer.id),
        "report_id": str(report.id),
        "membership_id": str(co_organiser.id),
        "invitation_id": str(invitation.id),
        "ward_id": str((await ward(council, "Abbey")).id),
    }
