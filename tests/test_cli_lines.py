"""The stdout line parser on what the REAL CLI printed (tests/golden) and on odd input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_proxy.claude import lines as L
from tui_proxy.claude.outcome import RunFacts, failure
from tui_proxy.claude.usage import usage_from_cli

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.jsonl"))


def golden_lines(case: str) -> list[str]:
    return (GOLDEN / f"{case}.jsonl").read_bytes().decode("utf-8").split("\n")[:-1]


def test_there_are_golden_transcripts():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_every_real_line_parses_to_its_type(case):
    for line in golden_lines(case):
        obj = json.loads(line)
        parsed = L.parse_line(line)
        assert not isinstance(parsed, L.NotJson)
        kind = obj["type"]
        if kind == "result":
            assert isinstance(parsed, L.Result)
            assert parsed.is_error == obj["is_error"] and parsed.subtype == obj["subtype"]
        elif kind == "assistant" and obj.get("parent_tool_use_id") is None:
            assert isinstance(parsed, L.AssistantMessage)
            assert parsed.error == obj.get("error")
        elif kind == "stream_event" and obj["event"]["type"] == "content_block_delta":
            delta = obj["event"]["delta"]
            expected = {"text_delta": L.TextDelta, "thinking_delta": L.ThinkingDelta, "input_json_delta": L.ToolInputDelta}.get(delta["type"], L.Other)
            assert isinstance(parsed, expected)
            if expected is L.TextDelta:
                assert parsed.text == delta["text"]
        elif kind == "rate_limit_event":
            assert isinstance(parsed, L.RateLimit) and parsed.status == obj["rate_limit_info"]["status"]
        elif kind == "system" and obj.get("subtype") == "init":
            assert isinstance(parsed, L.Init) and parsed.tools == ()  # built-in tools off


def test_the_streamed_deltas_add_up_to_the_result_text():
    lines = [L.parse_line(line) for line in golden_lines("unicode")]
    text = "".join(p.text for p in lines if isinstance(p, L.TextDelta))
    result = next(p for p in lines if isinstance(p, L.Result))
    assert text == result.result
    assert "\u2028" in text  # escaped on the wire, decoded here


def test_a_3mb_line_parses():
    big = [line for line in golden_lines("big_delta") if len(line) > 3_000_000]
    assert big and all(isinstance(L.parse_line(line), (L.TextDelta, L.AssistantMessage, L.Result)) for line in big)


@pytest.mark.parametrize("line", ["", "Warning: something", "[1,2]", "{not json", '{"type":', "null", "\x00\x01", '{"type":"stream_event","event":null}', '{"type":"result","usage":"x","errors":5}', '{"type":"assistant","message":{"content":"text"}}'])
def test_odd_lines_never_raise(line):
    parsed = L.parse_line(line)
    assert parsed is not None


def test_subagent_output_is_not_the_answer():
    line = json.dumps({"type": "stream_event", "parent_tool_use_id": "toolu_1", "event": {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "inner"}}})
    assert isinstance(L.parse_line(line), L.Other)


def facts_of(case: str) -> RunFacts:
    facts = RunFacts()
    for line in golden_lines(case):
        parsed = L.parse_line(line)
        if isinstance(parsed, L.Result):
            facts.result = parsed
        elif isinstance(parsed, L.AssistantMessage) and parsed.error:
            facts.error_message = parsed
        elif isinstance(parsed, L.RateLimit) and (facts.rate_limit is None or parsed.status == "rejected"):
            facts.rate_limit = parsed
    facts.returncode = json.loads((GOLDEN / f"{case}.meta.json").read_text())["exit_code"]
    return facts


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("text", None, None),
        ("max_tokens", None, None),
        ("not_logged_in", 401, "cli_not_authenticated"),
        ("403", 401, "cli_not_authenticated"),
        ("404_model", 404, "model_not_found"),
        ("400_credit", 402, "insufficient_quota"),
        ("400_prompt_too_long", 400, "context_length_exceeded"),
        ("429_subscription", 429, "rate_limit_exceeded"),
        ("500", 502, "upstream_error"),
        ("529", 503, "upstream_overloaded"),
    ],
)
def test_failure_mapping_on_real_results(case, status, code):
    error = failure(facts_of(case))
    if status is None:
        assert error is None
    else:
        assert (error.status, error.code) == (status, code)


def test_subscription_limit_retry_after_counts_down_to_the_reset():
    facts = facts_of("429_subscription")
    resets_at = facts.rate_limit.resets_at
    assert failure(facts, now=resets_at - 90).retry_after == 90
    assert failure(facts, now=resets_at + 5).retry_after == 1


def test_usage_counts_cache_as_prompt():
    usage = usage_from_cli({"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5, "output_tokens": 7, "output_tokens_details": {"thinking_tokens": 3}}, 0.01)
    assert (usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens) == (115, 100, 7, 3, 122)


def test_no_result_line_is_a_crash_with_the_stderr_tail():
    error = failure(RunFacts(returncode=3, stderr_tail="panic: Bun crashed"))
    assert (error.status, error.code) == (502, "cli_crashed") and "Bun crashed" in error.message
    usage = failure(RunFacts(returncode=1, stderr_tail="error: unknown option '--x'"))
    assert (usage.status, usage.code, usage.retryable) == (500, "cli_usage_error", False)


@pytest.mark.parametrize("case", CASES)
def test_the_text_delta_shortcut_agrees_with_the_full_parse(case):
    shortcut_taken = 0
    for line in golden_lines(case):
        parsed = L.parse_line(line)
        assert parsed == L.parse_json_line(line)
        shortcut_taken += L._text_delta_fast(line) is not None
    assert shortcut_taken == sum('"text_delta"' in line and '"parent_tool_use_id":null' in line for line in golden_lines(case))


@pytest.mark.parametrize(
    "line",
    [
        # a sub-agent's delta, the key order changed, extra fields, a bad escape, another delta type
        '{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}},"parent_tool_use_id":"toolu_1"}',
        '{"event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}},"type":"stream_event","parent_tool_use_id":null}',
        '{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","extra":1}},"parent_tool_use_id":null}',
        '{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"bad \\q"}},"parent_tool_use_id":null}',
        '{"type":"stream_event","event":{"type":"content_block_delta","index":²,"delta":{"type":"text_delta","text":"x"}},"parent_tool_use_id":null}',
        '{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"say \\"parent_tool_use_id\\":null"}},"parent_tool_use_id":"toolu_2"}',
    ],
)
def test_anything_but_the_exact_shape_takes_the_full_path(line):
    assert L._text_delta_fast(line) is None
    assert L.parse_line(line) == L.parse_json_line(line)


@given(st.text(), st.integers(min_value=0, max_value=99), st.sampled_from([None, "toolu_9"]))
@settings(max_examples=300, deadline=None)
def test_the_shortcut_reads_any_delta_text_as_json_does(text, index, parent):
    event = {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}
    obj = {"type": "stream_event", "event": event, "session_id": "s", "parent_tool_use_id": parent, "uuid": "u"}
    for ensure_ascii in (False, True):
        line = json.dumps(obj, ensure_ascii=ensure_ascii, separators=(",", ":"))
        assert L.parse_line(line) == L.parse_json_line(line)
        if parent is None:
            assert L.parse_line(line) == L.TextDelta(text, index)
