"""Factories that make test fixtures short, and a browser-like client for the real app."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from tortoise import timezone

from civic import accounts
from civic.accounts import User
from civic.councils import Council, Ward, import_wards
from routes.middleware import SESSION_COOKIE

_counter = itertools.count(1)

# Sector digit -> ward, under each test council's own outward code.
WARDS = {1: "Abbey", 2: "Abbey", 3: "Castlefields", 4: "Harbourside"}


async def create_council_ok(**overrides: Any) -> Council:
    """A council with three wards at its own host name, e.g. council-7.test."""
    number = next(_counter)
    slug = overrides.pop("slug", f"council-{number}-{uuid.uuid4().hex[:6]}")
    fields = {
        "name": f"Testborough Council {number}",
        "hostnames": f"{slug}.test",
        "duty_email": f"duty@{slug}.test",
        "childrens_front_door_phone": "01632 960 000",
    }
    fields.update(overrides)
    council = await Council.create(slug=slug, **fields)
    csv_text = "".join(f"{outward(council)} {digit},{name}\n" for digit, name in WARDS.items())
    await import_wards(council, csv_text)
    return council


def outward(council: Council) -> str:
    """Each test council's own outward code (two letters and a district), so wards never overlap."""
    letters = "ABDEFGHLNPRSTUWY"
    n = council.id
    return letters[n % 16] + letters[(n // 16) % 16] + str(1 + (n // 256) % 99)


def postcode_in(council: Council, ward_name: str = "Abbey", unit: str = "AB") -> str:
    """A postcode inside one of the council's wards."""
    digit = next(d for d, name in WARDS.items() if name == ward_name)
    return f"{outward(council)} {digit}{unit}"


async def ward(council: Council, name: str = "Abbey") -> Ward:
    return await Ward.get(council=council, name=name)


async def create_user_ok(council: Council | None = None, role: str | None = None, **overrides: Any) -> User:
    """A signed-up resident (in the council's Abbey ward when a council is given), optionally with a role."""
    number = next(_counter)
    email = overrides.pop("email", f"person{number}-{uuid.uuid4().hex[:6]}@example.test")
    user = await User.create(email=email, email_verified=True, **overrides)
    if council is not None and "postcode" not in overrides:
        await accounts.complete_profile(user, overrides.get("display_name") or f"Person {number}", postcode_in(council))
    if role:
        assert council is not None
        await accounts.assign_role(council, email, role)
    return user


class Browser:
    """An HTTP client that behaves like a browser on one council's site: cookies, CSRF tokens, parsed HTML."""

    def __init__(self, app: Any, council: Council | None = None, host: str | None = None, ip: str | None = None):
        self.host = host or (council.hostnames.split(",")[0] if council else "civic.test")
        # Each client comes from its own address, so per-IP rate limits do not leak between tests.
        ip = ip or f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
            base_url=f"http://{self.host}",
            follow_redirects=False,
        )
        self.ip = ip

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(url, **kwargs)

    async def csrf_token(self) -> str:
        token = self.http.cookies.get("csrftoken")
        if not token:
            await self.http.get("/")  # every page carries the token in a meta tag
            token = self.http.cookies.get("csrftoken")
        assert token, "the app did not set a CSRF cookie"
        return token

    async def post(self, url: str, data: dict[str, Any] | list[tuple[str, Any]] | None = None, *, csrf: bool = True, **kwargs: Any) -> httpx.Response:
        """POST a form as a browser would, with the CSRF token the page would carry."""
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            items.append(("csrftoken", await self.csrf_token()))
        headers = {"content-type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})}
        return await self.http.post(url, content=urlencode(items, doseq=False), headers=headers, **kwargs)

    async def signin_as(self, user: User) -> Browser:
        """Start a signed-in session for this user directly (the sign-in flows have their own tests)."""
        token, _ = await accounts.open_session(user=user)
        self.http.cookies.set(SESSION_COOKIE, token, domain=self.host)
        return self

    async def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code in (301, 302, 303, 307), response.status_code
        return await self.get(response.headers["location"])


def html(response: httpx.Response) -> HTMLParser:
    return HTMLParser(response.text)


def text_of(response: httpx.Response, selector: str) -> list[str]:
    """The text of every element matching the CSS selector, whitespace collapsed."""
    return [" ".join(node.text().split()) for node in html(response).css(selector)]


def field_error(response: httpx.Response, field: str) -> str:
    node = html(response).css_first(f"#{field}-error")
    return " ".join(node.text().split()).removeprefix("Error: ") if node else ""


async def stored_row(table: str, row_id: int) -> dict[str, str]:
    """A row as the database holds it, each value as text (bytes as Latin-1): what a copy of the database shows."""
    from tortoise import Tortoise

    [row] = await Tortoise.get_connection("default").execute_query_dict(f'SELECT * FROM "{table}" WHERE id = {int(row_id)}')
    return {column: bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview)) else str(value) for column, value in row.items()}


