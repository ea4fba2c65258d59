"""Chat completions end to end: the real `openai` SDK (strict) → the proxy → the fake CLI."""

from __future__ import annotations

import asyncio
import os
import json

import aiohttp
import openai
import pytest

from conftest import ROOT, strict_client, wait_until
from tests.waiting import no_children_left, no_runs_left
from tui_proxy.claude import lines as L
from tui_proxy.models import CATALOGUE


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


async def test_non_stream_completion_has_the_full_openai_shape(engine, openai_client):
    raw = await openai_client.chat.completions.with_raw_response.create(model="claude-sonnet-4", messages=user("hello there"), temperature=0, top_p=1, seed=7, user="alice", metadata={"a": "b"}, store=False)
    reply = raw.parse()
    assert reply.id == "chatcmpl-" + raw.headers["x-request-id"]
    assert reply.object == "chat.completion"
    assert reply.model == "claude-sonnet-4"
    assert reply.choices[0].message.content == "You said: hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.usage.prompt_tokens_details.cached_tokens > 0  # cache reads are prompt tokens too


async def test_stream_chunks_follow_the_contract(engine):
    url = engine.url + "/v1/chat/completions"
    body = {"model": "sonnet", "messages": user("[[fake:text text=\"one two three\" chunks=3]]"), "stream": True}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        raw = (await response.read()).decode()
    events = [line[len("data: ") :] for line in raw.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {(c["id"], c["created"], c["model"], c["object"]) for c in chunks} == {(chunks[0]["id"], chunks[0]["created"], "sonnet", "chat.completion.chunk")}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all("role" not in c["choices"][0]["delta"] for c in chunks[1:])
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes[:-1] == [None] * (len(chunks) - 1) and finishes[-1] == "stop"
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "one two three"
    assert 1 + 1 + 1 <= len(chunks) <= 1 + 3 + 1  # deltas the proxy read together leave as one chunk
    assert all("usage" not in c for c in chunks)  # only when asked for


async def test_deltas_that_come_apart_are_sent_apart(engine):
    """A chunk per delta as the CLI writes them; only deltas already read together are joined
    (tests/test_reader.py), never held back to wait for more."""
    url = engine.url + "/v1/chat/completions"
    body = {"model": "sonnet", "messages": user("[[fake:text text=\"one two three\" chunks=3 delay_ms=150]]"), "stream": True}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        contents = []
        async for line in response.content:
            if line.startswith(b"data: {"):
                content = json.loads(line[len(b"data: ") :])["choices"][0]["delta"].get("content")
                if content:
                    contents.append(content)
    assert len(contents) == 3 and "".join(contents) == "one two three"


async def test_the_opening_leaves_with_the_first_text_in_one_write(engine, monkeypatch):
    from tui_proxy.server.sse import SseStream

    writes: list[bytes] = []
    original = SseStream._write

    async def recording(self, data: bytes, **kwargs) -> None:
        writes.append(data)
        await original(self, data, **kwargs)

    monkeypatch.setattr(SseStream, "_write", recording)
    body = {"model": "sonnet", "messages": user("[[fake:text text=\"one two three\" chunks=3]]"), "stream": True}
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        assert response.status == 200
        await response.read()
    first = [line for line in writes[0].decode().split("\n") if line.startswith("data: ")]
    # The role chunk does not go alone: the client's first packet holds the first text.
    assert len(first) >= 2 and '"role":"assistant"' in first[0] and '"content":"one' in first[1]


async def test_the_end_leaves_with_the_body_end_in_one_write(engine, monkeypatch):
    from tui_proxy.server.sse import SseStream

    writes: list[tuple[bytes, bool]] = []
    original = SseStream._write

    async def recording(self, data: bytes, *, eof: bool = False) -> None:
        writes.append((data, eof))
        await original(self, data, eof=eof)

    monkeypatch.setattr(SseStream, "_write", recording)
    body = {"model": "sonnet", "messages": user("[[fake:text text=\"one two three\" chunks=3]]"), "stream": True}
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        assert response.status == 200
        text = (await response.read()).decode()
    assert text.endswith("data: [DONE]\n\n")
    # The finish chunk, [DONE] and the chunked body's end: one write, the last.
    last, eof = writes[-1]
    assert eof and '"finish_reason":"stop"' in last.decode() and last.decode().endswith("data: [DONE]\n\n")
    assert not any(eof for _, eof in writes[:-1])


async def test_include_usage_adds_one_usage_chunk(openai_client):
    stream = await openai_client.chat.completions.create(model="sonnet", messages=user("hi"), stream=True, stream_options={"include_usage": True})
    chunks = [c async for c in stream]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


async def test_streamed_text_equals_non_streamed_text(openai_client):
    prompt = user("[[fake:unicode]]")
    reply = await openai_client.chat.completions.create(model="sonnet", messages=prompt)
    stream = await openai_client.chat.completions.create(model="sonnet", messages=prompt, stream=True)
    streamed = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert streamed == reply.choices[0].message.content
    assert "\u2028" in streamed and "\u2029" in streamed


async def test_stop_sequences_cut_the_output(openai_client):
    prompt = user('[[fake:text text="alpha beta STOP gamma" chunks=5]]')
    reply = await openai_client.chat.completions.create(model="sonnet", messages=prompt, stop=["STOP"])
    assert reply.choices[0].message.content == "alpha beta "
    assert reply.choices[0].finish_reason == "stop"
    stream = await openai_client.chat.completions.create(model="sonnet", messages=prompt, stop="STOP", stream=True)
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "alpha beta "


async def test_max_tokens_cuts_with_finish_length(openai_client):
    reply = await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:tokens n=200]]"), max_tokens=10)
    assert reply.choices[0].finish_reason == "length"
    assert 0 < reply.usage.completion_tokens <= 10
    stream = await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:tokens n=200]]"), max_completion_tokens=5, stream=True)
    chunks = [c async for c in stream]
    assert chunks[-1].choices[0].finish_reason == "length"
    assert len([c for c in chunks if c.choices[0].delta.content]) <= 5


