"""Tools, structured output, reasoning and images against the REAL pinned CLI and the mock Messages API.

The proxy runs the real `claude` binary; the mock answers as the model would (markers in
the prompt pick its behaviour: `client_tools` calls the first `mcp__` tool the CLI offers
it, i.e. a tool the CLI could only have listed from the run's MCP endpoint).
"""

from __future__ import annotations

import base64
import json

import pytest
from openai import AsyncOpenAI

from tests.mock_anthropic import MockAnthropic
from tests.real_cli import real_cli_engine

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ASK = [{"role": "user", "content": "Weather in Paris? [[mock:client_tools]]"}]


@pytest.fixture
async def mock():
    async with MockAnthropic() as server:
        yield server


@pytest.fixture
async def client(tmp_path, monkeypatch, mock):
    async with real_cli_engine(tmp_path, monkeypatch, mock, capture=False, pool_size=0, warm_conversations=0) as engine:
        async with AsyncOpenAI(base_url=engine.url + "/v1", api_key="unused", max_retries=0, _strict_response_validation=True, timeout=60) as client:
            yield client


def offered_tools(request) -> dict[str, dict]:
    return {tool["name"]: tool for tool in request.body.get("tools") or []}


async def test_tool_round_trip_non_stream(client, mock):
    first = await client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = first.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}

    (request,) = mock.message_requests()  # stopped at the call: no second API request
    tool = offered_tools(request)["mcp__client__get_weather"]  # listed by the CLI from our MCP endpoint
    assert tool["input_schema"]["properties"] == {"city": {"type": "string"}}
    assert not {"Bash", "Read", "Write"} & set(offered_tools(request))  # built-in tools stay off

    messages = [*ASK, first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}]
    second = await client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Tool result received: 18C and sunny"
    # The same CLI went on: its next API request carries a real tool_result block.
    first_request, followup = mock.message_requests()
    assert followup.headers["x-claude-code-session-id"] == first_request.headers["x-claude-code-session-id"]
    results = [b for m in followup.body["messages"] for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
    assert [(b["tool_use_id"], b["content"][0]["text"]) for b in results] == [(call.id, "18C and sunny")]


async def test_changed_conversation_gets_a_new_run_with_the_history_as_native_blocks(client, mock):
    first = await client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    (call,) = first.choices[0].message.tool_calls
    messages = [{"role": "system", "content": "Be brief."}, *ASK, first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "cloudy"}]
    second = await client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "Tool result received: cloudy"
    first_request, followup = mock.message_requests()
    assert followup.headers["x-claude-code-session-id"] != first_request.headers["x-claude-code-session-id"]
    results = [b for m in followup.body["messages"] if isinstance(m["content"], list) for b in m["content"] if b.get("type") == "tool_result"]
    assert results == [{"tool_use_id": call.id, "type": "tool_result", "content": [{"type": "text", "text": "cloudy"}]}]


async def test_tool_round_trip_stream(client):
    stream = await client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER], stream=True)
    calls: dict[int, dict] = {}
    finish = None
    async for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for piece in choice.delta.tool_calls or []:
            call = calls.setdefault(piece.index, {"id": piece.id, "name": piece.function.name, "arguments": ""})
            call["arguments"] += piece.function.arguments or ""
    assert finish == "tool_calls"
    assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [("get_weather", {"city": "Paris"})]
    call = calls[0]
    messages = [*ASK, {"role": "assistant", "content": None, "tool_calls": [{"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]}, {"role": "tool", "tool_call_id": call["id"], "content": "rain"}]
    stream = await client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER], stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == "Tool result received: rain"


async def test_named_tool_choice_offers_only_that_tool(client, mock):
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    choice = {"type": "function", "function": {"name": "get_weather"}}
    reply = await client.chat.completions.create(model="sonnet", messages=ASK, tools=[other, WEATHER], tool_choice=choice)
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    names = set(offered_tools(mock.message_requests()[0]))
    assert "mcp__client__get_weather" in names and "mcp__client__get_time" not in names


async def test_structured_output(client, mock):
    schema = {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}, "required": ["status"], "additionalProperties": False}
    messages = [{"role": "user", "content": "Status? [[mock:tool_use tool=StructuredOutput status=ok]]"}]
    response_format = {"type": "json_schema", "json_schema": {"name": "status", "strict": True, "schema": schema}}
    reply = await client.chat.completions.create(model="sonnet", messages=messages, response_format=response_format)
    assert reply.choices[0].message.content == '{"status":"ok"}'
    assert offered_tools(mock.message_requests()[0])["StructuredOutput"]["input_schema"] == schema

    stream = await client.chat.completions.create(model="sonnet", messages=messages, response_format=response_format, stream=True)
    assert [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content] == ['{"status":"ok"}']


async def test_reasoning_and_effort(client, mock):
    messages = [{"role": "user", "content": "Think. [[mock:thinking]]"}]
    stream = await client.chat.completions.create(model="sonnet", messages=messages, stream=True, reasoning_effort="high")
    deltas = [c.choices[0].delta async for c in stream]
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    assert reasoning == "Let me think about this carefully."
    assert "".join(d.content or "" for d in deltas) == "Thought about it: the answer is 42."
    assert mock.message_requests()[0].body["output_config"] == {"effort": "high"}


async def test_images_reach_the_api(client, mock):
    png = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")).decode()
    content = [
        {"type": "text", "text": "Describe. [[mock:text]]"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    reply = await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": content}])
    assert reply.choices[0].finish_reason == "stop"
    blocks = [b for m in mock.message_requests()[0].body["messages"] if m["role"] == "user" for b in m["content"]]
    sources = [b["source"] for b in blocks if b.get("type") == "image"]
    assert {"type": "base64", "media_type": "image/png", "data": png} in sources
    assert {"type": "url", "url": "https://example.com/cat.jpg"} in sources
