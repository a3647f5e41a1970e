"""OpenID Connect providers as Authlib client registrations, built from settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, RSAKey, import_key

from civic.config import ConfigError, OIDCProvider

# What each kind of key signs its client assertion with, unless a JWK names its own "alg".
# (GOV.UK One Login's guide has services make a 2048-bit RSA key, so RS256.)
SIGNING_ALGORITHMS = {"RSA": "RS256", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
# A fresh assertion is signed for each token request, so it need not outlive that request;
# Authlib's default is an hour.
ASSERTION_LIFETIME_SECONDS = 300


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's private_key_jwt client authentication, with assertions that expire in five minutes."""

    def sign(self, auth: Any, token_endpoint: str) -> str:
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            claims=self.claims,
            header=self.headers,
            expires_in=ASSERTION_LIFETIME_SECONDS,
        )


def _read_key(raw: bytes) -> Key | None:
    if raw.lstrip().startswith(b"{"):
        return import_key(json.loads(raw))
    # Each type is named in turn: left to guess, joserfc reads an unknown PEM as a shared secret.
    for key_type in (RSAKey, ECKey):
        try:
            return key_type.import_key(raw)
        except (JoseError, ValueError):
            continue
    return None


def load_private_key(path: str, setting: str = "the private key file") -> tuple[Key, str]:
    """The private key in a PEM or JWK (JSON) file, and the algorithm it signs with."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ConfigError(f"{setting}={path!r} cannot be read: {error.strerror}.") from None
    try:
        key = _read_key(raw)
    except (JoseError, ValueError, KeyError, TypeError):
        key = None
    if not isinstance(key, (RSAKey, ECKey)):
        raise ConfigError(f"{setting}={path!r} does not hold an RSA or EC private key in PEM or JWK form.")
    if not key.is_private:
        raise ConfigError(f"{setting}={path!r} holds a public key: civic needs the private key (the provider gets the public one).")
    kind = "RSA" if isinstance(key, RSAKey) else key.curve_name
    algorithm = str(key.get("alg") or SIGNING_ALGORITHMS.get(kind, ""))
    if not algorithm:
        raise ConfigError(f"{setting}={path!r}: civic cannot sign with a {kind} key; use RSA or EC P-256.")
    return key, algorithm


def client_registration(provider: OIDCProvider) -> dict[str, Any]:
    """Keyword arguments for Authlib's `OAuth.register`: discovery, PKCE S256 and client authentication."""
    client_kwargs: dict[str, Any] = {"scope": provider.scope, "code_challenge_method": "S256"}
    registration: dict[str, Any] = {
        "client_id": provider.client_id,
        "server_metadata_url": provider.metadata_url,
        "client_kwargs": client_kwargs,
    }
    if provider.private_key_file:
        setting = f"CIVIC_OIDC_{provider.name.upper()}_PRIVATE_KEY_FILE"
        key, algorithm = load_private_key(provider.private_key_file, setting)
        headers = {"kid": key.kid} if key.kid else None
        client_kwargs["token_endpoint_auth_method"] = "private_key_jwt"
        # Authlib's PrivateKeyJWT signs with whatever it is given as the client secret.
        registration["client_secret"] = key
        # The assertion's audience is the token endpoint URL, as GOV.UK One Login requires.
        registration["client_auth_methods"] = [ShortLivedPrivateKeyJWT(alg=algorithm, headers=headers)]
    else:
        client_kwargs["token_endpoint_auth_method"] = "client_secret_basic"
        registration["client_secret"] = provider.client_secret
    return registration


def id_token_claims_options(client_id: str, issuer: str) -> dict[str, Any]:
    """What an ID token must say beyond its signature, nonce and expiry (which Authlib checks itself).

    Authlib checks the audience only by way of `azp`, so it is asked for here, with the issuer.
    """
    return {
        "iss": {"essential": True, "values": [issuer]},
        "aud": {"essential": True, "values": [client_id]},
    }
