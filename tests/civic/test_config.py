"""Settings: development defaults, and production refusing to start without what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic import config
from civic.config import ConfigError


def _load(tmp_path: Path, **environ: str) -> config.Settings:
    return config.load({"CIVIC_DATA_DIR": str(tmp_path), **environ}, env_file=tmp_path / "absent.env")


def test_development_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = _load(tmp_path)
    second = _load(tmp_path)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path):
    assert _load(tmp_path).database_url == f"sqlite://{tmp_path / 'civic.sqlite3'}"


def test_production_refuses_to_start_without_secret_https_and_smtp(tmp_path):
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, CIVIC_ENV="production", CIVIC_BASE_URL="http://civic.example")
    message = str(error.value)
    for needed in ("CIVIC_SECRET_KEY", "https://", "CIVIC_SMTP_HOST", "CIVIC_ENCRYPTION_KEYS"):
        assert needed in message


def test_production_starts_with_everything_set(tmp_path):
    settings = _load(
        tmp_path,
        CIVIC_ENV="production",
        CIVIC_BASE_URL="https://civic.example",
        CIVIC_SECRET_KEY="x" * 48,
        CIVIC_SMTP_HOST="smtp.example",
        CIVIC_ENCRYPTION_KEYS="k1",
    )
    assert settings.production and settings.smtp_host == "smtp.example"
    assert not (tmp_path / "secret_key").exists()  # production never invents a secret


def test_a_number_that_is_not_a_number_is_named(tmp_path):
    with pytest.raises(ConfigError, match="CIVIC_SMTP_PORT"):
        _load(tmp_path, CIVIC_SMTP_PORT="twenty-five")


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("CIVIC_MAIL_FROM=from-file@example.test\nCIVIC_LOG_LEVEL=debug\n")
    settings = config.load({"CIVIC_DATA_DIR": str(tmp_path), "CIVIC_LOG_LEVEL": "warning"}, env_file=env_file)
    assert settings.mail_from == "from-file@example.test"
    assert settings.log_level == "warning"


def test_an_oidc_provider_needs_a_secret_or_a_key(tmp_path):
    with pytest.raises(ConfigError, match="CIVIC_OIDC_STAFF_CLIENT_SECRET or CIVIC_OIDC_STAFF_PRIVATE_KEY_FILE"):
        _load(tmp_path, CIVIC_OIDC_PROVIDERS="staff", CIVIC_OIDC_STAFF_ISSUER="https://id.example", CIVIC_OIDC_STAFF_CLIENT_ID="civic")


def test_every_setting_is_documented_in_the_readme_and_env_example():
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    example = (root / ".env.example").read_text()
    for field in config.Settings.__dataclass_fields__:
        if field == "providers":
            continue
        name = "CIVIC_" + field.upper()
        assert name in readme, f"{name} is not in README.md"
        assert name in example, f"{name} is not in .env.example"


def test_trusted_proxies_default_to_uvicorns_setting_then_this_machine(tmp_path):
    assert _load(tmp_path).trusted_proxies == "127.0.0.1,::1"
    assert _load(tmp_path, FORWARDED_ALLOW_IPS="10.0.0.5").trusted_proxies == "10.0.0.5"
    assert _load(tmp_path, FORWARDED_ALLOW_IPS="10.0.0.5", CIVIC_TRUSTED_PROXIES="10.1.0.0/16, 192.0.2.1").trusted_proxies == "10.1.0.0/16, 192.0.2.1"
    assert config.trusted_proxies("10.1.0.0/16, 192.0.2.1") == ["10.1.0.0/16", "192.0.2.1"]
    assert config.trusted_proxies("*") == ["*"]


@pytest.mark.parametrize("value", ["10.0.0.300", "proxy.internal", "10.0.0.1/8", "10.0.0.1,*", " , "])
def test_a_trusted_proxy_that_is_not_an_address_stops_start_up(tmp_path, value):
    # uvicorn would take it for a name no peer has, and trust nobody without a word.
    with pytest.raises(ConfigError, match="CIVIC_TRUSTED_PROXIES"):
        _load(tmp_path, CIVIC_TRUSTED_PROXIES=value)
