"""Development: the web process delivers its own e-mail (EMBEDDED_WORKER, on by default)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.conftest import PASSWORD, TEST_SECRET, serve
from tests.mailbox import Mailbox


async def test_a_development_server_delivers_without_a_separate_worker(
    db_url: str, tmp_path: Path, mailbox: Mailbox
) -> None:
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": db_url,
        "SECRET_KEY": TEST_SECRET,
        "VAR_DIR": str(tmp_path),
        "SMTP_URL": mailbox.url,
    }
    async with serve(env, tmp_path / "server.log") as server, httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/signup")
        token = http.cookies["csrftoken"]
        response = await http.post(
            "/signup",
            data={"_csrf_token": token, "name": "Ada", "email": "ada@example.com", "password": PASSWORD,
                  "date_of_birth": "1990-01-01", "country": "US", "accept_policy": "true"},
        )  # fmt: skip
        assert page.status_code == 200
        assert response.status_code == 303
        (message,) = await asyncio.wait_for(mailbox.wait_for(1), 60)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Confirm your e-mail address"
