"""Models for running a scheme: volunteers' consent and checks, help requests, the rota, events and calendars."""

from __future__ import annotations

from datetime import date, time

from tortoise import fields
from tortoise.models import Model

from civic.crypto import EncryptedTextField

# Volunteers


class ContactConsent(Model):
    # What a person agreed to when they offered to join a scheme: the exact wording shown and when.
    id = fields.IntField(primary_key=True)
    scheme = fields.ForeignKeyField("civic.Scheme", related_name="consents", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("civic.User", related_name="consents", on_delete=fields.CASCADE)
    membership = fields.ForeignKeyField("civic.Membership", related_name="consents", on_delete=fields.CASCADE)
    wording = fields.TextField(description="exactly what they agreed to")
    phone = EncryptedTextField(null=True, description="a phone number they chose to share")
    note = fields.TextField(default="", description="what they said they could help with")
    given_at = fields.DatetimeField(auto_now_add=True)
    withdrawn_at = fields.DatetimeField(null=True, description="set when they leave or are removed")

    membership_id: int
    user_id: int

    class Meta:
        table = "scheme_contact_consent"
        ordering = ["-given_at", "-id"]


class SafeguardingCheck(Model):
    # A volunteer's DBS check as an organiser saw it; one per membership, replaced when renewed.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="safeguarding_checks", on_delete=fields.CASCADE)
    scheme = fields.ForeignKeyField("civic.Scheme", related_name="safeguarding_checks", on_delete=fields.CASCADE)
    membership = fields.OneToOneField("civic.Membership", related_name="safeguarding_check", on_delete=fields.CASCADE)
    level = fields.CharField(max_length=20, description="none or basic or standard or enhanced or enhanced-barred")
    certificate_date = fields.DateField(null=True)
    checked_by = fields.CharField(max_length=80, description="the person who saw the certificate")
    recorded_by = fields.ForeignKeyField("civic.User", related_name="checks_recorded", null=True, on_delete=fields.SET_NULL)
    recorded_at = fields.DatetimeField(auto_now=True)
    lapse_reminded_at = fields.DatetimeField(null=True, description="when organisers were told it is about to lapse")

    membership_id: int
    scheme_id: int

    class Meta:
        table = "scheme_safeguarding_check"


# Help requests


class HelpRequest(Model):
    # A resident asks a scheme for help. Who they are and where they live are encrypted.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="help_requests", on_delete=fields.CASCADE)
    scheme = fields.ForeignKeyField("civic.Scheme", related_name="help_requests", on_delete=fields.CASCADE)
    requester = fields.ForeignKeyField("civic.User", related_name="help_requests", null=True, on_delete=fields.SET_NULL)
    first_name = EncryptedTextField()
    what = EncryptedTextField(description="what help is needed")
    when_needed = fields.CharField(max_length=200)
    home_visit = fields.BooleanField(default=False, description="someone needs to come to their home")
    house = EncryptedTextField(description="house number or name and flat")
    street = EncryptedTextField()
    postcode = EncryptedTextField()
    contact_by = fields.CharField(max_length=10, description="email or phone")
    phone = EncryptedTextField(null=True)
    status = fields.CharField(max_length=10, default="open", db_index=True, description="open or matched or done or cancelled")
    cancelled_by = fields.CharField(max_length=10, default="", description="requester or organiser")
    cancel_reason = EncryptedTextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    matched_at = fields.DatetimeField(null=True)
    done_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    scheme_id: int
    requester_id: int | None
    assignments: fields.ReverseRelation[Assignment]

    class Meta:
        table = "scheme_help_request"
        ordering = ["-created_at", "-id"]

    @property
    def full_address(self) -> str:
        """The address as given: only the postcode when nobody needs to come to the home."""
        return ", ".join(part for part in (self.house, self.street, self.postcode) if part)


class Assignment(Model):
    # A volunteer an organiser asked to take a help request: asked, accepted, declined or withdrawn.
    id = fields.IntField(primary_key=True)
    help_request = fields.ForeignKeyField("civic.HelpRequest", related_name="assignments", on_delete=fields.CASCADE)
    volunteer = fields.ForeignKeyField("civic.User", related_name="assignments", on_delete=fields.CASCADE)
    assigned_by = fields.ForeignKeyField("civic.User", related_name="assignments_made", null=True, on_delete=fields.SET_NULL)
    status = fields.CharField(max_length=10, default="asked", db_index=True)
    assigned_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True)

    help_request_id: int
    volunteer_id: int

    class Meta:
        table = "scheme_assignment"
        unique_together = (("help_request", "volunteer"),)
        ordering = ["assigned_at", "id"]


class HelpOffer(Model):
    # An offer of help on a scheme's board, posted by a volunteer or a resident.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="help_offers", on_delete=fields.CASCADE)
    scheme = fields.ForeignKeyField("civic.Scheme", related_name="help_offers", on_delete=fields.CASCADE)
    author = fields.ForeignKeyField("civic.User", related_name="help_offers", null=True, on_delete=fields.SET_NULL)
    text = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    removed_at = fields.DatetimeField(null=True)
    removed_by = fields.ForeignKeyField("civic.User", related_name="help_offers_removed", null=True, on_delete=fields.SET_NULL)
    hidden = fields.BooleanField(default=False, db_default=False, description="hidden by the council after a report")
    hidden_reason = fields.TextField(default="", db_default="")

    author_id: int | None
    scheme_id: int

    class Meta:
        table = "scheme_help_offer"
        ordering = ["-created_at", "-id"]


