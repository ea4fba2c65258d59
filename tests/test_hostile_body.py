"""Item 1 of issue 16: no single request may hold up the event loop (every client and
`/health` share it). Big bodies are decoded off the loop; pathological ones (millions of
tiny values, too many messages) are refused before decoding with a clear 400; prompt
rendering is linear. The long version, with latencies, is `bench/big_requests.py`."""

from __future__ import annotations

import asyncio
import json
import threading
import tracemalloc

import aiohttp
import pytest

from tui_proxy.claude.prompt import render_prompt
from tui_proxy.openai.chat_request import parse_chat_request
from tui_proxy.server import body as body_module
from tui_proxy.server.body import MAX_JSON_VALUES, decode_body, json_value_count


def chat_body(messages: list[dict], **extra) -> bytes:
    return json.dumps({"model": "sonnet", "messages": messages, **extra}).encode()


def conversation_of(n: int) -> list[dict]:
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"} for i in range(n)]
    msgs.append({"role": "user", "content": "[[fake:echo]] last"})
    return msgs


async def test_health_answers_while_a_big_body_is_being_decoded(start_engine, monkeypatch):
    engine = await start_engine()
    decoding = threading.Event()
    release = threading.Event()
    real_decode = body_module._decode

    def held_decode(body: bytes, max_prompt_chars: int):
        if len(body) > 512 * 1024:
            decoding.set()
            assert release.wait(30), "never released"
        return real_decode(body, max_prompt_chars)

    monkeypatch.setattr(body_module, "_decode", held_decode)
    big = chat_body(conversation_of(20_000))
    assert len(big) > 512 * 1024
    order: list[str] = []
    async with aiohttp.ClientSession() as session:

        async def big_request() -> int:
            async with session.post(engine.url + "/v1/chat/completions", data=big, headers={"Content-Type": "application/json"}) as response:
                await response.read()
                order.append("big")
                return response.status

        task = asyncio.ensure_future(big_request())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while not decoding.is_set():
            assert loop.time() < deadline and not task.done(), "the big body was never decoded"
            await asyncio.sleep(0.01)
        # Decoding is in progress (held in its worker thread): the loop must still answer.
        async with session.get(engine.url + "/health") as response:
            assert response.status == 200
            order.append("health")
        release.set()
        assert await asyncio.wait_for(task, 30) == 200
    assert order == ["health", "big"]


async def test_tiny_values_body_is_refused_before_decoding_without_the_memory():
    # 3 MiB of `[],` : the 30 MiB attack scaled down; json.loads would build ~1M lists.
    values = 1_000_000
    body = b'{"model":"sonnet","messages":[{"role":"user","content":"hi"}],"metadata":[' + b",".join([b"[]"] * values) + b"]}"
    tracemalloc.start()
    try:
        data, refused = await decode_body(body, 8_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data is None and refused is not None
    assert refused.status == 400 and refused.code == "too_many_values"
    # Decoding would have cost ~20x the body; refusing costs (about) nothing beyond it.
    assert peak < len(body), f"peak {peak:,} bytes for a {len(body):,}-byte body"


async def test_tiny_values_body_gets_a_400_through_the_proxy(engine):
    body = b'{"model":"sonnet","messages":[{"role":"user","content":"hi"}],"metadata":[' + b",".join([b"[]"] * (MAX_JSON_VALUES + 10)) + b"]}"
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
            error = (await response.json())["error"]
    assert error["code"] == "too_many_values" and error["type"] == "invalid_request_error"
    assert "JSON values" in error["message"]


async def test_too_many_messages_is_a_400_naming_messages(engine, monkeypatch):
    monkeypatch.setattr(body_module, "MAX_MESSAGES", 1_000)
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", data=chat_body(conversation_of(1_500)), headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
            error = (await response.json())["error"]
        assert error["code"] == "array_above_max_length" and error["param"] == "messages"
        async with session.post(engine.url + "/v1/chat/completions", data=chat_body(conversation_of(900)), headers={"Content-Type": "application/json"}) as response:
            assert response.status == 200, await response.text()


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "x,[{,,", "b": [1, 2, {"c": 3}]}',
        '{"a": "\\\\", "b": [1, 2]}',
        '{"a": "say \\"[,{\\" twice", "b": [[], {}]}',
        '{"a": "\\\\\\"[[[", "b": [1]}',
        '[]',
    ],
)
def test_value_count_ignores_punctuation_inside_strings(text):
    body = text.encode()
    # Force the exact walk (stop_above=0 would stop at once; a limit under the plain count walks).
    plain = body.count(b"[") + body.count(b"{") + body.count(b",")
    outside = sum(1 for ch in _outside_strings(text) if ch in "[{,")
    assert json_value_count(body, stop_above=max(plain - 1, outside)) == outside


def _outside_strings(text: str) -> str:
    out, in_string, escaped = [], False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        else:
            out.append(ch)
    return "".join(out)


def test_rendering_keeps_every_message_in_order():
    chat = parse_chat_request(json.loads(chat_body(conversation_of(5_000))))
    prompt = render_prompt(chat.request.conversation)
    text = prompt.text
    positions = [text.index(f"message {i}\n") for i in (0, 1, 2499, 4999)]
    assert positions == sorted(positions)
    assert text.count("<user>") == 2_500 and text.count("<assistant>") == 2_500
    assert text.endswith("[[fake:echo]] last")
