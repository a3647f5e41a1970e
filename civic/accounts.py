"""People: users, their roles in councils, server-side sessions and sign-in by e-mailed link or OpenID."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from tortoise import fields, timezone
from tortoise.models import Model

from civic import audit, config, db, mail, ratelimit
from civic.councils import Council, find_ward_for_postcode, normalise_postcode, site_url
from civic.db import in_transaction, is_postgres
from civic.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger("civic.accounts")

LINK_LIFETIME = timedelta(minutes=15)
# Longer than a sign-in link: the new address may be one the person reads on another device later.
EMAIL_CHANGE_LIFETIME = timedelta(hours=1)
SESSION_LIFETIME = timedelta(days=30)
# A session's last-seen time is written at most this often, so reading pages costs no writes.
SESSION_TOUCH_EVERY = timedelta(minutes=5)
ROLES = ("officer", "key-worker", "admin")
ROLE_NAMES = {"officer": "Council officer", "key-worker": "Early-help key worker", "admin": "Administrator"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def lifetime_words(lifetime: timedelta) -> str:
    """How long a link works, as a person would say it: '15 minutes', 'an hour', '2 hours', 'a day', '3 days'."""
    minutes = round(lifetime.total_seconds() / 60)
    for size, one, many in ((24 * 60, "a day", "days"), (60, "an hour", "hours"), (1, "a minute", "minutes")):
        if minutes >= size and minutes % size == 0:
            return one if minutes == size else f"{minutes // size} {many}"
    return "less than a minute"


def signin_link_lifetime_words() -> str:
    """How long a sign-in link works ('15 minutes'): every text about it says what LINK_LIFETIME enforces."""
    return lifetime_words(LINK_LIFETIME)


def email_change_lifetime_words() -> str:
    """How long a link to a new address works ('an hour'): every text about it says what EMAIL_CHANGE_LIFETIME enforces."""
    return lifetime_words(EMAIL_CHANGE_LIFETIME)


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=80, default="")
    postcode = fields.CharField(max_length=8, default="")
    ward = fields.ForeignKeyField("civic.Ward", related_name="residents", null=True, on_delete=fields.SET_NULL)
    email_verified = fields.BooleanField(default=False)
    identity_verified = fields.BooleanField(default=False)
    suspended = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    roles: list[RoleGrant]

    class Meta:
        table = "user"
        # Counting a round's electorate and "residents of these wards" read users by ward.
        indexes = (("ward_id",),)

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def profile_complete(self) -> bool:
        return bool(self.display_name and self.postcode)


class RoleGrant(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("civic.User", related_name="role_grants", on_delete=fields.CASCADE)
    council = fields.ForeignKeyField("civic.Council", related_name="role_grants", on_delete=fields.CASCADE)
    role = fields.CharField(max_length=20)
    granted_by = fields.ForeignKeyField("civic.User", related_name="grants_made", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "role_grant"
        unique_together = (("user", "council", "role"),)


class Session(Model):
    # A server-side session: the cookie holds a random token, the row holds its SHA-256.
    # (Model docstrings become SQL comments, so they are kept out of models.)

    id = fields.CharField(max_length=64, primary_key=True)
    user = fields.ForeignKeyField("civic.User", related_name="sessions", null=True, on_delete=fields.CASCADE)
    data: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    user_agent = fields.CharField(max_length=200, default="")
    roles: dict[int, set[str]]  # not a column: load_session reads the user's grants with the session

    class Meta:
        table = "session"
        indexes = (("user_id",),)  # sign out everywhere, and suspension, end every session of a user


class LoginToken(Model):
    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254)
    next_path = fields.CharField(max_length=500, default="/")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "login_token"


class EmailChange(Model):
    # A new address waiting for its owner to use the link sent to it; the row holds the link's SHA-256.
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("civic.User", related_name="email_changes", on_delete=fields.CASCADE)
    new_email = fields.CharField(max_length=254)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email_change"


class OIDCIdentity(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("civic.User", related_name="identities", on_delete=fields.CASCADE)
    provider = fields.CharField(max_length=40)
    subject = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "oidc_identity"
        unique_together = (("provider", "subject"),)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(raw: str) -> str:
    """The address as civic stores and finds people by: trimmed and lower-cased, local part too.

    RFC 5321 lets a mail server tell `Pat@` from `pat@`, but no provider people use does, and treating
    them as two accounts splits one person in two (a role granted to one spelling does not reach them
    signing in with the other). Every lookup of a person by e-mail goes through here.
    """
    email = (raw or "").strip()
    if not EMAIL.match(email) or len(email) > 254:
        raise Invalid({"email": "Enter an email address in the correct format, like name@example.com"})
    return email.lower()


def safe_next(path: str | None) -> str:
    """Only a path on this site: '//evil.example', 'https://…' and '/\\evil' all become '/'."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "/"
    return path


