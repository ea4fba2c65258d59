"""The Anthropic Messages face end to end: the real `anthropic` SDK -> the proxy -> the fake CLI.

The fake plays the model (markers such as `[[fake:thinking]]`, `[[fake:tool_call]]`); what is
tested is the proxy's half: the request reaching the CLI (argv, stdin), and the answer, stream
events and errors exactly in Anthropic's wire shape.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import aiohttp
import anthropic
import pytest
from multidict import CIMultiDict

from tests.fake_claude.recording import blocks, sent_messages, sent_text
from tui_proxy.replay.send import await_capture

WEATHER = {
    "name": "get_weather",
    "description": "Current weather of a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TIME = {"name": "get_time", "description": "Local time.", "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}}}
ASK = [{"role": "user", "content": "Weather in Paris? [[fake:tool_call]]"}]
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")).decode()
VERSION = {"anthropic-version": "2023-06-01"}


def client(engine, **options) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=engine.url, **{"api_key": "unused", "max_retries": 0, "timeout": 30, **options})


@pytest.fixture
async def sdk(engine):
    async with client(engine) as c:
        yield c


def records(record_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(record_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)]


def option(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
    return None


async def request(engine, method: str, path: str, body: object = None, *, raw: bytes | None = None, headers: dict | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    async with aiohttp.ClientSession() as session:
        async with session.request(method, engine.url + path, data=data, headers={"Content-Type": "application/json", **(headers or {})}) as response:
            return response.status, CIMultiDict(response.headers), await response.read()


def sse_events(raw: bytes) -> list[tuple[str, dict]]:
    events = []
    for block in raw.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


# -- answers -------------------------------------------------------------------------------


async def test_create_answers_a_message_object(sdk, engine):
    raw = await sdk.messages.with_raw_response.create(model="claude-sonnet-4", max_tokens=200, system="Be brief.", messages=[{"role": "user", "content": "hello there"}])
    message = await raw.parse()
    assert message.type == "message" and message.role == "assistant" and message.model == "claude-sonnet-4"
    assert message.id.startswith("msg_") and message.id == "msg_" + raw.headers["x-request-id"]
    assert raw.headers["request-id"] == raw.headers["x-request-id"]  # Anthropic's clients read request-id
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "You said: hello there"
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    usage = message.usage
    # Anthropic counts cache reads and writes apart from input_tokens; the proxy's usage sums them.
    capture = await await_capture(engine.store, raw.headers["x-request-id"], timeout=10)
    assert capture.response_headers["request-id"] == capture.response_headers["x-request-id"] == raw.headers["request-id"]  # captured as sent
    assert usage.cache_read_input_tokens == capture.usage.cached_tokens > 0
    assert usage.cache_creation_input_tokens == capture.usage.cache_creation_tokens > 0
    assert usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens == capture.usage.prompt_tokens
    assert usage.input_tokens > 0 and usage.output_tokens == capture.usage.completion_tokens > 0


async def test_stream_sends_anthropics_event_sequence(engine):
    body = {"model": "sonnet", "max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": "one two three"}]}
    status, headers, raw = await request(engine, "POST", "/v1/messages", body, headers=VERSION)
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(raw)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-4:] == ["content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert all(data["type"] == name for name, data in events)  # the data's type repeats the event name
    start = events[0][1]["message"]
    assert start["id"] == "msg_" + headers["x-request-id"] and start["content"] == [] and start["stop_reason"] is None
    assert headers["request-id"] == headers["x-request-id"]
    capture = await await_capture(engine.store, headers["x-request-id"], timeout=10)
    assert capture.response_headers["request-id"] == headers["request-id"]  # the stream's headers, as captured
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert {d["type"] for d in deltas} == {"text_delta"} and len(deltas) > 1
    assert "".join(d["text"] for d in deltas) == "You said: one two three"
    final = events[-2][1]
    assert final["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert final["usage"]["output_tokens"] > 0 and final["usage"]["cache_read_input_tokens"] == 3400


async def test_sdk_stream_helper(sdk):
    async with sdk.messages.stream(model="sonnet", max_tokens=100, messages=[{"role": "user", "content": "stream me"}]) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "You said: stream me" == final.content[0].text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


async def test_multi_turn_history_reaches_the_cli_as_real_messages(sdk, fake_claude_env):
    messages = [
        {"role": "user", "content": "My name is Alice."},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "secret musing", "signature": "sig"}, {"type": "text", "text": "Hello Alice!"}]},
        {"role": "user", "content": [{"type": "text", "text": "What is my name?"}]},
    ]
    await sdk.messages.create(model="sonnet", max_tokens=100, system=[{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}], messages=messages)
    (run,) = records(fake_claude_env)
    sent = sent_messages(run)
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert {"type": "text", "text": "Hello Alice!"} in blocks(sent[1])
    assert "secret musing" not in sent_text(run)  # thinking passed back is dropped from the history
    assert run["system_prompt"] == "Part one.\n\nPart two."


# -- thinking --------------------------------------------------------------------------------


async def test_thinking_enabled_maps_its_budget_to_an_effort_and_shows_the_blocks(sdk, fake_claude_env):
    message = await sdk.messages.create(model="sonnet", max_tokens=20000, thinking={"type": "enabled", "budget_tokens": 10000}, messages=[{"role": "user", "content": "think [[fake:thinking]]"}])
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking.startswith("The user wants an answer.") and message.content[0].signature
    assert option(records(fake_claude_env)[0]["argv"], "--effort") == "medium"


async def test_thinking_stream_has_thinking_and_signature_deltas(engine):
    body = {"model": "sonnet", "max_tokens": 4000, "stream": True, "thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": [{"role": "user", "content": "[[fake:thinking]]"}]}
    _, _, raw = await request(engine, "POST", "/v1/messages", body)
    events = sse_events(raw)
    blocks = [(data["index"], data["content_block"]["type"]) for name, data in events if name == "content_block_start"]
    assert blocks == [(0, "thinking"), (1, "text")]
    thinking_deltas = [data["delta"]["type"] for name, data in events if name == "content_block_delta" and data["index"] == 0]
    assert thinking_deltas[-1] == "signature_delta" and set(thinking_deltas[:-1]) == {"thinking_delta"}
    stops = [data["index"] for name, data in events if name == "content_block_stop"]
    assert stops == [0, 1]


async def test_without_thinking_asked_no_thinking_blocks_are_sent(sdk, fake_claude_env):
    message = await sdk.messages.create(model="sonnet", max_tokens=100, messages=[{"role": "user", "content": "[[fake:thinking]]"}])
    assert [block.type for block in message.content] == ["text"]
    async with sdk.messages.stream(model="sonnet", max_tokens=100, thinking={"type": "disabled"}, messages=[{"role": "user", "content": "[[fake:thinking]]"}]) as stream:
        final = await stream.get_final_message()
    assert [block.type for block in final.content] == ["text"]
    assert all(option(run["argv"], "--effort") is None for run in records(fake_claude_env))


async def test_thinking_display_omitted_and_adaptive_with_effort(sdk, fake_claude_env):
    message = await sdk.messages.create(
        model="sonnet", max_tokens=100, thinking={"type": "adaptive", "display": "omitted"}, extra_body={"output_config": {"effort": "xhigh"}}, messages=[{"role": "user", "content": "[[fake:thinking]]"}]
    )
    assert message.content[0].type == "thinking" and message.content[0].thinking == ""
    assert option(records(fake_claude_env)[0]["argv"], "--effort") == "xhigh"


# -- stop sequences and max_tokens ---------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_stop_sequences_cut_and_are_named(sdk, stream):
    params = dict(model="sonnet", max_tokens=100, stop_sequences=["NEVER", "HALT"], messages=[{"role": "user", "content": "alpha beta HALT gamma"}])
    if stream:
        async with sdk.messages.stream(**params) as s:
            message = await s.get_final_message()
    else:
        message = await sdk.messages.create(**params)
    assert message.content[0].text == "You said: alpha beta "
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "HALT")


async def test_unmatched_stop_sequences_end_the_turn(sdk):
    message = await sdk.messages.create(model="sonnet", max_tokens=100, stop_sequences=["NEVER"], messages=[{"role": "user", "content": "alpha"}])
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)


@pytest.mark.parametrize("stream", [False, True])
async def test_max_tokens_cuts_the_answer(sdk, stream):
    params = dict(model="sonnet", max_tokens=10, messages=[{"role": "user", "content": "[[fake:tokens n=300]]"}])
    if stream:
        async with sdk.messages.stream(**params) as s:
            message = await s.get_final_message()
    else:
        message = await sdk.messages.create(**params)
    assert message.stop_reason == "max_tokens"
    assert 0 < message.usage.output_tokens <= 10
    assert len(message.content[0].text.split()) <= 10


# -- tools ---------------------------------------------------------------------------------


async def test_tool_round_trip_continues_the_same_run(sdk, fake_claude_env):
    first = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER], messages=ASK)
    assert first.stop_reason == "tool_use"
    text, call = first.content
    assert text.type == "text" and text.text == "I will call a tool."
    assert call.type == "tool_use" and call.id.startswith("toolu_") and call.name == "get_weather" and call.input == {"city": "Paris"}
    argv = records(fake_claude_env)[0]["argv"]
    assert option(argv, "--allowedTools") == "mcp__client__get_weather"

    followup = [*ASK, {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]}, {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C and sunny"}]}]
    second = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER], messages=followup)
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "The tool returned: 18C and sunny"
    assert len(records(fake_claude_env)) == 1  # the waiting CLI went on: no new run


async def test_streamed_tool_round_trip_with_blocks_as_results(sdk, fake_claude_env):
    async with sdk.messages.stream(model="sonnet", max_tokens=200, tools=[WEATHER], messages=ASK) as stream:
        kinds = [event.type async for event in stream]
        first = await stream.get_final_message()
    assert "input_json" in kinds  # the arguments streamed as input_json_delta
    call = first.content[-1]
    assert call.type == "tool_use" and call.input == {"city": "Paris"} and first.stop_reason == "tool_use"
    result = {"type": "tool_result", "tool_use_id": call.id, "is_error": True, "content": [{"type": "text", "text": "no such city"}]}
    followup = [*ASK, {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]}, {"role": "user", "content": [result]}]
    async with sdk.messages.stream(model="sonnet", max_tokens=200, tools=[WEATHER], messages=followup) as stream:
        text = "".join([piece async for piece in stream.text_stream])
    assert text == "The tool returned: no such city"


async def test_a_tool_result_after_the_wait_gets_a_new_run_with_the_transcript(sdk, fake_claude_env):
    first = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER], messages=ASK)
    call = first.content[-1]
    edited = [{"role": "user", "content": "Weather in Paris, please? [[fake:tool_call]]"}]
    followup = [*edited, {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]}, {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "cloudy"}]}]
    second = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER], messages=followup)
    assert second.content[0].text == "The tool returned: cloudy"
    runs = records(fake_claude_env)
    assert len(runs) == 2
    # The new run got the whole conversation, the call and its result as real blocks.
    sent = sent_messages(runs[1])
    assert {"type": "tool_use", "id": call.id, "name": "mcp__client__get_weather", "input": {"city": "Paris"}} in blocks(sent[1])
    assert [b["type"] for b in blocks(sent[2])] == ["tool_result"]


async def test_text_after_the_tool_results_takes_a_new_run(sdk, fake_claude_env):
    first = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER], messages=ASK)
    call = first.content[-1]
    results = [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}, {"type": "text", "text": "Note: it is Sunday."}]
    followup = [*ASK, {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]}, {"role": "user", "content": results}]
    await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER], messages=followup)
    runs = records(fake_claude_env)
    assert len(runs) == 2
    last = blocks(sent_messages(runs[1])[-1])
    assert last[0]["type"] == "tool_result" and last[0]["tool_use_id"] == call.id and "sunny" in json.dumps(last[0])
    assert {"type": "text", "text": "Note: it is Sunday."} in last[1:]  # after the result, as sent


@pytest.mark.parametrize(
    ("tool_choice", "allowed", "instruction"),
    [
        ({"type": "any"}, "mcp__client__get_weather,mcp__client__get_time", "You must call at least one of these tools"),
        ({"type": "tool", "name": "get_time"}, "mcp__client__get_time", "You must call the tool mcp__client__get_time"),
        ({"type": "auto", "disable_parallel_tool_use": True}, "mcp__client__get_weather,mcp__client__get_time", "Call at most one tool"),
    ],
)
async def test_tool_choice(sdk, fake_claude_env, tool_choice, allowed, instruction):
    message = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER, TIME], tool_choice=tool_choice, messages=ASK)
    assert message.stop_reason == "tool_use"
    run = records(fake_claude_env)[0]
    assert option(run["argv"], "--allowedTools") == allowed
    assert instruction in run["system_prompt"]


async def test_tool_choice_none_offers_no_tools(sdk, fake_claude_env):
    message = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER], tool_choice={"type": "none"}, messages=ASK)
    assert message.stop_reason == "end_turn" and [b.type for b in message.content] == ["text"]
    assert option(records(fake_claude_env)[0]["argv"], "--mcp-config") is None


async def test_parallel_calls_are_separate_blocks(sdk):
    ask = [{"role": "user", "content": 'Both [[fake:tool_call calls=2 text=""]]'}]
    message = await sdk.messages.create(model="sonnet", max_tokens=200, tools=[WEATHER, TIME], messages=ask)
    assert [(b.type, b.name) for b in message.content] == [("tool_use", "get_weather"), ("tool_use", "get_time")]
    async with sdk.messages.stream(model="sonnet", max_tokens=200, tools=[WEATHER, TIME], messages=ask) as stream:
        final = await stream.get_final_message()
    assert [b.name for b in final.content] == ["get_weather", "get_time"] and len({b.id for b in final.content}) == 2


# -- images --------------------------------------------------------------------------------


async def test_images_reach_the_cli_as_image_blocks(sdk, fake_claude_env):
    content = [
        {"type": "text", "text": "Describe."},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    message = await sdk.messages.create(model="sonnet", max_tokens=100, messages=[{"role": "user", "content": content}])
    assert message.stop_reason == "end_turn"
    sent = blocks(sent_messages(records(fake_claude_env)[0])[-1])
    sources = [b["source"] for b in sent if b["type"] == "image"]
    assert sources == [{"type": "base64", "media_type": "image/png", "data": PNG}, {"type": "url", "url": "https://example.com/cat.jpg"}]


# -- errors --------------------------------------------------------------------------------

BAD = [
    ({"model": "sonnet", "messages": [{"role": "user", "content": "hi"}]}, "max_tokens: Field required"),
    ({"model": "sonnet", "max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]}, "max_tokens:"),
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}, "model: Field required"),
    ({"model": "sonnet", "max_tokens": 5, "messages": []}, "messages:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}, "messages.0.role:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]}, "messages.0.content.0.type:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "AA=="}}]}]}, "messages.0.content.0.source.media_type:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "not base64!"}}]}]}, "messages.0.content.0.source.data:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tools": [{"name": "x"}]}, "tools.0.input_schema:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools.0.type:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tool_choice": {"type": "tool", "name": "nope"}, "tools": [WEATHER]}, "tool_choice.name:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tool_choice": {"type": "any"}}, "tool_choice:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "stop_sequences": [" "]}, "stop_sequences.0:"),
    ({"model": "sonnet", "max_tokens": 2000, "messages": [{"role": "user", "content": "hi"}], "thinking": {"type": "enabled", "budget_tokens": 500}}, "thinking.budget_tokens:"),
    ({"model": "sonnet", "max_tokens": 2000, "messages": [{"role": "user", "content": "hi"}], "thinking": {"type": "wild"}}, "thinking.type:"),
    ({"model": "sonnet", "max_tokens": 5, "messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "x", "input": "no"}]}]}, "messages.0.content.0.input:"),
]


@pytest.mark.parametrize(("body", "message"), BAD)
async def test_bad_requests_get_anthropic_errors_and_spawn_nothing(engine, fake_claude_env, body, message):
    status, headers, raw = await request(engine, "POST", "/v1/messages", body)
    assert status == 400
    error = json.loads(raw)
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith(message)
    assert set(error) == {"type", "error"} and set(error["error"]) == {"type", "message"}
    assert headers["request-id"] == headers["x-request-id"] and headers["x-should-retry"] == "false"
    assert list(fake_claude_env.iterdir()) == []
    # Captured like any exchange, with the error as sent.
    capture = await await_capture(engine.store, headers["x-request-id"], timeout=10)
    assert capture.status == 400 and capture.error.type == "invalid_request_error" and capture.path == "/v1/messages"
    assert capture.response_headers["request-id"] == headers["request-id"]
    assert json.loads(capture.request_body) == body


async def test_errors_reach_the_sdk_typed(sdk, engine):
    with pytest.raises(anthropic.BadRequestError) as caught:
        await sdk.messages.create(model="sonnet", max_tokens=5, messages=[{"role": "user", "content": 5}])  # type: ignore[arg-type]
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.NotFoundError) as caught:
        await sdk.messages.create(model="gpt-4o", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["error"]["type"] == "not_found_error"
    assert caught.value.request_id == caught.value.response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("raw", "status", "kind"),
    [(b"{not json", 400, "invalid_request_error"), (b"[1, 2]", 400, "invalid_request_error")],
)
async def test_bodies_that_are_not_a_message_request(engine, raw, status, kind):
    got, headers, body = await request(engine, "POST", "/v1/messages", raw=raw)
    assert got == status and json.loads(body)["error"]["type"] == kind


async def test_too_large_body_is_request_too_large(start_engine):
    engine = await start_engine(max_body_bytes=1000)
    status, headers, raw = await request(engine, "POST", "/v1/messages", {"model": "sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "x" * 2000}]})
    assert status == 413 and json.loads(raw)["error"]["type"] == "request_too_large"


@pytest.mark.parametrize(("method", "path", "status", "kind"), [("POST", "/v1/messages/batches", 404, "not_found_error"), ("GET", "/v1/messages", 405, "invalid_request_error"), ("GET", "/v1/nothing", 404, "not_found_error")])
async def test_other_routes_aimed_at_this_face_answer_in_its_shape(engine, method, path, status, kind):
    headers = VERSION if path == "/v1/nothing" else {}
    got, response_headers, raw = await request(engine, method, path, headers=headers)
    assert got == status
    assert json.loads(raw)["error"]["type"] == kind and response_headers["request-id"]
    capture = await await_capture(engine.store, response_headers["x-request-id"], timeout=10)
    assert capture.status == status and capture.error.type == kind


@pytest.mark.parametrize(("scenario", "status", "kind"), [("overloaded", 529, "overloaded_error"), ("not_logged_in", 401, "authentication_error"), ("rate_limit_subscription", 429, "rate_limit_error"), ("billing", 402, "billing_error")])
async def test_cli_failures_get_anthropic_types_and_statuses(engine, monkeypatch, scenario, status, kind):
    monkeypatch.setenv("CLAUDE_CODE_MAX_RETRIES", "0")
    body = {"model": "sonnet", "max_tokens": 50, "messages": [{"role": "user", "content": f"[[fake:{scenario}]]"}]}
    for stream in (False, True):
        got, headers, raw = await request(engine, "POST", "/v1/messages", {**body, "stream": stream})
        assert got == status, raw
        assert json.loads(raw)["error"]["type"] == kind
        if status == 429:
            assert int(headers["retry-after"]) > 0


async def test_a_failure_after_the_stream_began_is_an_error_event(engine, sdk):
    body = {"model": "sonnet", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "[[fake:crash_midstream]]"}]}
    status, headers, raw = await request(engine, "POST", "/v1/messages", body)
    assert status == 200
    events = sse_events(raw)
    assert events[0][0] == "message_start" and events[-1][0] == "error"
    assert events[-1][1]["type"] == "error" and events[-1][1]["error"]["type"] == "api_error"
    with pytest.raises(anthropic.APIStatusError):
        async with sdk.messages.stream(**{k: v for k, v in body.items() if k != "stream"}) as stream:
            async for _ in stream:
                pass


# -- keys ----------------------------------------------------------------------------------


async def test_api_key_as_x_api_key_or_bearer(start_engine):
    engine = await start_engine(api_key="s3cret")
    ask = dict(model="sonnet", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    async with client(engine, api_key="s3cret") as by_x_api_key:
        assert (await by_x_api_key.messages.create(**ask)).content[0].text == "You said: hi"
    async with client(engine, api_key=None, auth_token="s3cret") as by_bearer:
        assert (await by_bearer.messages.create(**ask)).content[0].text == "You said: hi"
    async with client(engine, api_key="wrong") as wrong:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await wrong.messages.create(**ask)
    assert caught.value.status_code == 401 and caught.value.body["error"]["type"] == "authentication_error"
    status, _, _ = await request(engine, "GET", "/v1/models", headers={"x-api-key": "s3cret", **VERSION})
    assert status == 200


# -- count_tokens and models -------------------------------------------------------------------


async def test_count_tokens_is_an_estimate_and_spawns_nothing(sdk, engine, fake_claude_env):
    short = await sdk.messages.with_raw_response.count_tokens(model="sonnet", messages=[{"role": "user", "content": "hello"}])
    assert short.headers["x-claude-max-tui-estimate"] == "true"
    long = await sdk.messages.count_tokens(model="sonnet", system="You are terse.", tools=[WEATHER], messages=[{"role": "user", "content": "hello " * 400}])
    image = await sdk.messages.count_tokens(model="sonnet", messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]}])
    assert 0 < (await short.parse()).input_tokens < 20 and long.input_tokens > 400
    assert image.input_tokens >= 1600
    assert list(fake_claude_env.iterdir()) == []
    status, headers, raw = await request(engine, "POST", "/v1/messages/count_tokens", {"model": "sonnet"})
    assert status == 400 and json.loads(raw)["error"]["message"].startswith("messages:")
    capture = await await_capture(engine.store, headers["x-request-id"], timeout=10)
    assert capture.error.type == "invalid_request_error" and json.loads(capture.request_body) == {"model": "sonnet"}


async def test_models_in_anthropic_shape_with_anthropic_version(sdk, engine):
    page = await sdk.models.list(limit=3)
    ids = [m.id for m in page.data]
    assert len(ids) == 3 and page.has_more and page.first_id == ids[0] and page.last_id == ids[-1]
    everything = [m.id async for m in sdk.models.list(limit=3)]  # the SDK pages with after_id
    assert everything[:3] == ids and len(everything) == len(set(everything)) > 3
    model = await sdk.models.retrieve("claude-opus-4-5")
    assert (model.type, model.display_name) == ("model", "Claude Opus 4.5") and model.created_at.year == 2025
    with pytest.raises(anthropic.NotFoundError):
        await sdk.models.retrieve("gpt-4o")
    # Without the header: OpenAI's shape, as before.
    status, _, raw = await request(engine, "GET", "/v1/models")
    assert status == 200 and json.loads(raw)["object"] == "list"


# -- the console's view of a body ----------------------------------------------------------


def test_display_turns():
    from tui_proxy.anthropic.messages_request import display_turns

    body = {
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image", "source": {}}]},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True, "content": [{"type": "text", "text": "boom"}]}, {"type": "text", "text": "and?"}]},
            "garbage",
        ],
    }
    assert display_turns(body) == [
        ("system", "Be brief."),
        ("user", "Look\n[image]"),
        ("assistant", '[thinking, not passed to the model]\n→ get_weather({"city": "Paris"})'),
        ("tool", "← toolu_1 (error)\nboom"),
        ("user", "and?"),
    ]
    assert display_turns(b"not a dict") == [] and display_turns({"messages": "x"}) == []


# -- parsing into the neutral request ------------------------------------------------------


def parse(**body):
    from tui_proxy.anthropic.messages_request import parse_messages_request

    return parse_messages_request({"model": "sonnet", "max_tokens": 100, **body})


def test_tool_results_become_tool_turns_and_their_images_follow():
    from tui_proxy.conversation import ImagePart, TextPart

    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    messages = [
        {"role": "user", "content": "Look"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "shot", "input": {"x": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True, "content": [{"type": "text", "text": "here"}, image]}, {"type": "text", "text": "and?"}]},
    ]
    turns = parse(messages=messages).request.conversation.turns
    assert [t.role for t in turns] == ["user", "assistant", "tool", "user", "user"]
    assert turns[1].tool_calls[0].arguments == '{"x":1}'
    tool = turns[2]
    assert (tool.tool_call_id, tool.is_error) == ("toolu_1", True) and tool.text.startswith("here\n[1 image(s)")
    assert turns[3].parts == (ImagePart(media_type="image/png", data=PNG),)
    assert turns[4].parts == (TextPart("and?"),)


@pytest.mark.parametrize(("budget", "effort"), [(1024, "low"), (4096, "medium"), (16384, "high"), (32768, "xhigh"), (65536, "max")])
def test_thinking_budgets_map_to_efforts(budget, effort):
    parsed = parse(messages=[{"role": "user", "content": "hi"}], thinking={"type": "enabled", "budget_tokens": budget})
    assert parsed.request.output.effort == effort and parsed.thinking.shown


def test_accepted_and_ignored_fields():
    parsed = parse(messages=[{"role": "user", "content": "hi"}], temperature=0.2, top_p=0.9, top_k=5, metadata={"user_id": "u"}, service_tier="auto", some_beta_field={"x": 1})
    assert parsed.request.conversation.turns[0].text == "hi" and parsed.request.output.effort is None
