"""The Responses API (`/v1/responses`) end to end: the real `openai` SDK (strict) → the proxy → the fake CLI."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import aiohttp
import openai
import pytest
from pydantic import BaseModel

from conftest import strict_client, wait_until
from tests.fake_claude.recording import blocks, sent_messages, sent_text
from tui_proxy.events import ExchangeFinished
from tui_proxy.openai.responses_request import display_turns

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather of a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False},
    "strict": True,
}
ASK = [{"role": "user", "content": "Weather in Paris? [[fake:tool_call]]"}]
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")).decode()


def runs(record_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(record_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)]


async def raw_events(engine, body: dict) -> list[tuple[str, dict]]:
    """The SSE events as sent: (the `event:` name, the decoded data)."""
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/responses", json=body) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        raw = (await response.read()).decode()
    events = []
    for block in raw.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":"))
        if "data" in lines:
            events.append((lines.get("event"), json.loads(lines["data"])))
    return events


async def test_create_has_the_full_response_shape(openai_client):
    raw = await openai_client.responses.with_raw_response.create(model="claude-sonnet-4", input="hello there", instructions="Be brief.", temperature=0.2, top_p=0.9, metadata={"a": "b"}, store=True, user="alice", prompt_cache_key="k1", truncation="auto")
    response = raw.parse()
    assert response.id == "resp_" + raw.headers["x-request-id"]
    assert response.object == "response" and response.status == "completed"
    assert response.model == "claude-sonnet-4"
    assert response.output_text == "You said: hello there"
    (message,) = response.output
    assert message.type == "message" and message.role == "assistant" and message.status == "completed"
    assert response.instructions == "Be brief." and response.metadata == {"a": "b"} and response.temperature == 0.2
    assert response.prompt_cache_key == "k1" and response.truncation == "auto" and response.user == "alice"
    usage = response.usage
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens > 0  # cache reads are input tokens too
    assert usage.input_tokens > usage.input_tokens_details.cached_tokens


async def test_instructions_and_developer_items_become_the_system_prompt(openai_client, fake_claude_env):
    items = [{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Dev rule."}]}, {"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
    await openai_client.responses.create(model="sonnet", input=items, instructions="Top rule.")
    (run,) = runs(fake_claude_env)
    assert run["system_prompt"].startswith("Top rule.\n\nDev rule.")


async def test_stream_event_sequence(engine):
    events = await raw_events(engine, {"model": "sonnet", "input": '[[fake:text text="one two three" chunks=3]]', "stream": True})
    names = [name for name, _ in events]
    assert [data["type"] for _, data in events] == names  # `event:` names the type
    deltas = names.count("response.output_text.delta")  # 3, or fewer when the proxy read some together
    assert 1 <= deltas <= 3 and names == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
    ]
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert events[0][1]["response"]["status"] == "in_progress" and events[0][1]["response"]["usage"] is None
    assert "".join(d["delta"] for n, d in events if n == "response.output_text.delta") == "one two three"
    done = events[-1][1]["response"]
    assert done["status"] == "completed" and done["output"][0]["content"][0]["text"] == "one two three"
    assert done["usage"]["output_tokens"] > 0 and done["usage"]["input_tokens_details"]["cache_write_tokens"] >= 0


async def test_sdk_stream_helper_gives_the_final_response(openai_client):
    async with openai_client.responses.stream(model="sonnet", input="[[fake:unicode]]") as stream:
        deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == final.output_text
    assert "\u2028" in final.output_text
    plain = await openai_client.responses.create(model="sonnet", input="[[fake:unicode]]")
    assert plain.output_text == final.output_text


@pytest.mark.parametrize("stream", [False, True])
async def test_function_call_round_trip_continues_the_same_run(openai_client, fake_claude_env, stream):
    if stream:
        async with openai_client.responses.stream(model="sonnet", input=ASK, tools=[WEATHER]) as events:
            kinds = [event.type async for event in events]
            first = await events.get_final_response()
        assert kinds.index("response.function_call_arguments.delta") < kinds.index("response.function_call_arguments.done")
    else:
        first = await openai_client.responses.create(model="sonnet", input=ASK, tools=[WEATHER])
    message, call = first.output
    assert message.content[0].text == "I will call a tool."
    assert call.type == "function_call" and call.name == "get_weather" and call.status == "completed"
    assert json.loads(call.arguments) == {"city": "Paris"} and call.id.startswith("fc_")
    assert first.status == "completed" and first.tools[0].name == "get_weather"

    followup = [*ASK, *[item.model_dump(exclude_none=True) for item in first.output], {"type": "function_call_output", "call_id": call.call_id, "output": "18C and sunny"}]
    second = await openai_client.responses.create(model="sonnet", input=followup, tools=[WEATHER], stream=False)
    assert second.output_text == "The tool returned: 18C and sunny"
    assert len(runs(fake_claude_env)) == 1  # the waiting CLI went on: no new run


async def test_a_new_run_gets_the_calls_and_results_as_real_blocks(openai_client, fake_claude_env):
    items = [*ASK, {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "secret thoughts"}]},
             {"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
             {"type": "function_call_output", "call_id": "call_9", "output": [{"type": "input_text", "text": "-3C"}]}]
    reply = await openai_client.responses.create(model="sonnet", input=items, tools=[WEATHER])
    assert reply.output_text == "The tool returned: -3C"
    run = runs(fake_claude_env)[0]
    sent = sent_messages(run)
    assert {"type": "tool_use", "id": "call_9", "name": "mcp__client__get_weather", "input": {"city": "Oslo"}} in blocks(sent[1])
    assert "-3C" in json.dumps(blocks(sent[2]))
    assert "secret thoughts" not in sent_text(run)  # reasoning items passed back are dropped


async def test_namespaced_tools_are_flattened_and_answered_with_their_namespace(openai_client, engine):
    tools = [{"type": "namespace", "name": "agents", "tools": [{"type": "function", "name": "spawn", "parameters": {"type": "object", "properties": {"task": {"type": "string"}}}}]}]
    reply = await openai_client.responses.create(model="sonnet", input="Go [[fake:tool_call]]", tools=tools)
    call = reply.output[-1]
    assert (call.type, call.namespace, call.name) == ("function_call", "agents", "spawn")
    assert reply.tools[0].type == "namespace" and reply.tools[0].tools[0].name == "spawn"  # echoed as sent


async def test_structured_output(openai_client):
    class Status(BaseModel):
        ok: bool
        note: str

    parsed = await openai_client.responses.parse(model="sonnet", input="Status? [[fake:structured]]", text_format=Status)
    assert isinstance(parsed.output_parsed, Status)
    assert parsed.text.format.type == "json_schema" and parsed.text.format.name == "Status"


async def test_an_image_reaches_the_cli_as_an_image_block(openai_client, fake_claude_env):
    content = [{"type": "input_text", "text": "What is this?"}, {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"}]
    reply = await openai_client.responses.create(model="sonnet", input=[{"role": "user", "content": content}])
    assert reply.status == "completed"
    sent = blocks(sent_messages(runs(fake_claude_env)[0])[-1])
    assert sent[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}


@pytest.mark.parametrize("stream", [False, True])
async def test_thinking_is_a_reasoning_item_with_a_summary(openai_client, fake_claude_env, stream):
    prompt = '[[fake:thinking thinking="Let me think step by step." text="The answer is 4."]]'
    if stream:
        async with openai_client.responses.stream(model="sonnet", input=prompt, reasoning={"effort": "minimal", "summary": "auto"}) as events:
            summary_deltas = [e.delta async for e in events if e.type == "response.reasoning_summary_text.delta"]
            reply = await events.get_final_response()
        assert "".join(summary_deltas) == "Let me think step by step."
    else:
        reply = await openai_client.responses.create(model="sonnet", input=prompt, reasoning={"effort": "minimal", "summary": "auto"})
    reasoning, message = reply.output
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == "Let me think step by step."
    assert message.content[0].text == "The answer is 4." and reply.output_text == "The answer is 4."
    assert reply.usage.output_tokens_details.reasoning_tokens > 0
    assert reply.reasoning.effort == "minimal"
    argv = runs(fake_claude_env)[0]["argv"]
    assert argv[argv.index("--effort") + 1] == "low"  # minimal has no match: the CLI's lowest


@pytest.mark.parametrize("stream", [False, True])
async def test_max_output_tokens_is_an_incomplete_response(openai_client, engine, stream):
    prompt = '[[fake:text text="alpha beta gamma delta epsilon zeta eta theta" chunks=8]]'
    if stream:
        events = await raw_events(engine, {"model": "sonnet", "input": prompt, "max_output_tokens": 3, "stream": True})
        assert events[-1][0] == "response.incomplete"
        reply = events[-1][1]["response"]
    else:
        reply = (await openai_client.responses.create(model="sonnet", input=prompt, max_output_tokens=3)).model_dump()
    assert reply["status"] == "incomplete" and reply["incomplete_details"] == {"reason": "max_output_tokens"}
    assert reply["output"][0]["status"] == "incomplete"
    assert 0 < len(reply["output"][0]["content"][0]["text"]) < len("alpha beta gamma delta epsilon zeta eta theta")


BAD = [
    ({"input": "hi"}, "model", 400),
    ({"model": "sonnet"}, "input", 400),
    ({"model": "gpt-4o", "input": "hi"}, "model", 404),
    ({"model": "sonnet", "input": "hi", "background": True}, "background", 400),
    ({"model": "sonnet", "input": "hi", "tools": [{"type": "web_search"}]}, "tools[0].type", 400),
    ({"model": "sonnet", "input": "hi", "tools": [{"type": "custom", "name": "apply_patch"}]}, "tools[0].type", 400),
    ({"model": "sonnet", "input": "hi", "tools": [{"type": "local_shell"}]}, "tools[0].type", 400),
    ({"model": "sonnet", "input": [{"type": "item_reference", "id": "msg_x_0"}]}, "input[0].id", 404),
    ({"model": "sonnet", "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, "input[0].content[0].type", 400),
    ({"model": "sonnet", "input": "hi", "text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name", 400),
    ({"model": "sonnet", "input": "hi", "reasoning": {"effort": "huge"}}, "reasoning.effort", 400),
    ({"model": "sonnet", "input": "hi", "tool_choice": {"type": "function", "name": "nope"}}, "tool_choice", 400),
    ({"model": "sonnet", "input": "hi", "max_output_tokens": 0}, "max_output_tokens", 400),
]


@pytest.mark.parametrize("body,param,status", BAD)
async def test_bad_input_is_an_openai_error_naming_the_param_and_is_captured(engine, body, param, status):
    seen = []
    engine.bus.subscribe(seen.append)
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/responses", json=body) as response:
        assert response.status == status
        error = (await response.json())["error"]
        exchange_id = response.headers["x-request-id"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]
    finished = [e for e in seen if isinstance(e, ExchangeFinished) and e.exchange_id == exchange_id]
    assert finished and finished[0].error.param == param and finished[0].status == status
    assert await wait_until(lambda: _stored(engine, exchange_id), 5)


def _stored(engine, exchange_id):
    engine.store.flush(1)
    capture = engine.store.get(exchange_id)
    return capture is not None and capture.status is not None and capture.path == "/v1/responses"


async def test_cli_failures_have_their_status_and_sdk_error(openai_client):
    with pytest.raises(openai.RateLimitError) as caught:
        await openai_client.responses.create(model="sonnet", input="[[fake:rate_limit_subscription resets_in=7200]]")
    assert caught.value.code == "rate_limit_exceeded" and caught.value.status_code == 429


async def test_a_failure_mid_stream_is_response_failed(engine):
    events = await raw_events(engine, {"model": "sonnet", "input": "[[fake:crash_midstream after=3]]", "stream": True})
    name, data = events[-1]
    assert name == "response.failed"
    assert data["response"]["status"] == "failed" and data["response"]["error"]["code"] == "server_error"
    assert "cli_crashed" in data["response"]["error"]["message"]
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))


async def test_previous_response_id_carries_the_conversation(openai_client, fake_claude_env):
    first = await openai_client.responses.create(model="sonnet", input="My name is Alice.", instructions="Old rule.")
    second = await openai_client.responses.create(model="sonnet", input="And my name?", previous_response_id=first.id)
    third = await openai_client.responses.create(model="sonnet", input="Again?", previous_response_id=second.id, instructions="New rule.")
    assert third.previous_response_id == second.id
    run = runs(fake_claude_env)[2]
    texts = [json.dumps(m["content"]) for m in sent_messages(run)]
    assert [m["role"] for m in sent_messages(run)] == ["user", "assistant", "user", "assistant", "user"]  # the whole chain, in order
    for i, text in enumerate(("My name is Alice.", "You said: My name is Alice.", "And my name?", "You said: And my name?", "Again?")):
        assert text in texts[i]
    assert run["system_prompt"].startswith("New rule.") and "Old rule." not in run["system_prompt"]  # instructions are not carried


async def test_previous_response_id_of_a_tool_call_continues_the_waiting_run(openai_client, fake_claude_env):
    first = await openai_client.responses.create(model="sonnet", input=ASK, tools=[WEATHER])
    call = first.output[-1]
    second = await openai_client.responses.create(model="sonnet", previous_response_id=first.id, tools=[WEATHER], input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18C"}])
    assert second.output_text == "The tool returned: 18C"
    assert len(runs(fake_claude_env)) == 1


async def test_item_references_are_read_back_from_the_store(openai_client, fake_claude_env):
    first = await openai_client.responses.create(model="sonnet", input=ASK, tools=[WEATHER])
    call = first.output[-1]
    items = [*ASK, *[{"type": "item_reference", "id": item.id} for item in first.output], {"type": "function_call_output", "call_id": call.call_id, "output": "18C"}]
    second = await openai_client.responses.create(model="sonnet", input=items, tools=[WEATHER])
    assert second.output_text == "The tool returned: 18C"
    assert len(runs(fake_claude_env)) == 1  # the references became the same assistant turn: the CLI went on


async def test_unknown_previous_response_id_is_a_404(openai_client):
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.responses.create(model="sonnet", input="hi", previous_response_id="resp_nope")
    assert caught.value.body["param"] == "previous_response_id"


async def test_previous_response_id_without_capture_is_refused(start_engine):
    engine = await start_engine(capture=False)
    async with strict_client(engine) as client:
        first = await client.responses.create(model="sonnet", input="hi")
        with pytest.raises(openai.BadRequestError) as caught:
            await client.responses.create(model="sonnet", input="more", previous_response_id=first.id)
        assert caught.value.body["param"] == "previous_response_id" and "--no-capture" in caught.value.message
        with pytest.raises(openai.NotFoundError):
            await client.responses.retrieve(first.id)


@pytest.mark.parametrize("stream", [False, True])
async def test_retrieve_returns_the_stored_response(openai_client, stream):
    if stream:
        async with openai_client.responses.stream(model="sonnet", input="hello") as events:
            created = await events.get_final_response()
    else:
        created = await openai_client.responses.create(model="sonnet", input="hello")
    fetched = await openai_client.responses.retrieve(created.id)
    assert (fetched.id, fetched.status, fetched.output_text, fetched.usage) == (created.id, "completed", "You said: hello", created.usage)
    assert [item.id for item in fetched.output] == [item.id for item in created.output]
    with pytest.raises(openai.NotFoundError):
        await openai_client.responses.retrieve("resp_" + created.id[5:9])  # a prefix is not an id


def test_display_turns_for_the_console():
    body = {"instructions": "Be brief.", "input": [
        {"role": "developer", "content": "Rule."},
        {"role": "user", "content": [{"type": "input_text", "text": "Look"}, {"type": "input_image", "image_url": "https://x/y.png"}]},
        {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c"},
        {"type": "function_call_output", "call_id": "c", "output": "ok"},
    ]}
    assert display_turns(body) == [("system", "Be brief."), ("system", "Rule."), ("user", "Look\n[image]"), ("assistant", "f({})"), ("tool", "ok")]
    assert display_turns({"input": "hi"}) == [("user", "hi")]
    assert display_turns("garbage") == []


@pytest.mark.parametrize("stream", [False, True])
async def test_a_captured_response_replays_with_its_answer(engine, openai_client, stream):
    from tui_proxy.replay.send import await_capture, replay

    created = await openai_client.responses.create(model="sonnet", input="hello again", stream=stream)
    if stream:
        created = [event async for event in created][-1].response
    original = await await_capture(engine.store, created.id.removeprefix("resp_"), timeout=5)  # finished once its child is reaped
    result = await replay(original, to_url=engine.url, api_key="unused")
    assert result.status == 200 and result.answer.text == "You said: hello again"
    new = await await_capture(engine.store, result.new_id, timeout=5)
    assert new is not None and new.replay_of == original.id and new.path == "/v1/responses" and new.text == original.text
