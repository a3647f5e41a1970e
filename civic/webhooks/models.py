"""Key-worker endpoints, the webhook outbox with every attempt, and what key-worker systems tell us back."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from civic.crypto import EncryptedTextField

EVENT_TYPES = {
    "concern.referred": "A concern is referred to the team",
    "concern.updated": "The person who raised a referred concern added information, or a duplicate was merged into it",
    "concern.withdrawn": "The council closed or merged a concern it had referred",
}
PING = "ping"
PAYLOAD_STYLES = {
    "full": "Full: the concern itself, minimised",
    "thin": "Thin: its reference and a link to fetch it through the API",
}
DELIVERY_STATUS = {
    "pending": "Waiting",
    "delivering": "Being sent",
    "delivered": "Delivered",
    "dead": "Failed after every retry",
    "cancelled": "Cancelled",
}
# An endpoint is paused by civic when deliveries keep failing, and switched off by an administrator.
# Only switching off stops the API key: a paused system that recovers must still be able to post
# status back, but an administrator switches one off because something is wrong with it (a stolen
# laptop, a supplier leaving), so its key must stop too.
ENDPOINT_STATUS = {
    "active": "On",
    "paused": "Paused by civic",
    "disabled": "Switched off",
}
API_KEY_WORKS_WHEN = ("active", "paused")


class KeyWorkerEndpoint(Model):
    # Where a team's case system receives concerns, and the key it calls back with.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="keyworker_endpoints", on_delete=fields.CASCADE)
    team = fields.ForeignKeyField("civic.Team", related_name="endpoints", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=120, description="what the team calls its case system")
    url = fields.CharField(max_length=500)
    # Concerns go only to an address someone who may read them confirmed: an administrator alone cannot
    # send them elsewhere. Test events (which carry no concern) go to `url` whether confirmed or not.
    # Emptied when an administrator who is not an officer makes a new API key: they have seen it.
    confirmed_url = fields.CharField(max_length=500, default="", db_default="", description="the address an officer confirmed, the only one concerns are sent to")
    url_confirmed_at = fields.DatetimeField(null=True)
    event_types: Any = fields.JSONField(default=list, description="the events it receives besides ping")
    payload_style = fields.CharField(max_length=5, default="full", description="full or thin")
    secret = EncryptedTextField(description="the signing secret, whsec_ and base64")
    previous_secret = EncryptedTextField(null=True, description="the secret before the last rotation")
    secret_rotated_at = fields.DatetimeField(null=True)
    api_key_hash = fields.CharField(max_length=64, unique=True, description="SHA-256 of the API key")
    api_key_hint = fields.CharField(max_length=16, description="the first characters of the key, to recognise it")
    # One of ENDPOINT_STATUS. The description (a column comment) predates "paused" and is left alone: an
    # AlterField on SQLite drops the table's indexes for the sake of a comment.
    status = fields.CharField(max_length=10, default="active", db_index=True, description="active or disabled")
    disabled_reason = fields.CharField(max_length=300, default="")
    disabled_at = fields.DatetimeField(null=True)
    failing_since = fields.DatetimeField(null=True, description="first failure since the last success")
    last_success_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField("civic.User", related_name="endpoints_made", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    council_id: int
    team_id: int

    class Meta:
        table = "keyworker_endpoint"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def vouched_for(self) -> bool:
        """An officer has confirmed this system (at some address): only then does its API key read or update concerns.

        An administrator sees the key when the system is added, and administrators do not read concerns.
        """
        return bool(self.confirmed_url)

    @property
    def switched_off(self) -> bool:
        return self.status == "disabled"

    @property
    def status_name(self) -> str:
        return ENDPOINT_STATUS.get(self.status, self.status)


class WebhookDelivery(Model):
    # One event for one endpoint: the outbox row, written in the transaction of the change it announces.
    id = fields.BigIntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="webhook_deliveries", on_delete=fields.CASCADE)
    endpoint = fields.ForeignKeyField("civic.KeyWorkerEndpoint", related_name="deliveries", on_delete=fields.CASCADE)
    # Purging a concern deletes its deliveries too: their payloads hold its personal data.
    concern = fields.ForeignKeyField("civic.Concern", related_name="webhook_deliveries", null=True, on_delete=fields.CASCADE)
    reference = fields.CharField(max_length=12, default="", description="the concern reference, kept after a purge")
    event_type = fields.CharField(max_length=40)
    webhook_id = fields.CharField(max_length=40, unique=True, description="the webhook-id header, the same on every retry")
    body = EncryptedTextField(null=True, description="the exact JSON sent, emptied when purged")
    body_bytes = fields.IntField(default=0)
    status = fields.CharField(max_length=12, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    lease_expires_at = fields.DatetimeField(null=True, description="a claim ends here, then another worker may retake it")
    claimed_by = fields.CharField(max_length=80, default="")
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, default="")
    # What the officer who marked it handled typed (how the team was told): it may say what the concern
    # is about, so it is kept encrypted here, beside the delivery, and not in the audit log.
    handled_note = EncryptedTextField(null=True, description="how the team was told, when marked as handled")
    replays = fields.IntField(default=0)
    replay_base = fields.IntField(default=0, description="attempts made before the last replay, so the schedule starts again")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    delivered_at = fields.DatetimeField(null=True)
    dead_at = fields.DatetimeField(null=True)

    council_id: int
    endpoint_id: int
    concern_id: int | None

    class Meta:
        table = "webhook_delivery"
        ordering = ["-created_at", "-id"]

    @property
    def status_text(self) -> str:
        return DELIVERY_STATUS.get(self.status, self.status)


class WebhookAttempt(Model):
    # One try at a delivery: when, what came back and how long it took.
    id = fields.BigIntField(primary_key=True)
    delivery = fields.ForeignKeyField("civic.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE)
    number = fields.IntField()
    attempted_at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    duration_ms = fields.IntField(default=0)
    # The start of the answer, encrypted: a receiver that echoes what it was sent puts the concern here.
    # Only officers see it; administrators see the status code and the length (civic.webhooks.endpoints).
    response_excerpt = EncryptedTextField(null=True, description="the first 300 bytes of the answer, emptied with the payload")
    response_bytes = fields.IntField(default=0, db_default=0, description="how long the answer was, counted up to 64 KiB")
    error = fields.CharField(max_length=300, default="")
    worker = fields.CharField(max_length=80, default="")

    delivery_id: int

    class Meta:
        table = "webhook_attempt"
        ordering = ["attempted_at", "id"]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class ReferralUpdate(Model):
    # A status a key-worker system posted about a referral: received, allocated or closed.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="referral_updates", on_delete=fields.CASCADE)
    referral = fields.ForeignKeyField("civic.Referral", related_name="updates", on_delete=fields.CASCADE)
    endpoint = fields.ForeignKeyField("civic.KeyWorkerEndpoint", related_name="updates", null=True, on_delete=fields.SET_NULL)
    status = fields.CharField(max_length=12)
    key_worker_role = fields.CharField(max_length=80, default="")
    key_worker_first_name = fields.CharField(max_length=40, default="")
    outcome = fields.CharField(max_length=30, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    referral_id: int

    class Meta:
        table = "referral_update"
        ordering = ["created_at", "id"]


class KeyWorkerApiCall(Model):
    # The access log of the key-worker API: every call, answered or refused.
    id = fields.BigIntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="api_calls", null=True, on_delete=fields.CASCADE)
    endpoint = fields.ForeignKeyField("civic.KeyWorkerEndpoint", related_name="api_calls", null=True, on_delete=fields.SET_NULL)
    method = fields.CharField(max_length=8)
    path = fields.CharField(max_length=200)
    reference = fields.CharField(max_length=12, default="")
    status_code = fields.IntField()
    ip = fields.CharField(max_length=45, default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "keyworker_api_call"
        ordering = ["-created_at", "-id"]
