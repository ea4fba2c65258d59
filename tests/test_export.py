"""Exports: HAR 1.2 against the spec's schema, curl that runs as is, JSON of everything."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
from pathlib import Path

import jsonschema
import pytest
from aiohttp import web

from tui_proxy.capture import CaptureStore
from tui_proxy.capture.export_curl import to_curl
from tui_proxy.capture.export_har import to_har
from tui_proxy.capture.export_json import capture_to_dict
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.events import EventBus, RequestReceived

HAR_SCHEMA = json.loads((Path(__file__).parent / "har_1_2.schema.json").read_text())


def captured(tmp_path, *sequences):
    with CaptureStore.open(tmp_path / "c.sqlite3") as store:
        bus = EventBus()
        store.record(bus)
        for events in sequences:
            for event in events:
                bus.publish(event)
        store.flush()
        return [store.get(events[0].exchange_id) for events in sequences]


def validate_har(har):
    jsonschema.Draft7Validator(HAR_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(har)


def test_har_of_every_kind_of_exchange_is_valid(tmp_path):
    captures = captured(
        tmp_path,
        exchange_events(),
        exchange_events(stream=False),
        exchange_events(outcome="cli_error"),
        exchange_events(outcome="rejected"),
        exchange_events(outcome="disconnect"),
        exchange_events()[:3],  # in progress: no response yet
    )
    har = to_har(captures)
    validate_har(har)
    json.dumps(har)  # serialisable
    entries = har["log"]["entries"]
    stream = entries[0]
    assert stream["request"]["url"] == "http://127.0.0.1:3456/v1/chat/completions"
    assert stream["request"]["postData"]["text"] == captures[0].request_body.decode()
    assert stream["response"]["content"]["text"].endswith("data: [DONE]\n\n")
    assert stream["response"]["content"]["mimeType"] == "text/event-stream"
    assert stream["timings"]["wait"] == pytest.approx(captures[0].ttft_ms, abs=0.01)
    assert stream["time"] == pytest.approx(captures[0].duration_ms, abs=0.01)
    assert {h["name"]: h["value"] for h in stream["request"]["headers"]}["Authorization"] == "[redacted]"
    assert stream["_cli"]["argv"] == list(captures[0].cli_argv)
    assert entries[2]["response"]["status"] == 503 and entries[2]["response"]["statusText"] == "Service Unavailable"
    assert entries[5]["response"]["status"] == 0 and entries[5]["_state"] == "open"


def test_the_schema_rejects_broken_har():
    broken = {"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [{"startedDateTime": "yesterday"}]}}
    with pytest.raises(jsonschema.ValidationError):
        validate_har(broken)


def test_json_export_holds_the_whole_capture(tmp_path):
    (capture,) = captured(tmp_path, exchange_events(words=5))
    data = json.loads(json.dumps(capture_to_dict(capture)))
    assert data["id"] == capture.id and data["state"] == "complete" and data["complete"]
    assert json.loads(data["request_body"])["stream"] is True
    assert len(data["stdout"]) == len(capture.stdout) and data["stdout"][0]["at"] == capture.stdout[0].at
    assert data["usage"]["prompt_tokens"] == 25 and data["response_body"] == capture.response_body


def test_json_export_of_a_binary_body(tmp_path):
    events = exchange_events(outcome="rejected")
    events[0] = dataclasses.replace(events[0], body=b"\xff\x00binary")
    (capture,) = captured(tmp_path, events)
    data = capture_to_dict(capture)
    assert base64.b64decode(data["request_body_base64"]) == b"\xff\x00binary"


class EchoServer:
    """Answers like the proxy would, and remembers what it was sent."""

    def __init__(self):
        self.seen = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.method, request.path_qs, dict(request.headers), body))
        if json.loads(body or b"{}").get("stream"):
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n')
            return response
        return web.json_response({"ok": True})


@pytest.fixture
async def echo_server():
    server = EchoServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


async def run_shell(command: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", command, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("stream", [True, False])
async def test_curl_runs_as_is(tmp_path, echo_server, stream):
    events = exchange_events(stream=stream, prompt="It's a \"quoted\" $HOME `tick` line\nand a second one")
    (capture,) = captured(tmp_path, events)
    command = to_curl(capture, url=echo_server.url)
    assert "sk-live-secret-key" not in command and "abc123" not in command
    code, out, err = await run_shell(command, {"OPENAI_API_KEY": "sk-from-env"})
    assert code == 0, err
    method, path, headers, body = echo_server.seen[0]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert body == capture.request_body
    assert headers["Authorization"] == "Bearer sk-from-env"
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == "OpenAI/Python 1.60.0"
    assert "Cookie" not in headers
    assert ("[DONE]" in out) == stream


async def test_curl_with_a_binary_body(tmp_path, echo_server):
    events = exchange_events(outcome="rejected")
    request = events[0]
    assert isinstance(request, RequestReceived)
    events[0] = dataclasses.replace(request, body=b'{"a":"\xff\x00"}', path="/v1/chat/completions?x=1")
    (capture,) = captured(tmp_path, events)
    code, _, err = await run_shell(to_curl(capture, url=echo_server.url), {})
    assert code == 0, err
    method, path, _, body = echo_server.seen[0]
    assert path == "/v1/chat/completions?x=1" and body == b'{"a":"\xff\x00"}'


def test_curl_defaults_to_the_captured_host(tmp_path):
    (capture,) = captured(tmp_path, exchange_events())
    assert to_curl(capture).splitlines()[0] == "curl -sS -N http://127.0.0.1:3456/v1/chat/completions \\"
