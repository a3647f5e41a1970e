"""Sign-in with OpenID Connect against a real provider (npm oidc-provider): staff by client secret, residents by private_key_jwt."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from civic import accounts, config
from civic.accounts import OIDCIdentity, Session, User
from civic.config import OIDCProvider
from routes.middleware import SESSION_COOKIE
from tests.factories import Browser, create_council_ok, create_user_ok, text_of
from tests.peers import free_port, need

# The test council's own host: the provider only sends people back to callback URLs registered in advance.
HOST = f"oidc-{uuid.uuid4().hex[:8]}.test"
STAFF_SECRET = secrets.token_urlsafe(32)
PROVIDER_START_SECONDS = 20.0


def _callback(provider: str) -> str:
    return f"http://{HOST}/signin/oidc/{provider}/callback"


@pytest.fixture(scope="module")
def resident_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A key pair for private_key_jwt: the private PEM file civic reads, and the public JWK the provider holds."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path_factory.mktemp("keys") / "residents.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    return path, ECKey.import_key(pem).as_dict(private=False)


@pytest.fixture(scope="module")
def oidc_issuer(node_peers: Path, resident_key: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """npm oidc-provider on a free local port, with a client-secret client and a private_key_jwt client."""
    need(shutil.which("node") is not None, "Node.js")
    clients = [
        {
            "client_id": "civic-staff",
            "client_secret": STAFF_SECRET,
            "token_endpoint_auth_method": "client_secret_basic",
            "redirect_uris": [_callback("staff")],
        },
        {
            "client_id": "civic-residents",
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "ES256",
            "jwks": {"keys": [resident_key[1]]},
            "redirect_uris": [_callback("residents")],
        },
    ]
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["node", "oidc_provider.mjs"],
            cwd=node_peers,
            env={**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENTS": json.dumps(clients)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + PROVIDER_START_SECONDS
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"oidc-provider did not start:\n{log_path.read_text()}", pytrace=False)
            time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def oidc_app(settings: config.Settings, database: str, oidc_issuer: str, resident_key: tuple[Path, dict]):
    """The real app with both providers configured; the run's own settings come back afterwards."""
    from routes import create_app

    providers = (
        OIDCProvider(name="staff", label="Council staff account", issuer=oidc_issuer, client_id="civic-staff", client_secret=STAFF_SECRET),
        OIDCProvider(
            name="residents",
            label="GOV.UK One Login",
            issuer=oidc_issuer,
            client_id="civic-residents",
            private_key_file=str(resident_key[0]),
            verifies_identity=True,
        ),
    )
    yield create_app(dataclasses.replace(settings, providers=providers))
    config.use(settings)


@pytest.fixture(scope="module")
async def oidc_council(database: str):
    return await create_council_ok(hostnames=HOST)


@pytest.fixture
async def browser(oidc_app, oidc_council):
    async with Browser(oidc_app, oidc_council) as browser:
        yield browser


def _login() -> str:
    """A login name new to the provider and to civic; the provider makes it <login>@example.test."""
    return f"resident{uuid.uuid4().hex[:10]}"


async def _start(browser: Browser, provider: str, next_path: str = "/") -> httpx.Response:
    response = await browser.get(f"/signin/oidc/{provider}", params={"next": next_path})
    assert response.status_code == 302, response.text
    return response


async def _at_provider(authorization_url: str, login: str, *, cancel: bool = False) -> str:
    """Use the provider's own login and consent forms as a person would; the URL it sends them back to."""
    async with httpx.AsyncClient(timeout=10) as person:
        response = await person.get(authorization_url)
        for _ in range(10):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if urlsplit(location).netloc == HOST:
                    return location
                response = await person.get(location)
                continue
            assert response.status_code == 200, response.text
            page = HTMLParser(response.text)
            if cancel:
                response = await person.get(urljoin(str(response.url), page.css_first(".login-help a").attributes["href"]))
                continue
            form = page.css_first("form")
            fields = {field.attributes["name"]: field.attributes.get("value") or "" for field in form.css("input[name]")}
            if fields["prompt"] == "login":
                fields.update(login=login, password="anything")
            response = await person.post(urljoin(str(response.url), form.attributes["action"]), data=fields)
    raise AssertionError("the provider never sent the person back")


async def _sign_in(browser: Browser, provider: str, login: str, next_path: str = "/") -> httpx.Response:
    start = await _start(browser, provider, next_path)
    return await browser.get(await _at_provider(start.headers["location"], login))