# Sign-in by e-mailed link


async def request_signin_link(raw_email: str, ip: str, next_path: str | None = None, council: Council | None = None) -> None:
    """E-mail a single-use sign-in link to this council's site, valid for LINK_LIFETIME; limited per address and per IP."""
    email = normalise_email(raw_email)
    settings = config.current()
    polite = "You have asked for several sign-in links in a short time. Please wait {wait} and try again."
    await ratelimit.hit(settings.signin_rate_per_ip, "signin-ip", ip, message=polite)
    await ratelimit.hit(settings.signin_rate_per_address, "signin-email", email, message=polite)
    token = secrets.token_urlsafe(32)
    link = f"{site_url(council)}/signin/link/{quote(token)}"
    async with in_transaction():
        await LoginToken.create(
            token_hash=_hash(token),
            email=email,
            next_path=safe_next(next_path),
            expires_at=timezone.now() + LINK_LIFETIME,
        )
        queued = await mail.queue(
            email,
            "Your link to sign in",
            f"Use this link to sign in:\n\n{link}\n\n"
            f"It works once, for {signin_link_lifetime_words()}. If you did not ask for it, you can ignore this email.\n",
            council_id=council.id if council else None,
        )
    if not settings.production:
        log.info("sign-in link for %s: %s", email, link)
    await mail.deliver([queued])


def _working_link(row: LoginToken | None, now: datetime, signed_in_as: User | None) -> tuple[LoginToken, bool]:
    """The link if it still works, and whether its owner is already signed in with it and just goes on; else Invalid."""
    if row is None:
        raise Invalid({"link": "That sign-in link is not recognised. Ask for a new one below."})
    if signed_in_as is not None and signed_in_as.email == row.email and (row.used_at is not None or row.expires_at <= now):
        return row, True
    if row.used_at is not None:
        raise Invalid({"link": "That sign-in link has already been used. Each link works once: ask for a new one below."})
    if row.expires_at <= now:
        raise Invalid({"link": f"That sign-in link has expired: links last {signin_link_lifetime_words()}. Ask for a new one below."})
    return row, False


async def signin_link(token: str, signed_in_as: User | None = None) -> tuple[LoginToken, bool]:
    """A sign-in link as it stands, without using it: the link, and whether its owner is already signed in and just goes on.

    Raises Invalid, as using it would, if it no longer works, so the page it opens can say so at once.
    """
    return _working_link(await LoginToken.get_or_none(token_hash=_hash(token)), timezone.now(), signed_in_as)


async def consume_signin_link(token: str, signed_in_as: User | None = None) -> tuple[User, str]:
    """Use a link once: returns the user (created on first sign-in) and where to go next.

    Someone already signed in with the link's address who taps it again (used or expired) just goes on.
    """
    now = timezone.now()
    async with in_transaction():
        row, goes_on = _working_link(await LoginToken.get_or_none(token_hash=_hash(token)), now, signed_in_as)
        if goes_on and signed_in_as is not None:
            return signed_in_as, row.next_path
        # Conditional update: two clicks racing on the same link cannot both sign in.
        if not await LoginToken.filter(id=row.id, used_at__isnull=True).update(used_at=now):
            raise Invalid({"link": "That sign-in link has already been used. Each link works once: ask for a new one below."})
        user, created = await User.get_or_create(email=row.email)
        if not user.email_verified:
            user.email_verified = True
            await user.save(update_fields=["email_verified"])
        if created:
            await audit.record(user, "user.created", user, reason="first sign-in by emailed link")
    if user.suspended:
        raise Forbidden("This account is suspended. Contact the council if you think this is a mistake.")
    return user, row.next_path


async def signin_link_next(token: str) -> str:
    """Where a link that could not be used was going, so the form offered instead still goes there."""
    row = await LoginToken.get_or_none(token_hash=_hash(token)).only("id", "next_path")
    return row.next_path if row else "/"