def mail_to(*addresses: str, **filters: Any):
    """The outgoing e-mail to any of these addresses, as a query: found by the address's keyed digest, as civic.erasure finds it."""
    from civic import mail

    return mail.OutgoingEmail.filter(to_digest__in=[d for address in addresses for d in mail.address_digests(address)], **filters)


async def emails(to: str | None = None, *, subject: str | None = None, **filters: Any) -> list[Any]:
    """The outgoing e-mail to this address, with this subject, oldest first.

    The subject is encrypted, so it is compared once each message is read back.
    """
    from civic.mail import OutgoingEmail

    query = mail_to(to, **filters) if to is not None else OutgoingEmail.filter(**filters)
    return [row for row in await query.order_by("id") if subject is None or row.subject == subject]


# Concerns


async def create_team_ok(council: Council, name: str | None = None, *, default: bool = False, members: list[User] | None = None):
    """An early-help team of the council, optionally the default, with these users as its key workers."""
    from civic.concerns.models import Team, TeamMembership

    team = await Team.create(council=council, name=name or f"Early Help {next(_counter)}", is_default=default)
    for member in members or []:
        await TeamMembership.create(team=team, user=member)
    return team


async def create_concern_ok(council: Council, *, history: bool = True, **overrides: Any):
    """A concern as if a resident had sent it: returns (concern, the secret of its status link).

    `history=False` leaves out its "raised" entry, for a database an older civic migrated.
    """
    from tortoise import timezone

    from civic.concerns import intake, routing
    from civic.concerns.models import Concern, ConcernEvent
    from civic.concerns.vocabulary import URGENCY

    categories = {c.slug: c for c in await routing.categories(council, include_retired=True)}
    category = overrides.pop("category", "child-wellbeing")
    urgency = overrides.pop("urgency", "week")
    key = intake.new_reference().replace("-", "").lower() + uuid.uuid4().hex[:16]
    fields: dict[str, Any] = {
        "council": council,
        "reference": intake.new_reference(),
        "status_key": key,
        "about": "neighbour",
        "category": categories[category] if isinstance(category, str) else category,
        "ward": await ward(council),
        "urgency": urgency,
        "urgency_rank": URGENCY[urgency].rank,
        "person_knows": "no",
        "details": "The children next door are often alone late at night.",
        "contact_by": "email",
        "reporter_name": "Rhiannon Price",
        "reporter_email": f"reporter-{uuid.uuid4().hex[:8]}@example.test",
        "due_at": timezone.now() + URGENCY[urgency].respond_within,
    }
    fields.update(overrides)
    concern = await Concern.create(**fields)
    if history:
        await ConcernEvent.create(concern=concern, kind="created")
    return concern, key

# Schemes


def scheme_values(council_wards: list[Ward], **overrides: Any) -> dict[str, Any]:
    """Everything the start-a-scheme form asks for, filled in; override any field."""
    values: dict[str, Any] = {
        "name": f"Friendly Neighbours {next(_counter)}",
        "summary": "Weekly phone calls and visits for older neighbours",
        "description": "We ring people who live alone every week.\n\nWe visit in pairs.",
        "categories": ["befriending", "older-people"],
        "audiences": ["older-people"],
        "who_for_details": "People living alone",
        "wards": [str(w.id) for w in council_wards],
        "times": "Tuesdays, 10am to noon",
        "venue": "St Anne's church hall, Mill Lane",
        "how_to_get_help": "Send us a message and we will ring you back.",
        "how_to_volunteer": "Come to a Tuesday session.",
        "safeguarding_lead_name": "Gwen Roberts",
        "safeguarding_lead_role": "Chair of the committee",
        "contact_phone": "",
    }
    values.update(overrides)
    return values


