"""The offers-of-help board on a scheme: volunteers and residents say what they can give."""

from __future__ import annotations

from tortoise import timezone

from civic import audit, config, ratelimit
from civic.accounts import User
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import access
from civic.schemes.models import Scheme
from civic.schemes.proposals import require_poster
from civic.schemes.running import HelpOffer
from civic.schemes.text import paragraphs

OFFER_LIMIT = 1000


async def board(actor: User | None, council: Council, slug: str) -> tuple[Scheme, access.Viewer, list[HelpOffer]]:
    """The scheme's offers of help, newest first, for anyone who can see the scheme; those the council
    hid only for its organisers and the council's officers, as hidden news is."""
    scheme, who = await access.find(actor, council, slug)
    query = HelpOffer.filter(scheme=scheme, removed_at__isnull=True)
    if not (who.is_organiser or who.is_officer):
        query = query.filter(hidden=False)
    offers = list(await query.prefetch_related("author").limit(200))
    return scheme, who, offers


async def post_offer(actor: User | None, council: Council, slug: str, text: str) -> HelpOffer:
    """Someone signed in offers help on the scheme's board; everyone who can see the scheme can read it."""
    actor = require_poster(actor)
    scheme, _ = await access.find(actor, council, slug)
    text = paragraphs(text)
    if not text:
        raise Invalid({"text": "Say what you can offer"})
    if len(text) > OFFER_LIMIT:
        raise Invalid({"text": f"Your offer must be {OFFER_LIMIT} characters or fewer (it has {len(text)})"})
    if scheme.status != "active":
        raise Conflict("This scheme is not taking offers at the moment.")
    await ratelimit.hit(
        config.current().scheme_message_rate, "scheme-offer", str(actor.id),
        message="You have posted several offers in a short time. Please wait {wait} and try again.",
    )
    async with in_transaction():
        offer = await HelpOffer.create(council=council, scheme=scheme, author=actor, text=text)
        await audit.record(actor, "help_offer.posted", offer, council=council)
    return offer


def why_offer_is_kept(council: Council, offer: HelpOffer, who: access.Viewer) -> str:
    """Why this person may not take this offer down though they posted it or run the scheme, or "" when they may:
    not while the council has it hidden, unless they are its officer, since what an officer hid stays for them
    to keep hidden or restore."""
    if offer.hidden and not who.is_officer:
        return f"{council.name} has hidden this offer, so it cannot be taken down while it is hidden. If you think it should be shown again, contact {council.name}."
    return ""


async def remove_offer(actor: User | None, council: Council, slug: str, offer_id: int) -> HelpOffer:
    """The person who posted an offer, the scheme's organisers or the council's officers take it down
    (only officers while the council has it hidden)."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    scheme, who = await access.find(actor, council, slug)
    offer = await HelpOffer.get_or_none(id=offer_id, scheme=scheme, removed_at__isnull=True)
    if offer is None:
        raise NotFound()
    if not (offer.author_id == actor.id or who.is_organiser or who.is_officer):
        raise Forbidden("Only the person who posted it, the organisers or the council can take an offer down.")
    async with in_transaction():
        # Locked, as a report on it and an officer hiding it hold it (moderation.py): each sees what the one before did.
        offer = await HelpOffer.select_for_update().get_or_none(id=offer_id, scheme=scheme, removed_at__isnull=True)
        if offer is None:
            raise NotFound()
        if kept := why_offer_is_kept(council, offer, who):
            raise Conflict(kept)
        offer.removed_at, offer.removed_by = timezone.now(), actor
        await offer.save(update_fields=["removed_at", "removed_by_id"])
        await audit.record(actor, "help_offer.removed", offer, council=council)
    return offer
