"""A real server process in production mode, started as the Procfile's ``web`` process."""

from __future__ import annotations

import shlex
from pathlib import Path

import httpx

from smartscheduling.config import PROJECT_ROOT
from tests.conftest import serve

STRONG_SECRET = "Zq8vN3pX7rT1mK5wB9cD2fG6hJ4lS0aE"


def procfile_web_flags() -> list[str]:
    """The Procfile's web command without the program and the listen address."""
    line = next(line for line in (PROJECT_ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    words = shlex.split(line.removeprefix("web:"))
    assert words[:2] == ["smartscheduling", "serve"]
    flags = words[2:]
    for option in ("--host", "--port"):
        index = flags.index(option)
        del flags[index : index + 2]
    return flags


def production_env(database_url: str, tmp_path: Path, trusted_proxies: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": STRONG_SECRET,
        "BASE_URL": "https://smartscheduling.test",
        "SMTP_URL": "smtp://127.0.0.1:1",
        "VAR_DIR": str(tmp_path),
        "FORWARDED_ALLOW_IPS": trusted_proxies,  # read by uvicorn itself
    }


async def test_behind_a_trusted_proxy_https_is_recognised(db_url: str, tmp_path: Path) -> None:
    flags = procfile_web_flags()
    env = production_env(db_url, tmp_path, trusted_proxies="127.0.0.1")
    async with serve(env, tmp_path / "server.log", *flags) as server, httpx.AsyncClient(base_url=server.url) as http:
        plain = await http.get("/privacy?x=1")
        assert plain.status_code == 308
        assert plain.headers["location"] == "https://smartscheduling.test/privacy?x=1"

        proxied = await http.get("/privacy", headers={"x-forwarded-proto": "https"})
        assert proxied.status_code == 200
        assert proxied.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        assert proxied.headers["set-cookie"].startswith("__Host-csrftoken=")
        assert "server" not in proxied.headers  # no Server header (web.server.server_options)

        assert (await http.get("/readyz")).status_code == 200  # probes stay on plain HTTP


async def test_an_untrusted_client_cannot_claim_https(db_url: str, tmp_path: Path) -> None:
    env = production_env(db_url, tmp_path, trusted_proxies="192.0.2.1")  # some other proxy, not us
    async with (
        serve(env, tmp_path / "server.log", *procfile_web_flags()) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        spoofed = await http.get("/privacy", headers={"x-forwarded-proto": "https"})
    assert spoofed.status_code == 308
