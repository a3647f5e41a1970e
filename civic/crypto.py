"""Encryption at rest: Fernet keys from CIVIC_ENCRYPTION_KEYS, an encrypted model field, keyed digests, and key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from tortoise import Tortoise, fields

from civic import config
from civic.db import in_transaction

log = logging.getLogger("civic.crypto")

_cache: dict[str, MultiFernet] = {}
_digest_keys: dict[tuple[str, str], list[bytes]] = {}
_constants: dict[tuple[str, str], bytes] = {}


class UndecryptableValue(Exception):
    """A stored value cannot be decrypted with any configured key."""


def keys_from(setting: str) -> list[str]:
    """The comma-separated Fernet keys of CIVIC_ENCRYPTION_KEYS: the first encrypts, every one decrypts."""
    return [key.strip() for key in setting.split(",") if key.strip()]


def _fernet() -> MultiFernet:
    setting = config.current().encryption_keys
    if setting not in _cache:
        keys = keys_from(setting)
        if not keys:
            raise RuntimeError("CIVIC_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
        _cache[setting] = MultiFernet([Fernet(key.encode()) for key in keys])
    return _cache[setting]


def new_key() -> str:
    """A fresh key to put first in CIVIC_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


def encrypt(text: str) -> bytes:
    return _fernet().encrypt(text.encode("utf-8"))


def encrypt_constant(text: str) -> bytes:
    """`encrypt(text)` for a value that is no secret (an emptied e-mail's '' and '[]'), made once per key.

    Every row holding it then has the same bytes. That tells a reader of the database only what the
    row's status or the ciphertext's length already tells, and a ballot saved (whose receipt has no
    attachments, and which empties the voter's unsent receipt) does not pay for encrypting nothing.
    """
    setting = config.current().encryption_keys
    token = _constants.get((setting, text))
    if token is None:
        token = _constants[(setting, text)] = encrypt(text)
    return token


def decrypt(token: bytes) -> str:
    try:
        return _fernet().decrypt(bytes(token)).decode("utf-8")
    except InvalidToken:
        # Never include the value: it is someone's personal data, if only encrypted.
        raise UndecryptableValue("A stored value cannot be decrypted with any key in CIVIC_ENCRYPTION_KEYS.") from None


def digests(purpose: str, value: str) -> list[str]:
    """Keyed digests of a secret value, one under each key, the first key's first.

    A column of these finds a secret someone types in (a voting code) without storing it: whoever
    has a copy of the database but not the keys can neither read the secret back nor test guesses.
    Rotating keys (`rotate`) must rewrite the digests too, as the model saving them does.
    """
    setting = config.current().encryption_keys
    keys = _digest_keys.get((setting, purpose))
    if keys is None:
        if not keys_from(setting):
            raise RuntimeError("CIVIC_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
        # A key of its own for each purpose, derived from the Fernet key, never the Fernet key itself.
        keys = [hmac.digest(base64.urlsafe_b64decode(key), f"civic digest: {purpose}".encode(), hashlib.sha256) for key in keys_from(setting)]
        _digest_keys[(setting, purpose)] = keys
    return [hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest() for key in keys]


def digest(purpose: str, value: str) -> str:
    """The keyed digest to store: the first key's."""
    return digests(purpose, value)[0]


class EncryptedTextField(fields.BinaryField):  # type: ignore[type-arg]
    """Text that is encrypted before it reaches the database and decrypted when read back.

    The column holds bytes (BLOB / BYTEA), so a value coming from the database (bytes) can never be
    mistaken for one a program assigned (str). It cannot be filtered on or used in queryset updates
    of other values: look rows up by other columns.
    """

    def to_db_value(self, value: Any, instance: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, (bytes, memoryview)):
            return bytes(value)  # already ciphertext (copied between rows)
        return encrypt(str(value))

    def to_python_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, (bytes, memoryview)):
            return decrypt(bytes(value))
        return str(value)

    # Migrations see an ordinary binary column: they never import this module, and `makemigrations`
    # finds nothing to change (it compares descriptions, which name the field's class).
    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        _, args, kwargs = super().deconstruct()
        return "tortoise.fields.data.BinaryField", args, kwargs

    def describe(self, serializable: bool) -> dict[str, Any]:
        description = super().describe(serializable)
        description["field_type"] = "BinaryField" if serializable else fields.BinaryField
        return description


class EncryptedJSONField(EncryptedTextField):
    """A list or dict kept as encrypted JSON text: the program sees the value, the column holds bytes."""

    def to_db_value(self, value: Any, instance: Any) -> bytes | None:
        if value is None or isinstance(value, (bytes, memoryview)):
            return super().to_db_value(value, instance)
        return encrypt(json.dumps(value))

    def to_python_value(self, value: Any) -> Any:
        if isinstance(value, (bytes, memoryview)):
            return json.loads(decrypt(bytes(value)))
        if isinstance(value, str):
            return json.loads(value)
        return value


def encrypted_fields() -> list[tuple[type, list[str]]]:
    """Every model with encrypted fields, and their names."""
    found = []
    for app in Tortoise.apps.values():
        for model in app.values():
            names = [name for name, field in model._meta.fields_map.items() if isinstance(field, EncryptedTextField)]
            if names:
                found.append((model, names))
    return found


async def rotate(batch: int = 200) -> dict[str, int]:
    """Re-encrypt every encrypted value with the first key, so older keys can then be removed.

    Idempotent and safe to interrupt: each row is rewritten on its own, and a value already under the
    first key is simply written again. Each row is read afresh under a lock just before it is written:
    a value read earlier could be one the purge or a scrub has since blanked or deleted, and writing it
    back would bring special-category data back from the dead.
    """
    counts: dict[str, int] = {}
    for model, names in encrypted_fields():
        done = 0
        last_pk: Any = None
        pk = model._meta.pk_attr
        while True:
            query = model.all().order_by(pk).limit(batch)
            if last_pk is not None:
                query = query.filter(**{f"{pk}__gt": last_pk})
            ids = await query.values_list(pk, flat=True)
            if not ids:
                break
            for key in ids:
                async with in_transaction():
                    # Reading decrypted with whichever key fits; saving encrypts with the first.
                    row = await model.select_for_update().get_or_none(**{pk: key})
                    if row is not None:  # gone since the batch was listed: nothing to keep
                        await row.save(update_fields=names)
                        done += 1
            last_pk = ids[-1]
        counts[model.__name__] = done
    log.info("re-encrypted %s", ", ".join(f"{n} {m}" for m, n in counts.items()) or "nothing")
    return counts
