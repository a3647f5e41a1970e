"""OpenID Connect client registrations built from settings, and the private keys private_key_jwt signs with."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from civic import oidc
from civic.config import ConfigError, OIDCProvider

TOKEN_ENDPOINT = "https://oidc.example.test/token"


def _pem(private_key) -> bytes:
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _provider(**overrides) -> OIDCProvider:
    fields = {"name": "residents", "label": "GOV.UK One Login", "issuer": "https://oidc.example.test/", "client_id": "civic"}
    fields.update(overrides)
    return OIDCProvider(**fields)


def _assertion(registration: dict) -> tuple[dict, dict]:
    """Sign a client assertion as Authlib would at the token endpoint; its header and claims."""
    [method] = registration["client_auth_methods"]
    signed = method.sign(SimpleNamespace(client_id="civic", client_secret=registration["client_secret"]), TOKEN_ENDPOINT)
    token = jwt.decode(signed, registration["client_secret"])
    return dict(token.header), dict(token.claims)


def test_a_client_secret_provider_uses_basic_authentication_and_pkce():
    registration = oidc.client_registration(_provider(name="staff", client_secret="s3cret"))
    assert registration["client_id"] == "civic" and registration["client_secret"] == "s3cret"
    assert registration["server_metadata_url"] == "https://oidc.example.test/.well-known/openid-configuration"
    assert registration["client_kwargs"] == {
        "scope": "openid email profile",
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": "client_secret_basic",
    }
    assert "client_auth_methods" not in registration


def test_an_rsa_pem_key_signs_rs256_assertions_for_the_token_endpoint(tmp_path: Path):
    path = tmp_path / "key.pem"
    path.write_bytes(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    registration = oidc.client_registration(_provider(private_key_file=str(path)))
    assert registration["client_kwargs"]["token_endpoint_auth_method"] == "private_key_jwt"
    header, claims = _assertion(registration)
    assert header == {"alg": "RS256", "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == "civic"
    assert claims["aud"] == TOKEN_ENDPOINT
    assert claims["jti"] and claims["exp"] - claims["iat"] == oidc.ASSERTION_LIFETIME_SECONDS
    assert _assertion(registration)[1]["jti"] != claims["jti"]  # a fresh jti every time


def test_an_ec_jwk_key_signs_es256_assertions_naming_its_kid(tmp_path: Path):
    key = ECKey.import_key(_pem(ec.generate_private_key(ec.SECP256R1())), {"kid": "civic-2026"})
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key.as_dict(private=True)))
    header, _ = _assertion(oidc.client_registration(_provider(private_key_file=str(path))))
    assert header["alg"] == "ES256" and header["kid"] == "civic-2026"


def test_a_public_key_is_refused_with_a_clear_message(tmp_path: Path):
    public = RSAKey.generate_key(2048).as_pem(private=False)
    path = tmp_path / "public.pem"
    path.write_bytes(public)
    with pytest.raises(ConfigError, match="CIVIC_OIDC_RESIDENTS_PRIVATE_KEY_FILE=.*holds a public key"):
        oidc.client_registration(_provider(private_key_file=str(path)))


@pytest.mark.parametrize("content", [b"not a key at all", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"{}", b'{"kty": "RSA"}'])
def test_a_file_without_a_private_key_is_refused(tmp_path: Path, content: bytes):
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="does not hold an RSA or EC private key"):
        oidc.load_private_key(str(path))


def test_a_missing_key_file_is_refused_naming_the_setting(tmp_path: Path):
    with pytest.raises(ConfigError, match="CIVIC_OIDC_RESIDENTS_PRIVATE_KEY_FILE=.*cannot be read"):
        oidc.client_registration(_provider(private_key_file=str(tmp_path / "absent.pem")))


def test_id_tokens_must_name_this_client_and_the_issuer():
    assert oidc.id_token_claims_options("civic", "https://oidc.example.test/") == {
        "iss": {"essential": True, "values": ["https://oidc.example.test/"]},
        "aud": {"essential": True, "values": ["civic"]},
    }
