"""Session files with the fake CLI: what is written where, and that nothing of ours outlives a run
(a finished run, a client that leaves, a `kill -9` of the proxy and its restart)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bench.soak import processes_working_in
from tests.conftest import FAKE_CLAUDE, ROOT, strict_client
from tui_proxy.claude.session_file import project_dir
from tui_proxy.events import HistorySent

HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "First question."},
    {"role": "assistant", "content": "First answer."},
]


def sessions_dir(data_dir: Path, home: str) -> str:
    return project_dir(home, str(data_dir / "cli" / "cwd"))


async def wait_until(condition, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


def used_run_folders(cli_dir: Path) -> list[str]:
    """What runs left in the runs folders: anything but the empty spare folders (`cwd/` and
    `tmp/`, both empty) that the engine keeps ready for its next runs."""
    left = []
    for folder in cli_dir.glob("runs-*/*"):
        try:
            entries = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else None
            used = entries != ["cwd", "tmp"] or any(os.listdir(folder / name) for name in entries)
        except FileNotFoundError:  # the engine's janitor is removing it as we look: not settled yet
            used = True
        if used:
            left.append(folder.name)
    return left


@pytest.fixture
def home(tmp_path, monkeypatch) -> str:
    """The CLI's HOME (its ~/.claude): a scratch one, so the tests see every file."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return str(path)


async def test_a_run_resumes_a_private_session_file_removed_after_it(home, start_engine, fake_claude_env):
    engine = await start_engine()
    seen: list[HistorySent] = []
    engine.bus.subscribe(lambda e: seen.append(e) if isinstance(e, HistorySent) else None)
    directory = sessions_dir(engine.config.data_dir, home)
    modes: dict[str, int] = {}

    async def ask() -> str:
        async with strict_client(engine) as client:
            task = asyncio.ensure_future(client.chat.completions.create(
                model="sonnet", messages=[*HISTORY, {"role": "user", "content": "[[fake:slow n=20 delay_ms=20]] again"}]))
            # While the CLI runs: one 0600 file in a 0700 folder, named after the --resume id.
            await wait_until(lambda: os.path.isdir(directory) and [n for n in os.listdir(directory) if n.endswith(".jsonl")], "no session file")
            for name in os.listdir(directory):
                if name.endswith(".jsonl"):
                    modes[name] = stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode)
            modes["dir"] = stat.S_IMODE(os.stat(directory).st_mode)
            reply = await task
            return reply.choices[0].message.content

    assert await ask()  # answered
    assert set(modes.values()) == {0o600, 0o700} and modes["dir"] == 0o700
    await wait_until(lambda: not [n for n in os.listdir(directory) if n.endswith(".jsonl")], "session file left after the run")
    assert [(e.mode, e.messages) for e in seen] == [("session", 3)]


async def test_a_client_that_leaves_leaves_no_session_file(home, start_engine, fake_claude_env):
    engine = await start_engine()
    directory = sessions_dir(engine.config.data_dir, home)
    async with strict_client(engine, timeout=30) as client:
        task = asyncio.ensure_future(client.chat.completions.create(
            model="sonnet", messages=[*HISTORY, {"role": "user", "content": "[[fake:hang]] wait"}]))
        await wait_until(lambda: os.path.isdir(directory) and os.listdir(directory), "no session file")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await wait_until(lambda: not engine.active_runs, "the run was not reaped")
    # Removed off the event loop, just after the reaping.
    await wait_until(lambda: [n for n in os.listdir(directory) if n != "memory"] == [], "session file left after the run")
    await wait_until(lambda: used_run_folders(engine.config.data_dir / "cli") == [], "run folder not emptied after the run")


