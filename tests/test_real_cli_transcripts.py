"""The real `claude` CLI against the mock Anthropic API: what it prints, case by case.

These tests pin down the stdout facts the proxy relies on (docs/claude-cli.md
§4-§6) on the pinned CLI version, and compare each run with its golden
transcript in tests/golden/ (regenerate with `python -m tests.real_cli --regenerate`).

Without the CLI installed they skip locally and fail in CI (CI=true), where
scripts/install-claude-cli.sh is expected to have run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.mock_anthropic import TEXT_ANSWER
from tests.mock_anthropic.scenarios import UNICODE_CHUNKS
from tests.real_cli import (
    CASES,
    SYSTEM_PROMPT,
    CliRun,
    find_real_cli,
    golden_paths,
    line_shape,
    load_golden,
    require_real_cli,
    run_cases,
)

MOCK_CASES = [case.name for case in CASES if case.use_mock]
# Every run ends well under this on a two-core box running four at a time;
# beyond it means silent retries (≥18 s) or watchdogs came into play.
SLOW_RUN_SECONDS = 30.0


@pytest.fixture(scope="module")
def real_cli() -> str:
    return require_real_cli(find_real_cli())


@pytest.fixture(scope="module")
def runs(real_cli: str) -> dict[str, CliRun]:
    """Every case, run once for the whole module, several at a time."""
    started = time.monotonic()
    results = asyncio.run(run_cases(real_cli, CASES))
    total = time.monotonic() - started
    print(f"\nreal CLI transcripts: {len(results)} cases in {total:.1f} s")
    for run in results.values():
        print(f"  {run.case.name:28} exit {run.exit_code:3}  {run.duration:5.2f} s")
    return results


# -- helpers ------------------------------------------------------------------


def shapes(run: CliRun) -> list[str]:
    return [line_shape(event) for event in run.events]


def only(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(events) == 1, events
    return events[0]


def assert_success(run: CliRun, text: str) -> dict[str, Any]:
    result = run.result
    assert result is not None, run.stderr
    assert (run.exit_code, result["subtype"], result["is_error"]) == (0, "success", False)
    assert (result["terminal_reason"], result["api_error_status"], result["stop_reason"]) == ("completed", None, "end_turn")
    assert result["result"] == text
    return result


def assert_api_error(run: CliRun, *, error: str, text: str, status: int | None, terminal_reason: str = "api_error") -> dict[str, Any]:
    """The failure shape of §6: an assistant line with `error`, then an is_error result; exit 1."""
    result = run.result
    assert result is not None, run.stderr
    assert run.exit_code == 1
    assert (result["subtype"], result["is_error"]) == ("success", True)  # decide on is_error, not subtype
    assert (result["terminal_reason"], result["api_error_status"]) == (terminal_reason, status)
    assert result["result"].startswith(text), result["result"]
    assistant = only([event for event in run.of_type("assistant") if "error" in event])
    assert assistant["error"] == error
    assert assistant["is_api_error_message"] is True
    assert assistant["message"]["model"] == "<synthetic>"
    assert not assistant["message"]["id"].startswith("msg_")  # a UUID, not an API id
    assert (assistant["message"]["stop_reason"], assistant["message"]["stop_sequence"]) == ("stop_sequence", "")
    assert [block["text"] for block in assistant["message"]["content"]] == [result["result"]]
    return result


# -- invariants of every run ----------------------------------------------------


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_every_line_is_json_starting_with_init(runs, name):
    run = runs[name]
    assert not run.timed_out, f"{name} was killed after {run.case.timeout:g} s; stderr: {run.stderr[-500:]}"
    events = run.events  # raises if any line is not JSON
    assert line_shape(events[0]) == "system/init"
    assert events[0]["tools"] == [] and events[0]["mcp_servers"] == []  # --tools= and --strict-mcp-config took effect
    assert events[0]["model"] == "claude-sonnet-5-5"  # --model sonnet resolved locally
    assert events[0]["claude_code_version"]
    if name != "stall":
        assert run.events[-1]["type"] == "result"
        assert run.exit_code == (1 if run.result["is_error"] else 0)
    assert run.duration < SLOW_RUN_SECONDS, f"{name} took {run.duration:.1f} s"


@pytest.mark.parametrize("name", MOCK_CASES)
def test_system_prompt_file_reached_the_api_and_credentials_were_sent(runs, name):
    run = runs[name]
    messages = [request for request in run.requests if request.is_message]
    assert messages, "the CLI made no Messages API call"
    for request in messages:
        system = "\n".join(block["text"] for block in request.body["system"])
        assert SYSTEM_PROMPT in system
        assert request.auth == ("bearer" if run.case.auth == "oauth" else "x-api-key")
        assert request.path == "/v1/messages?beta=true"
        assert request.body["model"] == "claude-sonnet-5-5"
        assert request.body["tools"] == []
    assert run.events[0]["apiKeySource"] == ("ANTHROPIC_API_KEY" if run.case.auth == "api_key" else "none")


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_matches_golden_transcript_shape(runs, name):
    transcript, _ = golden_paths(name)
    assert transcript.exists(), f"no golden transcript for {name}: run python -m tests.real_cli --regenerate {name}"
    golden_events, meta = load_golden(name)
    assert shapes(runs[name]) == [line_shape(event) for event in golden_events], (
        f"the real CLI's output for {name} changed shape; if intended, regenerate: python -m tests.real_cli --regenerate {name}"
    )
    assert runs[name].exit_code == meta["exit_code"]


# -- successful turns -------------------------------------------------------------


def test_text_streams_deltas_then_one_assistant_line_per_block(runs):
    run = runs["text"]
    assert shapes(run) == [
        "system/init",
        "system/status:requesting",
        "stream_event/message_start",
        "stream_event/content_block_start:text",
        *["stream_event/content_block_delta:text_delta"] * 4,
        "assistant[text]",
        "stream_event/content_block_stop",  # after the assistant line
        "stream_event/message_delta:end_turn",
        "stream_event/message_stop",
        "rate_limit_event:allowed",  # OAuth only
        "result/success",
    ]
    assert "".join(run.text_deltas()) == TEXT_ANSWER
    assert len(run.text_deltas()) == 4  # one stdout line per upstream delta
    assistant = only(run.of_type("assistant"))
    assert assistant["message"]["id"].startswith("msg_mock_")
    assert assistant["message"]["stop_reason"] is None
    assert all(event["api_message_id"] == assistant["message"]["id"] for event in run.of_type("stream_event"))
    assert only(run.of_type("rate_limit_event"))["rate_limit_info"] == {"status": "allowed", "isUsingOverage": False}
    result = assert_success(run, TEXT_ANSWER)
    usage = result["usage"]
    assert (usage["input_tokens"], usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]) == (25, 1200, 3400)
    assert usage["output_tokens"] == only(run.stream_events("message_delta"))["usage"]["output_tokens"]
    assert result["num_turns"] == 1
    assert result["modelUsage"]["claude-sonnet-5-5"]["inputTokens"] == 25


def test_api_key_auth_has_no_rate_limit_event(runs):
    run = runs["text_api_key"]
    assert run.of_type("rate_limit_event") == []
    assert_success(run, TEXT_ANSWER)


def test_thinking_block_then_text_block(runs):
    run = runs["thinking"]
    assert [shape for shape in shapes(run) if shape.startswith("assistant")] == ["assistant[thinking]", "assistant[text]"]
    deltas = [event["delta"]["type"] for event in run.stream_events("content_block_delta")]
    assert deltas == ["thinking_delta"] * 3 + ["signature_delta"] + ["text_delta"] * 2
    assert len(run.of_type("system", "thinking_tokens")) == 3  # interleaved with the thinking deltas
    assert_success(run, "Thought about it: the answer is 42.")


def test_tool_call_is_refused_without_tools_and_a_second_turn_answers(runs):
    run = runs["tool_use"]
    tool_use = [event for event in run.of_type("assistant") if event["message"]["content"][0]["type"] == "tool_use"]
    assert only(tool_use)["message"]["content"][0]["name"] == "get_weather"
    tool_result = only(run.of_type("user"))["message"]["content"][0]
    assert tool_result["type"] == "tool_result" and tool_result["is_error"] is True
    assert "No such tool available: get_weather" in tool_result["content"]
    assert [event["delta"]["stop_reason"] for event in run.stream_events("message_delta")] == ["tool_use", "end_turn"]
    assert len(run.of_type("system", "status")) == 2  # one "requesting" per API call
    assert len(run.of_type("rate_limit_event")) == 1  # once per run, not per API call
    result = assert_success(run, "Tool result received: <tool_use_error>Error: No such tool available: get_weather</tool_use_error>")
    assert result["num_turns"] == 2  # result holds only the last turn's text


def test_rate_limit_warning_is_reported_and_the_run_succeeds(runs):
    run = runs["rate_limit_warning"]
    info = only(run.of_type("rate_limit_event"))["rate_limit_info"]
    assert (info["status"], info["rateLimitType"], info["utilization"], info["surpassedThreshold"]) == ("allowed_warning", "five_hour", 0.93, 0.9)
    assert info["resetsAt"] > time.time()
    assert shapes(run).index("rate_limit_event:allowed_warning") > shapes(run).index("stream_event/message_stop")
    assert_success(run, TEXT_ANSWER)


def test_big_delta_arrives_as_multi_megabyte_lines(runs):
    run = runs["big_delta"]
    big_lines = [line for line in run.lines if len(line) > 3_000_000]
    assert len(big_lines) == 3  # the delta, the assistant line and the result
    assert len(run.text_deltas()) == 1 and len(run.text_deltas()[0]) == 3_000_000
    assert run.exit_code == 0 and len(run.result["result"]) == 3_000_000


def test_unicode_line_separators_are_escaped_and_text_survives(runs):
    run = runs["unicode"]
    for raw in ("\u2028", "\u2029", "\u0085", "\u0007", "\u001b"):
        assert raw.encode() not in run.stdout  # escaped, so splitting on \n is safe
    assert "中文".encode() in run.stdout and "🎉".encode() in run.stdout  # other non-ASCII stays raw UTF-8
    assert run.text_deltas() == list(UNICODE_CHUNKS)
    assert_success(run, "".join(UNICODE_CHUNKS))


# -- failures ---------------------------------------------------------------------


def test_not_logged_in(runs):
    run = runs["not_logged_in"]
    assert shapes(run) == ["system/init", "system/status:requesting", "assistant[text]:authentication_failed", "result/success:is_error"]
    assert_api_error(run, error="authentication_failed", text="Not logged in · Please run /login", status=None)
    assert run.result["modelUsage"] == {}


@pytest.mark.parametrize(
    ("name", "error", "text", "status", "terminal_reason"),
    [
        ("401", "authentication_failed", "Not logged in · Please run /login", 401, "api_error"),
        ("401_api_key", "authentication_failed", "Invalid API key · Fix external API key", 401, "api_error"),
        ("403", "authentication_failed", "Failed to authenticate. API Error: 403 ", 403, "api_error"),
        ("404_model", "model_not_found", "There's an issue with the selected model (claude-sonnet-5-5).", 404, "api_error"),
        ("400_credit", "billing_error", "Credit balance is too low", 400, "api_error"),
        ("400_prompt_too_long", "invalid_request", "Prompt is too long · the request is ~250123 tokens (limit 200000)", 400, "prompt_too_long"),
        ("400_other", "unknown", "API Error: 400 messages.0.content.0.text: mock rejected this request", 400, "api_error"),
        ("429_api_key", "rate_limit", "API Error: Request rejected (429) · This request would exceed", 429, "api_error"),
        ("429_subscription_api_key", "rate_limit", "API Error: Request rejected (429) · Rate limited", 429, "api_error"),
        ("500", "server_error", "API Error: 500 Internal server error. This is a server-side issue", 500, "api_error"),
        ("529", "server_error", "API Error: 529 Overloaded. This is a server-side issue", 529, "api_error"),
    ],
)
def test_upstream_http_errors(runs, name, error, text, status, terminal_reason):
    run = runs[name]
    result = assert_api_error(run, error=error, text=text, status=status, terminal_reason=terminal_reason)
    assert run.stream_events() == []  # an HTTP error never reaches the SSE stage
    assert result["api_error_type"]  # the upstream error.type, e.g. "rate_limit_error"


def test_oauth_401_is_retried_twice_even_with_retries_off(runs):
    retries = runs["401"].of_type("system", "api_retry")
    assert [(retry["error_status"], retry["error"]) for retry in retries] == [(401, "authentication_failed")] * 2
    assert runs["401_api_key"].of_type("system", "api_retry") == []


def test_server_errors_show_api_retry_lines(runs):
    for name, error in (("500", "server_error"), ("529", "overloaded")):
        retry = only(runs[name].of_type("system", "api_retry"))
        assert (retry["attempt"], retry["max_retries"], retry["error"]) == (1, 1, error)
        assert retry["retry_delay_ms"] > 0
        assert "check your inference gateway (127.0.0.1:" in runs[name].result["result"]  # custom base URL hint


def test_subscription_limit_reports_resets_at(runs):
    run = runs["429_subscription"]
    assert shapes(run)[2:] == ["rate_limit_event:rejected", "assistant[text]:rate_limit", "result/success:is_error"]
    info = only(run.of_type("rate_limit_event"))["rate_limit_info"]
    assert (info["status"], info["rateLimitType"], info["overageStatus"], info["isUsingOverage"]) == ("rejected", "five_hour", "rejected", False)
    assert info["resetsAt"] > time.time()
    assert info["unifiedWindows"]["five_hour"]["utilization"] == 1
    result = assert_api_error(run, error="rate_limit", text="You've hit your 5-hour limit · resets ", status=429)
    assert result["api_error"] == "usage_limit_reached"
    assert only(run.of_type("assistant"))["api_error"] == "usage_limit_reached"


def test_max_tokens_continues_three_times_then_fails(runs):
    run = runs["max_tokens"]
    continuations = run.of_type("user")
    assert len(continuations) == 3
    assert all(event["message"]["content"][0]["text"].startswith("Output token limit hit.") for event in continuations)
    assert len([request for request in run.requests if request.is_message]) == 4
    result = assert_api_error(run, error="max_output_tokens", text="API Error: Claude's response exceeded the 128000 output token maximum.", status=None)
    assert result["num_turns"] == 4 and result["api_error"] == "max_output_tokens"


def test_529_then_success_recovers_after_one_retry(runs):
    run = runs["529_recovers"]
    assert only(run.of_type("system", "api_retry"))["error_status"] == 529
    assert_success(run, TEXT_ANSWER)


def test_midstream_error_falls_back_to_a_non_streamed_answer(runs):
    run = runs["midstream_error"]
    assert run.text_deltas() == ["Partial"]  # streamed before the error, then abandoned
    assert run.stream_events("message_delta") == []  # the block and message stops are synthetic...
    stop = only([event for event in run.of_type("stream_event") if event["event"]["type"] == "message_stop"])
    first_message_id = only(run.stream_events("message_start"))["message"]["id"]
    assert stop["abandoned_blocks"] == {"api_message_id": first_message_id, "from_block_index": 0}  # ...and say so
    assert [request.body["stream"] for request in run.requests] == [True, False]
    assistant = only(run.of_type("assistant"))
    assert assistant["message"]["content"][0]["text"] == TEXT_ANSWER  # never streamed as deltas
    assert assistant["message"]["stop_reason"] == "end_turn"
    assert_success(run, TEXT_ANSWER)


def test_dropped_connection_retries_and_streams_again(runs):
    run = runs["drop"]
    assert run.text_deltas()[0] == "Partial"
    assert "".join(run.text_deltas()[1:]) == TEXT_ANSWER  # the retry streams the turn again
    assert len(run.stream_events("message_start")) == 2
    assert "abandoned_blocks" in run.of_type("stream_event")[4]  # the synthetic message_stop of the cut stream
    retry = only(run.of_type("system", "api_retry"))
    assert (retry["error_status"], retry["error"]) == (None, "unknown")
    assert shapes(run).index("system/api_retry") < shapes(run).index("stream_event/message_start", 3)
    assert_success(run, TEXT_ANSWER)


def test_midstream_error_with_a_failing_fallback_reports_the_fallback_error(runs):
    run = runs["midstream_error_fallback_fails"]
    assert run.text_deltas() == ["Partial"]
    assert [request.body["stream"] for request in run.requests] == [True, False]
    assert_api_error(run, error="server_error", text="API Error: 529 Overloaded.", status=529)


def test_dropped_connection_without_retries_falls_back_to_non_streaming(runs):
    run = runs["drop_no_retry"]
    assert run.of_type("system", "api_retry") == []
    assert run.text_deltas() == ["Partial"]  # the fallback's text is never streamed as deltas
    assert [request.body["stream"] for request in run.requests] == [True, False]
    assert only(run.of_type("assistant"))["message"]["content"][0]["text"] == TEXT_ANSWER
    assert_success(run, TEXT_ANSWER)


def test_stalled_upstream_prints_nothing_after_message_start(runs):
    run = runs["stall"]
    assert shapes(run) == ["system/init", "system/status:requesting", "stream_event/message_start"]
    assert run.result is None
    assert run.exit_code == 143  # SIGTERM from the test after the quiet period
