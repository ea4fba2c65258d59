"""`claude-max-tui --headless` as a user runs it: a real process, its lines, a real client."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from bench.soak import processes_working_in
from conftest import FAKE_CLAUDE, ROOT
from tui_proxy.cli import build_parser, config_from_args


def start_headless(tmp_path: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, str, list[str]]:
    command = [sys.executable, "-m", "tui_proxy", "--headless", "--port", "0", "--claude", FAKE_CLAUDE, "--data-dir", str(tmp_path / "data"), *args]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        match = re.search(r"listening on (http://\S+/v1)$", line.strip())
        if match and not line.strip().startswith("20"):  # the banner, not the notice
            # read the rest of the banner (CLI and captures lines)
            for _ in range(2):
                lines.append(proc.stdout.readline().rstrip("\n"))
            return proc, match.group(1), lines
    proc.kill()
    raise AssertionError(f"headless proxy did not start: {lines}")


def test_headless_serves_and_logs_one_line_per_request(tmp_path):
    proc, base_url, banner = start_headless(tmp_path)
    try:
        text = "\n".join(banner)
        assert "claude CLI: " + FAKE_CLAUDE + " version 2.1.328; logged in: yes" in text
        assert "captures: " + str(tmp_path / "data") in text
        with openai.OpenAI(base_url=base_url, api_key="k", max_retries=0, _strict_response_validation=True) as client:
            reply = client.chat.completions.create(model="claude-sonnet-4", messages=[{"role": "user", "content": "hi"}])
            with pytest.raises(openai.AuthenticationError):
                client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "[[fake:not_logged_in]]"}], stream=True)
        exchange_id = reply.id.removeprefix("chatcmpl-")
        logged = [proc.stdout.readline().rstrip("\n") for _ in range(2)]
        ok, failed = sorted(logged, key=lambda line: "cli_not_authenticated" in line)
        assert re.match(rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  {exchange_id}  claude-sonnet-4  json  200 stop  ttft \d+\.\d\ds  \d+\.\d\ds  in \d+ out \d+ cache \d+%$", ok), ok
        assert re.search(r"  sonnet  stream  401 cli_not_authenticated  ttft -  ", failed), failed
    finally:
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = proc.wait(timeout=15)
    assert code == 0 and time.monotonic() - started < 10
    assert "shutting down" in proc.stdout.read()


_SIGTERM_AT_LISTENING = """
import os, signal, sys
from tui_proxy import engine

started = engine.Engine.start

async def start(self):
    await started(self)
    # What a supervisor does on the "listening on" line: the engine has just announced it
    # (its pool CLIs may be starting), the banner is not printed yet.
    os.kill(os.getpid(), signal.SIGTERM)

engine.Engine.start = start
from tui_proxy.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _assert_clean_stop(proc: subprocess.Popen, data_dir: Path) -> None:
    code = proc.wait(timeout=30)
    out = proc.stdout.read()
    assert code == 0, (code, out)  # not killed by the default SIGTERM action
    assert "claude-max-tui: stopped" in out
    assert processes_working_in(data_dir / "cli" / "cwd") == []  # the pool's CLI reaped
    assert not list((data_dir / "cli").glob("runs-*"))  # its folders removed
    assert not list(data_dir.glob("*.sqlite3-wal"))  # the capture store closed (WAL checkpointed)


def test_a_sigterm_as_the_engine_announces_it_listens_stops_it_cleanly(tmp_path):
    script = tmp_path / "sigterm_at_listening.py"
    script.write_text(_SIGTERM_AT_LISTENING)
    data_dir = tmp_path / "data"
    command = [sys.executable, str(script), "--headless", "--port", "0", "--claude", FAKE_CLAUDE, "--data-dir", str(data_dir), "--pool-size", "2"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _assert_clean_stop(proc, data_dir)


def test_a_sigterm_sent_on_the_listening_line_stops_it_cleanly(tmp_path):
    for attempt in range(3):  # the line comes from the output thread: the race is real
        data_dir = tmp_path / f"data{attempt}"
        command = [sys.executable, "-m", "tui_proxy", "--headless", "--port", "0", "--claude", FAKE_CLAUDE, "--data-dir", str(data_dir), "--pool-size", "2"]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while "listening on" not in proc.stdout.readline():
            assert time.monotonic() < deadline and proc.poll() is None, "no listening line"
        proc.send_signal(signal.SIGTERM)
        _assert_clean_stop(proc, data_dir)


def test_a_port_in_use_is_a_clear_message(tmp_path):
    proc, base_url, _ = start_headless(tmp_path)
    try:
        port = base_url.rsplit(":", 1)[1].split("/")[0]
        second = subprocess.run([sys.executable, "-m", "tui_proxy", "--headless", "--port", port, "--claude", FAKE_CLAUDE, "--data-dir", str(tmp_path / "d2")], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert "cannot start" in second.stdout and "Traceback" not in second.stdout + second.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_flags_beat_environment_which_beats_defaults():
    parser = build_parser()
    env = {"CLAUDE_MAX_TUI_PORT": "4000", "CLAUDE_MAX_TUI_API_KEY": "from-env", "CLAUDE_MAX_TUI_TIMEOUT": "12.5", "CLAUDE_MAX_TUI_HEADLESS": "1", "CLAUDE_MAX_TUI_MAX_CONCURRENCY": "3"}
    config = config_from_args(parser.parse_args(["--port", "5000"]), env)
    assert (config.port, config.api_key, config.timeout, config.headless, config.max_concurrency) == (5000, "from-env", 12.5, True, 3)
    defaults = config_from_args(parser.parse_args([]), {})
    assert (defaults.host, defaults.port, defaults.claude, defaults.headless, defaults.api_key) == ("127.0.0.1", 3456, "claude", False, None)
    with pytest.raises(SystemExit):
        config_from_args(parser.parse_args([]), {"CLAUDE_MAX_TUI_PORT": "many"})
