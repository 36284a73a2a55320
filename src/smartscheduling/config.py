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

AppEnv = Literal["development", "production"]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARS = 10


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
                msg = "SECRET_KEY must be set in production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
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
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse unsafe combinations; every check reads as one line for an operator."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            msg = f"BASE_URL must be an absolute http(s) URL, not {self.base_url!r}"
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