async def signin_with_oidc(
    provider_name: str, claims: dict[str, Any], verifies_identity: bool = False, trusts_email: bool = False
) -> User:
    """Link an OpenID identity to the user with that verified e-mail (creating one if new).

    `trusts_email` is for a provider whose addresses the council itself issues (a staff directory such as
    Entra ID, which sends no `email_verified` claim).
    """
    subject = str(claims.get("sub") or "")
    email = claims.get("email")
    if not subject:
        raise Invalid({"oidc": "The sign-in service did not say who you are. Please try again."})
    async with in_transaction():
        identity = await OIDCIdentity.get_or_none(provider=provider_name, subject=subject).prefetch_related("user")
        if identity is not None:
            user = identity.user
        else:
            if not email or (claims.get("email_verified") is not True and not trusts_email):
                raise Invalid({"oidc": "The sign-in service did not confirm your email address, so we cannot sign you in with it."})
            user, created = await User.get_or_create(email=normalise_email(email))
            await OIDCIdentity.create(user=user, provider=provider_name, subject=subject)
            await audit.record(user, "user.identity_linked", user, reason=provider_name)
        changed = []
        if not user.email_verified:
            user.email_verified = True
            changed.append("email_verified")
        if verifies_identity and not user.identity_verified:
            user.identity_verified = True
            changed.append("identity_verified")
        if not user.display_name and claims.get("name"):
            user.display_name = str(claims["name"])[:80]
            changed.append("display_name")
        if changed:
            await user.save(update_fields=changed)
    if user.suspended:
        raise Forbidden("This account is suspended. Contact the council if you think this is a mistake.")
    return user


async def complete_profile(user: User, display_name: str, postcode: str) -> User:
    """Record the name and postcode asked for at first sign-in; the postcode places them in a ward."""
    errors: dict[str, str] = {}
    name = (display_name or "").strip()
    if not name:
        errors["display_name"] = "Enter the name other people will see"
    elif len(name) > 80:
        errors["display_name"] = "Name must be 80 characters or fewer"
    try:
        normalised = normalise_postcode(postcode)
    except Invalid as error:
        errors.update(error.errors)
    if errors:
        raise Invalid(errors)
    changed = ["display_name", "postcode", "ward_id"]
    # A check of who someone is was made where they then lived: it does not follow them to another
    # postcode (another ward, or another council's rounds for checked residents) until checked again.
    moved = bool(user.postcode) and normalised != user.postcode
    unverified = moved and user.identity_verified
    user.display_name = name
    user.postcode = normalised
    ward = await find_ward_for_postcode(normalised)
    user.ward_id = ward.id if ward else None  # type: ignore[attr-defined]
    async with in_transaction():
        if unverified:
            user.identity_verified = False
            changed.append("identity_verified")
            await audit.record(user, "user.identity_unverified", user, reason="changed their postcode")
        await user.save(update_fields=changed)
    return user


# Changing the e-mail address


