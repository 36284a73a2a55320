"""Throttles count networks, and a stranger cannot lock an owner out (issue 12, items 2–3).

Against the live server, whose uvicorn trusts ``X-Forwarded-For`` from 127.0.0.1: each
client below speaks for a different network, as a proxy would say.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.conftest import PASSWORD
from tests.mailbox import Mailbox

_TOKEN = re.compile(r'name="_csrf_token" value="([0-9a-f]+)"')
NEW_PASSWORD = "a brand new passphrase 42"


@asynccontextmanager
async def from_address(live_url: str, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on the network of ``address``, with a CSRF token."""
    async with httpx.AsyncClient(base_url=live_url, headers={"x-forwarded-for": address}, timeout=60) as client:
        page = await client.get("/login")
        match = _TOKEN.search(page.text)
        assert match
        client.headers["x-csrftoken"] = match[1]
        yield client


async def login(client: httpx.AsyncClient, email: str, password: str) -> int:
    return (await client.post("/login", data={"email": email, "password": password})).status_code


async def test_strangers_guessing_from_many_networks_do_not_lock_the_owner_out_of_home(
    live_url: str, make_user
) -> None:
    owner = await make_user(email="owner@example.com")
    async with from_address(live_url, "198.51.100.7") as home:
        assert await login(home, owner.email, PASSWORD) == 303
    for network in range(5):
        async with from_address(live_url, f"203.0.{network}.9") as stranger:
            assert await login(stranger, owner.email, "a wrong guess each time") == 422
    async with from_address(live_url, "203.0.99.9") as stranger:
        assert await login(stranger, owner.email, PASSWORD) == 429  # even with the right password, elsewhere
    async with from_address(live_url, "198.51.100.80") as home:  # another device on the home network
        assert await login(home, owner.email, PASSWORD) == 303


async def test_a_completed_password_reset_lifts_the_lock(live_url: str, make_user, deliver, mailbox: Mailbox) -> None:
    owner = await make_user(email="owner@example.com")
    for network in range(6):
        async with from_address(live_url, f"203.0.{network}.9") as stranger:
            await login(stranger, owner.email, "a wrong guess each time")
    async with from_address(live_url, "192.0.2.44") as travelling:
        assert await login(travelling, owner.email, PASSWORD) == 429
        await travelling.post("/password/forgot", data={"email": owner.email})
        await deliver()
        (message,) = mailbox.to(owner.email)
        done = await travelling.post(Mailbox.link(message, "/password/reset/"), data={"password": NEW_PASSWORD})
        assert done.headers["location"] == "/login"
    async with from_address(live_url, "192.0.2.44") as travelling:
        assert await login(travelling, owner.email, NEW_PASSWORD) == 303


async def test_the_network_budget_is_shared_by_every_address_of_a_network(live_url: str) -> None:
    """30 sign-in attempts per 15 minutes per /24 (IPv4) or /48 (IPv6). Empty forms are
    counted too (the network is counted before the form is read), and cost no hashing."""
    for v4, v6 in ((f"10.1.2.{i}", f"2001:db8:7:{i:x}::1") for i in range(30)):
        for address in (v4, v6):
            async with from_address(live_url, address) as client:
                assert await login(client, "", "") == 422
    for neighbour, elsewhere in (("10.1.2.250", "10.1.3.1"), ("2001:db8:7:ffff::9", "2001:db8:8::1")):
        async with from_address(live_url, neighbour) as client:
            assert await login(client, "", "") == 429
        async with from_address(live_url, elsewhere) as client:
            assert await login(client, "", "") == 422
