"""Shutdown of a real headless proxy (its own process) by SIGTERM or SIGINT, with streams,
JSON requests and a queue in flight: it stops accepting, ends every stream with an error
event, reaps every child, flushes captures, and exits 0 within 10 s."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import aiohttp
import pytest

from bench.soak import Headless, capture_rows, is_live_fake, leaked_children, proxy_children, recorded_runs
from tests.conftest import fake_config
from tests.waiting import until
from tui_proxy.engine import Engine
from tests.fake_claude.recording import sent_text

#: The issue's bound.
EXIT_BOUND = 10.0


@pytest.fixture
def record_env(tmp_path, monkeypatch):
    record = tmp_path / "fake-runs"
    record.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("FAKE_CLAUDE_SCENARIO", "ANTHROPIC_API_KEY")}
    env["FAKE_CLAUDE_RECORD_DIR"] = str(record)
    return record, env


async def open_request(url: str, text: str, stream: bool):
    """Send a request on a raw connection; return the reader (to read everything later)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps({"model": "sonnet", "stream": stream, "messages": [{"role": "user", "content": text}]}).encode()
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()
    return reader, writer


async def wait_running(record_dir, count: int, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [r["pid"] for r in recorded_runs(record_dir) if r.get("scenarios") and is_live_fake(r["pid"])]
        if len(pids) >= count:
            return pids
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} running children")


def data_events(raw: bytes) -> list:
    """The complete `data:` events in a (chunked) HTTP byte stream read so far."""
    events = []
    for line in raw.decode(errors="replace").split("\n"):
        line = line.rstrip("\r")
        if line.startswith("data: "):
            payload = line[6:]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_ends_everything_cleanly_within_ten_seconds(tmp_path, record_env, sig):
    record_dir, env = record_env
    proxy = Headless(tmp_path, "--max-concurrency", "5", "--max-queue", "4", env=env).start()
    try:
        streams = [await open_request(proxy.url, f"[[fake:hang_after_start]] stream {i}", True) for i in range(3)]
        stubborn = await open_request(proxy.url, "[[fake:ignore_sigterm]] stubborn stream", True)
        json_one = await open_request(proxy.url, "[[fake:hang]] json", False)
        pids = await wait_running(record_dir, 5)
        # The runs are busy: one more waits in the queue.
        queued = await open_request(proxy.url, "[[fake:echo]] queued", False)
        for reader, _ in (*streams, stubborn):  # each stream has its first delta out
            await asyncio.wait_for(reader.readuntil(b'"content":"'), 15)
        await asyncio.sleep(0.3)

        code, seconds = await asyncio.to_thread(proxy.stop, sig)
        assert code == 0, proxy.output()[-2000:]
        assert seconds < EXIT_BOUND

        for reader, _ in (*streams, stubborn):
            events = data_events(await asyncio.wait_for(reader.read(), 5))
            errors = [e["error"] for e in events if isinstance(e, dict) and "error" in e]
            assert errors and errors[-1]["code"] == "server_shutting_down", events[-3:]
            assert events[-1] == "[DONE]"
        raw = await asyncio.wait_for(json_one[0].read(), 5)
        assert raw.startswith(b"HTTP/1.1 503") and b"server_shutting_down" in raw
        raw = await asyncio.wait_for(queued[0].read(), 5)
        assert raw.startswith(b"HTTP/1.1 503") and b"server_shutting_down" in raw
        # Not a single new run was started for the queued request during shutdown.
        assert not [r for r in recorded_runs(record_dir) if "queued" in sent_text(r)]

        assert [p for p in pids if is_live_fake(p)] == []
        assert leaked_children(record_dir) == []
        # Captures flushed: one finished row per request, none left open.
        rows = capture_rows(proxy.data_dir)
        assert len(rows) == 6 and all(row["state"] != "open" for row in rows), [tuple(r) for r in rows]
        assert "claude-max-tui: stopped" in proxy.output()
    finally:
        if proxy.alive():
            proxy.stop(signal.SIGKILL)


async def test_after_the_signal_new_connections_are_refused(tmp_path, record_env):
    record_dir, env = record_env
    proxy = Headless(tmp_path, env=env).start()
    stream = await open_request(proxy.url, "[[fake:ignore_sigterm]] holds shutdown for the kill grace", True)
    await wait_running(record_dir, 1)
    proxy.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.1)  # shutdown under way (the stubborn child takes 0.5 s to kill)
    host, port = proxy.url.removeprefix("http://").rsplit(":", 1)
    refused = False
    for _ in range(50):
        try:
            _, writer = await asyncio.open_connection(host, int(port))
            writer.close()
        except ConnectionRefusedError:
            refused = True
            break
        await asyncio.sleep(0.02)
    assert refused
    code, seconds = await asyncio.to_thread(proxy.stop, signal.SIGTERM)
    assert code == 0 and seconds < EXIT_BOUND
    assert leaked_children(record_dir) == []
    stream[1].close()


async def test_a_second_signal_during_shutdown_does_not_orphan_children(tmp_path, record_env):
    record_dir, env = record_env
    proxy = Headless(tmp_path, env=env).start()
    streams = [await open_request(proxy.url, f"[[fake:ignore_sigterm]] {i}", True) for i in range(3)]
    await wait_running(record_dir, 3)
    proxy.process.send_signal(signal.SIGINT)
    await asyncio.sleep(0.05)
    proxy.process.send_signal(signal.SIGINT)  # an impatient second Ctrl-C
    code, seconds = await asyncio.to_thread(proxy.stop, signal.SIGTERM)
    assert code == 0 and seconds < EXIT_BOUND
    assert leaked_children(record_dir) == []
    for _, writer in streams:
        writer.close()


async def test_engine_stop_in_process_reaps_and_answers_everyone(tmp_path, fake_claude_env):
    """The same through `Engine.stop()` (what the console calls on quit)."""
    engine = Engine(fake_config(tmp_path, max_concurrency=2, max_queue=2))
    await engine.start()
    async with aiohttp.ClientSession() as session:

        async def call(text: str, stream: bool):
            body = {"model": "sonnet", "stream": stream, "messages": [{"role": "user", "content": text}]}
            async with session.post(engine.url + "/v1/chat/completions", json=body) as response:
                return response.status, await response.text()

        tasks = [asyncio.ensure_future(call("[[fake:hang]] a", False)), asyncio.ensure_future(call("[[fake:hang]] b", True))]
        await wait_running(fake_claude_env, 2)
        tasks.append(asyncio.ensure_future(call("[[fake:echo]] queued", False)))
        await until(lambda: engine.admission.waiting == 1, "the third request queued")
        started = time.monotonic()
        await engine.stop()
        assert time.monotonic() - started < EXIT_BOUND
        results = await asyncio.gather(*tasks)
    assert [status for status, _ in results] == [503, 503, 503]  # the held stream too: no byte was sent
    assert all("server_shutting_down" in text for _, text in results)
    assert leaked_children(fake_claude_env) == [] and proxy_children(os.getpid()) == []
    assert len(recorded_runs(fake_claude_env)) == 2