def _masked(email: str) -> str:
    """'pat.jones@example.com' -> 'p…@example.com': enough for the owner to recognise, not for anyone to use."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


async def request_email_change(user: User, raw_email: str, ip: str, council: Council | None = None) -> str:
    """Send a single-use link to the new address; nothing changes until it is used. Returns the normalised address.

    If another account has the address, its owner is told so instead of being sent a link, and the
    person asking sees the same answer either way: as at sign-in, nobody learns from civic's pages
    whether an address has an account.
    """
    email = normalise_email(raw_email)
    if email == user.email:
        raise Invalid({"email": "That is already your email address. Enter a different one."})
    settings = config.current()
    polite = "You have asked for several links in a short time. Please wait {wait} and try again."
    await ratelimit.hit(settings.signin_rate_per_ip, "signin-ip", ip, message=polite)
    await ratelimit.hit(settings.signin_rate_per_address, "signin-email", email, message=polite)
    token = secrets.token_urlsafe(32)
    site = site_url(council)
    async with in_transaction():
        if await User.filter(email=email).exists():
            queued = await mail.queue(
                email,
                "Someone tried to use this email address",
                "Someone asked to move another account on our site to this email address, but this address already "
                f"has an account of its own, so nothing has changed.\n\nIf it was you, sign in with this address "
                f"instead: {site}/signin\n\nIf it was not you, you can ignore this email.\n",
                council_id=council.id if council else None,
            )
        else:
            await EmailChange.filter(user=user, used_at__isnull=True).delete()  # only the newest link works
            await EmailChange.create(
                user=user, new_email=email, token_hash=_hash(token), expires_at=timezone.now() + EMAIL_CHANGE_LIFETIME
            )
            queued = await mail.queue(
                email,
                "Confirm your new email address",
                f"Use this link to make this your email address for signing in:\n\n{site}/account/email/confirm/{quote(token)}\n\n"
                f"It works once, for {email_change_lifetime_words()}. Until you use it, your account keeps its old address. "
                "If you did not ask for this, you can ignore this email.\n",
                council_id=council.id if council else None,
            )
    await mail.deliver([queued])
    return email


def _usable(row: EmailChange | None, now: datetime) -> EmailChange:
    if row is None or row.used_at is not None:
        raise Invalid({"link": "That link is not recognised or has already been used. Ask for a new one from your account page."})
    if row.expires_at <= now:
        raise Invalid({"link": f"That link has expired: links last {email_change_lifetime_words()}. Ask for a new one from your account page."})
    return row


async def email_change_link(token: str) -> EmailChange:
    """The change a link sent to a new address would make, if it still works; using it is confirm_email_change."""
    return _usable(await EmailChange.get_or_none(token_hash=_hash(token)), timezone.now())


async def confirm_email_change(token: str, council: Council | None = None) -> User:
    """Use the link sent to the new address: the address changes, and the old one is told."""
    now = timezone.now()
    async with in_transaction():
        row = _usable(await EmailChange.get_or_none(token_hash=_hash(token)).prefetch_related("user"), now)
        if not await EmailChange.filter(id=row.id, used_at__isnull=True).update(used_at=now):
            raise Invalid({"link": "That link is not recognised or has already been used. Ask for a new one from your account page."})
        user = row.user
        if await User.filter(email=row.new_email).exists():
            raise Invalid({"link": "This email address already has an account, so we cannot move yours to it. Sign in with it instead."})
        old_email = user.email
        user.email, user.email_verified = row.new_email, True
        await user.save(update_fields=["email", "email_verified"])
        await LoginToken.filter(email=old_email, used_at__isnull=True).delete()  # sign-in links to the old address stop working
        await audit.record(user, "user.email_changed", user)
        queued = await mail.queue(
            old_email,
            "Your email address has been changed",
            f"The email address for your account was changed to {_masked(row.new_email)}. "
            "We will not send anything more to this address.\n\n"
            f"If you did not do this, contact the council straight away: {site_url(council)}\n",
            council_id=council.id if council else None,
        )
    await mail.deliver([queued])
    return user


# Sessions


async def open_session(data: dict[str, Any] | None = None, user: User | None = None, user_agent: str = "") -> tuple[str, Session]:
    """A new session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    session = await Session.create(
        id=_hash(token), user=user, data=data or {}, expires_at=now + SESSION_LIFETIME, user_agent=user_agent[:200]
    )
    return token, session


@functools.cache
def _session_sql(postgres: bool) -> str:
    aggregate = "string_agg" if postgres else "group_concat"
    return (
        f"SELECT {db.columns(Session, 's', 's_')}, {db.columns(User, 'u', 'u_')},"
        f" (SELECT {aggregate}(g.council_id || ':' || g.role, ',') FROM role_grant g WHERE g.user_id = s.user_id) AS grants"
        ' FROM "session" s LEFT JOIN "user" u ON u.id = s.user_id WHERE s.id = ?'
    )


async def load_session(token: str) -> Session | None:
    """The live session for a cookie token, with its user; None if unknown, expired or revoked."""
    if not token or len(token) > 100:
        return None
    # One hand-written query (this runs on every request with a session): the session, its user, and
    # the user's role grants for the menu and the council's pages.
    rows = await db.rows(_session_sql(is_postgres()), _hash(token))
    if not rows:
        return None
    session = db.from_row(Session, rows[0], "s_")
    if rows[0]["u_id"] is not None:
        session.user = db.from_row(User, rows[0], "u_")
    else:
        session.user = None
    session.roles = _parse_grants(rows[0]["grants"])
    now = timezone.now()
    if session.expires_at <= now or (session.user is not None and session.user.suspended):
        await session.delete()
        return None
    if now - session.last_seen_at > SESSION_TOUCH_EVERY:
        await Session.filter(id=session.id).update(last_seen_at=now, expires_at=now + SESSION_LIFETIME)
    return session


