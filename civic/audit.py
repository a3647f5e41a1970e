"""The audit log: who did what to which thing, when, and why."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

# What each action says on the officer home's "Recent activity", after who did it ("Ada Admin changed
# a key workers' system"). tests/civic/test_audit.py fails for an action used in civic/ with no words.
ACTION_WORDS = {
    "ballot.paper_entered": "entered a paper ballot",
    "calendar.created": "made a private calendar feed",
    "calendar.revoked": "stopped a private calendar feed",
    "category.created": "added a concern category",
    "category.updated": "changed a concern category",
    "council.settings_changed": "changed the council's settings",
    "concern.assigned": "assigned a concern",
    "concern.closed": "closed a concern",
    "concern.escalated": "escalated a concern nobody had looked at",
    "concern.information_requested": "asked for more information about a concern",
    "concern.merged": "merged two concerns",
    "concern.noted": "added a note to a concern",
    "concern.raised": "raised a concern",
    "concern.referred": "referred a concern to early help",
    "concern.signposted": "signposted a concern to a scheme",
    "email.sent_again": "sent failed email again",
    "endpoint.api_key_replaced": "made a new API key for a key workers' system",
    "endpoint.changed": "changed a key workers' system",
    "endpoint.created": "added a key workers' system",
    "endpoint.disabled": "switched off a key workers' system",
    "endpoint.enabled": "switched on a key workers' system",
    "endpoint.paused": "paused a key workers' system",
    "endpoint.pinged": "sent a test event to a key workers' system",
    "endpoint.secret_rotated": "made a new signing secret for a key workers' system",
    "endpoint.url_changed": "changed the web address of a key workers' system",
    "endpoint.url_confirmed": "confirmed the web address of a key workers' system",
    "event.cancelled": "cancelled an event",
    "event.changed": "changed an event",
    "event.created": "published an event",
    "event.replied": "replied to an event",
    "event.reply_taken_back": "took back their reply to an event",
    "help_offer.hidden": "hid an offer of help",
    "help_offer.posted": "offered help",
    "help_offer.removed": "took down an offer of help",
    "help_offer.restored": "restored an offer of help",
    "help_request.accepted": "accepted a help request",
    "help_request.cancelled_by_closing": "cancelled a help request by closing its scheme",
    "help_request.cancelled_by_organiser": "cancelled a help request as an organiser",
    "help_request.cancelled_by_requester": "cancelled their help request",
    "help_request.created": "asked for help",
    "help_request.declined_by_volunteer": "turned down a help request",
    "help_request.done": "marked a help request done",
    "help_request.matched": "matched a help request to a volunteer",
    "help_request.taken_back": "took back a help request",
    "news.changed": "changed a news post",
    "news.deleted": "deleted a news post",
    "news.hidden": "hid a news post",
    "news.posted": "posted news",
    "news.restored": "restored a news post",
    "referral.allocated": "allocated a referral to a key worker",
    "referral.closed": "closed a referral",
    "referral.received": "received a referral",
    "report.dismissed": "dismissed a report",
    "report.hidden": "hid something that was reported",
    "report.made": "reported something to the council",
    "role.granted": "gave someone a role",
    "role.revoked": "removed someone's role",
    "round.changed": "changed a voting round",
    "round.closed": "closed a voting round",
    "round.codes_downloaded": "downloaded voting codes",
    "round.codes_generated": "made voting codes",
    "round.created": "set up a voting round",
    "round.imported": "imported a voting round",
    "round.opened": "opened a voting round",
    "round.priority_added": "added a priority to a voting round",
    "round.priority_changed": "changed a priority in a voting round",
    "round.priority_removed": "removed a priority from a voting round",
    "round.progress_posted": "posted progress on a priority",
    "round.published": "published the results of a voting round",
    "routing_rule.created": "added a routing rule",
    "routing_rule.deleted": "removed a routing rule",
    "scheme.approved": "approved a scheme",
    "scheme.closed": "closed a scheme",
    "scheme.declined": "turned down a proposed scheme",
    "scheme.hidden": "hid a scheme",
    "scheme.messaged": "sent a message about a scheme",
    "scheme.organiser_added": "added an organiser to a scheme",
    "scheme.organiser_invitation_declined": "turned down an invitation to organise a scheme",
    "scheme.organiser_invitation_withdrawn": "withdrew an invitation to organise a scheme",
    "scheme.organiser_invited": "invited someone to organise a scheme",
    "scheme.organiser_removed": "removed an organiser from a scheme",
    "scheme.paused": "paused a scheme",
    "scheme.proposed": "proposed a scheme",
    "scheme.restored": "restored a scheme",
    "scheme.resubmitted": "sent a scheme for approval again",
    "scheme.resumed": "started a paused scheme again",
    "scheme.safeguarding_changed": "changed a scheme's safeguarding",
    "scheme.updated": "changed a scheme's details",
    "shift.cancelled": "cancelled a shift",
    "shift.changed": "changed a shift",
    "shift.created": "added a shift",
    "shift.moved": "moved a shift",
    "shift.signed_up": "signed up for a shift",
    "shift.stopped": "stopped a repeating shift",
    "shift.volunteer_removed": "took a volunteer off a shift",
    "shift.withdrawn": "dropped out of a shift",
    "team.created": "added an early help team",
    "team.made_default": "made a team the default for concerns",
    "team.member_added": "added a key worker to a team",
    "team.member_removed": "took a key worker off a team",
    "user.created": "made an account",
    "user.deleted": "deleted an account",
    "user.email_changed": "changed an email address",
    "user.identity_linked": "linked a sign-in service to an account",
    "user.identity_unverified": "removed an identity check from an account",
    "user.identity_verified": "checked someone's identity",
    "user.signed_out_everywhere": "signed out everywhere",
    "user.suspended": "suspended an account",
    "user.unsuspended": "lifted an account's suspension",
    "visit.arrived": "arrived at a home visit",
    "visit.left": "left a home visit",
    "visit.not_left_alert": "raised the alarm: a volunteer had not left a home visit",
    "volunteer.accepted": "accepted a volunteer",
    "volunteer.check_recorded": "recorded a volunteer's DBS check",
    "volunteer.declined": "turned down a volunteer",
    "volunteer.left": "stopped volunteering",
    "volunteer.offered": "offered to volunteer",
    "volunteer.removed": "removed a volunteer",
    "volunteer.role_changed": "changed a volunteer's role",
    "webhook.cancelled": "marked a webhook delivery as handled",
    "webhook.dead": "gave up on a webhook delivery after every retry",
    "webhook.replayed": "sent a webhook delivery again",
}


def words(action: str) -> str:
    """The action in plain words; an action with none yet is shown as itself rather than not at all."""
    return ACTION_WORDS.get(action, action)


class AuditLog(Model):
    id = fields.BigIntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="audit_entries", null=True)
    actor = fields.ForeignKeyField("civic.User", related_name="audit_entries", null=True)
    action = fields.CharField(max_length=80)
    target_type = fields.CharField(max_length=60, default="")
    target_id = fields.CharField(max_length=60, default="")
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_log"
        indexes = (("council_id", "created_at"),)  # the officer home's recent activity
        ordering = ["-created_at", "-id"]


async def record(actor: Any, action: str, target: Any = None, *, council: Any = None, reason: str = "") -> AuditLog:
    """Write one audit entry; call it inside the transaction of the change it describes."""
    return await AuditLog.create(
        actor=actor,
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "")) if target is not None else "",
        council=council,
        reason=reason,
    )
