"""Concerns, the teams they are routed to, their history, referrals, access log and anonymised counts."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from civic.crypto import EncryptedTextField


class Team(Model):
    # An early-help team: what routing rules choose and what a referral is delivered to.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="teams", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=120)
    is_default = fields.BooleanField(default=False, description="gets every concern no rule matches")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "team"
        unique_together = (("council", "name"),)
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(Model):
    id = fields.IntField(primary_key=True)
    team = fields.ForeignKeyField("civic.Team", related_name="memberships", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("civic.User", related_name="team_memberships", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "team_membership"
        unique_together = (("team", "user"),)


class Category(Model):
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="concern_categories", on_delete=fields.CASCADE)
    slug = fields.CharField(max_length=60)
    name = fields.CharField(max_length=120)
    position = fields.IntField(default=0)
    active = fields.BooleanField(default=True)
    refer_straight_away = fields.BooleanField(default=False, description="skips triage and is referred at once")

    class Meta:
        table = "concern_category"
        unique_together = (("council", "slug"),)
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(Model):
    # Category x ward -> team. A rule with no ward matches every ward of the council.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="routing_rules", on_delete=fields.CASCADE)
    category = fields.ForeignKeyField("civic.Category", related_name="rules", null=True, on_delete=fields.CASCADE)
    ward = fields.ForeignKeyField("civic.Ward", related_name="routing_rules", null=True, on_delete=fields.CASCADE)
    team = fields.ForeignKeyField("civic.Team", related_name="rules", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "routing_rule"
        unique_together = (("council", "category", "ward"),)


class Concern(Model):
    # Special-category data: free text, names and contact details are encrypted columns.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="concerns", on_delete=fields.CASCADE)
    reference = fields.CharField(max_length=12, unique=True)
    status_key = EncryptedTextField(description="the secret part of the reporter status link")
    about = fields.CharField(max_length=20)
    category = fields.ForeignKeyField("civic.Category", related_name="concerns", null=True, on_delete=fields.SET_NULL)
    ward = fields.ForeignKeyField("civic.Ward", related_name="concerns", null=True, on_delete=fields.SET_NULL)
    urgency = fields.CharField(max_length=20)
    urgency_rank = fields.SmallIntField(description="0 is most urgent, for ordering the queue")
    person_knows = fields.CharField(max_length=10)
    details = EncryptedTextField(null=True)
    subject_name = EncryptedTextField(null=True, description="the name of the person it is about, if given")
    postcode = EncryptedTextField(null=True)
    contact_by = fields.CharField(max_length=10, description="email, phone or none")
    reporter_name = EncryptedTextField(null=True)
    reporter_email = EncryptedTextField(null=True)
    reporter_phone = EncryptedTextField(null=True)
    reporter = fields.ForeignKeyField("civic.User", related_name="concerns_raised", null=True, on_delete=fields.SET_NULL)
    status = fields.CharField(max_length=12, default="new", db_index=True)
    closed_reason = fields.CharField(max_length=30, default="")
    team = fields.ForeignKeyField("civic.Team", related_name="concerns", null=True, on_delete=fields.SET_NULL)
    merged_into = fields.ForeignKeyField("civic.Concern", related_name="duplicates", null=True, on_delete=fields.SET_NULL)
    signpost_name = fields.CharField(max_length=200, default="")
    signpost_url = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    due_at = fields.DatetimeField(description="when someone should first have looked at it")
    first_opened_at = fields.DatetimeField(null=True)
    escalated_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    council_id: int
    category_id: int | None
    ward_id: int | None
    team_id: int | None
    reporter_id: int | None
    merged_into_id: int | None

    class Meta:
        table = "concern"
        ordering = ["urgency_rank", "created_at", "id"]
        indexes = (("council_id", "status", "urgency_rank", "created_at"),)  # the triage queue

    def __str__(self) -> str:
        return self.reference


class ConcernEvent(Model):
    # The concern's history; the text may hold personal data, so it is encrypted.
    id = fields.BigIntField(primary_key=True)
    concern = fields.ForeignKeyField("civic.Concern", related_name="events", on_delete=fields.CASCADE)
    actor = fields.ForeignKeyField("civic.User", related_name="concern_events", null=True, on_delete=fields.SET_NULL)
    kind = fields.CharField(max_length=30)
    text = EncryptedTextField(null=True)
    team = fields.ForeignKeyField("civic.Team", related_name="concern_events", null=True, on_delete=fields.SET_NULL)
    # A reference rather than a key: the duplicate is purged before the concern it was merged into.
    from_duplicate = fields.CharField(
        max_length=12, default="", db_default="", description="the duplicate whose reporter added this information, if it was one"
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "concern_event"
        ordering = ["created_at", "id"]
        indexes = (("concern_id",),)


class Referral(Model):
    # A concern handed to an early-help team; delivery to the team's own system hangs off this row.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="referrals", on_delete=fields.CASCADE)
    concern = fields.ForeignKeyField("civic.Concern", related_name="referrals", on_delete=fields.CASCADE)
    team = fields.ForeignKeyField("civic.Team", related_name="referrals", on_delete=fields.CASCADE)
    referred_by = fields.ForeignKeyField("civic.User", related_name="referrals_made", null=True, on_delete=fields.SET_NULL)
    automatic = fields.BooleanField(default=False, description="made by a refer-straight-away category")
    status = fields.CharField(max_length=20, default="sent", description="sent, then what the team reports")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    concern_id: int
    team_id: int

    class Meta:
        table = "referral"
        ordering = ["created_at", "id"]
        indexes = (("concern_id",),)


class ConcernAccess(Model):
    # The access log: every view and export of a concern by anyone but the person who raised it.
    id = fields.BigIntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="concern_access", on_delete=fields.CASCADE)
    concern = fields.ForeignKeyField("civic.Concern", related_name="access_log", null=True, on_delete=fields.SET_NULL)
    reference = fields.CharField(max_length=12, description="kept after the concern is purged")
    user = fields.ForeignKeyField("civic.User", related_name="concern_access", null=True, on_delete=fields.SET_NULL)
    action = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "concern_access"
        ordering = ["-created_at", "-id"]
        indexes = (("concern_id",),)


class ConcernDraft(Model):
    # Answers between the steps of the form, encrypted, so the session row holds only this id.
    id = fields.CharField(max_length=64, primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="concern_drafts", on_delete=fields.CASCADE)
    answers = EncryptedTextField(description="JSON of the answers so far")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "concern_draft"


class ConcernTally(Model):
    # What is left of purged concerns: counts by category, ward and month, for reporting.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="concern_tallies", on_delete=fields.CASCADE)
    month = fields.DateField(description="the first day of the month the concern was raised")
    category_name = fields.CharField(max_length=120)
    ward_name = fields.CharField(max_length=120)
    count = fields.IntField(default=0)

    class Meta:
        table = "concern_tally"
        unique_together = (("council", "month", "category_name", "ward_name"),)
        ordering = ["-month", "category_name", "ward_name"]


class ConcernEmail(Model):
    # An e-mail to the person who raised a concern: its address and body are scrubbed once it is sent.
    id = fields.BigIntField(primary_key=True)
    concern = fields.ForeignKeyField("civic.Concern", related_name="emails", null=True, on_delete=fields.SET_NULL)
    email = fields.ForeignKeyField("civic.OutgoingEmail", related_name="concern_links", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "concern_email"
