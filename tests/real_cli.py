"""Run the real `claude` CLI against the mock Anthropic API and keep what it printed.

Used by tests/test_real_cli_transcripts.py, and as a command to regenerate the
golden transcripts in tests/golden/ (the ground truth the project's fake CLI
is compared against):

    python -m tests.real_cli --regenerate            # every case
    python -m tests.real_cli --regenerate text 401   # some cases

The CLI is found through $CLAUDE_REAL_CLI, else in the cache folder of
scripts/install-claude-cli.sh (which --regenerate runs when needed).
"""

from __future__ import annotations

import argparse
import contextlib
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.mock_anthropic import MockAnthropic, RecordedRequest

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-claude-cli.sh"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

# The system prompt every case sends through --system-prompt-file; tests check
# that this exact sentence reached the API.
SYSTEM_PROMPT = "You are the claude-max-tui transcript fixture. System prompt marker: SYS-7f3a9c."

FAKE_API_KEY = "sk-ant-api03-fake"
FAKE_OAUTH_TOKEN = "sk-ant-oat01-fake"

Auth = Literal["api_key", "oauth"] | None


def pinned_version() -> str:
    """The CLI version pinned in the install script (its single source of truth)."""
    match = re.search(r'^CLAUDE_CLI_VERSION="([^"]+)"', INSTALL_SCRIPT.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no CLAUDE_CLI_VERSION=... line in {INSTALL_SCRIPT}")
    return match.group(1)


def cached_cli_path() -> Path:
    """Where scripts/install-claude-cli.sh puts the native binary."""
    version = pinned_version()
    cache = os.environ.get("CLAUDE_CLI_CACHE") or str(Path.home() / ".cache" / "claude-max-tui" / f"claude-code-{version}")
    return Path(cache) / "node_modules" / "@anthropic-ai" / "claude-code" / "bin" / "claude.exe"


def find_real_cli() -> str | None:
    """$CLAUDE_REAL_CLI if set, else the install script's cached binary; None if neither exists."""
    configured = os.environ.get("CLAUDE_REAL_CLI")
    candidate = Path(configured) if configured else cached_cli_path()
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate.resolve())
    return None


def require_real_cli(cli: str | None) -> str:
    """`cli` (from find_real_cli) for a test; if None, skip locally and fail in CI (which installs it)."""
    if cli is not None:
        return cli
    reason = "real claude CLI not installed: run scripts/install-claude-cli.sh or set CLAUDE_REAL_CLI"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must install it)")
    pytest.skip(reason)


