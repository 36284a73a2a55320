"""Settings, read once from the environment (12-factor).

Development needs no set-up: the database is a SQLite file under ``var/`` and a random
secret key is generated there on first use. Production refuses to start on an unsafe
setting, with a one-line explanation (:class:`ConfigError`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
#: The product as pages and e-mails name it, and the address the privacy policy gives.
SITE_NAME = "Smart Scheduling"
CONTACT_EMAIL = "info@smartscheduling.com"

AppEnv = Literal["development", "production"]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARS = 10
#: The iteration count the privacy policy's PBKDF2 promise rests on; settings may only raise it.
MIN_PASSWORD_ITERATIONS = 1_200_000
MAX_SESSION_HOURS = 24 * 30
MAX_CONSENT_MONTHS = 13


class ConfigError(Exception):
    """A setting is missing or unsafe. The message is one line, meant for an operator."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Every setting the application reads. See the README for each one."""

    app_env: AppEnv = "development"
    database_url: str
    secret_key: str
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    log_level: str = "INFO"
    database_echo: bool = False
    database_pool_size: int = 10
    var_dir: Path = PROJECT_ROOT / "var"
    redis_url: str | None = None
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    password_iterations: int = MIN_PASSWORD_ITERATIONS
    password_hash_concurrency: int = max(1, (os.cpu_count() or 2) // 2)
    mail_from: str = "Smart Scheduling <no-reply@smartscheduling.com>"
    embedded_worker: bool = False
    #: Ask for cookie consent again after this many months (never above 13).
    consent_max_age_months: int = 12
    #: Where personal data is stored, as the privacy policy's storage notice names it.
    data_location: str = "the United States"
    #: Users written to the outbox per step of a policy-change mailing.
    campaign_batch_size: int = 500
    #: How stale a process's copy of the published policy versions may be: a version
    #: published by another process shows there within this many seconds.
    policy_cache_seconds: int = 5
    #: How long a worker holds the outbox rows it claimed; a dead worker's rows wait this long.
    outbox_lease_seconds: int = 300
    # What the HTTP server accepts (see ``web/server.py``).
    #: The request line and headers together, in bytes (431 beyond).
    max_header_bytes: int = 16 * 1024
    #: Header lines per request (431 beyond).
    max_headers: int = 100
    #: Seconds for the request line and headers to arrive (408 beyond).
    header_timeout_seconds: float = 10
    #: Seconds a request body may pause; past that long it must average ``min_body_rate``.
    body_timeout_seconds: float = 10
    #: Bytes per second a request body must average once ``body_timeout_seconds`` have passed.
    min_body_rate: int = 1024
    #: Seconds an idle keep-alive connection stays open.
    keep_alive_seconds: int = 5
    #: Connections and requests one process serves at once; beyond, uvicorn answers 503.
    max_concurrency: int = 200

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def debug(self) -> bool:
        """Stack traces on error pages: development only."""
        return not self.is_production

    @property
    def https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @property
    def site_host(self) -> str:
        """The site's host name (what calendar UIDs and message ids are unique under)."""
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def base_origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables; raise :class:`ConfigError` when unsafe."""
        env = os.environ if environ is None else environ
        app_env = env.get("APP_ENV", "development").strip().lower()
        if app_env not in ("development", "production"):
            msg = f"APP_ENV must be 'development' or 'production', not {app_env!r}"
            raise ConfigError(msg)
        production = app_env == "production"
        var_dir = Path(env.get("VAR_DIR") or PROJECT_ROOT / "var")

        database_url = env.get("DATABASE_URL", "").strip()
        if not database_url:
            if production:
                msg = "DATABASE_URL must be set in production (e.g. postgresql+asyncpg://user@host/db)"
                raise ConfigError(msg)
            database_url = f"sqlite+aiosqlite:///{var_dir / 'smartscheduling.sqlite3'}"

        secret_key = env.get("SECRET_KEY", "")
        if not secret_key:
            if production:
                msg = (
                    "SECRET_KEY must be set in production "
                    "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
                raise ConfigError(msg)
            secret_key = _development_secret(var_dir)

        settings = cls(
            app_env=app_env,  # type: ignore[arg-type]
            database_url=database_url,
            secret_key=secret_key,
            base_url=env.get("BASE_URL", "http://127.0.0.1:8000").strip().rstrip("/"),
            smtp_url=env.get("SMTP_URL") or None,
            log_level=env.get("LOG_LEVEL", "INFO").strip().upper(),
            database_echo=_bool(env, "DATABASE_ECHO", default=False),
            database_pool_size=_int(env, "DATABASE_POOL_SIZE", default=10, minimum=1),
            var_dir=var_dir,
            redis_url=env.get("REDIS_URL") or None,
            session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", default=60, minimum=1),
            session_max_hours=_int(env, "SESSION_MAX_HOURS", default=12, minimum=1),
            password_iterations=_int(env, "PASSWORD_ITERATIONS", default=MIN_PASSWORD_ITERATIONS, minimum=1),
            password_hash_concurrency=_int(
                env, "PASSWORD_HASH_CONCURRENCY", default=max(1, (os.cpu_count() or 2) // 2), minimum=1
            ),
            mail_from=env.get("MAIL_FROM", "Smart Scheduling <no-reply@smartscheduling.com>"),
            # Development runs the outbox worker inside the web process; production runs
            # `smartscheduling worker` (the Procfile's worker) instead.
            embedded_worker=_bool(env, "EMBEDDED_WORKER", default=not production),
            consent_max_age_months=_int(env, "CONSENT_MAX_AGE_MONTHS", default=12, minimum=1),
            data_location=env.get("DATA_LOCATION", "").strip() or "the United States",
            campaign_batch_size=_int(env, "CAMPAIGN_BATCH_SIZE", default=500, minimum=1),
            policy_cache_seconds=_int(env, "POLICY_CACHE_SECONDS", default=5, minimum=0),
            outbox_lease_seconds=_int(env, "OUTBOX_LEASE_SECONDS", default=300, minimum=1),
            max_header_bytes=_int(env, "MAX_HEADER_BYTES", default=16 * 1024, minimum=1024),
            max_headers=_int(env, "MAX_HEADERS", default=100, minimum=10),
            header_timeout_seconds=_number(env, "HEADER_TIMEOUT_SECONDS", default=10),
            body_timeout_seconds=_number(env, "BODY_TIMEOUT_SECONDS", default=10),
            min_body_rate=_int(env, "MIN_BODY_RATE", default=1024, minimum=1),
            keep_alive_seconds=_int(env, "KEEP_ALIVE_SECONDS", default=5, minimum=1),
            max_concurrency=_int(env, "MAX_CONCURRENCY", default=200, minimum=1),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse unsafe combinations; every check reads as one line for an operator."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            msg = f"BASE_URL must be an absolute http(s) URL, not {self.base_url!r}"
            raise ConfigError(msg)
        if self.password_iterations < MIN_PASSWORD_ITERATIONS:
            msg = f"PASSWORD_ITERATIONS may only raise the policy's {MIN_PASSWORD_ITERATIONS:,}, not lower it"
            raise ConfigError(msg)
        if self.session_max_hours > MAX_SESSION_HOURS:
            msg = f"SESSION_MAX_HOURS must be at most {MAX_SESSION_HOURS} (30 days)"
            raise ConfigError(msg)
        if self.session_idle_minutes > self.session_max_hours * 60:
            msg = "SESSION_IDLE_MINUTES must not exceed SESSION_MAX_HOURS"
            raise ConfigError(msg)
        if self.consent_max_age_months > MAX_CONSENT_MONTHS:
            msg = f"CONSENT_MAX_AGE_MONTHS must be at most {MAX_CONSENT_MONTHS}: consent must be renewed within that"
            raise ConfigError(msg)
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in ("smtp", "smtps"):
            msg = "SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465"
            raise ConfigError(msg)
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            msg = f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {self.log_level!r}"
            raise ConfigError(msg)
        if not self.is_production:
            return
        if parts.scheme != "https":
            msg = f"BASE_URL must start with https:// in production, not {self.base_url!r}"
            raise ConfigError(msg)
        if len(self.secret_key) < MIN_SECRET_LENGTH or len(set(self.secret_key)) < MIN_SECRET_DISTINCT_CHARS:
            msg = (
                f"SECRET_KEY is too weak for production: use at least {MIN_SECRET_LENGTH} random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
            raise ConfigError(msg)
        if not self.smtp_url:
            msg = "SMTP_URL must be set in production: account and privacy e-mails have to reach people"
            raise ConfigError(msg)
        if self.database_echo:
            msg = "DATABASE_ECHO must be off in production: it writes query parameters (personal data) to the logs"
            raise ConfigError(msg)


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    msg = f"{name} must be true or false, not {raw!r}"
    raise ConfigError(msg)


def _int(env: Mapping[str, str], name: str, *, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        msg = f"{name} must be a whole number, not {raw!r}"
        raise ConfigError(msg) from None
    if value < minimum:
        msg = f"{name} must be at least {minimum}, not {value}"
        raise ConfigError(msg)
    return value


def _number(env: Mapping[str, str], name: str, *, default: float) -> float:
    """A positive number of seconds (fractions allowed)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        msg = f"{name} must be a number of seconds, not {raw!r}"
        raise ConfigError(msg) from None
    if not 0 < value < 3600:
        msg = f"{name} must be more than 0 and less than 3600 seconds, not {raw}"
        raise ConfigError(msg)
    return value


def _development_secret(var_dir: Path) -> str:
    """A random key kept in ``var/secret_key`` so sessions survive a development restart."""
    path = var_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings.from_env()