def _session_id(browser: Browser) -> str:
    return hashlib.sha256(browser.http.cookies[SESSION_COOKIE].encode()).hexdigest()


def _problems(response: httpx.Response) -> list[str]:
    return text_of(response, ".govuk-error-summary__list li")


async def test_the_sign_in_page_offers_each_provider(browser):
    page = await browser.get("/signin", params={"next": "/account"})
    links = HTMLParser(page.text).css("a[href^='/signin/oidc/']")
    assert [(a.text(strip=True), a.attributes["href"]) for a in links] == [
        ("Council staff account", "/signin/oidc/staff?next=/account"),
        ("GOV.UK One Login", "/signin/oidc/residents?next=/account"),
    ]


async def test_staff_sign_in_by_client_secret_creates_the_user_and_asks_for_details(browser):
    login = _login()
    start = await _start(browser, "staff", next_path="/account")
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["client_id"] == ["civic-staff"] and asked["response_type"] == ["code"]
    assert asked["redirect_uri"] == [_callback("staff")]
    assert asked["scope"] == ["openid email profile"]
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["state"][0] and asked["nonce"][0]
    before = browser.http.cookies[SESSION_COOKIE]
    anonymous_session = _session_id(browser)

    response = await browser.get(await _at_provider(start.headers["location"], login))

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/welcome?next=/account"
    assert browser.http.cookies[SESSION_COOKIE] != before
    assert not await Session.filter(id=anonymous_session).exists()
    user = await User.get(email=f"{login}@example.test")
    assert user.email_verified and not user.identity_verified
    assert user.display_name == login.capitalize()
    identity = await OIDCIdentity.get(provider="staff", subject=login)
    assert identity.user_id == user.id  # type: ignore[attr-defined]
    session = await Session.get(id=_session_id(browser))
    assert session.user_id == user.id  # type: ignore[attr-defined]
    assert not [key for key in session.data if key.startswith("_state_") or key == "oidc_next"]
    welcome = await browser.follow(response)
    assert text_of(welcome, "h1") == ["About you"]


async def test_resident_sign_in_by_private_key_jwt_links_the_account_and_goes_on(browser, oidc_council):
    login = _login()
    user = await create_user_ok(oidc_council, email=f"{login}@example.test")
    assert user.profile_complete

    response = await _sign_in(browser, "residents", login, next_path="/account")

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/account"
    identity = await OIDCIdentity.get(provider="residents", subject=login)
    assert identity.user_id == user.id  # type: ignore[attr-defined]
    assert (await User.get(id=user.id)).identity_verified  # this provider checks who people are
    assert (await browser.follow(response)).status_code == 200
    assert await Session.filter(user=user).count() == 1


async def test_a_returning_resident_is_found_by_their_identity(oidc_app, oidc_council):
    login = _login()
    async with Browser(oidc_app, oidc_council) as first:
        assert (await _sign_in(first, "residents", login)).status_code == 303
    await User.filter(email=f"{login}@example.test").update(email=f"moved-{login}@example.test")
    async with Browser(oidc_app, oidc_council) as again:
        response = await _sign_in(again, "residents", login)
    assert response.status_code == 303
    assert await OIDCIdentity.filter(provider="residents", subject=login).count() == 1
    assert not await User.filter(email=f"{login}@example.test").exists()  # no second account


async def test_next_pointing_at_another_site_lands_on_home(browser, oidc_council):
    login = _login()
    await create_user_ok(oidc_council, email=f"{login}@example.test")
    response = await _sign_in(browser, "staff", login, next_path="//evil.example")
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_a_tampered_state_is_refused(browser):
    login = _login()
    start = await _start(browser, "staff")
    before = browser.http.cookies[SESSION_COOKIE]
    callback = urlsplit(await _at_provider(start.headers["location"], login))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    query["state"] += "x"

    response = await browser.get(urlunsplit(callback._replace(query=urlencode(query))))

    assert response.status_code == 400
    assert _problems(response) == ["That sign-in has expired or has already been used, so you are not signed in. Start again."]
    assert browser.http.cookies[SESSION_COOKIE] == before
    assert (await Session.get(id=_session_id(browser))).user_id is None  # type: ignore[attr-defined]
    assert not await OIDCIdentity.filter(subject=login).exists()
    assert not await User.filter(email=f"{login}@example.test").exists()


async def test_a_callback_without_state_is_refused(browser):
    response = await browser.get("/signin/oidc/staff/callback", params={"code": "made-up"})
    assert response.status_code == 400
    assert "expired or has already been used" in _problems(response)[0]


