"""The fake `claude` (tests/bin/claude) against the real CLI's behaviour (docs/claude-cli.md).

Every test spawns the wrapper by absolute path, without a shell, with a minimal
environment, exactly as the engine does. When real-CLI transcripts exist in
tests/golden, the fake's line shapes and field order are diffed against them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FAKE = str(TESTS / "bin" / "claude")
GOLDEN = TESTS / "golden"


# ----- helpers -----------------------------------------------------------------------


def user_line(content) -> bytes:
    message = {"type": "user", "message": {"role": "user", "content": content},
               "parent_tool_use_id": None, "session_id": ""}
    return (json.dumps(message) + "\n").encode()


def text_content(text: str) -> list:
    return [{"type": "text", "text": text}]


class Ran:
    def __init__(self, proc: subprocess.CompletedProcess, elapsed: float) -> None:
        self.code = proc.returncode
        self.stdout: bytes = proc.stdout
        self.stderr = proc.stderr.decode("utf-8", "replace")
        self.elapsed = elapsed
        self.raw_lines = self.stdout.split(b"\n")[:-1] if self.stdout else []
        self.lines = [json.loads(raw) for raw in self.raw_lines if raw.startswith(b"{")]

    @property
    def shapes(self) -> list[str]:
        return [shape(line) for line in self.lines]

    @property
    def result(self) -> dict:
        assert self.lines and self.lines[-1]["type"] == "result", self.shapes
        return self.lines[-1]

    def of(self, kind: str) -> list[dict]:
        return [line for line in self.lines if shape(line).startswith(kind)]


def shape(line: dict) -> str:
    """The same shape names as tests/golden/*.meta.json."""
    kind = line.get("type")
    if kind == "system":
        return f"system/{line['subtype']}" + (f":{line['status']}" if line["subtype"] == "status" else "")
    if kind == "stream_event":
        event = line["event"]
        name = f"stream_event/{event['type']}"
        if event["type"] == "content_block_start":
            name += ":" + event["content_block"]["type"]
        elif event["type"] == "content_block_delta":
            name += ":" + event["delta"]["type"]
        elif event["type"] == "message_delta":
            name += ":" + event["delta"]["stop_reason"]
        return name
    if kind == "assistant":
        blocks = ",".join(block["type"] for block in line["message"]["content"])
        return f"assistant[{blocks}]" + (f":{line['error']}" if line.get("error") else "")
    if kind == "user":
        return "user[" + ",".join(block["type"] for block in line["message"]["content"]) + "]"
    if kind == "rate_limit_event":
        return "rate_limit_event:" + line["rate_limit_info"]["status"]
    if kind == "result":
        return f"result/{line['subtype']}" + (":is_error" if line["is_error"] else "")
    return str(kind)


def collapse(shapes: list[str]) -> list[str]:
    """Runs of the same delta shape count once (delta counts are the scenario's choice)."""
    out: list[str] = []
    for name in shapes:
        if out and name == out[-1] and "content_block_delta" in name:
            continue
        out.append(name)
    return out


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "system.txt").write_text("You are a test fixture.", encoding="utf-8")
    return tmp_path


def argv(workdir: Path, *extra: str, partial: bool = True) -> list[str]:
    args = [FAKE, "-p", "--output-format", "stream-json", "--verbose"]
    if partial:
        args.append("--include-partial-messages")
    args += ["--input-format", "stream-json", "--model", "sonnet", "--tools=", "--strict-mcp-config",
             "--setting-sources=", "--no-session-persistence", "--system-prompt-file",
             str(workdir / "system.txt"), *extra]
    return args


def run(workdir: Path, scenario: str | None = None, *, text: str = "hello", stdin: bytes | None = None,
        env: dict | None = None, args: list[str] | None = None, timeout: float = 10) -> Ran:
    environment = {"FAKE_CLAUDE_SCENARIO": scenario} if scenario else {}
    environment.update(env or {})
    started = time.monotonic()
    proc = subprocess.run(args or argv(workdir), input=user_line(text_content(text)) if stdin is None else stdin,
                          capture_output=True, env=environment, cwd=workdir, timeout=timeout)
    return Ran(proc, time.monotonic() - started)


_spawned: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _reap_children():
    """Hanging scenarios must never outlive their test."""
    yield
    while _spawned:
        proc = _spawned.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def spawn(workdir: Path, scenario: str, env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(argv(workdir), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={"FAKE_CLAUDE_SCENARIO": scenario, **(env or {})}, cwd=workdir)
    _spawned.append(proc)
    proc.stdin.write(user_line("go"))
    proc.stdin.close()
    proc.stdin = None  # closed: communicate() must not flush it
    return proc


def read_until(proc: subprocess.Popen, predicate, timeout: float = 5) -> list[dict]:
    lines: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = proc.stdout.readline()
        if not raw:
            break
        lines.append(json.loads(raw))
        if predicate(lines[-1]):
            return lines
    raise AssertionError(f"never saw the expected line; got {[shape(line) for line in lines]}")


def finish(proc: subprocess.Popen) -> tuple[int, list[dict]]:
    """Exit code and the lines not read yet (read through the buffer readline() may have filled:
    communicate(timeout=...) would bypass it)."""
    code = proc.wait(timeout=5)
    return code, [json.loads(raw) for raw in proc.stdout.read().splitlines()]


SUCCESS_SHAPES = [
    "system/init", "system/status:requesting", "stream_event/message_start",
    "stream_event/content_block_start:text", "stream_event/content_block_delta:text_delta",
    "assistant[text]", "stream_event/content_block_stop", "stream_event/message_delta:end_turn",
    "stream_event/message_stop", "rate_limit_event:allowed", "result/success",
]


# ----- a normal turn -----------------------------------------------------------------


def test_echo_prints_the_real_lines_in_the_real_order(workdir: Path) -> None:
    ran = run(workdir, text="hello there, fake")
    assert ran.code == 0, ran.stderr
    assert collapse(ran.shapes) == SUCCESS_SHAPES
    init = ran.lines[0]
    assert init["cwd"] == str(workdir) and init["tools"] == [] and init["mcp_servers"] == []
    assert init["model"] == "claude-sonnet-5-5" and init["permissionMode"] == "default"
    assert init["apiKeySource"] == "none" and init["claude_code_version"] == "2.1.328"
    session = init["session_id"]

    events = ran.of("stream_event")
    message_id = events[0]["event"]["message"]["id"]
    assert message_id.startswith("msg_") and "ttft_ms" in events[0]
    for event in events:
        assert event["session_id"] == session and event["parent_tool_use_id"] is None
        assert event["uuid"] and event["api_message_id"] == message_id
    deltas = [e["event"]["delta"]["text"] for e in ran.of("stream_event/content_block_delta")]
    assert len(deltas) >= 2

    assistant = ran.of("assistant")[0]
    assert assistant["message"]["id"] == message_id and assistant["message"]["stop_reason"] is None
    assert assistant["request_id"].startswith("req_") and assistant["timestamp"].endswith("Z")
    assert "".join(deltas) == assistant["message"]["content"][0]["text"] == "You said: hello there, fake"

    result = ran.result
    assert ran.raw_lines[-1].startswith(b'{"duration_api_ms"')
    keys = list(result)
    assert keys.index("type") > len(keys) // 2
    for key in ("duration_ms", "duration_api_ms", "ttft_ms", "is_error", "num_turns", "result", "stop_reason",
                "session_id", "total_cost_usd", "usage", "modelUsage", "permission_denials", "terminal_reason",
                "uuid", "subtype", "api_error_status"):
        assert key in result, key
    assert result["result"] == "You said: hello there, fake" and result["session_id"] == session
    assert (result["subtype"], result["is_error"], result["terminal_reason"]) == ("success", False, "completed")
    usage = result["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0 and usage["cache_read_input_tokens"] > 0
    assert usage["output_tokens_details"] == {"thinking_tokens": 0}
    assert result["modelUsage"]["claude-sonnet-5-5"]["costUSD"] == result["total_cost_usd"] > 0


def test_echo_keeps_the_last_user_text_first_200_chars(workdir: Path) -> None:
    content = [{"type": "text", "text": "earlier text"}, {"type": "text", "text": "x" * 300}]
    ran = run(workdir, stdin=user_line(content))
    assert ran.result["result"] == "You said: " + "x" * 200


def test_string_content_and_images_are_accepted(workdir: Path) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    assert run(workdir, stdin=user_line("plain string")).result["result"] == "You said: plain string"
    with_image = run(workdir, stdin=user_line([{"type": "text", "text": "look"}, image]))
    assert with_image.result["result"] == "You said: look"
    assert with_image.result["usage"]["input_tokens"] > 1000  # the image is counted


def test_api_key_auth_has_no_rate_limit_event(workdir: Path) -> None:
    ran = run(workdir, env={"ANTHROPIC_API_KEY": "sk-ant-api03-fake"})
    assert ran.lines[0]["apiKeySource"] == "ANTHROPIC_API_KEY"
    assert not ran.of("rate_limit_event") and ran.code == 0


def test_without_partial_messages_only_init_assistant_result(workdir: Path) -> None:
    ran = run(workdir, args=argv(workdir, partial=False))
    assert ran.shapes == ["system/init", "assistant[text]", "result/success"]


@pytest.mark.parametrize("flag, model", [
    ("sonnet", "claude-sonnet-5-5"), ("opus", "claude-opus-5-5"), ("default", "claude-opus-5-5"),
    ("haiku", "claude-haiku-5-5"), ("fable", "claude-fable-5-2"), ("opusplan", "claude-sonnet-5-5"),
    ("gpt-4o", "gpt-4o"),
])
def test_model_aliases_resolve_like_the_real_cli(workdir: Path, flag: str, model: str) -> None:
    args = argv(workdir)
    args[args.index("--model") + 1] = flag
    ran = run(workdir, args=args)
    assert ran.lines[0]["model"] == model and ran.of("assistant")[0]["message"]["model"] == model
    assert ("unrecognized_model" in ran.stderr) == (flag == "gpt-4o")


# ----- scenarios that answer ---------------------------------------------------------


def test_marker_beats_system_prompt_beats_env(workdir: Path) -> None:
    (workdir / "system.txt").write_text("[[fake:text text=from-system chunks=1]]")
    assert run(workdir, "text text=from-env").result["result"] == "from-system"
    marked = run(workdir, "text text=from-env", text='[[fake:text text="from the user" chunks=2]]')
    assert marked.result["result"] == "from the user"
    assert len(marked.of("stream_event/content_block_delta")) == 2
    (workdir / "system.txt").write_text("no marker")
    assert run(workdir, "text text=from-env").result["result"] == "from-env"


def test_tokens_scenario_is_fast(workdir: Path) -> None:
    ran = run(workdir, "tokens n=500")
    assert len(ran.of("stream_event/content_block_delta")) == 500
    assert ran.result["usage"]["output_tokens"] >= 500
    assert ran.elapsed < 3


def test_delay_applies_between_deltas(workdir: Path) -> None:
    ran = run(workdir, "slow n=4 delay_ms=60")
    assert len(ran.of("stream_event/content_block_delta")) == 4 and ran.elapsed >= 0.24
    env_delay = run(workdir, "tokens n=3", env={"FAKE_CLAUDE_DELAY_MS": "80"})
    assert env_delay.elapsed >= 0.24


def test_thinking_block_then_text_block(workdir: Path) -> None:
    ran = run(workdir, "thinking chunks=3")
    assert collapse(ran.shapes)[:13] == [
        "system/init", "system/status:requesting", "stream_event/message_start",
        "stream_event/content_block_start:thinking", "system/thinking_tokens",
        "stream_event/content_block_delta:thinking_delta", "system/thinking_tokens",
        "stream_event/content_block_delta:thinking_delta", "system/thinking_tokens",
        "stream_event/content_block_delta:thinking_delta", "stream_event/content_block_delta:signature_delta",
        "assistant[thinking]", "stream_event/content_block_stop",
    ]
    assert collapse(ran.shapes)[13:] == SUCCESS_SHAPES[3:]
    thinking = ran.of("assistant[thinking]")[0]["message"]["content"][0]
    assert thinking["signature"] and thinking["thinking"]
    assert ran.of("stream_event/content_block_start:text")[0]["event"]["index"] == 1
    assert ran.result["usage"]["output_tokens_details"]["thinking_tokens"] > 0
    assert ran.result["result"] == "Here is my considered answer."


def test_unicode_is_raw_utf8_with_the_real_escapes(workdir: Path) -> None:
    ran = run(workdir, "unicode")
    assert ran.code == 0
    for escaped in (rb"\u2028", rb"\u2029", rb"\u0085", rb"\u0001", rb"\u0007", rb"\u001b"):
        assert escaped in ran.stdout
    for raw in ("\u2028", "\u2029", "\u0085", "\x01"):
        assert raw.encode() not in ran.stdout
    assert "日本語".encode() in ran.stdout and "👍🏽".encode() in ran.stdout
    deltas = "".join(e["event"]["delta"]["text"] for e in ran.of("stream_event/content_block_delta"))
    assert deltas == ran.of("assistant")[0]["message"]["content"][0]["text"] == ran.result["result"]
    assert "e\u0301" in deltas and "👨\u200d👩\u200d👧\u200d👦" in deltas


def test_bigline_gives_three_big_lines(workdir: Path) -> None:
    ran = run(workdir, "bigline size=3000000")
    big = [raw for raw in ran.raw_lines if len(raw) > 3_000_000]
    assert len(big) == 3 and len(ran.result["result"]) == 3_000_000


def test_garbage_lines_around_a_normal_answer(workdir: Path) -> None:
    ran = run(workdir, "garbage")
    junk = [raw for raw in ran.raw_lines if not raw.startswith(b"{")]
    assert b"Warning: something unexpected happened" in junk and b"" in junk and b"[1,2]" in junk
    types = {line.get("type") for line in ran.lines}
    assert {"compact_boundary", "tool_progress"} <= types
    assert any(line.get("subtype") == "hook_started" for line in ran.lines)
    assert ran.code == 0 and ran.result["result"].startswith("Garbage-proof answer")


def test_tool_use_attempt_gets_no_such_tool_and_a_second_turn(workdir: Path) -> None:
    ran = run(workdir, "tool_use_attempt")
    shapes = collapse(ran.shapes)
    tool_at = shapes.index("assistant[tool_use]")
    assert shapes[tool_at + 1] == "user[tool_result]"
    assert shapes[tool_at + 2:tool_at + 4] == ["stream_event/content_block_stop",
                                               "stream_event/message_delta:tool_use"]
    refusal = ran.of("user[tool_result]")[0]["message"]["content"][0]
    assert "No such tool available" in refusal["content"] and refusal["is_error"] is True
    assert shapes.count("system/status:requesting") == 2
    assert ran.result["num_turns"] == 2
    assert ran.result["result"] == ran.of("assistant[text]")[-1]["message"]["content"][0]["text"]


@pytest.mark.parametrize("how", ["flag", "scenario"])
def test_max_turns(workdir: Path, how: str) -> None:
    if how == "flag":
        ran = run(workdir, "tool_use_attempt", args=argv(workdir, "--max-turns", "1"))
    else:
        ran = run(workdir, "max_turns")
    result = ran.result
    assert (result["subtype"], result["is_error"], result["terminal_reason"]) == (
        "error_max_turns", True, "max_turns")
    assert result["errors"] == ["Reached maximum number of turns (1)"] and "result" not in result
    assert ran.code == 1


def test_max_budget(workdir: Path) -> None:
    ran = run(workdir, "max_budget", args=argv(workdir, "--max-budget-usd", "0.5"))
    assert ran.result["subtype"] == "error_max_budget_usd" and ran.result["terminal_reason"] == "budget_exhausted"
    assert "result" not in ran.result and ran.code == 1


def test_max_output_tokens_story(workdir: Path) -> None:
    ran = run(workdir, "max_output_tokens")
    shapes = collapse(ran.shapes)
    assert shapes.count("stream_event/message_delta:max_tokens") == 4
    assert shapes.count("user[text]") == 3 and shapes.count("system/status:requesting") == 4
    assert shapes[-2:] == ["assistant[text]:max_output_tokens", "result/success:is_error"]
    assert all(line["isSynthetic"] for line in ran.of("user[text]"))
    result = ran.result
    assert result["num_turns"] == 4 and result["api_error_status"] is None
    assert result["terminal_reason"] == "api_error" and "128000 output token maximum" in result["result"]
    assert ran.code == 1


def test_rate_limit_warning_then_success(workdir: Path) -> None:
    ran = run(workdir, "rate_limit_warning")
    info = ran.of("rate_limit_event")[0]["rate_limit_info"]
    assert info["status"] == "allowed_warning" and info["utilization"] == 0.93
    assert info["surpassedThreshold"] == 0.9
    assert ran.shapes.index("rate_limit_event:allowed_warning") > ran.shapes.index("stream_event/message_stop")
    assert ran.code == 0 and not ran.result["is_error"]


def test_midstream_retry_repeats_the_text_after_synthetic_stops(workdir: Path) -> None:
    ran = run(workdir, "midstream_retry partial=2")
    starts = ran.of("stream_event/message_start")
    assert len(starts) == 2 and starts[0]["api_message_id"] != starts[1]["api_message_id"]
    stops = ran.of("stream_event/message_stop")
    assert "abandoned_blocks" in stops[0] and "abandoned_blocks" not in stops[1]
    assert ran.shapes.index("system/api_retry") < ran.shapes.index("stream_event/message_start", 3)
    first = [e["event"]["delta"]["text"] for e in ran.of("stream_event/content_block_delta")
             if e["api_message_id"] == starts[0]["api_message_id"]]
    assert len(first) == 2 and ran.result["result"].startswith("".join(first))
    assert ran.result["num_turns"] == 1 and ran.code == 0


def test_midstream_fallback_answer_never_streamed(workdir: Path) -> None:
    ran = run(workdir, "midstream_fallback text=Replaced.")
    deltas = "".join(e["event"]["delta"]["text"] for e in ran.of("stream_event/content_block_delta"))
    assistant = ran.of("assistant")[0]
    assert assistant["message"]["stop_reason"] == "end_turn" and "Replaced." not in deltas
    assert ran.result["result"] == "Replaced." and ran.code == 0


def test_retry_recovers(workdir: Path) -> None:
    ran = run(workdir, "retry_recovers retries=2 status=529")
    retries = ran.of("system/api_retry")
    assert [r["error"] for r in retries] == ["overloaded", "overloaded"] and retries[0]["error_status"] == 529
    assert ran.shapes.count("system/status:requesting") == 1 and ran.code == 0


# ----- API failures (§6) ---------------------------------------------------------------

FAILURES = {
    # name: (error, text regex, api_error_status, terminal_reason, api_retry lines)
    "not_logged_in": ("authentication_failed", r"Not logged in · Please run /login$", None, "api_error", 0),
    "invalid_api_key": ("authentication_failed", r"Invalid API key · Fix external API key$", 401, "api_error", 0),
    "oauth_expired": ("authentication_failed", r"Not logged in · Please run /login$", 401, "api_error", 2),
    "forbidden": ("authentication_failed", r"Failed to authenticate\. API Error: 403 ", 403, "api_error", 0),
    "model_not_found": ("model_not_found", r"There's an issue with the selected model \(claude-sonnet-5-5\)",
                        404, "api_error", 0),
    "billing": ("billing_error", r"Credit balance is too low$", 400, "api_error", 0),
    "prompt_too_long": ("invalid_request", r"Prompt is too long · the request is ~250123 tokens \(limit 200000\)",
                        400, "prompt_too_long", 0),
    "bad_request": ("unknown", r"API Error: 400 ", 400, "api_error", 0),
    "rate_limit_subscription": ("rate_limit", r"You've hit your 5-hour limit · resets \d{1,2}(:\d\d)?[ap]m \(UTC\)$",
                                429, "api_error", 0),
    "rate_limit_api_key": ("rate_limit", r"API Error: Request rejected \(429\) · Rate limited$", 429, "api_error", 0),
    "server_error": ("server_error", r"API Error: 500 Internal server error\. This is a server-side issue",
                     500, "api_error", 10),
    "overloaded": ("server_error", r"API Error: 529 Overloaded\. This is a server-side issue", 529, "api_error", 10),
    "network": ("server_error", r"API Error: Can't reach the API server", None, "api_error", 10),
}


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_api_failure_shapes(workdir: Path, name: str) -> None:
    error, pattern, status, terminal_reason, retries = FAILURES[name]
    ran = run(workdir, name)
    assert ran.code == 1 and not ran.of("stream_event")
    expected = ["system/init", "system/status:requesting"] + ["system/api_retry"] * retries
    expected += ["rate_limit_event:rejected"] if name == "rate_limit_subscription" else []
    assert ran.shapes == expected + [f"assistant[text]:{error}", "result/success:is_error"]
    assistant = ran.lines[-2]
    message = assistant["message"]
    assert message["model"] == "<synthetic>" and message["stop_reason"] == "stop_sequence"
    assert message["stop_sequence"] == "" and re.fullmatch(r"[0-9a-f-]{36}", message["id"])
    assert assistant["is_api_error_message"] is True
    text = message["content"][0]["text"]
    assert re.match(pattern, text), text
    result = ran.result
    assert (result["subtype"], result["is_error"], result["result"]) == ("success", True, text)
    assert (result["terminal_reason"], result["api_error_status"]) == (terminal_reason, status)
    assert result["stop_reason"] == "stop_sequence" and result["modelUsage"] == {} and "ttft_ms" not in result
    if name == "network":
        assert assistant["api_error"] == "connection_failed"


def test_subscription_limit_reset_time_is_real(workdir: Path) -> None:
    ran = run(workdir, "rate_limit_subscription resets_in=7200")
    info = ran.of("rate_limit_event")[0]["rate_limit_info"]
    assert info["rateLimitType"] == "five_hour" and info["status"] == "rejected"
    assert abs(info["resetsAt"] - (time.time() + 7200)) < 60
    reset = time.gmtime(info["resetsAt"])
    clock = f"{reset.tm_hour % 12 or 12}" + (f":{reset.tm_min:02d}" if reset.tm_min else "")
    assert ran.result["result"] == f"You've hit your 5-hour limit · resets {clock}{'am' if reset.tm_hour < 12 else 'pm'} (UTC)"


def test_retries_follow_claude_code_max_retries(workdir: Path) -> None:
    ran = run(workdir, "server_error", env={"CLAUDE_CODE_MAX_RETRIES": "1"})
    assert [(r["attempt"], r["max_retries"], r["error_status"]) for r in ran.of("system/api_retry")] == [(1, 1, 500)]


def test_not_logged_in_fails_every_turn_and_auth_status(workdir: Path) -> None:
    ran = run(workdir, "tokens n=5", env={"FAKE_CLAUDE_LOGGED_IN": "0"})
    assert ran.shapes == ["system/init", "system/status:requesting", "assistant[text]:authentication_failed",
                          "result/success:is_error"]
    assert ran.result["api_error_status"] is None and ran.code == 1
    logged_out = subprocess.run([FAKE, "auth", "status"], capture_output=True, env={"FAKE_CLAUDE_LOGGED_IN": "0"})
    assert logged_out.returncode == 1 and json.loads(logged_out.stdout)["loggedIn"] is False
    logged_in = subprocess.run([FAKE, "auth", "status"], capture_output=True, env={})
    assert logged_in.returncode == 0 and json.loads(logged_in.stdout)["loggedIn"] is True


# ----- argv, stdin, recording ----------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["-p", "--frobnicate"], "error: unknown option '--frobnicate'"),
    (["-p", "--verbos"], "error: unknown option '--verbos'\n(Did you mean --verbose?)"),
    (["-p", "--output-format", "stream-json"],
     "Error: When using --print, --output-format=stream-json requires --verbose"),
    (["-p", "--include-partial-messages"],
     "Error: --include-partial-messages requires --print and --output-format=stream-json."),
    (["-p", "--output-format", "xml"], "error: option '--output-format <format>' argument 'xml' is invalid. "
                                       "Allowed choices are text, json, stream-json."),
    (["-p", "--model"], "error: option '--model <model>' argument missing"),
    (["-p", "--max-turns", "abc"], "error: option '--max-turns <turns>' argument 'abc' is invalid. "
                                   "must be a number"),
    (["-p", "--session-id", "alice"], "Error: Invalid session ID. Must be a valid UUID."),
])
def test_usage_errors(workdir: Path, args: list[str], message: str) -> None:
    ran = run(workdir, args=[FAKE, *args], stdin=b"")
    assert (ran.code, ran.stdout, ran.stderr.strip()) == (1, b"", message)


def test_version(workdir: Path) -> None:
    ran = run(workdir, args=[FAKE, "--version"], stdin=b"")
    assert (ran.code, ran.stdout) == (0, b"2.1.328 (Claude Code)\n")


def test_usage_error_scenario(workdir: Path) -> None:
    ran = run(workdir, "usage_error")
    assert (ran.code, ran.stdout, ran.stderr.strip()) == (1, b"", "error: unknown option '--frobnicate'")


@pytest.mark.parametrize("stdin, code, message", [
    (b"nope {\n", 1, "Error parsing streaming input line (type=unknown, 6 chars): SyntaxError"),
    (b'{"type":"user"}\n', 1, "Error: Expected message role 'user', got 'undefined'"),
    (b'{"type":"foo"}\n{"type":"control_request"}\n', 0, ""),
    (b"", 0, ""),
])
def test_stdin_errors(workdir: Path, stdin: bytes, code: int, message: str) -> None:
    ran = run(workdir, stdin=stdin)
    assert (ran.code, ran.stdout, ran.stderr.strip()) == (code, b"", message)


def test_two_user_lines_are_two_full_turns(workdir: Path) -> None:
    ran = run(workdir, stdin=user_line("first") + user_line("second"))
    assert ran.shapes.count("system/init") == 2
    assert [line["result"] for line in ran.of("result")] == ["You said: first", "You said: second"]


def test_turn_runs_before_stdin_eof_but_exit_waits_for_it(workdir: Path) -> None:
    proc = subprocess.Popen(argv(workdir), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={}, cwd=workdir)
    _spawned.append(proc)
    proc.stdin.write(user_line("still open"))
    proc.stdin.flush()
    lines = read_until(proc, lambda line: line["type"] == "result")
    assert lines[-1]["result"] == "You said: still open"
    time.sleep(0.1)
    assert proc.poll() is None
    proc.stdin.close()
    assert proc.wait(timeout=5) == 0


def test_recording_shows_what_the_child_received(workdir: Path, tmp_path: Path) -> None:
    records = tmp_path / "records"
    records.mkdir()
    ran = run(workdir, env={"FAKE_CLAUDE_RECORD_DIR": str(records), "SOME_VAR": "x"}, text="secret prompt")
    files = list(records.glob("*.json"))
    assert ran.code == 0 and len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["argv"][0] == FAKE and "--tools=" in record["argv"]
    assert not any("secret prompt" in arg for arg in record["argv"])
    assert record["cwd"] == str(workdir) and record["env"]["SOME_VAR"] == "x" and "CLAUDECODE" not in record["env"]
    assert json.loads(record["stdin"])["message"]["content"][0]["text"] == "secret prompt"
    assert record["stdin_closed"] is True
    assert record["system_prompt_file"] == str(workdir / "system.txt")
    assert record["system_prompt"] == "You are a test fixture."
    assert record["scenarios"] == [{"name": "echo", "params": {}, "source": "default"}]


def test_unknown_scenario_is_loud(workdir: Path) -> None:
    ran = run(workdir, "no_such_scenario")
    assert ran.code == 2 and "unknown scenario" in ran.stderr


# ----- process faults and signals --------------------------------------------------------


def test_crash_midstream(workdir: Path) -> None:
    ran = run(workdir, "crash_midstream after=3")
    assert ran.code == 3 and "Bun has crashed" in ran.stderr
    assert len(ran.of("stream_event/content_block_delta")) == 3 and not ran.of("result")


def test_exit_no_result(workdir: Path) -> None:
    ran = run(workdir, 'exit_no_result code=7 stderr="boom: gone"')
    assert ran.code == 7 and ran.stderr.strip() == "boom: gone"
    assert ran.shapes == ["system/init", "system/status:requesting"]


def test_stderr_noise_does_not_change_the_answer(workdir: Path) -> None:
    ran = run(workdir, "stderr_noise lines=3000")
    assert ran.stderr.count("\n") >= 3000 and ran.code == 0
    assert collapse(ran.shapes) == SUCCESS_SHAPES


@pytest.mark.parametrize("scenario, shapes", [
    ("hang", []),
    ("hang_after_start", ["system/init", "system/status:requesting", "stream_event/message_start",
                          "stream_event/content_block_start:text", "stream_event/content_block_delta:text_delta",
                          "stream_event/content_block_delta:text_delta"]),
])
def test_sigterm_exits_143_without_result(workdir: Path, scenario: str, shapes: list[str]) -> None:
    proc = spawn(workdir, scenario)
    # Signal only once the fake handles SIGTERM and has said what it says before hanging: a
    # SIGTERM during Python's start-up kills it by the default action (-15), as it would the CLI.
    wait_until_catching(proc, signal.SIGTERM)
    seen: list[dict] = []
    while len(seen) < len(shapes):
        seen += read_until(proc, lambda line: True)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    code, lines = finish(proc)
    assert code == 143 and [shape(line) for line in seen + lines] == shapes


def wait_until_catching(proc: subprocess.Popen, signum: int, timeout: float = 30) -> None:
    """Until the process has a handler for `signum` (its SigCgt mask in /proc), bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{proc.pid}/status") as f:
            caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        if caught & (1 << (signum - 1)):
            return
        time.sleep(0.01)
    raise AssertionError(f"the fake never installed its handler for signal {signum}")


def test_sigint_gives_the_aborted_streaming_story(workdir: Path) -> None:
    proc = spawn(workdir, "hang_after_start")
    read_until(proc, lambda line: line["type"] == "stream_event" and line["event"]["type"] == "content_block_delta")
    proc.send_signal(signal.SIGINT)
    code, lines = finish(proc)
    assert code == 0
    shapes = [shape(line) for line in lines]
    # The second delta may or may not be out when SIGINT lands; the story follows either way.
    while shapes and shapes[0] == "stream_event/content_block_delta:text_delta":
        shapes.pop(0)
    assert shapes == ["stream_event/content_block_stop", "stream_event/message_stop", "user[text]",
                      "result/error_during_execution:is_error"]
    assert lines[-2]["message"]["content"][0]["text"] == "[Request interrupted by user]"
    assert lines[-1]["terminal_reason"] == "aborted_streaming" and "result" not in lines[-1]


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 0)])
def test_no_exit_after_result(workdir: Path, signum: int, code: int) -> None:
    proc = spawn(workdir, "no_exit_after_result")
    lines = read_until(proc, lambda line: line["type"] == "result")
    assert lines[-1]["subtype"] == "success"
    time.sleep(0.2)
    assert proc.poll() is None
    proc.send_signal(signum)
    assert finish(proc) == (code, [])  # nothing after the result, not even an abort story


def test_ignore_sigterm_needs_sigkill(workdir: Path) -> None:
    proc = spawn(workdir, "ignore_sigterm")
    read_until(proc, lambda line: line["type"] == "stream_event" and line["event"]["type"] == "content_block_delta")
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert proc.poll() is None
    proc.kill()
    assert finish(proc)[0] == -signal.SIGKILL


# ----- against real transcripts ----------------------------------------------------------

GOLDEN_CASES = {
    # golden case: (scenario, environment)
    "text": ("text chunks=4", {}),
    "text_api_key": ("text chunks=4", {"ANTHROPIC_API_KEY": "sk-ant-api03-fake"}),
    "not_logged_in": ("echo", {"FAKE_CLAUDE_LOGGED_IN": "0"}),
    "401": ("oauth_expired", {"CLAUDE_CODE_MAX_RETRIES": "0"}),
    "401_api_key": ("invalid_api_key", {"ANTHROPIC_API_KEY": "sk-ant-api03-fake"}),
    "403": ("forbidden", {}),
    "404_model": ("model_not_found", {}),
    "400_credit": ("billing", {}),
    "400_prompt_too_long": ("prompt_too_long", {}),
    "400_other": ("bad_request", {}),
    "429_api_key": ("rate_limit_api_key msg=x", {"ANTHROPIC_API_KEY": "k", "CLAUDE_CODE_MAX_RETRIES": "0"}),
    "429_subscription": ("rate_limit_subscription", {}),
    "429_subscription_api_key": ("rate_limit_api_key", {"ANTHROPIC_API_KEY": "sk-ant-api03-fake"}),
    "500": ("server_error", {"CLAUDE_CODE_MAX_RETRIES": "1"}),
    "529": ("overloaded", {"CLAUDE_CODE_MAX_RETRIES": "1"}),
    "529_recovers": ("retry_recovers", {"CLAUDE_CODE_MAX_RETRIES": "1"}),
    "big_delta": ("bigline", {}),
    "drop": ("midstream_retry", {"CLAUDE_CODE_MAX_RETRIES": "1"}),
    "midstream_error": ("midstream_fallback", {}),
    "max_tokens": ("max_output_tokens", {}),
    "rate_limit_warning": ("rate_limit_warning", {}),
    "thinking": ("thinking chunks=3", {}),
    "tool_use": ("tool_use_attempt", {}),
    "unicode": ("unicode", {}),
}


def skeleton(value):
    """Keys (in order) and value types, values dropped."""
    if isinstance(value, dict):
        return {key: skeleton(item) for key, item in value.items()}
    if isinstance(value, list):
        return [skeleton(value[0])] if value else []
    return type(value).__name__


def key_orders(value, path: str = "") -> dict[str, list[str]]:
    """Every object's key order, by path; lists by their first item."""
    orders: dict[str, list[str]] = {}
    if isinstance(value, dict):
        orders[path] = list(value)
        for key, item in value.items():
            if key not in ("modelUsage", "model_usage_since_last_result", "input"):  # keyed by model / tool
                orders.update(key_orders(item, f"{path}.{key}"))
    elif isinstance(value, list) and value:
        orders.update(key_orders(value[0], path + "[]"))
    return orders


@pytest.mark.skipif(not GOLDEN.is_dir(), reason="no real-CLI transcripts in tests/golden")
@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_same_lines_as_the_real_cli(workdir: Path, case: str) -> None:
    if not (GOLDEN / f"{case}.jsonl").exists():
        pytest.skip(f"no transcript {case}")
    scenario, env = GOLDEN_CASES[case]
    meta = json.loads((GOLDEN / f"{case}.meta.json").read_text())
    golden = [json.loads(raw) for raw in (GOLDEN / f"{case}.jsonl").read_bytes().splitlines()]
    ran = run(workdir, scenario, env=env, text="Please answer.")
    assert ran.code == meta["exit_code"], ran.stderr
    assert collapse(ran.shapes) == collapse([shape(line) for line in golden])
    first_of_shape: dict[str, dict] = {}
    for line in ran.lines:
        first_of_shape.setdefault(shape(line), line)
    for line in golden:
        mine = first_of_shape.get(shape(line))
        # Lines like an abandoned message_stop share a shape with the normal one: compare like with like.
        if mine is None or ("abandoned_blocks" in line) != ("abandoned_blocks" in mine):
            continue
        theirs = key_orders(line)
        ours = key_orders(mine)
        for path, keys in theirs.items():
            if path in ours and not path.startswith((".mcp_servers", ".tools")):
                assert ours[path] == keys, f"{shape(line)} {path}"


def test_echo_starts_fast(workdir: Path) -> None:
    """The engine's benchmarks spawn the fake per request: keep it well under real-CLI times."""
    times = sorted(run(workdir).elapsed for _ in range(5))
    assert times[2] < 0.5, times
