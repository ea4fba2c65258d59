"""The three run timeouts (first output, idle, total) through real clients: each ends in a
504 before the first byte or an error event after it, and a reaped child."""

from __future__ import annotations

import json

import aiohttp
import openai
import pytest

from bench.soak import recorded_runs, settle_leaks
from conftest import strict_client
from tests.waiting import no_children_left

# Short enough for CI, far from each other so each test sees the timeout it is about.
SHORT = dict(first_output_timeout=1.0, idle_timeout=1.0, timeout=30.0)
#: For runs that do start talking: a slow spawn on a loaded CI machine is not what is tested.
IDLE = dict(first_output_timeout=10.0, idle_timeout=1.0, timeout=30.0)


def chat(text: str, **extra) -> dict:
    return {"model": "sonnet", "messages": [{"role": "user", "content": text}], **extra}


async def sse_events(engine, body: dict) -> tuple[int, list]:
    """POST a stream; (status, every data event: dicts, or the string "[DONE]")."""
    events: list = []
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", json=body) as response:
            if response.status != 200:
                return response.status, [await response.json()]
            raw = await response.read()
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            payload = block[6:]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return 200, events


async def no_leaks(fake_claude_env) -> None:
    assert await settle_leaks(fake_claude_env, timeout=2.0) == []
    # A killed child may still be exiting (not yet a zombie) a moment after its cmdline is gone.
    await no_children_left(timeout=2.0)


async def test_first_output_timeout_is_a_504_for_json_and_for_a_held_stream(start_engine, fake_claude_env):
    engine = await start_engine(**SHORT)  # stream_hold (15 s) > first_output_timeout: no byte sent yet
    async with strict_client(engine) as client:
        with pytest.raises(openai.APIStatusError) as raised:
            await client.chat.completions.create(**chat("[[fake:hang]]"))
    assert raised.value.status_code == 504 and raised.value.code == "timeout"
    assert "no output within 1 s" in raised.value.message
    status, events = await sse_events(engine, chat("[[fake:hang]]", stream=True))
    assert status == 504 and events[0]["error"]["code"] == "timeout"
    assert len(recorded_runs(fake_claude_env)) == 2
    await no_leaks(fake_claude_env)


async def test_first_output_timeout_after_the_stream_was_committed_is_an_error_event(start_engine, fake_claude_env):
    engine = await start_engine(**SHORT, stream_hold=0.2)  # headers out before the timeout
    status, events = await sse_events(engine, chat("[[fake:hang]]", stream=True))
    assert status == 200
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    errors = [e for e in events if isinstance(e, dict) and "error" in e]
    assert len(errors) == 1 and errors[0]["error"]["code"] == "timeout"
    assert events[-1] == "[DONE]"  # never a finish_reason "stop": clients would read success
    assert not any(isinstance(e, dict) and e.get("choices") and e["choices"][0]["finish_reason"] for e in events)
    await no_leaks(fake_claude_env)


async def test_idle_timeout_mid_stream_is_an_error_event_after_the_text_so_far(start_engine, fake_claude_env):
    engine = await start_engine(**IDLE)
    status, events = await sse_events(engine, chat("[[fake:hang_after_start deltas=2]]", stream=True))
    assert status == 200
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if isinstance(e, dict) and e.get("choices"))
    assert text  # the two deltas got through before the silence
    error = next(e["error"] for e in events if isinstance(e, dict) and "error" in e)
    assert error["code"] == "timeout" and "went silent for 1 s" in error["message"]
    await no_leaks(fake_claude_env)

    # Through the SDK: the stream raises APIError on the error event.
    async with strict_client(engine) as client:
        stream = await client.chat.completions.create(**chat("[[fake:hang_after_start]]"), stream=True)
        with pytest.raises(openai.APIError, match="went silent"):
            async for _ in stream:
                pass
    await no_leaks(fake_claude_env)


async def test_idle_timeout_without_a_stream_is_a_504(start_engine, fake_claude_env):
    engine = await start_engine(**IDLE)
    async with strict_client(engine) as client:
        with pytest.raises(openai.APIStatusError) as raised:
            await client.chat.completions.create(**chat("[[fake:hang_after_start]]"))
    assert raised.value.status_code == 504 and raised.value.code == "timeout"
    await no_leaks(fake_claude_env)


async def test_total_timeout_ends_a_run_that_keeps_talking(start_engine, fake_claude_env):
    # 40 deltas 100 ms apart (4 s): never idle for 1 s, but over the 1.5 s total.
    engine = await start_engine(first_output_timeout=5.0, idle_timeout=5.0, timeout=1.5)
    async with strict_client(engine) as client:
        with pytest.raises(openai.APIStatusError) as raised:
            await client.chat.completions.create(**chat("[[fake:slow n=40 delay_ms=100]]"))
    assert raised.value.status_code == 504 and "did not finish within 1.5 s" in raised.value.message
    status, events = await sse_events(engine, chat("[[fake:slow n=40 delay_ms=100]]", stream=True))
    assert status == 200 and any(isinstance(e, dict) and e.get("error", {}).get("code") == "timeout" for e in events)
    await no_leaks(fake_claude_env)


async def test_a_timed_out_child_that_ignores_sigterm_is_killed(start_engine, fake_claude_env):
    engine = await start_engine(**IDLE)
    status, events = await sse_events(engine, chat("[[fake:ignore_sigterm]]", stream=True))
    assert status == 200 and any(isinstance(e, dict) and e.get("error", {}).get("code") == "timeout" for e in events)
    await no_leaks(fake_claude_env)


async def test_a_child_that_never_exits_after_its_answer_is_reaped(start_engine, fake_claude_env):
    engine = await start_engine(**IDLE)
    async with strict_client(engine) as client:
        answer = await client.chat.completions.create(**chat("[[fake:no_exit_after_result]]"))
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content
    # exit_grace (2 s) then TERM: give it a generous bound.
    assert await settle_leaks(fake_claude_env, timeout=8.0) == []