async def test_a_replayed_callback_is_refused(oidc_app, oidc_council):
    login = _login()
    async with Browser(oidc_app, oidc_council) as person:
        start = await _start(person, "staff")
        callback = await _at_provider(start.headers["location"], login)
        waiting = dict((await Session.get(id=_session_id(person))).data)
        assert (await person.get(callback)).status_code == 303
        user = await User.get(email=f"{login}@example.test")

        again = await person.get(callback)  # the same browser: its state was used up
        assert again.status_code == 400
        assert "already been used" in _problems(again)[0]

    async with Browser(oidc_app, oidc_council) as attacker:
        stolen = await attacker.get(callback)  # another browser never had that state
        assert stolen.status_code == 400
        assert "already been used" in _problems(stolen)[0]

    async with Browser(oidc_app, oidc_council) as copy:
        # Even with the state and verifier copied, the provider refuses a code that was used once.
        token, _ = await accounts.open_session(data=waiting)
        copy.http.cookies.set(SESSION_COOKIE, token, domain=HOST)
        refused = await copy.get(callback)
        assert refused.status_code == 400
        assert _problems(refused) == ["We could not confirm your sign-in with Council staff account, so you are not signed in. Try again."]
        assert (await Session.get(id=_session_id(copy))).user_id is None  # type: ignore[attr-defined]

    assert await Session.filter(user=user).count() == 1
    assert await OIDCIdentity.filter(subject=login).count() == 1


async def test_an_id_token_for_another_nonce_is_refused(browser):
    login = _login()
    start = await _start(browser, "residents")
    callback = await _at_provider(start.headers["location"], login)
    session = await Session.get(id=_session_id(browser))
    [key] = [key for key in session.data if key.startswith("_state_residents_")]
    session.data[key]["data"]["nonce"] = "not-the-nonce-the-provider-was-given"
    await Session.filter(id=session.id).update(data=session.data)

    response = await browser.get(callback)

    assert response.status_code == 400
    assert _problems(response) == ["We could not confirm your sign-in with GOV.UK One Login, so you are not signed in. Try again."]
    assert (await Session.get(id=_session_id(browser))).user_id is None  # type: ignore[attr-defined]
    assert not await OIDCIdentity.filter(subject=login).exists()
    assert not await User.filter(email=f"{login}@example.test").exists()


async def test_cancelling_at_the_provider_signs_nobody_in(browser):
    start = await _start(browser, "residents", next_path="/account")
    callback = await _at_provider(start.headers["location"], _login(), cancel=True)
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]

    response = await browser.get(callback)

    assert response.status_code == 400
    assert _problems(response) == [
        "You did not finish signing in with GOV.UK One Login, so you are not signed in. Try again, or get a link by email."
    ]
    retry = HTMLParser(response.text).css_first("a[href^='/signin/oidc/residents']")
    assert retry.attributes["href"] == "/signin/oidc/residents?next=/account"
    session = await Session.get(id=_session_id(browser))
    assert session.user_id is None  # type: ignore[attr-defined]
    assert not [key for key in session.data if key.startswith("_state_")]


async def test_an_error_from_the_provider_without_state_is_handled(browser):
    response = await browser.get("/signin/oidc/staff/callback", params={"error": "access_denied"})
    assert response.status_code == 400
    assert "did not finish signing in with Council staff account" in _problems(response)[0]


async def test_an_unverified_email_address_is_refused(browser):
    login = "unverified" + uuid.uuid4().hex[:10]
    response = await _sign_in(browser, "staff", login)
    assert response.status_code == 400
    assert "did not confirm your email address" in _problems(response)[0]
    assert not await User.filter(email=f"{login}@example.test").exists()


async def test_an_unknown_provider_is_not_found(browser):
    assert (await browser.get("/signin/oidc/nobody")).status_code == 404
    assert (await browser.get("/signin/oidc/nobody/callback", params={"code": "x", "state": "y"})).status_code == 404


async def test_a_provider_that_does_not_answer_gets_a_polite_page(settings, database, oidc_council):
    from routes import create_app

    silent = OIDCProvider(name="staff", label="Council staff account", issuer=f"http://127.0.0.1:{free_port()}", client_id="x", client_secret="y")
    previous = config.current()
    try:
        app = create_app(dataclasses.replace(settings, providers=(silent,)))
        async with Browser(app, oidc_council) as browser:
            response = await browser.get("/signin/oidc/staff", params={"next": "/account"})
    finally:
        config.use(previous)
    assert response.status_code == 502
    assert _problems(response) == ["Council staff account is not answering at the moment. Try again later, or get a link by email."]
