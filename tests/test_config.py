"""Settings: safe development defaults; production refuses unsafe values in one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from smartscheduling.app import create_app
from smartscheduling.config import ConfigError, Settings
from tests.conftest import make_settings

STRONG_SECRET = "Zq8vN3pX7rT1mK5wB9cD2fG6hJ4lS0aE"
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": STRONG_SECRET,
    "BASE_URL": "https://book.example.com",
    "DATABASE_URL": "postgresql+asyncpg://app@db.internal/smartscheduling",
    "SMTP_URL": "smtp://mailer:secret@smtp.internal:587",
}


def test_development_defaults_need_no_setup(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path)})
    assert settings.app_env == "development"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'smartscheduling.sqlite3'}"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.debug


def test_development_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    first = Settings.from_env({"VAR_DIR": str(tmp_path)}).secret_key
    second = Settings.from_env({"VAR_DIR": str(tmp_path)}).secret_key
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_accepts_a_safe_configuration() -> None:
    settings = Settings.from_env(PRODUCTION)
    assert settings.is_production
    assert not settings.debug
    assert settings.base_origin == "https://book.example.com"
    assert not settings.embedded_worker  # production runs the Procfile's worker


def test_password_iterations_may_be_raised(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path), "PASSWORD_ITERATIONS": "2000000"})
    assert settings.password_iterations == 2_000_000
    assert Settings.from_env({"VAR_DIR": str(tmp_path)}).embedded_worker  # development embeds it


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set in production"),
        ({"SECRET_KEY": "short-secret"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "a" * 64}, "SECRET_KEY is too weak"),
        ({"BASE_URL": "http://book.example.com"}, "BASE_URL must start with https://"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must be set in production"),
        ({"DATABASE_ECHO": "true"}, "DATABASE_ECHO must be off in production"),
        ({"SMTP_URL": ""}, "SMTP_URL must be set in production"),
        ({"PASSWORD_ITERATIONS": "600000"}, "PASSWORD_ITERATIONS may only raise the policy's 1,200,000"),
    ],
)
def test_production_refuses_unsafe_settings(change: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(PRODUCTION | change)
    assert complaint in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"APP_ENV": "staging"}, "APP_ENV must be 'development' or 'production'"),
        ({"BASE_URL": "book.example.com"}, "BASE_URL must be an absolute http(s) URL"),
        ({"DATABASE_ECHO": "maybe"}, "DATABASE_ECHO must be true or false"),
        ({"DATABASE_POOL_SIZE": "ten"}, "DATABASE_POOL_SIZE must be a whole number"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE must be at least 1"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR"),
        ({"PASSWORD_ITERATIONS": "1000"}, "PASSWORD_ITERATIONS may only raise the policy's 1,200,000"),
        ({"SESSION_IDLE_MINUTES": "900", "SESSION_MAX_HOURS": "2"}, "SESSION_IDLE_MINUTES must not exceed"),
        ({"SESSION_MAX_HOURS": "9999"}, "SESSION_MAX_HOURS must be at most 720"),
        ({"SMTP_URL": "http://mail.example.com"}, "SMTP_URL must look like smtp://"),
    ],
)
def test_malformed_settings_are_named(env: dict[str, str], complaint: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        Settings.from_env({"VAR_DIR": str(tmp_path), **env})


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", "import smartscheduling.asgi"],
        [str(Path(sys.executable).parent / "smartscheduling"), "run"],
    ],
    ids=["asgi", "cli-run"],
)
def test_processes_refuse_to_start_with_one_line(command: list[str]) -> None:
    env = {"PATH": "/usr/bin:/bin", **PRODUCTION, "SECRET_KEY": "changeme"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("smartscheduling: refusing to start: SECRET_KEY is too weak")


def test_templates_reload_from_disk_in_development_only(tmp_path: Path) -> None:
    for environment, reloads in (("development", True), ("production", False)):
        settings = make_settings(
            "sqlite+aiosqlite:///" + str(tmp_path / "t.sqlite3"), tmp_path, app_env=environment,
            base_url="https://smartscheduling.test", smtp_url="smtp://mail.test:25",
        )  # fmt: skip
        app = create_app(settings)
        assert app.template_engine.engine.auto_reload is reloads  # type: ignore[union-attr]