async def create_scheme_ok(council: Council, organiser: User | None = None, status: str = "active", wards: tuple[str, ...] = ("Abbey",), **overrides: Any):
    """A scheme proposed through the domain by its organiser (a new resident if not given), then set to `status`."""
    from civic.schemes import proposals
    from civic.schemes.models import Scheme

    organiser = organiser or await create_user_ok(council)
    chosen = [await ward(council, name) for name in wards]
    scheme = await proposals.propose(organiser, council, scheme_values(chosen, **overrides))
    if status != "pending":
        await Scheme.filter(id=scheme.id).update(status=status)
        scheme = await Scheme.get(id=scheme.id)
    return scheme


async def create_post_ok(scheme: Any, author: User | None = None, **overrides: Any):
    """A news post on a scheme, written by one of its organisers."""
    from civic.schemes.models import Membership, NewsPost

    if author is None:
        author = (await Membership.filter(scheme=scheme, role="organiser").first().prefetch_related("user")).user  # type: ignore[union-attr]
    fields = {"title": f"News {next(_counter)}", "body": "The pantry is open on bank holidays."}
    fields.update(overrides)
    return await NewsPost.create(council_id=scheme.council_id, scheme=scheme, author=author, **fields)


async def create_report_ok(scheme: Any, reporter: User | None = None, post: Any = None, reason: str = "wrong", details: str = "The times are wrong"):
    """An open report about a scheme (or one of its news posts)."""
    from civic.schemes.models import Report

    if reporter is None:
        reporter = await create_user_ok(await Council.get(id=scheme.council_id))
    return await Report.create(council_id=scheme.council_id, scheme=scheme, post=post, reporter=reporter, reason=reason, details=details)

# Voting

ROUND_RULES = {
    "title": "Our priorities",
    "explanation": "Spread your shares.",
    "budget": "",
    "shares_per_resident": "100",
    "minimum_priorities": "1",
    "max_shares_per_priority": "",
    "method": "split",
    "eligibility": "residents",
}


async def create_round_ok(council: Council, *, priorities: int = 4, status: str = "open", officer: User | None = None, costs: list[int] | None = None, **rules: Any):
    """A round with priorities 'Priority 1'..., taken to `status` (draft, open, closed or published) by an officer."""
    from civic import voting

    officer = officer or await create_user_ok(council, role="officer")
    values = {**ROUND_RULES, **{k: str(v) for k, v in rules.items()}}
    round_ = await voting.create_round(officer, council, values)
    for number in range(1, priorities + 1):
        cost = str(costs[number - 1]) if costs else ""
        await voting.add_priority(officer, council, round_.id, {"title": f"Priority {number}", "description": f"What priority {number} does.", "cost": cost})
    if status in ("open", "closed", "published"):
        await voting.open_round(officer, council, round_.id)
    if status in ("closed", "published"):
        await voting.close_round(officer, council, round_.id)
    if status == "published":
        await voting.publish_results(officer, council, round_.id)
    return await voting.Round.get(id=round_.id)


async def priorities_of(round_: Any) -> list[Any]:
    from civic.voting import Priority

    return list(await Priority.filter(round=round_).order_by("position"))


async def vote_ok(council: Council, round_: Any, voter: User | None, *shares: int, code: str | None = None):
    """Cast a ballot giving each priority, in order, the shares listed."""
    from civic import voting

    form = {f"shares-{p.id}": str(n) for p, n in zip(await priorities_of(round_), shares)}
    return await voting.cast_ballot(voter, council, round_.id, form, code=code)


def shares_form(priorities: list[Any], *shares: Any) -> dict[str, str]:
    return {f"shares-{p.id}": str(n) for p, n in zip(priorities, shares)}


# Webhooks


async def create_endpoint_ok(council: Council, team: Any = None, url: str = "http://127.0.0.1:9/civic/webhooks", **overrides: Any):
    """A key-worker endpoint for the team (a new one if none given): returns (endpoint, signing secret, API key)."""
    from civic.webhooks import signing
    from civic.webhooks.models import EVENT_TYPES, KeyWorkerEndpoint

    team = team or await create_team_ok(council)
    secret = overrides.pop("secret", signing.new_secret())
    api_key = signing.new_api_key()
    fields: dict[str, Any] = {
        "council": council,
        "team": team,
        "name": f"Case system {next(_counter)}",
        "url": url,
        # Confirmed, as an officer would have: concerns go only to a confirmed address.
        "confirmed_url": url,
        "url_confirmed_at": timezone.now(),
        "event_types": list(EVENT_TYPES),
        "payload_style": "full",
        "secret": secret,
        "api_key_hash": signing.hash_api_key(api_key),
        "api_key_hint": signing.api_key_hint(api_key),
    }
    fields.update(overrides)
    return await KeyWorkerEndpoint.create(**fields), secret, api_key


