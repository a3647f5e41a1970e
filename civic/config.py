"""Settings read from CIVIC_* environment variables (and an optional .env file), in one place."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class OIDCProvider:
    """One OpenID Connect provider: staff (e.g. Entra ID) or residents (e.g. GOV.UK One Login)."""

    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str = ""
    private_key_file: str = ""
    scope: str = "openid email profile"
    verifies_identity: bool = False
    trusts_email: bool = False

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Settings:
    """Everything civic can be told from outside. Field names map to CIVIC_<NAME>."""

    env: str = "development"
    base_url: str = "http://127.0.0.1:8000"
    database_url: str = ""
    database_pool_size: int = 20
    data_dir: str = str(ROOT / "var")
    secret_key: str = ""
    encryption_keys: str = ""
    default_council: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout: float = 5.0  # seconds to wait on the relay while someone waits for the page; the worker waits 30
    mail_from: str = "civic <no-reply@civic.localhost>"
    rate_limit_storage: str = "memory://"
    signin_rate_per_address: str = "5/minute"
    signin_rate_per_ip: str = "20/minute"
    concern_rate: str = "5/minute"
    api_failed_key_rate: str = "20/minute"
    scheme_message_rate: str = "5/hour"
    report_rate: str = "10/hour"
    invitation_rate: str = "10/hour"
    oidc_providers: str = ""
    trusted_hosts: str = "*"
    # Empty: uvicorn's FORWARDED_ALLOW_IPS if set, else this machine (load() fills it in).
    trusted_proxies: str = ""
    worker_interval: float = 2.0
    public_cache_seconds: float = 10.0
    council_cache_seconds: float = 10.0
    max_in_hand: int = 8
    shed_at: int = 48
    log_level: str = "info"
    allow_private_webhook_urls: bool = False
    webhook_timeout: float = 15.0
    webhook_retry_schedule: str = "0,5,300,1800,7200,18000,36000,36000"
    webhook_endpoint_disable_after: float = 3 * 24 * 3600.0
    webhook_secret_overlap: float = 24 * 3600.0
    webhook_lease_seconds: float = 60.0
    dbs_valid_days: int = 3 * 365
    concern_purge_days: int = 365
    lone_working_grace_minutes: int = 60
    providers: tuple[OIDCProvider, ...] = field(default=())

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _oidc_providers(environ: dict[str, str]) -> tuple[OIDCProvider, ...]:
    providers = []
    for name in filter(None, (n.strip() for n in environ.get("CIVIC_OIDC_PROVIDERS", "").split(","))):
        prefix = f"CIVIC_OIDC_{name.upper()}_"

        def get(key: str, default: str | None = None) -> str:
            value = environ.get(prefix + key, default)
            if value is None:
                raise ConfigError(f"{prefix}{key} is missing: provider '{name}' is listed in CIVIC_OIDC_PROVIDERS.")
            return value

        provider = OIDCProvider(
            name=name,
            label=get("LABEL", name.title()),
            issuer=get("ISSUER"),
            client_id=get("CLIENT_ID"),
            client_secret=get("CLIENT_SECRET", ""),
            private_key_file=get("PRIVATE_KEY_FILE", ""),
            scope=get("SCOPE", "openid email profile"),
            verifies_identity=_bool(get("VERIFIES_IDENTITY", "false")),
            trusts_email=_bool(get("TRUSTS_EMAIL", "false")),
        )
        if not provider.client_secret and not provider.private_key_file:
            raise ConfigError(f"{prefix}CLIENT_SECRET or {prefix}PRIVATE_KEY_FILE must be set.")
        providers.append(provider)
    return tuple(providers)


def _development_secret(data_dir: Path) -> str:
    """Generate a secret once per checkout so no secret ships with the code."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load(environ: dict[str, str] | None = None, env_file: str | Path = ".env") -> Settings:
    """Read settings from the environment (which wins) and the .env file."""
    merged = _read_env_file(Path(env_file))
    merged.update(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    for f in fields(Settings):
        key = "CIVIC_" + f.name.upper()
        if f.name == "providers" or key not in merged:
            continue
        raw = merged[key]
        try:
            if f.type == "int":
                values[f.name] = int(raw)
            elif f.type == "float":
                values[f.name] = float(raw)
            elif f.type == "bool":
                values[f.name] = _bool(raw)
            else:
                values[f.name] = raw
        except ValueError:
            raise ConfigError(f"{key}={raw!r} is not a valid {f.type}.") from None
    values["providers"] = _oidc_providers(merged)
    settings = Settings(**values)  # type: ignore[arg-type]
    data_dir = Path(settings.data_dir)
    extra: dict[str, object] = {}
    if not settings.trusted_proxies:
        extra["trusted_proxies"] = merged.get("FORWARDED_ALLOW_IPS") or LOCAL_PROXIES
    trusted_proxies(str(extra.get("trusted_proxies", settings.trusted_proxies)))
    if not settings.database_url:
        data_dir.mkdir(parents=True, exist_ok=True)
        extra["database_url"] = f"sqlite://{data_dir / 'civic.sqlite3'}"
    if settings.production:
        problems = []
        if len(settings.secret_key) < 32:
            problems.append("CIVIC_SECRET_KEY (at least 32 characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
        if urlsplit(settings.base_url).scheme != "https":
            problems.append("CIVIC_BASE_URL starting with https://")
        if not settings.smtp_host:
            problems.append("CIVIC_SMTP_HOST (and CIVIC_SMTP_USER / CIVIC_SMTP_PASSWORD if your relay needs them)")
        if not settings.encryption_keys:
            problems.append("CIVIC_ENCRYPTION_KEYS (see README: Configuration)")
        if problems:
            raise ConfigError("CIVIC_ENV=production needs: " + "; ".join(problems) + ".")
    else:
        if not settings.secret_key:
            extra["secret_key"] = _development_secret(data_dir)
    if not settings.encryption_keys:
        extra["encryption_keys"] = _development_encryption_key(data_dir)
    _check_webhook_settings(settings)
    if extra:
        settings = Settings(**{**{f.name: getattr(settings, f.name) for f in fields(Settings)}, **extra})
    return settings


def retry_schedule(setting: str) -> list[float]:
    """CIVIC_WEBHOOK_RETRY_SCHEDULE as seconds: the wait before each attempt, the first usually 0."""
    try:
        delays = [float(part) for part in setting.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"CIVIC_WEBHOOK_RETRY_SCHEDULE={setting!r} must be seconds separated by commas, like 0,5,300.") from None
    if not delays or any(delay < 0 for delay in delays):
        raise ConfigError(f"CIVIC_WEBHOOK_RETRY_SCHEDULE={setting!r} needs at least one delay, none negative.")
    return delays


# Who may say, in X-Forwarded-For, whom a request is from when no proxy is configured: a proxy on this machine.
LOCAL_PROXIES = "127.0.0.1,::1"


def trusted_proxies(setting: str) -> list[str]:
    """CIVIC_TRUSTED_PROXIES as a list of addresses and networks, or ["*"] for every peer.

    uvicorn would take a mistyped entry as a name no peer ever has, and trust nobody without a word.
    """
    entries = [entry.strip() for entry in setting.split(",") if entry.strip()]
    if entries == ["*"]:
        return entries
    for entry in entries:
        try:
            ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
        except ValueError:
            raise ConfigError(
                f"CIVIC_TRUSTED_PROXIES={setting!r}: {entry!r} is not an IP address or network. List your reverse proxies' "
                "addresses or networks separated by commas, like 10.0.0.5,10.1.0.0/16, or * if only the proxy can reach civic."
            ) from None
    if not entries:
        raise ConfigError(f"CIVIC_TRUSTED_PROXIES={setting!r} lists no address.")
    return entries


def _check_webhook_settings(settings: Settings) -> None:
    retry_schedule(settings.webhook_retry_schedule)
    # A claim must outlive the longest attempt, or a second worker would retake a delivery still in flight.
    if settings.webhook_lease_seconds <= settings.webhook_timeout:
        raise ConfigError(
            f"CIVIC_WEBHOOK_LEASE_SECONDS ({settings.webhook_lease_seconds:g}) must be longer than "
            f"CIVIC_WEBHOOK_TIMEOUT ({settings.webhook_timeout:g})."
        )


def _development_encryption_key(data_dir: Path) -> str:
    from cryptography.fernet import Fernet

    path = data_dir / "encryption_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


_current: Settings | None = None


def use(settings: Settings) -> Settings:
    """Make these the settings of this process (the app and the worker call it at start-up)."""
    global _current
    _current = settings
    return settings


def current() -> Settings:
    """The settings of this process, loaded from the environment on first use."""
    global _current
    if _current is None:
        _current = load()
    return _current