def install_real_cli() -> str:
    """Run the install script (downloads ~370 MB the first time) and return the binary's path."""
    completed = subprocess.run(["bash", str(INSTALL_SCRIPT)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, check=True)
    return completed.stdout.strip().splitlines()[-1]


def cli_argv(cli: str, system_prompt_file: Path) -> list[str]:
    """Exactly the command line the proxy uses (see docs/claude-cli.md §2)."""
    return [
        cli,
        "-p",
        "--output-format", "stream-json",
        "--verbose",
        "--include-partial-messages",
        "--input-format", "stream-json",
        "--model", "sonnet",
        "--tools=",
        "--strict-mcp-config",
        "--setting-sources=",
        "--no-session-persistence",
        "--system-prompt-file", str(system_prompt_file),
    ]  # fmt: skip


def user_line(prompt: str) -> bytes:
    """The one stream-json stdin line carrying the prompt."""
    message = {
        "type": "user",
        "message": {"role": "user", "content": [{"type": "text", "text": prompt}]},
        "parent_tool_use_id": None,
        "session_id": "",
    }
    return json.dumps(message, ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True, slots=True)
class Case:
    """One real-CLI run: a prompt (usually carrying a mock marker) and how to authenticate."""

    name: str
    prompt: str
    auth: Auth = "oauth"  # subscription login is what the proxy's users have
    max_retries: int = 0  # CLAUDE_CODE_MAX_RETRIES; the default 10 takes ~3 minutes
    use_mock: bool = True
    # For runs that never end by themselves: stop (SIGTERM) once a line
    # containing this text has appeared and `grace` seconds passed quietly.
    stop_after: str | None = None
    grace: float = 1.5
    timeout: float = 90.0


def _marker_case(scenario: str, params: str = "", **kwargs: Any) -> Case:
    marker = f"[[mock:{scenario}{' ' + params if params else ''}]]"
    return Case(prompt=f"Please answer. {marker}", **kwargs)


CASES: tuple[Case, ...] = (
    Case("not_logged_in", "Hello?", auth=None, use_mock=False),
    _marker_case("text", name="text"),
    _marker_case("text", name="text_api_key", auth="api_key"),
    _marker_case("thinking", name="thinking"),
    _marker_case("tool_use", name="tool_use"),
    _marker_case("max_tokens", name="max_tokens"),
    _marker_case("401", name="401"),
    _marker_case("401", name="401_api_key", auth="api_key"),
    _marker_case("403", name="403"),
    _marker_case("404_model", name="404_model"),
    _marker_case("400_credit", name="400_credit"),
    _marker_case("400_prompt_too_long", name="400_prompt_too_long"),
    _marker_case("400_other", name="400_other"),
    _marker_case("429_api_key", name="429_api_key", auth="api_key"),
    _marker_case("429_subscription", name="429_subscription"),
    _marker_case("429_subscription", name="429_subscription_api_key", auth="api_key"),
    _marker_case("rate_limit_warning", name="rate_limit_warning"),
    _marker_case("quota_warning", name="quota_warning"),  # 5h past its threshold, 7d allowed
    _marker_case("extra_usage", name="extra_usage"),  # the plan used up, answered on extra usage
    _marker_case("400_extra_usage", name="400_extra_usage"),
    _marker_case("429", "times=2", name="429_recovers", max_retries=3),
    _marker_case("529", "times=2", name="529_retries", max_retries=3),
    _marker_case("500", name="500", max_retries=1),
    _marker_case("529", name="529", max_retries=1),
    _marker_case("529", "times=1", name="529_recovers", max_retries=1),
    _marker_case("midstream_error", name="midstream_error"),
    _marker_case("midstream_error", "times=2", name="midstream_error_fallback_fails"),
    _marker_case("drop", name="drop", max_retries=1),
    _marker_case("drop", name="drop_no_retry"),  # with retries off, a cut stream falls back to non-streaming
    _marker_case("stall", name="stall", stop_after='"message_start"'),
    _marker_case("big_delta", "size=3000000", name="big_delta"),
    _marker_case("unicode", name="unicode"),
)
CASES_BY_NAME = {case.name: case for case in CASES}


@dataclass(slots=True)
class CliRun:
    case: Case
    argv: list[str]
    exit_code: int
    stdout: bytes
    stderr: str
    duration: float  # seconds from spawn to exit
    requests: list[RecordedRequest] = field(default_factory=list)  # what the mock received
    timed_out: bool = False  # killed after case.timeout

    @property
    def lines(self) -> list[bytes]:
        # Split on \n bytes only: U+2028 and friends must not end a line.
        return [line for line in self.stdout.split(b"\n") if line.strip()]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def of_type(self, type_: str, subtype: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == type_ and (subtype is None or e.get("subtype") == subtype)]

    @property
    def result(self) -> dict[str, Any] | None:
        results = self.of_type("result")
        return results[-1] if results else None

    def stream_events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [e["event"] for e in self.of_type("stream_event") if event_type is None or e["event"]["type"] == event_type]

    def text_deltas(self) -> list[str]:
        return [e["delta"]["text"] for e in self.stream_events("content_block_delta") if e["delta"]["type"] == "text_delta"]


def cli_env(home: Path, tmp: Path, auth: Auth, base_url: str | None, max_retries: int) -> dict[str, str]:
    """A from-scratch environment: nothing from the host leaks in (no real login, no CLAUDE_* vars)."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": str(max_retries),
    }
    if base_url is not None:
        env["ANTHROPIC_BASE_URL"] = base_url
    if auth == "api_key":
        env["ANTHROPIC_API_KEY"] = FAKE_API_KEY
    elif auth == "oauth":
        env["CLAUDE_CODE_OAUTH_TOKEN"] = FAKE_OAUTH_TOKEN
    return env


async def run_case(cli: str, case: Case) -> CliRun:
    with tempfile.TemporaryDirectory(prefix=f"real-cli-{case.name}-") as scratch:
        root = Path(scratch)
        home, tmp, cwd = root / "home", root / "tmp", root / "cwd"
        for directory in (home, tmp, cwd):
            directory.mkdir()
        system_prompt_file = root / "system-prompt.txt"
        system_prompt_file.write_text(SYSTEM_PROMPT)
        system_prompt_file.chmod(0o600)
        argv = cli_argv(cli, system_prompt_file)
        if not case.use_mock:
            return await _spawn(case, argv, cli_env(home, tmp, case.auth, None, case.max_retries), cwd, [])
        async with MockAnthropic() as mock:
            env = cli_env(home, tmp, case.auth, mock.base_url, case.max_retries)
            return await _spawn(case, argv, env, cwd, mock.requests)


async def _spawn(case: Case, argv: list[str], env: dict[str, str], cwd: Path, requests: list[RecordedRequest]) -> CliRun:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
        limit=64 * 1024 * 1024,  # lines can be several MB (big_delta)
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(user_line(case.prompt))
    await process.stdin.drain()
    process.stdin.close()  # the CLI does not exit before stdin EOF
    stdout = bytearray()
    stderr_task = asyncio.create_task(process.stderr.read())
    timed_out = False
    try:
        await asyncio.wait_for(_read_and_wait(process, case, stdout), case.timeout)
    except TimeoutError:
        timed_out = True  # reported on the run, so one stuck case does not hide the others
    finally:
        if process.returncode is None:
            _kill_group(process, signal.SIGKILL)
            await process.wait()
    duration = time.monotonic() - started
    stderr = (await stderr_task).decode(errors="replace")
    assert process.returncode is not None
    return CliRun(case, argv, process.returncode, bytes(stdout), stderr, duration, list(requests), timed_out)


async def _read_and_wait(process: asyncio.subprocess.Process, case: Case, stdout: bytearray) -> None:
    await _read_stdout(process, case, stdout)
    await process.wait()


async def _read_stdout(process: asyncio.subprocess.Process, case: Case, stdout: bytearray) -> None:
    assert process.stdout is not None
    stop_armed = False
    while True:
        try:
            line = await (asyncio.wait_for(process.stdout.readline(), case.grace) if stop_armed else process.stdout.readline())
        except TimeoutError:
            _kill_group(process, signal.SIGTERM)  # quiet long enough: the run is stuck as expected
            stop_armed = False
            continue
        if not line:
            return
        stdout += line
        if case.stop_after is not None and case.stop_after.encode() in line:
            stop_armed = True


def _kill_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


async def run_cases(cli: str, cases: Iterable[Case], concurrency: int = 4) -> dict[str, CliRun]:
    """Run cases concurrently (each with its own mock, HOME and cwd)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(case: Case) -> CliRun:
        async with gate:
            return await run_case(cli, case)

    runs = await asyncio.gather(*(one(case) for case in cases))
    return {run.case.name: run for run in runs}


def line_shape(event: dict[str, Any]) -> str:
    """A stable summary of one stdout line: what it is, without ids, times or text.

    Two runs of the same case give the same sequence of shapes; that sequence
    is what the fake CLI must reproduce.
    """
    kind = str(event.get("type"))
    if kind == "system":
        return f"system/{event.get('subtype')}" + (f":{event['status']}" if event.get("subtype") == "status" else "")
    if kind == "stream_event":
        inner = event["event"]
        detail = inner.get("delta", {}).get("type") or inner.get("content_block", {}).get("type") or inner.get("delta", {}).get("stop_reason")
        return f"stream_event/{inner['type']}" + (f":{detail}" if detail else "")
    if kind == "assistant":
        blocks = ",".join(block["type"] for block in event["message"]["content"])
        return f"assistant[{blocks}]" + (f":{event['error']}" if event.get("error") else "")
    if kind == "user":
        content = event["message"]["content"]
        blocks = ",".join(block["type"] for block in content) if isinstance(content, list) else "str"
        return f"user[{blocks}]"
    if kind == "rate_limit_event":
        return f"rate_limit_event:{event['rate_limit_info']['status']}"
    if kind == "result":
        return f"result/{event['subtype']}" + (":is_error" if event.get("is_error") else "")
    return kind


def golden_paths(name: str) -> tuple[Path, Path]:
    """(stdout transcript, metadata) files of a case."""
    return GOLDEN_DIR / f"{name}.jsonl", GOLDEN_DIR / f"{name}.meta.json"


def load_golden(name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    transcript, meta = golden_paths(name)
    lines = [line for line in transcript.read_bytes().split(b"\n") if line.strip()]
    return [json.loads(line) for line in lines], json.loads(meta.read_text())


def write_golden(run: CliRun, cli_version: str) -> None:
    transcript, meta = golden_paths(run.case.name)
    transcript.write_bytes(run.stdout)  # byte for byte what the CLI printed
    metadata = {
        "case": run.case.name,
        "cli_version": cli_version,
        "argv": ["claude", *run.argv[1:-1], "<system prompt file>"],
        "system_prompt": SYSTEM_PROMPT,
        "stdin": user_line(run.case.prompt).decode(),
        "auth": run.case.auth,
        "max_retries": run.case.max_retries,
        "stopped_with_sigterm_after": run.case.stop_after,
        "exit_code": run.exit_code,
        "stderr": run.stderr,
        "duration_seconds": round(run.duration, 2),
        "requests": [
            {
                "method": request.method,
                "path": request.path,
                "stream": request.body.get("stream") if isinstance(request.body, dict) else None,
                "auth": request.auth,
                "scenario": request.scenario,
            }
            for request in run.requests
        ],
        "shapes": [line_shape(event) for event in run.events],
    }
    meta.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")


def _cli_version(cli: str) -> str:
    completed = subprocess.run([cli, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=True)
    return completed.stdout.split()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.real_cli", description="Run the real claude CLI against the mock API.")
    parser.add_argument("--regenerate", action="store_true", help="rewrite tests/golden/ from fresh runs")
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"cases to run (default: all): {', '.join(CASES_BY_NAME)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.cases if name not in CASES_BY_NAME]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    cli = find_real_cli() or install_real_cli()
    version = _cli_version(cli)
    if version != pinned_version():
        print(f"warning: {cli} is {version}, the pin is {pinned_version()}", file=sys.stderr)
    cases = [CASES_BY_NAME[name] for name in args.cases] if args.cases else list(CASES)
    started = time.monotonic()
    runs = asyncio.run(run_cases(cli, cases))
    for run in runs.values():
        print(f"{run.case.name:28} exit {run.exit_code:3}  {run.duration:5.2f} s  {len(run.lines):3} lines")
        if args.regenerate:
            GOLDEN_DIR.mkdir(exist_ok=True)
            write_golden(run, version)
    print(f"{len(runs)} cases in {time.monotonic() - started:.1f} s" + (f"; golden files in {GOLDEN_DIR}" if args.regenerate else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())


@contextlib.asynccontextmanager
async def real_cli_engine(tmp_path: Path, monkeypatch, mock, *, env: dict[str, str] | None = None, **config):
    """A started engine over the real CLI, logged in with a fake OAuth token against `mock`
    (the loopback Messages API), in a fresh HOME; stopped after. `env` adds to (or, None
    values, removes from) what the CLI inherits."""
    from tui_proxy.config import Config
    from tui_proxy.engine import Engine

    cli = require_real_cli(find_real_cli())
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    for name, value in {"HOME": str(home), "ANTHROPIC_BASE_URL": mock.base_url, "CLAUDE_CODE_OAUTH_TOKEN": FAKE_OAUTH_TOKEN, "CLAUDE_CODE_MAX_RETRIES": "0"}.items():
        monkeypatch.setenv(name, value)
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (env or {}).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    engine = Engine(Config(**{"port": 0, "claude": cli, "data_dir": tmp_path / "data", "usage_poll_seconds": 0, **config}))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
