"""Capture through the real engine and the fake CLI: concurrency, kill -9 of a headless
proxy, redaction, curl export replayed against the server, replay end to end."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

from tests.conftest import FAKE_CLAUDE, ROOT, children_of
from tui_proxy.capture import CaptureState, CaptureStore
from tui_proxy.capture.export_curl import to_curl
from tui_proxy.commands import replay as replay_command
from tui_proxy.replay.send import await_capture, replay
from tui_proxy.replay.diff import diff, render_diff


async def chat(
    url: str, prompt: str, *, stream: bool, headers: dict[str, str] | None = None,
    session: aiohttp.ClientSession | None = None,
) -> tuple[int, str, str]:
    """POST a chat completion; returns status, x-request-id and the raw body.

    With `session`, the connection goes back to its pool like the openai SDK's; without,
    it is closed as soon as the answer is read, like curl.
    """
    body = {"model": "sonnet", "stream": stream, "messages": [{"role": "user", "content": prompt}]}
    async with aiohttp.ClientSession() if session is None else _borrowed(session) as client:
        async with client.post(url + "/v1/chat/completions", json=body, headers=headers or {}) as response:
            return response.status, response.headers.get("x-request-id", ""), await response.text()


@contextlib.asynccontextmanager
async def _borrowed(session: aiohttp.ClientSession):
    yield session


@pytest.fixture
async def session():
    """A pooled client, like the openai SDK's: connections outlive each answer."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as pooled:
        yield pooled


async def flushed(engine) -> None:
    await asyncio.to_thread(engine.store.flush)


async def settled(engine, exchange_id: str):
    """The capture once the engine has finished it (a client may have its answer a moment
    before the engine publishes the finish)."""
    capture = await await_capture(engine.store, exchange_id, timeout=10)
    assert capture is not None, exchange_id
    return capture


async def test_fifty_concurrent_requests_give_fifty_complete_captures(start_engine, session):
    engine = await start_engine(max_concurrency=50, max_queue=50)
    results = await asyncio.gather(
        *(chat(engine.url, f"[[fake:echo]] request {i}", stream=i % 2 == 0, session=session) for i in range(50))
    )
    assert [status for status, _, _ in results] == [200] * 50, [b for s, _, b in results if s != 200][:2]
    captures = [await settled(engine, exchange_id) for _, exchange_id, _ in results]
    assert len(await engine.store.alist(limit=100)) == 50
    for i, capture in enumerate(captures):
        assert capture.complete and capture.status == 200 and capture.finish_reason == "stop"
        # stdin is empty when the CLI resumes a session file holding the conversation (--resume)
        assert capture.stdout and capture.cli_argv and (capture.cli_stdin or "--resume" in capture.cli_argv)
        assert capture.text == f"You said: [[fake:echo]] request {i}"
        assert capture.stream == (i % 2 == 0) and capture.exit_code == 0
        if capture.stream:
            assert capture.chunks[-1].text == "[DONE]"
            assert all(chunk.text in results[i][2] for chunk in capture.chunks)  # what was sent
        else:
            assert json.loads(capture.response_body) == json.loads(results[i][2])


@pytest.mark.parametrize("stream", [True, False])
async def test_a_client_closing_right_after_the_answer_still_gives_a_complete_capture(engine, stream):
    """curl, or a one-shot session, closes as soon as it has the answer: it was delivered."""
    status, exchange_id, _ = await chat(engine.url, "[[fake:echo]] hi", stream=stream)  # closes at once
    capture = await await_capture(engine.store, exchange_id, timeout=5)
    assert capture is not None and capture.complete and capture.status == 200


async def test_failures_and_rejections_are_captured(engine, session):
    cases = [
        ("[[fake:not_logged_in]] hi", False),
        ("[[fake:crash_midstream]] hi", True),
    ]
    results = [await chat(engine.url, prompt, stream=stream, session=session) for prompt, stream in cases]
    # Rejected before any CLI run.
    async with session.post(engine.url + "/v1/chat/completions", data=b"{not json", headers={"Content-Type": "application/json"}) as response:
        results.append((response.status, response.headers.get("x-request-id", ""), await response.text()))
    for status, exchange_id, _ in results:
        capture = await settled(engine, exchange_id)
        assert capture.error is not None and (capture.status == status or capture.stream)
    rejected = await settled(engine, results[-1][1])
    assert rejected.status == 400 and rejected.request_body == b"{not json" and rejected.cli_argv == ()


async def test_secrets_are_redacted_on_disk(start_engine, session):
    engine = await start_engine(api_key="sk-test-secret-1234")
    status, exchange_id, _ = await chat(
        engine.url, "[[fake:text]] hi", stream=False, session=session,
        headers={"Authorization": "Bearer sk-test-secret-1234", "Cookie": "sid=cookie-secret", "X-Api-Key": "key-secret"},
    )
    assert status == 200
    capture = await settled(engine, exchange_id)
    await flushed(engine)
    lowered = {k.lower(): v for k, v in capture.request_headers.items()}
    assert lowered["authorization"] == lowered["cookie"] == lowered["x-api-key"] == "[redacted]"
    db = engine.config.capture_path
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    for secret in (b"sk-test-secret-1234", b"cookie-secret", b"key-secret"):
        assert secret not in raw