# The rota


class Shift(Model):
    # A shift on the rota: once, or weekly from its first date. Times are London clock times, so a
    # weekly 10am shift stays at 10am across the change to and from British Summer Time.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="shifts", on_delete=fields.CASCADE)
    scheme = fields.ForeignKeyField("civic.Scheme", related_name="shifts", on_delete=fields.CASCADE)
    title = fields.CharField(max_length=120)
    place = fields.CharField(max_length=300)
    starts_on = fields.DateField(description="the first date")
    start_minute = fields.SmallIntField(description="London clock time as minutes after midnight")
    end_minute = fields.SmallIntField(description="at or before the start means the next morning")
    repeat = fields.CharField(max_length=10, default="once", description="once or weekly")
    repeat_until = fields.DateField(null=True, description="the last date a weekly shift may fall on")
    capacity = fields.IntField()
    needs_dbs = fields.CharField(max_length=20, default="none", description="the lowest DBS check level a volunteer needs")
    home_visit = fields.BooleanField(default=False, description="volunteers say when they arrive and leave")
    public = fields.BooleanField(default=True, description="shown on the public calendar of the scheme")
    created_by = fields.ForeignKeyField("civic.User", related_name="shifts_created", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    scheme_id: int

    class Meta:
        table = "scheme_shift"
        ordering = ["starts_on", "start_minute", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def start_time(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)

    @property
    def end_time(self) -> time:
        return time(self.end_minute // 60, self.end_minute % 60)

    def falls_on(self, day: date) -> bool:
        """Whether the series has a shift on this date (before any single date was moved)."""
        if day < self.starts_on or (self.repeat_until is not None and day > self.repeat_until):
            return False
        if self.repeat == "weekly":
            return (day - self.starts_on).days % 7 == 0
        return day == self.starts_on


class ShiftOccurrence(Model):
    # One date of a shift, written when someone signs up or an organiser moves or cancels it.
    # `on` is the date in the series; a moved shift keeps it and gets new times.
    id = fields.IntField(primary_key=True)
    shift = fields.ForeignKeyField("civic.Shift", related_name="occurrences", on_delete=fields.CASCADE)
    on = fields.DateField()
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField(db_index=True)
    place = fields.CharField(max_length=300, default="", description="set when this date is somewhere else")
    moved = fields.BooleanField(default=False)
    cancelled = fields.BooleanField(default=False)
    cancel_reason = fields.TextField(default="")
    # Cancelled only because the series stopped reaching it (stopped, an earlier last date, no longer
    # weekly), not by an organiser on purpose: a later last date opens it again.
    off_the_series = fields.BooleanField(default=False, db_default=False, description="cancelled because the series ended before it, not on purpose")

    shift_id: int

    class Meta:
        table = "scheme_shift_occurrence"
        unique_together = (("shift", "on"),)


class SignUp(Model):
    # A volunteer on a shift, and for visits when they said they arrived and left.
    id = fields.IntField(primary_key=True)
    occurrence = fields.ForeignKeyField("civic.ShiftOccurrence", related_name="signups", on_delete=fields.CASCADE)
    volunteer = fields.ForeignKeyField("civic.User", related_name="signups", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    arrived_at = fields.DatetimeField(null=True)
    left_at = fields.DatetimeField(null=True)
    alerted_at = fields.DatetimeField(null=True, description="when organisers were told they had not said they left")

    occurrence_id: int
    volunteer_id: int

    class Meta:
        table = "scheme_signup"
        unique_together = (("occurrence", "volunteer"),)
        ordering = ["created_at", "id"]


class ShiftReminder(Model):
    # Marks the reminder sent to one volunteer for one shift: the unique pair makes it once only.
    id = fields.IntField(primary_key=True)
    occurrence = fields.ForeignKeyField("civic.ShiftOccurrence", related_name="reminders", on_delete=fields.CASCADE)
    volunteer = fields.ForeignKeyField("civic.User", related_name="shift_reminders", on_delete=fields.CASCADE)
    sent_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "scheme_shift_reminder"
        unique_together = (("occurrence", "volunteer"),)


# Events


class Event(Model):
    # A meeting or activity people can say they are coming to.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="scheme_events", on_delete=fields.CASCADE)
    scheme = fields.ForeignKeyField("civic.Scheme", related_name="events", on_delete=fields.CASCADE)
    title = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    place = fields.CharField(max_length=300)
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    capacity = fields.IntField(null=True, description="empty when anyone may come")
    cancelled = fields.BooleanField(default=False)
    cancel_reason = fields.TextField(default="")
    created_by = fields.ForeignKeyField("civic.User", related_name="scheme_events_created", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    scheme_id: int

    class Meta:
        table = "scheme_event"
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return self.title


class EventReply(Model):
    # Someone said they are coming to an event.
    id = fields.IntField(primary_key=True)
    event = fields.ForeignKeyField("civic.Event", related_name="replies", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("civic.User", related_name="event_replies", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "scheme_event_reply"
        unique_together = (("event", "user"),)
        ordering = ["created_at", "id"]


# Calendars


class CalendarFeed(Model):
    # A volunteer's private calendar address. The token is looked up by its hash and kept encrypted to show again.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="calendar_feeds", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("civic.User", related_name="calendar_feeds", on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "scheme_calendar_feed"

