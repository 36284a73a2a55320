"""The server bounds what a client may send and how slowly (issue 12, item 4).

Against a real ``smartscheduling serve`` process (the Procfile's web process), with the
time limits set to one second so the tests are quick. Each test plays a slow or greedy
client on a raw socket and reads what the server answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import LiveServer, live_env, serve

#: Generous upper bound on any wait below: the server acts after about one second.
PATIENCE = 20


@pytest.fixture(scope="module")
async def bounded(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    var_dir = tmp_path_factory.mktemp("bounded")
    env = live_env(
        migrated_url,
        var_dir,
        HEADER_TIMEOUT_SECONDS="1",
        BODY_TIMEOUT_SECONDS="1",
        KEEP_ALIVE_SECONDS="1",
        MIN_BODY_RATE="1024",
    )
    async with serve(env, var_dir / "server.log") as server:
        yield server


async def connect(server: LiveServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(server.url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def answer(reader: asyncio.StreamReader) -> tuple[int | None, bytes]:
    """The status of what the server sends before closing (None: closed without a word)."""
    async with asyncio.timeout(PATIENCE):
        data = await reader.read()  # until the server closes the connection
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
    return status, data


async def send(writer: asyncio.StreamWriter, data: bytes) -> None:
    try:
        writer.write(data)
        await writer.drain()
    except ConnectionError:
        pass  # the server may hang up before it has read everything: that is the point


async def test_a_huge_header_is_refused_with_431(bounded: LiveServer) -> None:
    reader, writer = await connect(bounded)
    await send(writer, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (4 * 1024 * 1024) + b"\r\n\r\n")
    status, _ = await answer(reader)
    assert status == 431
    writer.close()


async def test_too_many_header_lines_are_refused_with_431(bounded: LiveServer) -> None:
    reader, writer = await connect(bounded)
    lines = b"".join(b"X-%d: 1\r\n" % n for n in range(101))
    await send(writer, b"GET / HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
    status, _ = await answer(reader)
    assert status == 431
    writer.close()


async def test_headers_that_never_finish_are_cut_off_with_408(bounded: LiveServer) -> None:
    reader, writer = await connect(bounded)
    await send(writer, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # …and nothing more
    status, data = await answer(reader)
    assert status == 408
    assert b"connection: close" in data.lower()
    writer.close()


async def test_a_connection_that_says_nothing_is_closed(bounded: LiveServer) -> None:
    reader, writer = await connect(bounded)
    status, _ = await answer(reader)
    assert status == 408
    writer.close()


async def test_a_body_that_stops_arriving_is_cut_off_with_408(bounded: LiveServer) -> None:
    reader, writer = await connect(bounded)
    head = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    await send(writer, head + b"Content-Length: 1000\r\n\r\nemail=a")
    status, _ = await answer(reader)
    assert status == 408
    writer.close()


async def test_a_body_trickled_byte_by_byte_is_cut_off(bounded: LiveServer) -> None:
    """Each byte comes before the pause limit, but far below the minimum rate."""
    reader, writer = await connect(bounded)
    head = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    await send(writer, head + b"Content-Length: 1000\r\n\r\n")

    async def trickle() -> None:
        for _ in range(1000):
            if writer.is_closing() or reader.at_eof():
                return
            await send(writer, b"a")
            await asyncio.sleep(0.2)  # the slow client itself, not a wait for the server

    trickling = asyncio.create_task(trickle())
    status, _ = await answer(reader)
    trickling.cancel()
    assert status == 408
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(bounded: LiveServer) -> None:
    reader, writer = await connect(bounded)
    await send(writer, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    status, data = await answer(reader)  # the answer, then the server hangs up after idling
    assert status == 200
    assert data.endswith(b"ok")
    writer.close()


async def test_a_body_larger_than_the_route_accepts_is_refused_with_413(bounded: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=bounded.url, timeout=PATIENCE) as http:
        token = http.cookies.get("csrftoken") or (await http.get("/login")).cookies["csrftoken"]
        response = await http.post(
            "/login", headers={"x-csrftoken": token}, data={"email": "a@example.com", "password": "x" * 100_000}
        )
    assert response.status_code == 413
    assert "larger than we accept" in response.text


async def test_many_slow_clients_are_all_let_go_and_others_are_served_meanwhile(bounded: LiveServer) -> None:
    slow = [await connect(bounded) for _ in range(100)]
    for _, writer in slow:
        await send(writer, b"GET / HTTP/1.1\r\nHost: x\r\n")
    async with httpx.AsyncClient(base_url=bounded.url, timeout=PATIENCE) as http:
        assert (await http.get("/healthz")).status_code == 200
    statuses = await asyncio.gather(*(answer(reader) for reader, _ in slow))
    assert [status for status, _ in statuses] == [408] * 100
    for _, writer in slow:
        writer.close()


async def test_past_max_concurrency_the_server_answers_503(migrated_url: str, tmp_path: Path) -> None:
    """MAX_CONCURRENCY bounds what one process takes on (open connections included)."""
    async with serve(live_env(migrated_url, tmp_path, MAX_CONCURRENCY="3"), tmp_path / "server.log") as server:
        held = [await connect(server) for _ in range(3)]
        async with httpx.AsyncClient(base_url=server.url, timeout=PATIENCE) as http:
            assert (await http.get("/healthz")).status_code == 503
        for _, writer in held:
            writer.close()
