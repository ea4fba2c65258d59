"""Replay without the engine: a small OpenAI-shaped server that records captures like the
proxy does (X-Replay-Of → replay_of, x-request-id), then replay, wait, diff."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time

import pytest
from aiohttp import web

from tui_proxy.capture import CaptureStore
from tui_proxy.capture.model import Capture, CaptureState, TimedLine
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.commands import replay as replay_command
from tui_proxy.events import EventBus, ExchangeFinished, RequestReceived, ResponseChunk, ResponseStarted, Usage
from tui_proxy.ids import new_exchange_id
from tui_proxy.replay.send import ReplayRefused, await_capture, configured_url, edit_in_editor, read_answer, replay, target_url
from tui_proxy.replay.diff import diff, render_diff


class RecordingServer:
    """Answers `answer N` (N counts requests) and captures each exchange into `store`."""

    def __init__(self, store: CaptureStore):
        self.bus = EventBus()
        store.record(self.bus)
        self.count = 0
        self.seen: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((dict(request.headers), body))
        self.count += 1
        xid, start = new_exchange_id(), time.time()
        stream = json.loads(body).get("stream", False)
        self.bus.publish(RequestReceived(xid, start, method=request.method, path=request.path_qs, headers=dict(request.headers), body=body, client=request.headers.get("User-Agent", ""), remote="127.0.0.1", model="m", stream=stream, replay_of=request.headers.get("X-Replay-Of")))
        words = [f"answer {self.count} ", "second line\n", "unchanged"]
        headers = {"x-request-id": xid}
        usage = Usage(prompt_tokens=10, completion_tokens=3 + self.count)
        if stream:
            response = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream"})
            await response.prepare(request)
            self.bus.publish(ResponseStarted(xid, time.time(), 200, {"Content-Type": "text/event-stream"}, True))
            for word in words:
                data = json.dumps({"model": "m", "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]})
                self.bus.publish(ResponseChunk(xid, time.time(), data))
                await response.write(f"data: {data}\n\n".encode())
            for data in (json.dumps({"model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": usage.completion_tokens}}), "[DONE]"):
                await response.write(f"data: {data}\n\n".encode())
        else:
            data = {"model": "m", "choices": [{"index": 0, "message": {"content": "".join(words)}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": usage.completion_tokens}}
            response = web.json_response(data, headers=headers)
        self.bus.publish(ExchangeFinished(xid, time.time(), 200, model="m", finish_reason="stop", usage=usage, text="".join(words), ttft_ms=5.0, duration_ms=(time.time() - start) * 1000))
        return response


@pytest.fixture
def store(tmp_path):
    with CaptureStore.open(tmp_path / "captures.sqlite3", commit_interval=0.01) as store:
        yield store


@pytest.fixture
async def server(store):
    recording = RecordingServer(store)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", recording.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recording.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    yield recording
    await runner.cleanup()


def seed(store, **kwargs):
    events = exchange_events(**kwargs)
    bus = EventBus()
    store.record(bus)
    for event in events:
        bus.publish(event)
    store.flush()
    return store.get(events[0].exchange_id)


@pytest.mark.parametrize("stream", [True, False])
async def test_replay_records_a_linked_capture_and_diffs(store, server, stream):
    original = seed(store, stream=stream, words=3)
    result = await replay(original, to_url=server.url, api_key="sk-replay")
    headers, body = server.seen[0]
    assert headers["X-Replay-Of"] == original.id and headers["Authorization"] == "Bearer sk-replay"
    assert "Cookie" not in headers and body == original.request_body
    assert result.status == 200 and result.streaming == stream and result.new_id
    assert result.answer.text == "answer 1 second line\nunchanged" and result.answer.finish_reason == "stop"
    assert result.answer.usage.completion_tokens == 4
    if stream:
        assert result.ttft_ms is not None and result.chunks[-1].text == "[DONE]"

    new = await await_capture(store, result.new_id, timeout=5)
    assert new is not None and new.replay_of == original.id
    d = diff(original, new)
    assert not d.same_text and d.outcome_changed
    assert "-word0 word1 word2 " in d.text_diff and "+answer 1 second line" in d.text_diff
    rows = {row.name: row for row in d.rows}
    assert not rows["status"].changed and rows["completion tokens"].original == "3" and rows["completion tokens"].new == "4"
    assert rows["completion tokens"].delta == "+33.3%"
    text = render_diff(d)
    assert f"replay {new.id} of {original.id}" in text and "* completion tokens" in text and "+answer 1" in text


async def test_replay_with_an_edited_body(store, server):
    original = seed(store, stream=False)
    edited = original.request_body.replace(b"Hamlet", b"Macbeth")
    await replay(original, to_url=server.url, body_override=edited)
    assert server.seen[0][1] == edited


async def test_identical_answers_give_an_unchanged_outcome(store, server):
    original = seed(store, stream=True)
    first = await replay(original, to_url=server.url)
    server.count = 0  # the same answer again
    second = await replay(original, to_url=server.url)
    a = await await_capture(store, first.new_id)
    b = await await_capture(store, second.new_id)
    d = diff(a, b)
    assert d.same_text and not d.outcome_changed and "answer text: identical" in render_diff(d)


async def test_in_progress_exchanges_are_refused(store):
    events = exchange_events()
    bus = EventBus()
    store.record(bus)
    for event in events[:4]:
        bus.publish(event)
    store.flush()
    with pytest.raises(ReplayRefused):
        await replay(store.get(events[0].exchange_id), to_url="http://127.0.0.1:9")


async def test_the_client_side_view_stands_in_when_the_store_has_nothing(store, server):
    original = seed(store, stream=True, words=3)
    result = await replay(original, to_url=server.url)
    stand_in = result.as_capture(original)
    assert stand_in.text == result.answer.text and stand_in.replay_of == original.id
    assert diff(original, stand_in).rows[0].new == "200"


def test_read_answer_shapes():
    chat = json.dumps({"model": "m", "choices": [{"message": {"content": "hi"}, "finish_reason": "length"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 2}}})
    answer = read_answer([], chat.encode(), False)
    assert (answer.text, answer.finish_reason, answer.usage.cached_tokens) == ("hi", "length", 2)
    error = read_answer([], b'{"error":{"message":"bad","type":"invalid_request_error","param":"model","code":null}}', False)
    assert error.error.type == "invalid_request_error" and error.text == ""
    responses = [
        TimedLine(0, json.dumps({"type": "response.created", "response": {"object": "response", "status": "in_progress", "model": "m"}})),
        TimedLine(0, json.dumps({"type": "response.output_text.delta", "delta": "Hel"})),
        TimedLine(0, json.dumps({"type": "response.output_text.delta", "delta": "lo"})),
        TimedLine(0, json.dumps({"type": "response.completed", "response": {"object": "response", "status": "completed", "output": [{"content": [{"type": "output_text", "text": "Hello"}]}], "usage": {"input_tokens": 5, "output_tokens": 2}}})),
    ]
    answer = read_answer(responses, b"", True)
    assert (answer.text, answer.finish_reason, answer.usage.prompt_tokens) == ("Hello", "completed", 5)
    legacy = read_answer([], b'{"choices":[{"text":"old","finish_reason":"stop"}]}', False)
    assert legacy.text == "old"


def test_edit_in_editor_uses_the_editor_command():
    body = json.dumps({"messages": [{"role": "user", "content": "Hamlet"}]}).encode()
    editor = f"{sys.executable} -c \"import sys; p=sys.argv[1]; s=open(p).read(); open(p,'w').write(s.replace('Hamlet','Macbeth'))\""
    edited = edit_in_editor(body, editor=editor)
    assert json.loads(edited) == {"messages": [{"role": "user", "content": "Macbeth"}]}


async def test_the_replay_command_prints_the_diff(store, server, tmp_path, capsys, monkeypatch):
    original = seed(store, stream=True, words=3)
    parser = argparse.ArgumentParser()
    replay_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["replay", original.id[:14], "--to", server.url, "--data-dir", str(tmp_path), "--wait", "5"])
    # The command runs its own event loop: run it off this one.
    code = await asyncio.to_thread(args.run, args)
    out = capsys.readouterr().out
    assert code == 0 and f"of {original.id}" in out and "+answer 1 " in out

    args = parser.parse_args(["replay", original.id, "--to", server.url, "--data-dir", str(tmp_path), "--json"])
    code = await asyncio.to_thread(args.run, args)
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["original_id"] == original.id and data["same_text"] is False


def test_the_replay_command_reports_a_dead_proxy(store, tmp_path, capsys):
    original = seed(store)
    parser = argparse.ArgumentParser()
    replay_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["replay", original.id, "--to", "http://127.0.0.1:9", "--data-dir", str(tmp_path)])
    assert args.run(args) == 1 and "failed" in capsys.readouterr().err


def test_configured_url_follows_the_port_and_host_settings(monkeypatch):
    for name in ("CLAUDE_MAX_TUI_PORT", "CLAUDE_MAX_TUI_HOST"):
        monkeypatch.delenv(name, raising=False)
    assert configured_url() is None  # nothing says where the proxy runs: the capture decides
    assert configured_url(5000) == "http://127.0.0.1:5000"
    monkeypatch.setenv("CLAUDE_MAX_TUI_PORT", "4000")
    assert configured_url() == "http://127.0.0.1:4000"
    assert configured_url(5000) == "http://127.0.0.1:5000"  # --port wins over the variable
    monkeypatch.setenv("CLAUDE_MAX_TUI_HOST", "0.0.0.0")
    assert configured_url() == "http://127.0.0.1:4000"  # a wildcard bind is reached on loopback
    monkeypatch.setenv("CLAUDE_MAX_TUI_HOST", "::1")
    assert configured_url() == "http://[::1]:4000"


@pytest.mark.parametrize(
    "host, expected, why",
    [
        ("127.0.0.1:4000", "http://127.0.0.1:4000", "the captured Host"),
        ("localhost:5000", "http://localhost:5000", "the captured Host"),
        ("[::1]:4000", "http://[::1]:4000", "the captured Host"),
        ("127.0.0.1", "http://127.0.0.1", "the captured Host"),
        # Another machine's name is whatever the client wrote: never followed on its own.
        ("proxy.example.com:4000", "http://127.0.0.1:3456", "the default address"),
        ("192.168.1.5:4000", "http://127.0.0.1:3456", "the default address"),
        ("user@127.0.0.1:4000", "http://127.0.0.1:3456", "the default address"),
        ("127.0.0.1:99999", "http://127.0.0.1:3456", "the default address"),
        (None, "http://127.0.0.1:3456", "the default address"),
    ],
)
def test_the_target_is_the_captured_loopback_host_unless_told(store, host, expected, why):
    original = seed(store)
    headers = {k: v for k, v in original.request_headers.items() if k.lower() != "host"}
    capture = dataclasses.replace(original, request_headers={**headers, **({"Host": host} if host else {})})
    assert target_url(capture) == (expected, why)
    assert target_url(capture, configured="http://127.0.0.1:7000") == ("http://127.0.0.1:7000", "the configured port")
    assert target_url(capture, to="http://10.0.0.2:8000/", configured="http://127.0.0.1:7000") == ("http://10.0.0.2:8000", "--to")


async def test_the_replay_command_goes_to_the_captured_host_by_default(store, server, tmp_path, capsys, monkeypatch):
    """The proxy runs on another port than 3456: replay finds it where the original went."""
    from tui_proxy.capture import synthetic

    for name in ("CLAUDE_MAX_TUI_PORT", "CLAUDE_MAX_TUI_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(synthetic.REQUEST_HEADERS, "Host", server.url.removeprefix("http://"))
    original = seed(store, stream=False)
    parser = argparse.ArgumentParser()
    replay_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["replay", original.id, "--data-dir", str(tmp_path), "--wait", "5"])
    code = await asyncio.to_thread(args.run, args)
    captured = capsys.readouterr()
    assert code == 0 and len(server.seen) == 1, captured.err
    assert f"to {server.url} (the captured Host)" in captured.err

    monkeypatch.setenv("CLAUDE_MAX_TUI_PORT", "9")  # the variable says the proxy moved: it wins
    code = await asyncio.to_thread(args.run, args)
    err = capsys.readouterr().err
    assert code == 1 and len(server.seen) == 1
    assert "to http://127.0.0.1:9 (the configured port)" in err and "--to URL or --port N" in err


def test_tool_calls_are_read_from_streamed_pieces_and_whole_messages_and_diffed_by_value():
    pieces = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":'}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ' "Paris"}'}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    streamed = read_answer([TimedLine(0.0, json.dumps(p)) for p in pieces], b"", True)
    assert streamed.tool_calls == (("call_a", "get_weather", '{"city": "Paris"}'),)
    assert streamed.finish_reason == "tool_calls"
    whole = {"choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]}, "finish_reason": "tool_calls"}]}
    assert read_answer([], json.dumps(whole).encode(), False).tool_calls == (("call_b", "get_weather", '{"city":"Paris"}'),)

    base = dict(started_at=0.0, method="POST", path="/v1/chat/completions", client="", model=None, stream=True, status=200, ttft_ms=None,
                duration_ms=None, prompt_tokens=None, completion_tokens=None, finish_reason="tool_calls", error_type=None,
                error_message=None, replay_of=None, state=CaptureState.COMPLETE)
    original = Capture(id="a", tool_calls=streamed.tool_calls, **base)
    same = Capture(id="b", tool_calls=(("call_b", "get_weather", '{"city":"Paris"}'),), **base)
    other = Capture(id="c", tool_calls=(("call_c", "get_weather", '{"city":"Tokyo"}'),), **base)
    assert not diff(original, same).outcome_changed  # a new call id, the same call
    row = {r.name: r for r in diff(original, other).rows}["tool calls"]
    assert row.changed and row.original == 'get_weather({"city":"Paris"})' and diff(original, other).outcome_changed


def test_anthropic_answers_are_read_whole_and_streamed():
    """The replay diff compares answers of the Messages face too (issue 14)."""
    from tui_proxy.capture.model import TimedLine
    from tui_proxy.replay.send import read_answer

    message = {"type": "message", "role": "assistant", "model": "claude-sonnet-4", "content": [{"type": "text", "text": "Hi there."}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}], "stop_reason": "tool_use", "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 7}}
    whole = read_answer((), json.dumps(message).encode(), streaming=False)
    assert (whole.text, whole.finish_reason, whole.model) == ("Hi there.", "tool_use", "claude-sonnet-4")
    assert whole.tool_calls == (("toolu_1", "get_weather", '{"city": "Paris"}'),)
    assert (whole.usage.prompt_tokens, whole.usage.completion_tokens) == (15, 7)
    events = [
        {"type": "message_start", "message": {"model": "claude-sonnet-4", "usage": {"input_tokens": 10, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "there."}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
        {"type": "message_stop"},
    ]
    streamed = read_answer(tuple(TimedLine(0.0, json.dumps(e)) for e in events), b"", streaming=True)
    assert (streamed.text, streamed.finish_reason) == ("Hi there.", "end_turn")
    assert (streamed.usage.prompt_tokens, streamed.usage.completion_tokens) == (10, 4)
