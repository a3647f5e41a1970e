"""Scheme models: schemes, the people in them and those invited to organise, their news, and reports about a scheme, its news or its offers of help."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise import fields, timezone
from tortoise.models import Model

from civic.schemes.taxonomy import AUDIENCES, CATEGORIES, Term

# A scheme's life: proposed (pending) until an officer approves (active) or declines it; organisers
# may pause, resume and close an approved one. Moderation (hidden) is separate from this.
STATUSES = ("pending", "declined", "active", "paused", "closed")
STATUS_NAMES = {
    "pending": "Waiting for approval",
    "declined": "Not approved",
    "active": "Running",
    "paused": "Paused",
    "closed": "Closed",
}
# Statuses anyone may see (when not hidden); the directory lists only the first two.
PUBLIC_STATUSES = ("active", "paused", "closed")
LISTED_STATUSES = ("active", "paused")

MEMBERSHIP_ROLES = ("organiser", "volunteer", "member")

# How long an invitation to organise can be accepted. Long enough for someone away for a week to find
# the e-mail; short enough that a link left in an inbox for months (an address since passed to someone
# else, or a mailbox that was opened by another) no longer opens a scheme's private details. Lapse is
# worked out from when it was sent, so nothing has to run for an invitation to lapse on time.
INVITATION_LIFETIME = timedelta(days=14)

REPORT_REASONS = {
    "wrong": "Wrong or out-of-date information",
    "offensive": "Offensive, hateful or abusive",
    "unsafe": "Could put someone at risk",
    "spam": "Spam or advertising",
    "other": "Something else",
}
REPORT_STATUSES = ("open", "hidden", "dismissed")


class Scheme(Model):
    id = fields.IntField(primary_key=True)
    uuid = fields.UUIDField(default=uuid.uuid4, unique=True, description="public id in the Open Referral feed")
    council: fields.ForeignKeyRelation = fields.ForeignKeyField("civic.Council", related_name="schemes", on_delete=fields.CASCADE)
    slug = fields.CharField(max_length=80, description="set once from the first name and never changed")
    name = fields.CharField(max_length=120)
    summary = fields.CharField(max_length=200)
    description = fields.TextField()
    times = fields.CharField(max_length=300)
    venue = fields.CharField(max_length=300)
    how_to_get_help = fields.TextField()
    how_to_volunteer = fields.TextField(default="")
    who_for_details = fields.CharField(max_length=300, default="")
    safeguarding_lead_name = fields.CharField(max_length=80)
    safeguarding_lead_role = fields.CharField(max_length=120)
    safeguarding_lead_email = fields.CharField(
        max_length=254, default="", db_default="", description="where lone-working alerts go as well as to the organisers"
    )
    visit_in_pairs = fields.BooleanField(default=False, db_default=False, description="home visits need two volunteers")
    home_visit_dbs = fields.CharField(
        max_length=20, default="none", db_default="none", description="the lowest DBS check level a volunteer needs to be matched to a home visit"
    )
    contact_phone = fields.CharField(max_length=30, default="")
    wards: fields.ManyToManyRelation = fields.ManyToManyField("civic.Ward", related_name="schemes", through="scheme_ward")
    status = fields.CharField(max_length=10, default="pending", db_index=True)
    decline_reason = fields.TextField(default="")
    proposed_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.User", related_name="schemes_proposed", null=True, on_delete=fields.SET_NULL
    )
    decided_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.User", related_name="schemes_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_at = fields.DatetimeField(null=True)
    hidden = fields.BooleanField(default=False, db_index=True)
    hidden_reason = fields.TextField(default="")
    search_text = fields.TextField(
        default="", db_default="", description="the name and summary and description and venue without accents or capitals, for the directory search"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    categories: fields.ReverseRelation[SchemeCategory]
    audiences: fields.ReverseRelation[SchemeAudience]
    memberships: fields.ReverseRelation[Membership]
    posts: fields.ReverseRelation[NewsPost]

    class Meta:
        table = "scheme"
        unique_together = (("council", "slug"),)
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES and not self.hidden

    @property
    def category_terms(self) -> list[Term]:
        """The scheme's categories in taxonomy order (needs `categories` prefetched)."""
        chosen = {row.category for row in self.categories}
        return [term for slug, term in CATEGORIES.items() if slug in chosen]

    @property
    def audience_terms(self) -> list[Term]:
        chosen = {row.audience for row in self.audiences}
        return [term for slug, term in AUDIENCES.items() if slug in chosen]


class SchemeCategory(Model):
    id = fields.IntField(primary_key=True)
    scheme: fields.ForeignKeyRelation[Scheme] = fields.ForeignKeyField("civic.Scheme", related_name="categories", on_delete=fields.CASCADE)
    category = fields.CharField(max_length=30, db_index=True)

    class Meta:
        table = "scheme_category"
        unique_together = (("scheme", "category"),)