@pytest.mark.parametrize("warm", [0, 2], ids=["closed-stdin", "kept-stdin"])
async def test_a_failed_resume_is_answered_by_the_transcript_and_says_so(home, start_engine, fake_claude_env, monkeypatch, warm):
    """Also for a run that keeps its stdin open for a warm next turn: its failed resume is seen
    at the result line, not at the end of its output."""
    monkeypatch.setenv("FAKE_CLAUDE_RESUME_FAILS", "1")
    engine = await start_engine(warm_conversations=warm)
    seen: list[HistorySent] = []
    engine.bus.subscribe(lambda e: seen.append(e) if isinstance(e, HistorySent) else None)
    async with strict_client(engine) as client:
        reply = await client.chat.completions.create(model="sonnet", messages=[*HISTORY, {"role": "user", "content": "[[fake:echo]] fallback"}])
    text = reply.choices[0].message.content
    assert "<conversation_history>" in text and "First answer." in text and text.endswith("[[fake:echo]] fallback")
    assert [(e.mode, e.fallback) for e in seen] == [("session", False), ("transcript", True)]
    assert seen[1].reason.startswith("resume_failed: No conversation found with session ID")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_proxy(port: int, data_dir: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_proxy", "--headless", "--port", str(port), "--claude", FAKE_CLAUDE, "--data-dir", str(data_dir), "--no-capture", "--pool-size", "0"],  # no CLIs started ahead: the runs folder holds only empty spare folders
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )


async def test_kill_9_of_the_proxy_then_a_restart_leaves_nothing_of_ours(home, tmp_path, fake_claude_env):
    data_dir = tmp_path / "data"
    env = {**os.environ, "HOME": home}
    directory = sessions_dir(data_dir, home)
    # A stray temp file the CLI left in its plugin store while our engine ran (older than a minute).
    store = Path(home) / ".claude" / "plugins" / "store"
    store.mkdir(parents=True)
    port = _free_port()
    proxy = _start_proxy(port, data_dir, env)
    orphans: list[int] = []
    try:
        assert "listening on" in await asyncio.to_thread(proxy.stdout.readline)
        stray = store / "x.json.tmp.123.456"
        stray.write_text("{}")
        old = time.time() - 120
        os.utime(stray, (old, old))
        os.utime(data_dir / "cli" / "started", (old - 60, old - 60))
        body = {"model": "sonnet", "messages": [*HISTORY, {"role": "user", "content": "[[fake:hang]] crash"}]}
        async with aiohttp.ClientSession() as session:
            request = asyncio.ensure_future(session.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body))
            await wait_until(lambda: os.path.isdir(directory) and os.listdir(directory), "no session file")
            await wait_until(lambda: list((data_dir / "cli").glob("runs-*/run-*")), "no run folder")
            orphans = [int(r.stem) for r in fake_claude_env.glob("*.json")]
            os.kill(proxy.pid, signal.SIGKILL)
            proxy.wait(10)
            request.cancel()
            await asyncio.gather(request, return_exceptions=True)
    finally:
        # The fake CLI lost its parent: end it too. Found by its working folder (this test's
        # data dir), as well as by its record: the record can lag its start.
        for pid in set(orphans) | set(processes_working_in(data_dir / "cli" / "cwd")):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait()
    assert os.listdir(directory) and list((data_dir / "cli").glob("runs-*"))  # the crash left them

    restarted_port = _free_port()
    restarted = _start_proxy(restarted_port, data_dir, env)
    try:
        assert "listening on" in await asyncio.to_thread(restarted.stdout.readline)
        # Once it answers, its signal handlers are in place (installed with no await after start).
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{restarted_port}/health") as health:
            assert health.status == 200
        assert [n for n in os.listdir(directory) if n.endswith(".jsonl")] == [] if os.path.isdir(directory) else True
        runs = list((data_dir / "cli").glob("runs-*"))
        assert len(runs) == 1 and used_run_folders(data_dir / "cli") == []  # only the new engine's, with spare folders
        assert not stray.exists()
        assert os.listdir(data_dir / "cli" / "cwd") == []
    finally:
        restarted.send_signal(signal.SIGTERM)
        await asyncio.to_thread(restarted.wait, 10)
    assert not list((data_dir / "cli").glob("runs-*")) and not os.path.exists(directory)
