"""The mock itself, over plain HTTP (no CLI needed)."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from tests.mock_anthropic import TEXT_ANSWER, MockAnthropic, parse_marker


def _body(prompt: str, *, stream: bool, **extra: object) -> dict[str, object]:
    return {
        "model": "claude-sonnet-5-5",
        "max_tokens": 100,
        "stream": stream,
        "system": [{"type": "text", "text": "system words"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        **extra,
    }


def _sse_events(raw: str) -> list[tuple[str, dict[str, object]]]:
    events = []
    for frame in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.fixture
async def mock():
    async with MockAnthropic() as server:
        yield server


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def test_marker_parsing():
    marker = parse_marker("before [[mock:big_delta size=10 tool=x]] after")
    assert marker is not None
    assert (marker.scenario, marker.params) == ("big_delta", {"size": "10", "tool": "x"})
    assert parse_marker("no marker here") is None


async def test_hello_count_tokens_and_unknown_routes(mock, http):
    async with http.head(f"{mock.base_url}/api/hello") as response:
        assert response.status == 200
    async with http.post(f"{mock.base_url}/v1/messages/count_tokens", json=_body("hi", stream=False)) as response:
        assert (await response.json())["input_tokens"] > 0
    async with http.get(f"{mock.base_url}/v1/nothing") as response:
        assert response.status == 404
    assert [r.path for r in mock.requests] == ["/api/hello", "/v1/messages/count_tokens", "/v1/nothing"]


async def test_text_streams_deltas_and_records_without_credentials(mock, http):
    headers = {"x-api-key": "sk-ant-api03-secret", "anthropic-version": "2023-06-01"}
    async with http.post(f"{mock.base_url}/v1/messages?beta=true", json=_body("hi", stream=True), headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(await response.text())
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    deltas = [data["delta"]["text"] for name, data in events if name == "content_block_delta"]
    assert len(deltas) > 1 and "".join(deltas) == TEXT_ANSWER
    recorded = mock.message_requests()[0]
    assert recorded.auth == "x-api-key" and "x-api-key" not in recorded.headers
    assert "sk-ant-api03-secret" not in json.dumps(recorded.headers)
    assert mock.system_texts() == ["system words"]


async def test_non_streaming_reply_is_one_message(mock, http):
    async with http.post(f"{mock.base_url}/v1/messages", json=_body("[[mock:thinking]]", stream=False)) as response:
        message = await response.json()
    assert message["type"] == "message"
    assert [block["type"] for block in message["content"]] == ["thinking", "text"]


async def test_tool_use_calls_the_first_mcp_tool_with_marker_arguments(mock, http):
    tools = [{"name": "Read", "input_schema": {}}, {"name": "mcp__client__lookup", "input_schema": {}}]
    body = _body("[[mock:tool_use query=cats]]", stream=False, tools=tools)
    async with http.post(f"{mock.base_url}/v1/messages", json=body) as response:
        message = await response.json()
    tool_use = message["content"][-1]
    assert message["stop_reason"] == "tool_use"
    assert (tool_use["name"], tool_use["input"]) == ("mcp__client__lookup", {"query": "cats"})

    body["messages"] += [
        {"role": "assistant", "content": message["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "42 cats"}]},
    ]
    async with http.post(f"{mock.base_url}/v1/messages", json=body) as response:
        follow_up = await response.json()
    assert follow_up["stop_reason"] == "end_turn"
    assert "42 cats" in follow_up["content"][0]["text"]


@pytest.mark.parametrize(
    ("scenario", "status", "error_type"),
    [
        ("401", 401, "authentication_error"),
        ("403", 403, "permission_error"),
        ("404_model", 404, "not_found_error"),
        ("400_credit", 400, "invalid_request_error"),
        ("400_prompt_too_long", 400, "invalid_request_error"),
        ("400_other", 400, "invalid_request_error"),
        ("429_api_key", 429, "rate_limit_error"),
        ("429_subscription", 429, "rate_limit_error"),
        ("500", 500, "api_error"),
        ("529", 529, "overloaded_error"),
        ("no_such_scenario", 400, "invalid_request_error"),
    ],
)
async def test_error_scenarios(mock, http, scenario, status, error_type):
    async with http.post(f"{mock.base_url}/v1/messages", json=_body(f"[[mock:{scenario}]]", stream=True)) as response:
        assert response.status == status
        assert (await response.json())["error"]["type"] == error_type
        assert response.headers["request-id"].startswith("req_")
        if scenario == "429_subscription":
            assert response.headers["anthropic-ratelimit-unified-status"] == "rejected"


async def test_times_makes_a_failure_recover(mock, http):
    body = _body("[[mock:529 times=1]]", stream=False)
    async with http.post(f"{mock.base_url}/v1/messages", json=body) as response:
        assert response.status == 529
    async with http.post(f"{mock.base_url}/v1/messages", json=body) as response:
        assert response.status == 200


async def test_midstream_error_sends_an_error_event_after_a_delta(mock, http):
    async with http.post(f"{mock.base_url}/v1/messages", json=_body("[[mock:midstream_error]]", stream=True)) as response:
        names = [name for name, _ in _sse_events(await response.text())]
    assert names == ["message_start", "content_block_start", "content_block_delta", "error"]


async def test_drop_cuts_the_connection(mock, http):
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.post(f"{mock.base_url}/v1/messages", json=_body("[[mock:drop]]", stream=True)) as response:
            await response.read()


async def test_big_delta_has_the_requested_size(mock, http):
    async with http.post(f"{mock.base_url}/v1/messages", json=_body("[[mock:big_delta size=100000]]", stream=False)) as response:
        message = await response.json()
    assert len(message["content"][0]["text"]) == 100000


async def test_stall_goes_silent_after_message_start_until_shutdown(http):
    mock = await MockAnthropic().start()
    async with http.post(f"{mock.base_url}/v1/messages", json=_body("[[mock:stall]]", stream=True)) as response:
        first = await response.content.readuntil(b"\n\n")
        assert first.startswith(b"event: message_start")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(response.content.readuntil(b"\n\n"), 0.3)
        started = time.monotonic()
        await mock.close()
    assert time.monotonic() - started < 3


async def test_model_thinking_scenario_plays_a_thinking_model_without_markers(http):
    tool = {"name": "mcp__client__get_weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}, "days": {"type": "integer"}}, "required": ["location", "days"]}}
    async with MockAnthropic(default_scenario="model_thinking") as mock:
        async def ask(**extra):
            async with http.post(f"{mock.base_url}/v1/messages", json=_body("What is the weather?", stream=False, **extra)) as response:
                return await response.json()

        called = await ask(tools=[tool])
        assert called["stop_reason"] == "tool_use"
        assert called["content"][-1]["name"] == "mcp__client__get_weather" and called["content"][-1]["input"] == {"city": "Paris"}
        thought = await ask(output_config={"effort": "low"})
        assert [block["type"] for block in thought["content"]] == ["thinking", "text"]
        plain = await ask()
        assert plain["content"] == [{"type": "text", "text": TEXT_ANSWER}]
        result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]}
        async with http.post(f"{mock.base_url}/v1/messages", json={**_body("q", stream=False, tools=[tool]), "messages": [result]}) as response:
            assert (await response.json())["content"][0]["text"] == "Tool result received: sunny"
        assert [r.scenario for r in mock.message_requests()] == ["model_thinking"] * 4