async def test_exported_curl_replays_against_the_running_server(engine, session):
    for stream in (True, False):
        status, exchange_id, _ = await chat(engine.url, "[[fake:echo]] curl me", stream=stream, session=session)
        assert status == 200
        capture = await settled(engine, exchange_id)
        command = to_curl(capture)  # the captured Host header points at this server
        process = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "OPENAI_API_KEY": "unused"},
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err
        text = out.decode()
        if stream:
            assert "data: [DONE]" in text and "curl" in text
        else:
            assert json.loads(text)["choices"][0]["message"]["content"] == "You said: [[fake:echo]] curl me"
        await flushed(engine)
        # curl sent the captured request again (headers included, so the same user agent).
        newest = await engine.store.aget((await engine.store.alist(limit=1))[0].id)
        assert newest.id != exchange_id and newest.client == capture.client
        assert newest.request_body == capture.request_body and newest.chunks


@pytest.mark.parametrize("stream", [True, False])
async def test_replay_end_to_end(engine, session, stream):
    status, exchange_id, _ = await chat(engine.url, "[[fake:echo]] same again", stream=stream, session=session)
    original = await settled(engine, exchange_id)

    result = await replay(original, to_url=engine.url, session=session)
    assert result.status == 200 and result.new_id and result.new_id != original.id
    assert result.answer.text == "You said: [[fake:echo]] same again"
    new = await settled(engine, result.new_id)
    assert new.replay_of == original.id and new.complete
    same = diff(original, new)
    assert same.same_text and not same.outcome_changed

    edited = original.request_body.replace(b"same again", b"something else")
    result = await replay(original, to_url=engine.url, body_override=edited, session=session)
    changed = diff(original, await settled(engine, result.new_id))
    assert not changed.same_text and "+You said: [[fake:echo]] something else" in render_diff(changed)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_kill_9_of_a_headless_proxy_mid_stream(tmp_path, fake_claude_env, session):
    data_dir = tmp_path / "data"
    port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, "-m", "tui_proxy", "--headless", "--port", str(port), "--claude", FAKE_CLAUDE, "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        line = await asyncio.to_thread(proxy.stdout.readline)
        assert "listening on" in line, line
        finished = []
        for i in range(4):
            status, exchange_id, _ = await chat(url, f"[[fake:echo]] finished {i}", stream=i % 2 == 0, session=session)
            assert status == 200
            finished.append(exchange_id)

        body = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": "[[fake:slow n=200 delay_ms=30]] count"}]}
        async with session.post(url + "/v1/chat/completions", json=body) as response:
            cut_id = response.headers["x-request-id"]
            received = 0
            async for line_bytes in response.content:
                received += line_bytes.startswith(b"data:")
                if received >= 10:
                    break
            await asyncio.sleep(0.3)  # give the writer time to commit what was streamed
            orphans = children_of(proxy.pid)
            os.kill(proxy.pid, signal.SIGKILL)
            proxy.wait(10)
            for pid in orphans:  # the fake CLI lost its parent: end it too
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    finally:
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait()

    with CaptureStore.open(data_dir / "captures.sqlite3") as store:  # the restart
        for exchange_id in finished:
            capture = store.get(exchange_id)
            assert capture is not None and capture.complete and capture.status == 200
            assert capture.text.startswith("You said: [[fake:echo]] finished")
        cut = store.get(cut_id)
        assert cut is not None and cut.state is CaptureState.INTERRUPTED and cut.incomplete
        assert cut.status is None and len(cut.chunks) >= 5 and len(cut.stdout) >= 5
        assert len(store.list(limit=100)) == 5


async def test_the_replay_command_against_the_running_proxy(engine, session, capsys):
    status, exchange_id, _ = await chat(engine.url, "[[fake:echo]] once more", stream=True, session=session)
    await settled(engine, exchange_id)
    parser = argparse.ArgumentParser()
    replay_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["replay", exchange_id, "--to", engine.url, "--data-dir", str(engine.config.data_dir)])
    code = await asyncio.to_thread(args.run, args)  # it runs its own event loop
    out, err = capsys.readouterr()
    assert code == 0 and "did not appear" not in err
    assert f"of {exchange_id}" in out and "answer text: identical" in out
    newest = (await engine.store.alist(limit=1))[0]
    assert newest.replay_of == exchange_id


async def test_a_run_failed_by_a_line_read_with_others_keeps_those_lines(start_engine, tmp_path, monkeypatch):
    """The CLI says (in its init line, read together with the rest of its output) that it could
    not reach the client's tools: the request fails, and its capture still has what the CLI
    wrote, the failing line first."""
    golden = [json.loads(line) for line in (ROOT / "tests" / "golden" / "text.jsonl").read_text().splitlines()]
    init = {**golden[0], "mcp_servers": [{"name": "client", "status": "failed"}]}
    lines = [init, *golden[1:]]
    (tmp_path / "no-tools.jsonl").write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
    (tmp_path / "no-tools.meta.json").write_text(json.dumps({"exit_code": 0, "one_write": True}))
    monkeypatch.setenv("CLAUDE_TRANSCRIPT", str(tmp_path / "no-tools"))
    engine = await start_engine(claude=str(ROOT / "tests" / "bin" / "claude-transcript"))
    body = {
        "model": "sonnet", "messages": [{"role": "user", "content": "weather?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}],
    }  # fmt: skip
    async with aiohttp.ClientSession() as client, client.post(engine.url + "/v1/chat/completions", json=body) as response:
        assert response.status == 502
        assert (await response.json())["error"]["code"] == "tools_unavailable"
        exchange_id = response.headers["x-request-id"]
    capture = await settled(engine, exchange_id)
    written = [piece.text for piece in capture.stdout]
    assert written and json.loads(written[0])["mcp_servers"] == [{"name": "client", "status": "failed"}]