async def refer_ok(council: Council, team: Any, **overrides: Any):
    """A concern referred to the team as an officer would: returns (concern, status key, referral)."""
    from civic.concerns import handover

    concern, key = await create_concern_ok(council, **overrides)
    referral = await handover.refer_concern(concern, team, None)
    return concern, key, referral


def use_settings(**changes: Any):
    """Run with some settings changed (e.g. a compressed retry schedule), then put them back."""
    import contextlib
    import dataclasses

    from civic import config

    @contextlib.contextmanager
    def changed():
        before = config.current()
        config.use(dataclasses.replace(before, **changes))
        try:
            yield config.current()
        finally:
            config.use(before)

    return changed()

# Support schemes, part 2: volunteers, help requests, the rota and events


async def organiser_of(scheme: Any) -> User:
    """The scheme's first organiser."""
    from civic.schemes.models import Membership

    return (await Membership.filter(scheme=scheme, role="organiser", status="active").order_by("id").first().prefetch_related("user")).user  # type: ignore[union-attr]


async def create_volunteer_ok(scheme: Any, user: User | None = None, *, role: str = "volunteer", status: str = "active",
                              check: str | None = None, certified: Any = None, phone: str = "07700 900 123"):
    """Someone who offered to join the scheme with consent, accepted (unless `status` says otherwise), with an optional DBS check."""
    from datetime import date

    from civic.schemes import volunteers
    from civic.schemes.models import Membership
    from civic.schemes.running import ContactConsent, SafeguardingCheck

    council = await Council.get(id=scheme.council_id)
    user = user or await create_user_ok(council)
    membership, _ = await Membership.get_or_create(scheme=scheme, user=user, defaults={"role": role, "status": status})
    membership.role, membership.status = role, status
    await membership.save()
    await ContactConsent.create(scheme=scheme, user=user, membership=membership, wording=volunteers.consent_wording(scheme), phone=phone or None)
    if check:
        await SafeguardingCheck.create(
            council=council, scheme=scheme, membership=membership, level=check,
            certificate_date=certified or date.today(), checked_by="Gwen Roberts",
        )
    membership.user = user
    return membership


HELP_REQUEST = {
    "first_name": "Maud", "what": "A chat and help with the shopping list", "when_needed": "Tuesday mornings",
    "home_visit": "yes", "house": "Flat 2, 14", "street": "Mill Lane", "contact_by": "phone", "phone": "01632 960 555",
}


async def create_help_request_ok(scheme: Any, requester: User | None = None, **overrides: Any):
    """A request for help to the scheme, asked through the domain by a resident (a new one if not given)."""
    from civic.schemes import help_requests

    council = await Council.get(id=scheme.council_id)
    requester = requester or await create_user_ok(council)
    values = {**HELP_REQUEST, "postcode": postcode_in(council), **overrides}
    return await help_requests.ask(requester, council, scheme.slug, values)


SHIFT = {"title": "Tuesday visits", "place": "Abbey ward", "start_time": "10:00", "end_time": "12:00", "repeat": "once", "capacity": "2"}


async def create_shift_ok(scheme: Any, starts_on: Any = None, now: Any = None, **overrides: Any):
    """A shift on the scheme's rota, made by its organiser; tomorrow unless `starts_on` says otherwise."""
    from datetime import date, timedelta

    from civic.schemes import rota

    council = await Council.get(id=scheme.council_id)
    day = starts_on or date.today() + timedelta(days=1)
    values = {**SHIFT, "starts_on": day.isoformat(), **{k: str(v) for k, v in overrides.items()}}
    return await rota.create_shift(await organiser_of(scheme), council, scheme.slug, values, now=now)


async def until_waiting_on_a_lock(task: asyncio.Task, tries: int = 600) -> None:
    """Return once a connection to this PostgreSQL database waits on a lock, or `task` has finished (up to
    30 s): the moment for a transaction holding rows to write its change and commit, to show what the
    task waiting on them then does."""
    from civic import db

    for _ in range(tries):
        waiting = await db.rows("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        if waiting[0]["n"] > 0 or task.done():
            return
        await asyncio.sleep(0.05)