async def test_big_lines_and_garbage_lines_pass(openai_client):
    big = await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:bigline size=3000000]]"))
    assert len(big.choices[0].message.content) == 3_000_000
    noisy = await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:garbage]] hi"))
    assert noisy.choices[0].message.content
    loud = await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:stderr_noise]] hi"))
    assert loud.choices[0].finish_reason == "stop"


async def test_twenty_concurrent_streams(start_engine):
    engine = await start_engine(max_concurrency=20)

    async def one(client, i: int) -> str:
        stream = await client.chat.completions.create(model="sonnet", messages=user(f"[[fake:tokens n=50 delay_ms=5]] #{i}"), stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    async with strict_client(engine) as client:
        texts = await asyncio.gather(*(one(client, i) for i in range(20)))
    assert len(texts) == 20 and len(set(texts)) == 1 and len(texts[0].split()) == 50
    # Each child is reaped in the background after its answer went out: wait for that.
    await no_runs_left(engine)
    await no_children_left()


async def test_models_catalogue_and_retrieve(openai_client):
    ids = [m.id async for m in openai_client.models.list()]
    assert ids == [entry.id for entry in CATALOGUE]
    assert {"claude-opus-4", "claude-sonnet-4", "claude-haiku-4", "opus", "sonnet", "haiku"} <= set(ids)
    model = await openai_client.models.retrieve("claude-code-cli/claude-sonnet-4")  # ids may hold '/'
    assert model.id == "claude-code-cli/claude-sonnet-4"
    assert (await openai_client.models.retrieve("claude-sonnet-4-5-20250929")).id == "claude-sonnet-4-5-20250929"
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"


async def test_health_reports_the_cli(engine):
    async with aiohttp.ClientSession() as session, session.get(engine.url + "/health") as response:
        health = await response.json()
    assert health["status"] == "ok"
    assert health["cli"]["version"] == "2.1.328" and health["cli"]["found"] is True
    assert health["active_runs"] == 0
    # Every face it lists is routed: none answers 404.
    assert {"POST /v1/chat/completions", "POST /v1/responses", "POST /v1/messages"} <= set(health["surfaces"])
    async with aiohttp.ClientSession() as session:
        for surface in health["surfaces"]:
            method, path = surface.split(" ")
            async with session.request(method, engine.url + path.replace("{id}", "sonnet"), json={}) as response:
                assert response.status != 404 or "model" in path or "responses/" in path, surface


async def test_a_client_that_hangs_up_after_done_got_a_complete_answer(engine):
    """curl closes the connection right after the last chunk: the answer was delivered."""
    from tui_proxy.events import ExchangeFinished

    finished: list[ExchangeFinished] = []
    engine.bus.subscribe(lambda event: finished.append(event) if isinstance(event, ExchangeFinished) else None)
    body = {"model": "sonnet", "stream": True, "messages": user("[[fake:no_exit_after_result]] hi")}
    for _ in range(3):
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
            async for line in response.content:
                if line.startswith(b"data: [DONE]"):
                    break
    assert await wait_until(lambda: len(finished) == 3, timeout=10)
    assert [(e.status, e.complete, e.error) for e in finished] == [(200, True, None)] * 3


async def read_sse(engine, prompt: str) -> tuple[int, list[str]]:
    """Every SSE line as sent (comments included), up to the end of the body."""
    body = {"model": "sonnet", "stream": True, "messages": user(prompt)}
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        return response.status, [line.decode().rstrip("\n") async for line in response.content if line.strip()]


async def test_a_silent_cli_gets_keepalives_then_an_error_event(start_engine):
    engine = await start_engine(idle_timeout=2.5, keepalive_interval=0.5)
    status, lines = await read_sse(engine, "[[fake:hang_after_start deltas=2]]")
    assert status == 200
    first_keepalive = lines.index(": keep-alive")
    text_lines = [i for i, line in enumerate(lines) if '"content":"' in line and '"content":""' not in line]
    assert text_lines and text_lines[-1] < first_keepalive  # the two deltas went out before the silence
    error = json.loads(lines[-2].removeprefix("data: "))["error"]
    assert error["code"] == "timeout" and lines[-1] == "data: [DONE]"


async def test_headers_wait_for_output_only_so_long(start_engine):
    """A CLI that says nothing: after `stream_hold` the 200 goes out and keep-alives follow."""
    engine = await start_engine(stream_hold=0.3, keepalive_interval=0.4, first_output_timeout=2)
    status, lines = await read_sse(engine, "[[fake:hang]]")
    assert status == 200
    assert json.loads(lines[0].removeprefix("data: "))["choices"][0]["delta"]["role"] == "assistant"
    assert ": keep-alive" in lines
    assert json.loads(lines[-2].removeprefix("data: "))["error"]["code"] == "timeout"


async def test_text_followed_by_a_long_pause_is_not_held_back(start_engine, tmp_path, monkeypatch):
    """Deltas read together are written together, but never wait for the CLI's next output:
    here the last delta shares its read with a line that yields nothing, then the CLI stalls."""
    golden = ROOT / "tests" / "golden" / "text.jsonl"
    head = [line for line in golden.read_text().splitlines() if '"content_block_stop"' not in line]
    first_delta = next(i for i, line in enumerate(head) if '"text_delta"' in line)
    stop_line = '{"type":"stream_event","event":{"type":"content_block_stop","index":0},"session_id":"s","parent_tool_use_id":null,"uuid":"u"}'
    lines = head[: first_delta + 2] + [stop_line]
    (tmp_path / "stall.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "stall.meta.json").write_text(json.dumps({"exit_code": 0, "stopped_with_sigterm_after": "content_block_stop", "one_write": True}))
    monkeypatch.setenv("CLAUDE_TRANSCRIPT", str(tmp_path / "stall"))
    engine = await start_engine(claude=str(ROOT / "tests" / "bin" / "claude-transcript"), idle_timeout=30, keepalive_interval=60)
    body = {"model": "sonnet", "stream": True, "messages": user("hi")}
    expected = "".join(L.text_delta_text(line) or "" for line in lines)
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        received = ""
        while not received.endswith("\n\n") or _sse_text(received) != expected:  # the two deltas, then the CLI is silent
            received += (await asyncio.wait_for(response.content.readany(), 5)).decode()
    assert _sse_text(received) == expected and len(expected) > 1


def _sse_text(received: str) -> str:
    """The content of the chat chunks in a stream read so far (whole events only)."""
    chunks = [json.loads(line[len("data: ") :]) for line in received.split("\n") if line.startswith("data: {")]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


async def test_a_deleted_working_folder_is_made_again_by_the_next_request(engine, openai_client):
    import shutil

    workdir = engine.runs.settings.workdir
    assert workdir and (await openai_client.chat.completions.create(model="sonnet", messages=user("hi"))).choices[0].message.content
    shutil.rmtree(workdir)  # e.g. the data folder cleaned up under a running proxy
    reply = await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:text text=\"again\"]]"))
    assert reply.choices[0].message.content == "again"
    assert os.path.isdir(workdir)