class SchemeAudience(Model):
    id = fields.IntField(primary_key=True)
    scheme: fields.ForeignKeyRelation[Scheme] = fields.ForeignKeyField("civic.Scheme", related_name="audiences", on_delete=fields.CASCADE)
    audience = fields.CharField(max_length=30, db_index=True)

    class Meta:
        table = "scheme_audience"
        unique_together = (("scheme", "audience"),)


class Membership(Model):
    # A person's part in a scheme: organiser, volunteer or member. Status: offered (waiting for an
    # organiser), active, declined, removed or left. Consent and safeguarding records are in running.py.
    id = fields.IntField(primary_key=True)
    scheme: fields.ForeignKeyRelation[Scheme] = fields.ForeignKeyField("civic.Scheme", related_name="memberships", on_delete=fields.CASCADE)
    user: fields.ForeignKeyRelation = fields.ForeignKeyField("civic.User", related_name="memberships", on_delete=fields.CASCADE)
    role = fields.CharField(max_length=20, default="member")
    status = fields.CharField(max_length=20, default="active", db_index=True)
    added_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.User", related_name="memberships_added", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "membership"
        unique_together = (("scheme", "user"),)
        indexes = (("user_id",),)  # "your schemes"


class OrganiserInvitation(Model):
    # An organiser asks someone, by e-mail address, to help run the scheme. They become an organiser
    # only when they accept while signed in with that address. Status: pending, accepted, declined, withdrawn,
    # or lapsed: a pending one lapses by itself after INVITATION_LIFETIME, and is marked so only when it
    # is sent again or taken off the organisers' list.
    id = fields.IntField(primary_key=True)
    council: fields.ForeignKeyRelation = fields.ForeignKeyField("civic.Council", related_name="organiser_invitations", on_delete=fields.CASCADE)
    scheme: fields.ForeignKeyRelation[Scheme] = fields.ForeignKeyField("civic.Scheme", related_name="invitations", on_delete=fields.CASCADE)
    email = fields.CharField(max_length=254, description="the address invited, in lower case")
    invited_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.User", related_name="organiser_invitations_sent", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharField(max_length=10, default="pending")
    created_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True, description="when it was accepted or declined or withdrawn")

    class Meta:
        table = "organiser_invitation"
        ordering = ["created_at", "id"]
        indexes = (("email", "status"), ("scheme_id", "status"))  # your invitations, and a scheme's

    @property
    def lapses_at(self) -> datetime:
        return self.created_at + INVITATION_LIFETIME

    @property
    def lapsed(self) -> bool:
        """Nobody answered it in time: it can no longer be accepted."""
        return self.status == "lapsed" or (self.status == "pending" and timezone.now() >= self.lapses_at)


class NewsPost(Model):
    id = fields.IntField(primary_key=True)
    council: fields.ForeignKeyRelation = fields.ForeignKeyField("civic.Council", related_name="news_posts", on_delete=fields.CASCADE)
    scheme: fields.ForeignKeyRelation[Scheme] = fields.ForeignKeyField("civic.Scheme", related_name="posts", on_delete=fields.CASCADE)
    author: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.User", related_name="news_posts", null=True, on_delete=fields.SET_NULL
    )
    title = fields.CharField(max_length=120)
    body = fields.TextField()
    hidden = fields.BooleanField(default=False, db_index=True)
    hidden_reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "news_post"
        ordering = ["-created_at", "-id"]
        indexes = (("scheme_id", "created_at"),)  # a scheme's latest news

    def __str__(self) -> str:
        return self.title


class Report(Model):
    # Someone signed in says a scheme, a news post or an offer of help is wrong; an officer hides it or dismisses the report.
    id = fields.IntField(primary_key=True)
    council: fields.ForeignKeyRelation = fields.ForeignKeyField("civic.Council", related_name="reports", on_delete=fields.CASCADE)
    scheme: fields.ForeignKeyRelation[Scheme] = fields.ForeignKeyField("civic.Scheme", related_name="reports", on_delete=fields.CASCADE)
    post: fields.ForeignKeyNullableRelation[NewsPost] = fields.ForeignKeyField(
        "civic.NewsPost", related_name="reports", null=True, on_delete=fields.CASCADE, description="set when the report is about a news post"
    )
    offer: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.HelpOffer", related_name="reports", null=True, on_delete=fields.CASCADE, description="set when the report is about an offer of help"
    )
    reporter: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.User", related_name="reports_made", null=True, on_delete=fields.SET_NULL
    )
    reason = fields.CharField(max_length=20)
    details = fields.TextField()
    status = fields.CharField(max_length=10, default="open", db_index=True)
    outcome = fields.TextField(default="", description="what the officer decided and why")
    handled_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "civic.User", related_name="reports_handled", null=True, on_delete=fields.SET_NULL
    )
    handled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "report"
        ordering = ["created_at", "id"]

    @property
    def reason_name(self) -> str:
        return REPORT_REASONS.get(self.reason, self.reason)

    @property
    def about_post(self) -> bool:
        return self.post_id is not None  # type: ignore[attr-defined]

    @property
    def about_offer(self) -> bool:
        return self.offer_id is not None  # type: ignore[attr-defined]
