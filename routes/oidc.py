"""Sign in with an OpenID Connect provider: staff (e.g. Microsoft Entra ID) or residents (e.g. GOV.UK One Login)."""

from __future__ import annotations

import logging
import secrets
import warnings
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning

# Authlib 1.9 warns on import that its httpx integration wants httpx2. civic uses httpx (DESIGN.md),
# so the warning would only be noise at the top of every `civic serve`. Authlib turns its own
# warnings to "always" when authlib.deprecate is imported, so this filter has to come after that.
warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning)

from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic import accounts, oidc
from civic.config import OIDCProvider, Settings
from civic.errors import Forbidden, Invalid, NotFound
from routes.accounts import signed_in
from routes.web import render

log = logging.getLogger("civic.oidc")

# The page to go on to, kept in the session under the flow's state until the provider sends the user back.
# Authlib keeps one flow per provider per session, so only the latest flow's page is kept too.
NEXT_KEY = "oidc_next"


class _Refused(Exception):
    """The provider's answer cannot sign anyone in; the message says so in plain words."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def registry(settings: Settings) -> OAuth:
    """An Authlib client for each configured provider; each app has its own, from its own settings."""
    oauth = OAuth()
    for provider in settings.providers:
        oauth.register(provider.name, **oidc.client_registration(provider))
    return oauth


def _provider(request: Request) -> tuple[OIDCProvider, StarletteOAuth2App]:
    name = request.path_params["provider"]
    for provider in request.app.state.settings.providers:
        if provider.name == name:
            return provider, request.app.state.oauth.create_client(name)
    raise NotFound()


def _unavailable(provider: OIDCProvider) -> _Refused:
    return _Refused(f"{provider.label} is not answering at the moment. Try again later, or get a link by email.", 502)


async def _claims(request: Request, provider: OIDCProvider, client: StarletteOAuth2App) -> dict[str, Any]:
    """Who the provider says this is: the ID token's claims (signature, nonce, issuer, audience and
    expiry checked), with the userinfo endpoint's when the ID token does not vouch for an e-mail
    address itself (One Login's never does)."""
    error = request.query_params.get("error")
    if error:
        await client.framework.clear_state_data(request.session, request.query_params.get("state", ""))
        log.info("%s did not sign someone in: %s", provider.name, error)
        if error == "access_denied":
            raise _Refused(f"You did not finish signing in with {provider.label}, so you are not signed in. Try again, or get a link by email.")
        raise _Refused(f"{provider.label} could not sign you in. Try again, or get a link by email.")
    unconfirmed = _Refused(f"We could not confirm your sign-in with {provider.label}, so you are not signed in. Try again.")
    try:
        metadata = await client.load_server_metadata()
        options = oidc.id_token_claims_options(provider.client_id, metadata["issuer"])
        token = await client.authorize_access_token(request, claims_options=options)
        claims = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            raise unconfirmed  # no ID token: nothing was checked
        if not ("email" in claims and "email_verified" in claims) and metadata.get("userinfo_endpoint"):
            userinfo = await client.userinfo(token=token)
            if userinfo.get("sub") != claims["sub"]:
                raise unconfirmed
            claims = {**userinfo, **claims}
    except MismatchingStateError:
        raise _Refused("That sign-in has expired or has already been used, so you are not signed in. Start again.") from None
    except (OAuthError, JoseError) as refusal:
        log.warning("%s sign-in refused: %s: %s", provider.name, type(refusal).__name__, refusal)
        raise unconfirmed from None
    except httpx.HTTPError as failure:
        log.warning("%s is unreachable: %s: %s", provider.name, type(failure).__name__, failure)
        raise _unavailable(provider) from None
    return claims


def _refused(request: Request, refusal: _Refused, next_path: str = "/") -> Response:
    context = {"values": {"next": next_path}, "errors": {"oidc": refusal.message}, "providers": list(request.app.state.settings.providers)}
    return render(request, "accounts/signin.html", context, status_code=refusal.status_code)


async def oidc_start(request: Request) -> Response:
    provider, client = _provider(request)
    state = secrets.token_urlsafe(32)
    request.session[NEXT_KEY] = {state: accounts.safe_next(request.query_params.get("next"))}
    callback = str(request.url_for("oidc_callback", provider=provider.name))
    try:
        return await client.authorize_redirect(request, callback, state=state)
    except httpx.HTTPError as failure:
        log.warning("%s is unreachable: %s: %s", provider.name, type(failure).__name__, failure)
        return _refused(request, _unavailable(provider), request.session.pop(NEXT_KEY)[state])


async def oidc_callback(request: Request) -> Response:
    provider, client = _provider(request)
    next_path = accounts.safe_next(request.session.pop(NEXT_KEY, {}).get(request.query_params.get("state", "")))
    try:
        claims = await _claims(request, provider, client)
        user = await accounts.signin_with_oidc(provider.name, claims, provider.verifies_identity, provider.trusts_email)
    except _Refused as refusal:
        return _refused(request, refusal, next_path)
    except Invalid as error:
        return _refused(request, _Refused(" ".join(error.errors.values())), next_path)
    except Forbidden as error:
        return _refused(request, _Refused(error.message, 403), next_path)
    return signed_in(request, user, next_path)


routes = [
    Route("/signin/oidc/{provider}", oidc_start, methods=["GET"], name="oidc_start"),
    Route("/signin/oidc/{provider}/callback", oidc_callback, methods=["GET"], name="oidc_callback"),
]