async def save_session_data(session: Session, data: dict[str, Any]) -> None:
    # Hand-written too: every saved ballot puts its receipt in the voter's session.
    stored = Session._meta.fields_map["data"].to_db_value(data, session)
    await db.rows('UPDATE "session" SET data = ? WHERE id = ?', stored, session.id)


async def signin(old_token: str | None, user: User, data: dict[str, Any], user_agent: str = "") -> str:
    """Rotate the session id at sign-in: the old session ends, a new one carries the user."""
    if old_token:
        await Session.filter(id=_hash(old_token)).delete()
    token, _ = await open_session(data=data, user=user, user_agent=user_agent)
    return token


async def signout(token: str) -> None:
    await Session.filter(id=_hash(token)).delete()


async def signout_everywhere(user: User) -> int:
    """End every session of this user, on every device."""
    async with in_transaction():
        count = await Session.filter(user=user).delete()
        await audit.record(user, "user.signed_out_everywhere", user)
    return count


async def purge_expired_sessions() -> int:
    """Delete expired sessions, and sign-in and address-change links a day after they stopped working; returns how many sessions."""
    now = timezone.now()
    expired_sessions = await Session.filter(expires_at__lt=now).delete()
    await LoginToken.filter(expires_at__lt=now - timedelta(days=1)).delete()
    # A link to change address holds the new address; once it can no longer be used there is no reason to keep it.
    await EmailChange.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return expired_sessions


# Roles


def _parse_grants(text: str | None) -> dict[int, set[str]]:
    """'3:officer,3:admin,5:organiser' -> {3: {'officer', 'admin'}, 5: {'organiser'}}."""
    roles: dict[int, set[str]] = {}
    for grant in (text or "").split(","):
        council_id, _, role = grant.partition(":")
        if role:
            roles.setdefault(int(council_id), set()).add(role)
    return roles


async def roles_of(user: User | None) -> dict[int, set[str]]:
    """{council id: {role, ...}} for this user."""
    if user is None:
        return {}
    roles: dict[int, set[str]] = {}
    for grant in await RoleGrant.filter(user=user).values("council_id", "role"):
        roles.setdefault(grant["council_id"], set()).add(grant["role"])
    return roles


async def has_role(user: User | None, council: Council, *roles: str) -> bool:
    if user is None or user.suspended:
        return False
    return await RoleGrant.filter(user=user, council=council, role__in=roles).exists()


async def require_role(user: User | None, council: Council, *roles: str) -> None:
    """Raise Forbidden unless the user holds one of these roles in this council."""
    if not await has_role(user, council, *roles):
        raise Forbidden()


def _role(role: str) -> str:
    if role not in ROLES:
        raise Invalid({"role": "Choose officer, key worker or administrator"})
    return role


def _clean_grant(email: str, role: str, actor: User | None = None) -> str:
    """The normalised address to give the role to; Invalid with every mistake, including the actor's own address."""
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email)
    except Invalid as error:
        errors.update(error.errors)
    else:
        if actor is not None and email == actor.email.strip().lower():
            errors["email"] = "You cannot give yourself a role. Ask another administrator."
    try:
        _role(role)
    except Invalid as error:
        errors.update(error.errors)
    if errors:
        raise Invalid(errors)
    return email


async def grant_role(actor: User | None, council: Council, email: str, role: str) -> RoleGrant:
    """An admin of the council gives someone else a role there; only another admin can give one to them."""
    await require_role(actor, council, "admin")
    # Officers and key workers read concerns, which administrators do not: a role granted to yourself
    # would let one person cross that line alone.
    email = _clean_grant(email, role, actor)
    return await _give_role(council, email, role, granted_by=actor)


async def assign_role(council: Council, email: str, role: str, granted_by: User | None = None) -> RoleGrant:
    """Give a role with no permission check: for `civic user grant` and the demo, never for a request."""
    return await _give_role(council, _clean_grant(email, role), role, granted_by=granted_by)


async def _give_role(council: Council, email: str, role: str, granted_by: User | None) -> RoleGrant:
    async with in_transaction():
        user, _ = await User.get_or_create(email=email)
        grant, created = await RoleGrant.get_or_create(user=user, council=council, role=role, defaults={"granted_by": granted_by})
        if created:
            await audit.record(granted_by, "role.granted", user, council=council, reason=role)
    return grant


