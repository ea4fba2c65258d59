"""The engine against what the REAL CLI printed (tests/golden, recorded from the pinned binary).

`tests/bin/claude-transcript` plays a recorded transcript back; the `openai` SDK with
strict validation is the caller. Each case asserts what a client receives.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from conftest import ROOT, fake_config, strict_client
from tui_proxy.engine import Engine

GOLDEN = ROOT / "tests" / "golden"
TRANSCRIPT_CLI = str(ROOT / "tests" / "bin" / "claude-transcript")
MOCK_TEXT = "Hello from the mock Anthropic API."


@pytest.fixture
async def play(tmp_path, monkeypatch):
    engines: list[Engine] = []
    clients: list[openai.AsyncOpenAI] = []

    async def start(case: str, **overrides) -> openai.AsyncOpenAI:
        assert (GOLDEN / f"{case}.jsonl").exists(), f"no golden transcript {case}"
        monkeypatch.setenv("CLAUDE_TRANSCRIPT", str(GOLDEN / case))
        engine = Engine(fake_config(tmp_path, claude=TRANSCRIPT_CLI, capture=False, **overrides))
        await engine.start()
        engines.append(engine)
        clients.append(strict_client(engine))
        return clients[-1]

    yield start
    for client in clients:
        await client.close()
    for engine in engines:
        await engine.stop()


def golden_text(case: str) -> str:
    """The answer text the real CLI reported in its result line."""
    for line in (GOLDEN / f"{case}.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if obj.get("type") == "result":
            return obj["result"]
    raise AssertionError("no result line")


MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("case", ["text", "text_api_key", "unicode", "thinking", "rate_limit_warning", "529_recovers", "big_delta"])
async def test_successes_answer_the_cli_result_text(play, case):
    client = await play(case)
    reply = await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    assert reply.choices[0].message.content == golden_text(case)
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > reply.usage.prompt_tokens_details.cached_tokens > 0

    stream = await client.chat.completions.create(model="sonnet", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == golden_text(case)
    assert chunks[-1].usage.total_tokens == reply.usage.total_tokens


async def test_thinking_is_reasoning_never_content(play):
    client = await play("thinking")
    reply = await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    reasoning = reply.choices[0].message.model_extra["reasoning_content"]
    assert reasoning and reasoning not in reply.choices[0].message.content


@pytest.mark.parametrize(
    ("case", "status", "code", "retry"),
    [
        ("not_logged_in", 401, "cli_not_authenticated", "false"),
        ("401", 401, "cli_not_authenticated", "false"),
        ("401_api_key", 401, "cli_not_authenticated", "false"),
        ("403", 401, "cli_not_authenticated", "false"),
        ("404_model", 404, "model_not_found", "false"),
        ("400_credit", 402, "insufficient_quota", "false"),
        ("400_prompt_too_long", 400, "context_length_exceeded", "false"),
        ("400_other", 400, "upstream_invalid_request", "false"),
        ("429_api_key", 429, "rate_limit_exceeded", None),
        ("429_subscription_api_key", 429, "rate_limit_exceeded", None),
        ("500", 502, "upstream_error", None),
        ("529", 503, "upstream_overloaded", None),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_failures_are_real_statuses(play, case, status, code, retry, stream):
    client = await play(case)
    with pytest.raises(openai.APIStatusError) as caught:
        if stream:
            async for _ in await client.chat.completions.create(model="sonnet", messages=MESSAGES, stream=True):
                pass
        else:
            await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    error = caught.value
    assert error.status_code == status
    assert error.code == code
    assert error.response.headers.get("x-should-retry") == retry
    assert error.response.headers["content-type"].startswith("application/json")


async def test_subscription_limit_is_429_with_retry_after(play):
    client = await play("429_subscription")
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert "limit" in caught.value.message


async def test_max_output_tokens_is_length_with_the_text(play):
    client = await play("max_tokens")
    reply = await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content
    assert "\n\n" not in reply.choices[0].message.content  # continuations are not new paragraphs


@pytest.mark.parametrize("case", ["midstream_error", "drop"])
async def test_a_retried_turn_answers_the_final_text(play, case):
    """The CLI retries a failed stream; the non-streamed answer is the retry's, not a mix."""
    client = await play(case)
    reply = await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    assert reply.choices[0].message.content == golden_text(case) == MOCK_TEXT


@pytest.mark.parametrize("case", ["midstream_error", "drop"])
async def test_a_stream_rewritten_by_a_retry_fails_honestly(play, case):
    client = await play(case)
    received = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in await client.chat.completions.create(model="sonnet", messages=MESSAGES, stream=True):
            received.append(chunk)
    assert "retry" in caught.value.message
    assert not any(c.choices and c.choices[0].finish_reason for c in received)


async def test_a_stall_ends_in_a_timeout(play):
    client = await play("stall", idle_timeout=0.5, first_output_timeout=5)
    with pytest.raises(openai.APIStatusError) as caught:
        await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    assert caught.value.status_code == 504
    assert caught.value.code == "timeout"


async def test_tool_attempt_with_tools_off_still_answers(play):
    client = await play("tool_use")
    reply = await client.chat.completions.create(model="sonnet", messages=MESSAGES)
    assert golden_text("tool_use") in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
