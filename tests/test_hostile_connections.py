"""Item 3 of issue 16 (and the one-line log of item 6): idle connections, trickled headers
and trickled bodies are closed within their limits, connections over the cap get a 503,
and connection errors log one line, rate-limited, not a traceback each. The long version,
under `prlimit --nofile=512`, is `bench/slow_clients.py`."""

from __future__ import annotations

import asyncio
import errno
import logging
import weakref

import aiohttp

from tests.conftest import wait_until
from tui_proxy.server import connections


async def open_raw(engine) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", engine.port)


async def closed_by_server(reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
    """Everything the server sent until it closed the connection (fails if it never does)."""
    data = await asyncio.wait_for(reader.read(), timeout)
    return data


async def test_an_idle_connection_is_closed_after_the_header_timeout(start_engine):
    engine = await start_engine(header_timeout=0.5)
    reader, writer = await open_raw(engine)
    assert await closed_by_server(reader) == b""
    writer.close()


async def test_headers_trickled_byte_by_byte_are_cut_off(start_engine):
    engine = await start_engine(header_timeout=0.5)
    reader, writer = await open_raw(engine)
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"
    sent = 0
    closed = asyncio.ensure_future(_read_or_reset(reader))
    try:
        for byte in request:
            if closed.done():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            await asyncio.sleep(0.01)
    except ConnectionError:
        pass
    assert closed.done() or await asyncio.wait_for(closed, 10) is not None
    # Closed before the client could finish its headers, and without an answer.
    assert sent < len(request) and closed.result() == b""
    writer.close()


async def _read_or_reset(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before closing; a reset (it closed with our bytes unread) is a close too."""
    try:
        return await reader.read()
    except ConnectionResetError:
        return b""


async def test_a_trickled_body_gets_a_408(start_engine):
    engine = await start_engine(body_timeout=0.5)
    reader, writer = await open_raw(engine)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\"")
    await writer.drain()
    response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert response.startswith(b"HTTP/1.1 408"), response
    writer.close()
    rows = await _rows(engine)
    assert any(row.status == 408 for row in rows)


async def _rows(engine):
    await asyncio.to_thread(engine.store.flush, 10)
    return await engine.store.alist(limit=10)


async def test_at_the_cap_the_oldest_idle_connection_makes_room(start_engine):
    engine = await start_engine(max_connections=4, header_timeout=30)
    idle = [await open_raw(engine) for _ in range(4)]
    try:
        # A real client still gets its answer: the oldest idle connection is closed for it.
        async with aiohttp.ClientSession() as session:
            async with session.get(engine.url + "/health") as response:
                assert response.status == 200
        assert await closed_by_server(idle[0][0]) == b""
    finally:
        for _, w in idle:
            w.close()


async def test_when_every_connection_is_busy_a_new_one_gets_a_503(start_engine):
    engine = await start_engine(max_connections=3, header_timeout=30, body_timeout=30)
    busy = []
    try:
        for _ in range(3):  # each inside a request: its body is still coming
            reader, writer = await open_raw(engine)
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
            await writer.drain()
            busy.append((reader, writer))
        handlers = engine._runner.server.connections
        # The server has parsed their headers: none of them is waiting for a request.
        assert await wait_until(lambda: len(handlers) == 3 and connections._oldest_waiting(handlers) is None, 10)
        reader, writer = await open_raw(engine)
        answer = await closed_by_server(reader)
        assert answer.startswith(b"HTTP/1.1 503") and b"too_many_connections" in answer
        writer.close()
    finally:
        for _, w in busy:
            w.close()


def test_the_default_cap_leaves_fds_for_runs(monkeypatch):
    monkeypatch.setattr(connections.resource, "getrlimit", lambda _: (512, 4096))
    cap = connections.max_connections_for(max_concurrency=8)
    assert 0 < cap <= 512 - connections.RESERVE_FDS - 8 * connections.FDS_PER_RUN
    assert connections.max_connections_for(max_concurrency=8, configured=10) == 10


async def test_accept_errors_at_the_fd_limit_log_one_line_not_a_traceback_each(caplog, monkeypatch):
    monkeypatch.setattr(connections, "_limiter", connections._RateLimited())
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    monkeypatch.setattr(connections, "_installed_loops", weakref.WeakSet())
    try:
        connections.quiet_connection_errors(loop)
        with caplog.at_level(logging.DEBUG):
            for _ in range(200):
                loop.call_exception_handler({"message": "socket.accept() out of system resource", "exception": OSError(errno.EMFILE, "Too many open files")})
        lines = [r for r in caplog.records if "accept()" in r.getMessage()]
        assert len(lines) == 1 and lines[0].exc_info is None
        assert "Too many open files" in lines[0].getMessage()
    finally:
        loop.set_exception_handler(previous)


async def test_malformed_requests_log_one_line_each_at_most_and_no_traceback(start_engine, caplog, monkeypatch):
    monkeypatch.setattr(connections, "_limiter", connections._RateLimited())
    engine = await start_engine()
    with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
        for _ in range(20):
            reader, writer = await open_raw(engine)
            writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n")
            await writer.drain()
            answer = await closed_by_server(reader)
            assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request"), answer
            writer.close()
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert 1 <= len(records) <= 2
    assert all(r.exc_info is None for r in records)
    assert "malformed HTTP" in records[0].getMessage() and "\n" not in records[0].getMessage()


async def test_a_client_leaving_in_the_middle_of_its_body_is_a_499_without_a_traceback(start_engine, caplog):
    engine = await start_engine(body_timeout=30)
    reader, writer = await open_raw(engine)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{\"model\"")
    await writer.drain()
    handlers = engine._runner.server.connections
    assert await wait_until(lambda: len(handlers) == 1 and connections._oldest_waiting(handlers) is None, 10)
    writer.transport.abort()  # gone, as a killed client is
    async def finished():
        rows = await _rows(engine)
        return rows and rows[0].status is not None

    deadline = asyncio.get_running_loop().time() + 10
    while not await finished():
        assert asyncio.get_running_loop().time() < deadline, ([(r.status, r.state) for r in await _rows(engine)], handlers)
        await asyncio.sleep(0.05)
    rows = await _rows(engine)
    assert rows[0].status == 499, rows[0]
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
