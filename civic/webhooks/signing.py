"""Secrets, API keys and Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
API_KEY_PREFIX = "civic_kw_"


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes, as the Standard Webhooks specification describes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_api_key() -> str:
    """A key for a key-worker system to call our API with; we keep only its hash."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_hint(key: str) -> str:
    return key[: len(API_KEY_PREFIX) + 4]


def new_webhook_id() -> str:
    """The `webhook-id` of a delivery: unique, and the same on every retry and replay."""
    return "msg_" + secrets.token_hex(16)


def signing_secrets(secret: str, previous: str | None, rotated_at: datetime | None, overlap_seconds: float, now: datetime) -> list[str]:
    """The secrets to sign with now: the current one, and the previous one while the rotation overlap lasts."""
    found = [secret]
    if previous and rotated_at is not None and now - rotated_at < timedelta(seconds=overlap_seconds):
        found.append(previous)
    return found


def headers(webhook_id: str, body: str, secrets_to_use: list[str], now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for this body, signed with each secret (space-separated)."""
    moment = now.astimezone(timezone.utc)  # `Webhook.sign` reads the time as UTC whatever its zone
    signatures = [Webhook(secret).sign(msg_id=webhook_id, timestamp=moment, data=body) for secret in secrets_to_use]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