async def grant_to_revoke(actor: User | None, council: Council, grant_id: int) -> RoleGrant:
    """The role an admin is about to take away, for the page that asks them to confirm it."""
    await require_role(actor, council, "admin")
    assert actor is not None
    grant = await RoleGrant.get_or_none(id=grant_id, council=council).prefetch_related("user")
    if grant is None:
        raise NotFound()
    if grant.user_id == actor.id and grant.role == "admin":  # type: ignore[attr-defined]
        raise Invalid({"grant": "You cannot remove your own administrator role. Ask another administrator."})
    return grant


async def revoke_role(actor: User | None, council: Council, grant_id: int, reason: str = "") -> None:
    """An admin of the council takes a role away; an admin cannot remove their own admin role."""
    grant = await grant_to_revoke(actor, council, grant_id)
    async with in_transaction():
        await grant.delete()
        await audit.record(actor, "role.revoked", grant.user, council=council, reason=f"{grant.role}: {reason}".strip(": "))
        if grant.role == "key-worker":
            await _leave_teams(actor, council, grant.user)


async def _leave_teams(actor: User | None, council: Council, user: User) -> None:
    """Someone who is no longer a key worker is taken off the council's team rosters too."""
    # Imported here: the concerns package builds on accounts.
    from civic.concerns.models import TeamMembership

    for membership in await TeamMembership.filter(user=user, team__council=council).prefetch_related("team"):
        await membership.delete()
        await audit.record(actor, "team.member_removed", user, council=council, reason=f"{membership.team.name}: no longer a key worker")


async def council_grants(actor: User, council: Council) -> list[RoleGrant]:
    """Everyone holding a role in this council, for its admins."""
    await require_role(actor, council, "admin")
    return await RoleGrant.filter(council=council).prefetch_related("user").order_by("role", "user__email")


async def suspend(actor: User | None, council: Council, user: User, reason: str) -> None:
    """An officer stops a user from posting or signing in; they are told why by e-mail."""
    await require_role(actor, council, "officer", "admin")
    if not reason.strip():
        raise Invalid({"reason": "Say why, for the audit log"})
    # A suspension holds in every council and signs the person out of all of them, so no council may
    # suspend anyone holding a role, its own staff or another council's.
    if await RoleGrant.filter(user=user).exists():
        raise Conflict("Council staff cannot be stopped from posting. Ask an administrator of their council to remove their role first.")
    async with in_transaction():
        user.suspended = True
        await user.save(update_fields=["suspended"])
        await Session.filter(user=user).delete()
        await audit.record(actor, "user.suspended", user, council=council, reason=reason)
        # Imported here: the schemes build on accounts. Someone suspended can no longer vouch for
        # anyone they invited to organise.
        from civic.schemes import invitations

        await invitations.withdraw_sent_by(actor, user, "the organiser who sent it has been suspended")
        # Signed out with no word would look like a fault; as when a scheme or post is hidden, they
        # are given the reason, and a way to question it.
        queued = await mail.queue(
            user.email,
            "You can no longer post",
            f"{council.name} has stopped your account from signing in, posting news, starting schemes and "
            f"sending reports. The reason:\n\n{reason}\n\n"
            f"If you think this is a mistake, contact {council.name}: {site_url(council)}\n",
            council_id=council.id,
        )
    await mail.deliver([queued])


async def unsuspend(actor: User | None, council: Council, user: User, reason: str) -> None:
    """An officer lets a suspended user sign in and post again, and tells them by e-mail."""
    await require_role(actor, council, "officer", "admin")
    if not reason.strip():
        raise Invalid({"reason": "Say why, for the audit log"})
    async with in_transaction():
        # Conditional update: two officers lifting it at once write one audit entry and send one e-mail.
        if not await User.filter(id=user.id, suspended=True).update(suspended=False):
            raise Conflict(f"{user} can already sign in and post.")
        user.suspended = False
        await audit.record(actor, "user.unsuspended", user, council=council, reason=reason)
        queued = await mail.queue(
            user.email,
            "You can post again",
            f"{council.name} has lifted the stop on your account. You can sign in, post news, start schemes "
            f"and send reports again:\n\n{site_url(council)}/signin\n",
            council_id=council.id,
        )
    await mail.deliver([queued])
