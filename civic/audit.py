"""The audit log: who did what to which thing, when, and why."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


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
