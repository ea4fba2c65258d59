"""Client tool calling end to end: the strict `openai` SDK → the proxy → the fake CLI over MCP.

The fake plays the model (`[[fake:tool_call]]`): like the real CLI it connects to the
run's MCP endpoint from `--mcp-config`, lists the tools and calls one in the background
while it prints the tool_use lines. The proxy's job, tested here: offer the client's
functions, turn the tool_use into OpenAI `tool_calls`, stop the run, and carry the tool
results into the next run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import aiohttp
import pytest

from conftest import wait_until, children_of, strict_client
from tests.waiting import no_children_left
from tui_proxy.runs import parked

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "description": "Local time.", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}}
ASK = [{"role": "user", "content": "Weather in Paris? [[fake:tool_call]]"}]


def records(record_dir: Path) -> list[dict]:
    runs = [json.loads(p.read_text()) for p in sorted(record_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)]
    return runs


def option(argv: list[str], name: str) -> str | None:
    for arg in argv:
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


async def test_non_stream_round_trip_continues_the_same_run(openai_client, fake_claude_env):
    first = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # a JSON string, never an object
    assert choice.message.content == "I will call a tool."
    assert first.usage.completion_tokens > 0

    argv = records(fake_claude_env)[0]["argv"]
    assert "--tools=" in argv and "--strict-mcp-config" in argv  # built-in tools stay off
    assert option(argv, "--allowedTools") == "mcp__client__get_weather"
    assert option(argv, "--mcp-config")

    followup = [*ASK, first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}]
    second = await openai_client.chat.completions.create(model="sonnet", messages=followup, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "The tool returned: 18C and sunny"  # over MCP, to the waiting CLI
    assert len(records(fake_claude_env)) == 1  # no new run
    assert 0 < second.usage.prompt_tokens  # this request's share of the run


async def test_a_changed_conversation_gets_a_new_run_with_the_history_as_native_blocks(openai_client, fake_claude_env):
    first = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    (call,) = first.choices[0].message.tool_calls
    edited = [{"role": "system", "content": "Be brief."}, *ASK]
    followup = [*edited, first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}]
    second = await openai_client.chat.completions.create(model="sonnet", messages=followup, tools=[WEATHER])
    assert second.choices[0].message.content == "The tool returned: 18C and sunny"
    runs = records(fake_claude_env)
    assert len(runs) == 2
    assert runs[1]["stdin"] == ""  # the new run resumed a session file holding the history:
    messages = [r["message"] for r in runs[1]["resumed"] if r.get("type") in ("user", "assistant")]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert {"type": "tool_use", "id": call.id, "name": "mcp__client__get_weather", "input": json.loads(call.function.arguments)} in messages[1]["content"]
    assert messages[2]["content"] == [{"tool_use_id": call.id, "type": "tool_result", "content": [{"type": "text", "text": "18C and sunny"}]}]
    await no_children_left()  # the parked run was stopped, not left waiting


async def test_results_after_the_wait_get_a_new_run(openai_client, fake_claude_env, engine, monkeypatch):
    # Short, yet long enough that the parked run is surely still waiting when the answer is read.
    monkeypatch.setattr(parked, "WAIT_SECONDS", 1.0)
    first = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    (call,) = first.choices[0].message.tool_calls
    assert engine.active_runs == 1 and children_of(os.getpid())  # parked: the CLI waits
    await no_children_left()  # the wait is bounded: the CLI is stopped and reaped
    assert await wait_until(lambda: engine.active_runs == 0)  # and has left the registry
    followup = [*ASK, first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "late"}]
    second = await openai_client.chat.completions.create(model="sonnet", messages=followup, tools=[WEATHER])
    assert second.choices[0].message.content == "The tool returned: late"
    assert len(records(fake_claude_env)) == 2


async def test_shutdown_stops_parked_runs(start_engine):
    engine = await start_engine()
    async with strict_client(engine) as client:
        reply = await client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    assert reply.choices[0].finish_reason == "tool_calls" and children_of(os.getpid())
    await engine.stop()
    assert children_of(os.getpid()) == []


async def test_console_kill_stops_a_parked_run(engine, openai_client):
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    assert engine.active_runs == 1  # parked, waiting for the tool results
    assert await engine.kill(reply.id.removeprefix("chatcmpl-"))
    await no_children_left()
    assert await wait_until(lambda: engine.active_runs == 0)


async def test_streamed_tool_call_deltas(engine, fake_claude_env):
    body = {"model": "sonnet", "messages": ASK, "tools": [WEATHER], "stream": True}
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        assert response.status == 200
        raw = (await response.read()).decode()
    events = [line[len("data: ") :] for line in raw.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    calls = [c["choices"][0]["delta"]["tool_calls"] for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    first = calls[0][0]
    assert first["index"] == 0 and first["id"].startswith("toolu_") and first["type"] == "function"
    assert first["function"] == {"name": "get_weather", "arguments": ""}
    rest = [piece[0] for piece in calls[1:]]
    assert all(set(p) == {"index", "function"} and p["index"] == 0 for p in rest)
    assert len(rest) >= 2  # the arguments stream in fragments, as the model writes them
    assert json.loads("".join(p["function"]["arguments"] for p in rest)) == {"city": "Paris"}
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes[-1] == "tool_calls" and finishes[:-1] == [None] * (len(chunks) - 1)


async def test_sdk_stream_helper_accumulates_the_call(openai_client):
    async with openai_client.chat.completions.stream(model="sonnet", messages=ASK, tools=[WEATHER]) as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


async def test_streamed_round_trip(openai_client):
    stream = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER], stream=True)
    calls: dict[int, dict] = {}
    async for chunk in stream:
        for piece in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(piece.index, {"id": piece.id, "name": piece.function.name, "arguments": ""})
            call["arguments"] += piece.function.arguments or ""
    call = calls[0]
    messages = [*ASK, {"role": "assistant", "content": None, "tool_calls": [{"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]}, {"role": "tool", "tool_call_id": call["id"], "content": "rainy"}]
    stream = await openai_client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER], stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "The tool returned: rainy"


async def test_tool_choice_none_offers_no_tools(openai_client, fake_claude_env):
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER], tool_choice="none")
    assert reply.choices[0].finish_reason == "stop" and not reply.choices[0].message.tool_calls
    argv = records(fake_claude_env)[0]["argv"]
    assert option(argv, "--mcp-config") is None and option(argv, "--allowedTools") is None


async def test_named_tool_choice_offers_only_that_tool(openai_client, fake_claude_env):
    choice = {"type": "function", "function": {"name": "get_time"}}
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER, TIME], tool_choice=choice, parallel_tool_calls=False)
    (call,) = reply.choices[0].message.tool_calls
    assert call.function.name == "get_time"
    run = records(fake_claude_env)[0]
    assert option(run["argv"], "--allowedTools") == "mcp__client__get_time"
    assert "You must call the tool mcp__client__get_time" in run["system_prompt"]


async def test_required_tool_choice_is_asked_for(openai_client, fake_claude_env):
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER, TIME], tool_choice="required")
    assert reply.choices[0].finish_reason == "tool_calls"
    run = records(fake_claude_env)[0]
    assert option(run["argv"], "--allowedTools") == "mcp__client__get_weather,mcp__client__get_time"
    assert "You must call at least one of these tools" in run["system_prompt"]


async def test_parallel_calls_get_their_own_indexes(openai_client):
    ask = [{"role": "user", "content": "Both please [[fake:tool_call calls=2 text=\"\"]]"}]
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ask, tools=[WEATHER, TIME])
    calls = reply.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2
    assert reply.choices[0].message.content is None  # tool calls and no text: null, as OpenAI does

    stream = await openai_client.chat.completions.create(model="sonnet", messages=ask, tools=[WEATHER, TIME], stream=True)
    starts = [p for c in [c async for c in stream] for p in (c.choices[0].delta.tool_calls or []) if p.id]
    assert [(p.index, p.function.name) for p in starts] == [(0, "get_weather"), (1, "get_time")]


async def test_parallel_tool_calls_false_keeps_one_call(openai_client):
    ask = [{"role": "user", "content": "Both please [[fake:tool_call calls=2]]"}]
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ask, tools=[WEATHER, TIME], parallel_tool_calls=False)
    (call,) = reply.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    followup = [*ask, reply.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    second = await openai_client.chat.completions.create(model="sonnet", messages=followup, tools=[WEATHER, TIME], parallel_tool_calls=False)
    # The call the client never saw was answered with an error, so the CLI did not hang on it.
    assert second.choices[0].message.content == "The tool returned: sunny; Not run: call one tool at a time."


@pytest.mark.parametrize("name", ["bad name", "x" * 65, "dot.ted"])
async def test_invalid_tool_names_are_rejected(engine, name):
    tool = {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    body = {"model": "sonnet", "messages": ASK, "tools": [tool]}
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["param"] == "tools[0].function.name"


async def test_the_clis_mcp_timeout_outlasts_the_wait(openai_client, fake_claude_env):
    from tui_proxy.tools.bridge import WAIT_SECONDS

    await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    await openai_client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hi"}])
    with_tools, without = sorted(records(fake_claude_env), key=lambda run: option(run["argv"], "--mcp-config") is None)
    assert int(with_tools["env"]["MCP_TOOL_TIMEOUT"]) > WAIT_SECONDS * 1000  # else the CLI tells the model "timed out" first
    assert "MCP_TOOL_TIMEOUT" not in without["env"]


async def test_text_held_for_stop_sequences_comes_before_the_calls(openai_client):
    ask = [{"role": "user", "content": "[[fake:tool_call text=\"Checking the weather now.\"]]"}]
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ask, tools=[WEATHER], stop=["NEVER-SEEN"])
    assert reply.choices[0].message.content == "Checking the weather now."
    assert reply.choices[0].finish_reason == "tool_calls"


async def test_the_bus_tells_which_tools_were_called(engine, openai_client):
    from tui_proxy.events import ToolCallsRequested

    seen = []
    engine.bus.subscribe(lambda event: seen.append(event) if isinstance(event, ToolCallsRequested) else None)
    reply = await openai_client.chat.completions.create(model="sonnet", messages=ASK, tools=[WEATHER])
    (call,) = reply.choices[0].message.tool_calls
    assert [e.calls for e in seen] == [((call.id, "get_weather", call.function.arguments),)]
    assert seen[0].exchange_id == reply.id.removeprefix("chatcmpl-")
