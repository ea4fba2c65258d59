"""A client that leaves, streaming or not, ends its child within a second: measured from the
moment the client's socket closed to the moment the child is gone (not a zombie)."""

from __future__ import annotations

import asyncio
import json
import time

import openai
import pytest

from bench.soak import is_live_fake, recorded_runs, settle_leaks
from conftest import strict_client
from tests.fake_claude.recording import sent_text
from tests.waiting import no_children_left, no_runs_left

#: The issue's bound is one second; a loaded 2-core CI machine gets a margin.
BOUND = 2.0


def request_bytes(text: str, stream: bool) -> bytes:
    body = json.dumps({"model": "sonnet", "stream": stream, "messages": [{"role": "user", "content": text}]}).encode()
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    return head + body


async def the_child(record_dir, marker: str, timeout: float = 10.0) -> int:
    """The pid of the fake run whose stdin holds `marker`, once it is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in recorded_runs(record_dir):
            if marker in sent_text(run) and is_live_fake(run["pid"]):
                return run["pid"]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no running child for {marker!r}")


async def seconds_until_gone(pid: int, timeout: float = 10.0) -> float:
    started = time.monotonic()
    while is_live_fake(pid):
        if time.monotonic() - started > timeout:
            break
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def leave(engine, record_dir, text: str, *, stream: bool, read_first: bool) -> float:
    """Send a request on a raw socket, wait for its child (and the first bytes, if asked),
    then drop the connection like a killed client (RST). Seconds until the child is gone."""
    reader, writer = await asyncio.open_connection("127.0.0.1", engine.port)
    writer.write(request_bytes(text, stream))
    await writer.drain()
    pid = await the_child(record_dir, text)
    if read_first:
        assert (await asyncio.wait_for(reader.readuntil(b"data: "), 10)).startswith(b"HTTP/1.1 200")
    writer.transport.abort()
    return await seconds_until_gone(pid)


@pytest.mark.parametrize(
    "text, stream, read_first",
    [
        ("[[fake:slow n=200 delay_ms=50]] mid-stream", True, True),
        ("[[fake:hang]] before the first byte of a stream", True, False),
        ("[[fake:hang]] waiting for a JSON answer", False, False),
        ("[[fake:slow n=200 delay_ms=50]] a JSON answer being produced", False, False),
        ("[[fake:ignore_sigterm]] and SIGTERM is ignored", True, True),
        ("[[fake:ignore_sigterm]] JSON, SIGTERM ignored", False, False),
    ],
)
async def test_a_client_that_leaves_ends_its_child_within_a_second(start_engine, fake_claude_env, text, stream, read_first):
    engine = await start_engine(stream_hold=0.2 if read_first else 15.0)
    gone_after = await leave(engine, fake_claude_env, text, stream=stream, read_first=read_first)
    assert gone_after < BOUND, f"child still alive {gone_after:.2f} s after the client left"
    # A SIGKILLed child can still be exiting (not yet a zombie) for a moment after its
    # cmdline is gone: give it what is left of the bound.
    await no_children_left(timeout=BOUND)
    # The exchange is closed as a disconnect (the console and captures show it), not left
    # open: the handler does that once the reap it awaits is done.
    await no_runs_left(engine)


async def test_an_sdk_client_that_times_out_ends_its_child(start_engine, fake_claude_env):
    """The openai SDK gives up (its own timeout) and closes the connection."""
    engine = await start_engine()
    async with strict_client(engine, timeout=0.5) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "[[fake:hang]] sdk json"}])
        left_at = time.monotonic()
        pid = next(r["pid"] for r in recorded_runs(fake_claude_env) if "sdk json" in sent_text(r))
        await seconds_until_gone(pid)
        assert time.monotonic() - left_at < BOUND

        stream = await client.chat.completions.create(
            model="sonnet", stream=True, messages=[{"role": "user", "content": "[[fake:slow n=200 delay_ms=50]] sdk stream"}]
        )
        async for _ in stream:
            break
        await stream.close()  # the SDK's way of leaving a stream early
        left_at = time.monotonic()
        pid = next(r["pid"] for r in recorded_runs(fake_claude_env) if "sdk stream" in sent_text(r))
        await seconds_until_gone(pid)
        assert time.monotonic() - left_at < BOUND
    assert await settle_leaks(fake_claude_env, timeout=1.0) == []


async def test_many_clients_leaving_at_once_leave_no_child(start_engine, fake_claude_env):
    engine = await start_engine(max_concurrency=16, stream_hold=0.2)
    texts = [f"[[fake:slow n=200 delay_ms=20]] crowd {i}" for i in range(12)]
    results = await asyncio.gather(*(leave(engine, fake_claude_env, t, stream=i % 2 == 0, read_first=i % 2 == 0) for i, t in enumerate(texts)))
    assert max(results) < BOUND * 2  # 12 at once on 2 cores: still prompt
    assert await settle_leaks(fake_claude_env, timeout=1.0) == []
    await no_children_left(timeout=BOUND)
    # The proxy still answers afterwards.
    async with strict_client(engine) as client:
        answer = await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "[[fake:echo]] after"}])
    assert answer.choices[0].message.content == "You said: [[fake:echo]] after"


async def test_a_disconnect_is_captured_as_a_cut_exchange(start_engine, fake_claude_env):
    engine = await start_engine(stream_hold=0.2)
    await leave(engine, fake_claude_env, "[[fake:slow n=200 delay_ms=50]] captured", stream=True, read_first=True)
    await no_runs_left(engine)  # the exchange is closed (and handed to the store) before its run is untracked
    await asyncio.to_thread(engine.store.flush)
    rows = await engine.store.alist()
    assert len(rows) == 1 and rows[0].status == 499 and not rows[0].complete


async def test_a_client_that_stops_reading_is_dropped_and_frees_its_slot(start_engine, fake_claude_env, monkeypatch):
    """Connected but reading nothing: once the socket buffers are full every write would wait
    forever, holding the run slot. A bounded write drops it like a disconnect."""
    import socket

    from tui_proxy.server import sse

    monkeypatch.setattr(sse, "WRITE_TIMEOUT", 1.0)
    engine = await start_engine(max_concurrency=1, stream_hold=0.2)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills quickly
    sock.connect(("127.0.0.1", engine.port))
    sock.sendall(request_bytes("[[fake:tokens n=400000]] never read", stream=True))
    pid = await the_child(fake_claude_env, "never read")
    try:
        gone_after = await seconds_until_gone(pid, timeout=60)
        assert not is_live_fake(pid), "a stalled reader kept its child forever"
        assert gone_after < 45
        deadline = time.monotonic() + 5
        while engine.admission.running:
            assert time.monotonic() < deadline, "the slot stayed taken"
            await asyncio.sleep(0.05)
        async with strict_client(engine) as client:  # the only slot is free again
            answer = await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "[[fake:echo]] next"}])
        assert answer.choices[0].message.content == "You said: [[fake:echo]] next"
    finally:
        sock.close()
