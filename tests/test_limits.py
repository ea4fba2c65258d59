"""Limits through real clients: run slots and the wait queue (429 + Retry-After), the body
cap (413 in the OpenAI shape), and prompts too big for any model refused before a spawn."""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp
import openai
import pytest

from bench.soak import recorded_runs, settle_leaks
from tests.conftest import strict_client
from tests.waiting import no_runs_left
from tui_proxy.config import Config
from tui_proxy.server.admission import Admission, prompt_chars
from tests.fake_claude.recording import sent_text

MAX_PROMPT_CHARS = Config().max_prompt_chars


def chat(text: str, **extra) -> dict:
    return {"model": "sonnet", "messages": [{"role": "user", "content": text}], **extra}


async def post(engine, body, **kw) -> tuple[int, dict, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", data=data, headers={"Content-Type": "application/json"}, **kw) as response:
            raw = await response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw.startswith(b"{") else {"raw": raw.decode()}


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


# -- run slots and the queue ------------------------------------------------------------


async def test_default_concurrency_is_bounded_with_a_bounded_queue():
    from tui_proxy.config import Config

    config = Config()
    assert 1 <= config.max_concurrency <= 16 and 0 < config.max_queue <= 256 and 0 < config.queue_timeout <= 120


async def test_a_full_queue_gets_429_with_retry_after_and_the_sdk_sees_a_rate_limit(start_engine, fake_claude_env):
    engine = await start_engine(max_concurrency=2, max_queue=1, first_output_timeout=30)
    hanging = [asyncio.ensure_future(post(engine, chat("[[fake:hang]] slot"))) for _ in range(2)]
    await wait_for(lambda: engine.admission.running == 2)
    # A slot is taken before its CLI starts: under load the second child may not have begun
    # yet, so wait until both really run before counting what reached the CLI below.
    await wait_for(lambda: len(recorded_runs(fake_claude_env)) == 2, timeout=30)
    queued = asyncio.ensure_future(post(engine, chat("[[fake:echo]] queued")))
    await wait_for(lambda: engine.admission.waiting == 1)

    status, headers, body = await post(engine, chat("[[fake:echo]] one too many"))
    assert status == 429
    assert body["error"]["type"] == "rate_limit_error" and body["error"]["code"] == "concurrency_limit"
    assert 0 < int(headers["Retry-After"]) <= 120  # the SDKs honour it (<= 120 s) before retrying
    async with strict_client(engine) as client:
        with pytest.raises(openai.RateLimitError) as raised:
            await client.chat.completions.create(**chat("[[fake:echo]] sdk"))
    assert raised.value.response.headers["retry-after"] == headers["Retry-After"]
    # Refused requests never reached the CLI: only the two hanging runs exist.
    assert len(recorded_runs(fake_claude_env)) == 2

    for task in hanging:  # free the slots: the queued request then runs normally
        task.cancel()
    status, _, body = await queued
    assert status == 200 and body["choices"][0]["message"]["content"] == "You said: [[fake:echo]] queued"
    assert await settle_leaks(fake_claude_env) == []
    await no_runs_left(engine)  # a cancelled handler gives its slot back once its child is reaped


async def test_a_queued_request_waits_at_most_queue_timeout(start_engine, fake_claude_env):
    engine = await start_engine(max_concurrency=1, max_queue=4, queue_timeout=0.5, first_output_timeout=30)
    hanging = asyncio.ensure_future(post(engine, chat("[[fake:hang]]")))
    await wait_for(lambda: engine.admission.running == 1)
    status, headers, body = await post(engine, chat("[[fake:echo]] waits"))
    assert status == 429 and "within 0.5 s" in body["error"]["message"] and "Retry-After" in headers
    hanging.cancel()
    assert await settle_leaks(fake_claude_env) == []
    await wait_for(lambda: engine.admission.running == 0 and engine.admission.waiting == 0)


async def test_a_client_leaving_the_queue_frees_its_place(start_engine, fake_claude_env):
    engine = await start_engine(max_concurrency=1, max_queue=1, first_output_timeout=30)
    hanging = asyncio.ensure_future(post(engine, chat("[[fake:hang]]")))
    await wait_for(lambda: engine.admission.running == 1)
    leaving = asyncio.ensure_future(post(engine, chat("[[fake:echo]] gives up")))
    await wait_for(lambda: engine.admission.waiting == 1)
    leaving.cancel()
    await wait_for(lambda: engine.admission.waiting == 0)
    hanging.cancel()
    await wait_for(lambda: engine.admission.running == 0)
    # The queue place and the slot are both free again: two requests in a row get served.
    for i in range(2):
        status, _, _ = await post(engine, chat(f"[[fake:echo]] after {i}"))
        assert status == 200
    # The one that left was never run, and its exchange is closed (not left open).
    assert [r for r in recorded_runs(fake_claude_env) if "gives up" in sent_text(r)] == []
    assert await settle_leaks(fake_claude_env) == []


async def test_admission_never_leaks_a_slot_when_waiters_race():
    """Many waiters, some cancelled, some timing out, while slots are released: at the end
    every slot is free again (a lost wait-vs-acquire race would keep one forever)."""
    admission = Admission(max_concurrency=2, max_queue=50, queue_timeout=0.05)
    served = 0

    async def user(hold: float) -> None:
        nonlocal served
        try:
            async with admission.slot():
                served += 1
                await asyncio.sleep(hold)
        except Exception:
            pass  # 429: timed out in the queue

    tasks = [asyncio.ensure_future(user(0.01 * (i % 4))) for i in range(60)]
    await asyncio.sleep(0.03)
    for task in tasks[::5]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert served > 0
    assert admission.running == 0 and admission.waiting == 0
    for _ in range(2):  # both slots can be taken at once again
        await admission._slots.acquire()
    assert admission._slots.locked()


async def test_the_queue_is_not_full_while_a_freed_slot_is_being_handed_over():
    admission = Admission(max_concurrency=1, max_queue=1, queue_timeout=5)
    release = asyncio.Event()

    async def holder() -> None:
        async with admission.slot():
            await release.wait()

    first = asyncio.ensure_future(holder())
    await asyncio.sleep(0)
    second = asyncio.ensure_future(holder())
    await asyncio.sleep(0.01)
    assert admission.running == 1 and admission.waiting == 1
    release.set()
    await asyncio.sleep(0)  # the first leaves and hands its slot to the second, not yet running
    assert admission.running == 0 and admission.waiting == 1
    # One slot, one queue place, nobody really waiting: a newcomer queues, no 429.
    async with admission.slot():
        pass
    await asyncio.gather(first, second)


# -- body size -------------------------------------------------------------------------------


async def test_an_oversized_body_gets_413_in_the_openai_shape_and_spawns_nothing(start_engine, fake_claude_env):
    engine = await start_engine(max_body_bytes=64 * 1024)
    status, headers, body = await post(engine, chat("x" * 100_000))
    assert status == 413
    assert headers["Content-Type"].startswith("application/json") and headers.get("x-should-retry") == "false"
    assert set(body["error"]) == {"message", "type", "param", "code"} and body["error"]["code"] == "request_too_large"
    async with strict_client(engine) as client:
        with pytest.raises(openai.APIStatusError) as raised:
            await client.chat.completions.create(**chat("x" * 100_000))
    assert raised.value.status_code == 413  # a status, not a connection reset mid-upload
    assert recorded_runs(fake_claude_env) == []
    # The server is fine afterwards.
    assert (await post(engine, chat("[[fake:echo]] small")))[0] == 200


async def test_the_default_body_limit_takes_big_images_but_not_more():
    from tui_proxy.config import Config

    # 5 MB images (the API's own cap) in base64 are ~6.7 MB: several must fit.
    assert 20 * 1024 * 1024 <= Config().max_body_bytes <= 64 * 1024 * 1024


# -- prompt size -------------------------------------------------------------------------------


async def test_a_prompt_beyond_the_bound_is_refused_up_front(start_engine, fake_claude_env):
    engine = await start_engine(max_prompt_chars=50_000)
    for stream in (False, True):
        status, headers, body = await post(engine, chat("y" * 50_001, stream=stream))
        assert status == 400  # a real status for streams too: nothing was committed
        error = body["error"]
        assert error["code"] == "context_length_exceeded" and error["param"] == "messages"
        assert "about 50,0" in error["message"] and "(50,000," in error["message"]
        assert headers.get("x-should-retry") == "false"
    async with strict_client(engine) as client:
        with pytest.raises(openai.BadRequestError) as raised:
            await client.chat.completions.create(**chat("y" * 40_000, messages=[{"role": "system", "content": "s" * 20_000}, {"role": "user", "content": "y" * 40_000}]))
    assert raised.value.code == "context_length_exceeded"  # system text counts too
    assert recorded_runs(fake_claude_env) == []  # refused before spawning
    # Just under the bound runs (images do not count: they are capped separately).
    image = "data:image/png;base64," + "A" * 80_000
    under = {"model": "sonnet", "messages": [{"role": "user", "content": [{"type": "text", "text": "[[fake:echo]] " + "z" * 40_000}, {"type": "image_url", "image_url": {"url": image}}]}]}
    status, _, body = await post(engine, under)
    assert status == 200, body
    assert len(recorded_runs(fake_claude_env)) == 1


async def test_the_default_prompt_bound_refuses_a_prompt_far_beyond_any_context(start_engine, fake_claude_env):
    engine = await start_engine()
    assert engine.config.max_prompt_chars == 8_000_000  # the README's figure
    status, _, body = await post(engine, chat("w" * (MAX_PROMPT_CHARS + 1)))
    assert status == 400 and body["error"]["code"] == "context_length_exceeded"
    assert recorded_runs(fake_claude_env) == []


def test_prompt_chars_counts_text_everywhere_but_inline_data():
    body = {
        "model": "sonnet",
        "messages": [
            {"role": "system", "content": "abc"},
            {"role": "user", "content": [{"type": "text", "text": "defg"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "description": "xyz"}}],
    }
    # Every string except the data: URL; never less than the texts themselves.
    assert prompt_chars(body) >= len("abc") + len("defg") + len("{}") + len("xyz")
    assert prompt_chars(body) < 200
    deep: object = "q" * 10
    for _ in range(5000):  # deeper than Python's recursion limit: still measured
        deep = [deep]
    assert prompt_chars(deep) == 10


async def test_json_nested_deeper_than_the_decoder_goes_is_a_400_not_a_500(start_engine, fake_claude_env):
    engine = await start_engine()
    status, headers, body = await post(engine, b"[" * 200_000 + b"]" * 200_000)
    assert status == 400 and body["error"]["code"] == "invalid_json"
    assert headers["Content-Type"].startswith("application/json")
    assert recorded_runs(fake_claude_env) == []
    assert os.getpid() and (await post(engine, chat("[[fake:echo]] still fine")))[0] == 200


async def test_lone_surrogate_escapes_are_a_400_not_a_500(start_engine, fake_claude_env):
    """`"\\ud800"` is valid JSON but not Unicode: nothing could echo or capture it as UTF-8."""
    engine = await start_engine()
    for body in (
        rb'{"model":"\ud800","messages":[{"role":"user","content":"hi"}]}',
        rb'{"model":"sonnet","messages":[{"role":"user","content":"[[fake:echo]] \udfff"}]}',
        rb'{"model":"sonnet","stream":true,"messages":[{"role":"user","content":"[[fake:echo]] x"}],"user":"\ud800"}',
    ):
        status, _, answer = await post(engine, body)
        assert status == 400 and answer["error"]["code"] == "invalid_json", answer
    # A proper pair (an emoji from an ensure_ascii encoder) is ordinary text.
    status, _, answer = await post(engine, rb'{"model":"sonnet","messages":[{"role":"user","content":"[[fake:echo]] \ud83d\ude00"}]}')
    assert status == 200 and answer["choices"][0]["message"]["content"].endswith("\U0001f600")
    assert len(recorded_runs(fake_claude_env)) == 1
