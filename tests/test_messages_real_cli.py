"""The Anthropic Messages face against the REAL pinned CLI and the loopback mock Messages API.

The `anthropic` SDK talks to the proxy, the proxy runs the real `claude` binary, and that
talks to the mock (markers in the prompt pick its behaviour; without one it plays a model:
`model_thinking` calls the first client tool offered, thinks when an effort is asked for). Also runs
llm-comply `--format anthropic` in full over this chain.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import sys

import anthropic
import pytest

from tests.mock_anthropic import MockAnthropic
from tests.mock_anthropic.scenarios import TEXT_ANSWER
from tests.real_cli import find_real_cli, real_cli_engine, require_real_cli
from tests.test_conformance import run, tool_or_skip

WEATHER = {
    "name": "get_weather",
    "description": "Current weather of a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
ASK = [{"role": "user", "content": "Weather in Paris? [[mock:client_tools]]"}]
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")).decode()


@pytest.fixture
async def mock():
    async with MockAnthropic(default_scenario="model_thinking") as server:
        yield server


@pytest.fixture
async def engine(tmp_path, monkeypatch, mock):
    async with real_cli_engine(tmp_path, monkeypatch, mock, capture=False, keepalive_interval=1.0) as started:
        yield started


@pytest.fixture
async def sdk(engine):
    async with anthropic.AsyncAnthropic(base_url=engine.url, api_key="unused", max_retries=0, timeout=60) as client:
        yield client


def tool_results(request) -> list[dict]:
    return [b for m in request.body["messages"] for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]


async def test_create_and_stream_text(sdk):
    message = await sdk.messages.create(model="sonnet", max_tokens=500, system="Be brief.", messages=[{"role": "user", "content": "Hi [[mock:text]]"}])
    assert message.content[0].text == TEXT_ANSWER and message.stop_reason == "end_turn"
    # The mock's cache figures come through apart from input_tokens, as Anthropic counts them.
    assert (message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (3400, 1200)
    async with sdk.messages.stream(model="sonnet", max_tokens=500, messages=[{"role": "user", "content": "Hi [[mock:text]]"}]) as stream:
        pieces = [piece async for piece in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(pieces) == TEXT_ANSWER and len(pieces) > 1
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


async def test_tool_round_trip_continues_the_real_cli(sdk, mock):
    first = await sdk.messages.create(model="sonnet", max_tokens=500, tools=[WEATHER], messages=ASK)
    assert first.stop_reason == "tool_use"
    call = first.content[-1]
    assert call.type == "tool_use" and call.name == "get_weather" and call.input == {"city": "Paris"}
    assert call.id.startswith("toolu_")  # the id the CLI gave the call
    followup = [*ASK, {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]}, {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C and sunny"}]}]
    second = await sdk.messages.create(model="sonnet", max_tokens=500, tools=[WEATHER], messages=followup)
    assert second.content[0].text == "Tool result received: 18C and sunny" and second.stop_reason == "end_turn"
    first_request, next_request = mock.message_requests()
    assert next_request.headers["x-claude-code-session-id"] == first_request.headers["x-claude-code-session-id"]  # the same CLI went on
    assert [(b["tool_use_id"], b["content"][0]["text"]) for b in tool_results(next_request)] == [(call.id, "18C and sunny")]


async def test_streamed_tool_round_trip(sdk):
    async with sdk.messages.stream(model="sonnet", max_tokens=500, tools=[WEATHER], messages=ASK) as stream:
        first = await stream.get_final_message()
    call = first.content[-1]
    assert first.stop_reason == "tool_use" and call.input == {"city": "Paris"}
    followup = [*ASK, {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]}, {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": [{"type": "text", "text": "rain"}]}]}]
    async with sdk.messages.stream(model="sonnet", max_tokens=500, tools=[WEATHER], messages=followup) as stream:
        text = "".join([piece async for piece in stream.text_stream])
    assert text == "Tool result received: rain"


async def test_image_reaches_the_api(sdk, mock):
    content = [
        {"type": "text", "text": "Describe. [[mock:text]]"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    message = await sdk.messages.create(model="sonnet", max_tokens=500, messages=[{"role": "user", "content": content}])
    assert message.stop_reason == "end_turn"
    blocks = [b for m in mock.message_requests()[0].body["messages"] if m["role"] == "user" for b in m["content"] if isinstance(b, dict)]
    sources = [b["source"] for b in blocks if b.get("type") == "image"]
    assert {"type": "base64", "media_type": "image/png", "data": PNG} in sources
    assert {"type": "url", "url": "https://example.com/cat.jpg"} in sources


async def test_thinking_reaches_the_api_as_an_effort(sdk, mock):
    async with sdk.messages.stream(model="sonnet", max_tokens=40000, thinking={"type": "enabled", "budget_tokens": 20000}, messages=[{"role": "user", "content": "Think. [[mock:thinking]]"}]) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert "thinking" in kinds and "signature" in kinds
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Let me think about this carefully."
    assert final.content[1].text == "Thought about it: the answer is 42."
    assert mock.message_requests()[0].body["output_config"] == {"effort": "high"}


async def test_stop_sequence_and_max_tokens(sdk):
    message = await sdk.messages.create(model="sonnet", max_tokens=500, stop_sequences=["mock"], messages=[{"role": "user", "content": "[[mock:text]]"}])
    assert message.content[0].text == "Hello from the " and (message.stop_reason, message.stop_sequence) == ("stop_sequence", "mock")
    message = await sdk.messages.create(model="sonnet", max_tokens=2, messages=[{"role": "user", "content": "[[mock:text]]"}])
    assert message.stop_reason == "max_tokens" and message.content[0].text == "Hello"  # "Hello" counts as 2 tokens


async def test_upstream_overloaded_is_529(sdk):
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.messages.create(model="sonnet", max_tokens=500, messages=[{"role": "user", "content": "[[mock:529]]"}])
    assert caught.value.status_code == 529 and caught.value.body["error"]["type"] == "overloaded_error"


async def test_llm_comply_anthropic_passes_in_full(engine, mock):
    llm_comply = tool_or_skip(shutil.which("llm-comply", path=os.path.dirname(sys.executable)) or shutil.which("llm-comply"), "llm-comply")
    code, out, err = await run(llm_comply, "--format", "anthropic", "-u", engine.url + "/v1", "-k", "KEY", "-m", "claude-sonnet-4", "--timeout", "60", "--json")
    report = json.loads(out)
    results = report["results"] if isinstance(report, dict) else report
    outcomes = {r.get("test_id") or r.get("id"): r.get("status") for r in results}
    assert code == 0, (outcomes, [r.get("errors") for r in results], err[-2000:])
    assert set(outcomes.values()) == {"passed"}, outcomes
    assert outcomes["anth-tool-calling"] == "passed" and outcomes["anth-thinking-display"] == "passed"
    assert [w for r in results for w in r.get("warnings") or []] == []
    # The tool test reached the model as a client tool, and thinking as an effort.
    offered = [{t["name"] for t in r.body.get("tools") or []} for r in mock.message_requests()]
    assert any("mcp__client__get_weather" in names for names in offered)
    assert any((r.body.get("output_config") or {}).get("effort") == "low" for r in mock.message_requests())


async def test_the_real_claude_cli_is_a_client_of_the_messages_face(start_engine, tmp_path):
    """A demanding Anthropic client: Claude Code itself (its TypeScript SDK, a streamed request
    with its twelve built-in tools, adaptive thinking, context_management, metadata, system
    blocks with cache_control) sent to the proxy, which answers with the fake CLI."""
    cli = require_real_cli(find_real_cli())
    engine = await start_engine()
    home = tmp_path / "client-home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "ANTHROPIC_BASE_URL": engine.url, "ANTHROPIC_API_KEY": "sk-ant-api03-unused", "CLAUDE_CODE_MAX_RETRIES": "0", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    process = await asyncio.create_subprocess_exec(cli, "-p", "say hi to the proxy", "--model", "claude-sonnet-4", env=env, cwd=str(home), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-2000:]
    assert out.decode().startswith("You said: ")  # the fake's echo (of the CLI's first text block), through our SSE events
    await asyncio.to_thread(engine.store.flush)
    (capture,) = [c for c in await engine.store.alist(limit=10) if c.path.startswith("/v1/messages")]
    full = await engine.store.aget(capture.id)
    body = json.loads(full.request_body)
    assert full.status == 200 and body["stream"] is True and len(body["tools"]) > 5 and "thinking" in body
