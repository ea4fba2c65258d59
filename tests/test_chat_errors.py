"""Bad input and CLI faults: a clear OpenAI-shaped error with the right status, nothing spawned
for a bad request, and the server keeps serving."""

from __future__ import annotations

import dataclasses
import json

import aiohttp
import openai
import pytest

from conftest import strict_client
from tests.fake_claude.text import short_words
from tests.waiting import no_children_left


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


async def post(engine, body, *, raw: bytes | None = None, headers: dict | None = None, path="/v1/chat/completions", method="POST"):
    async with aiohttp.ClientSession() as session:
        data = raw if raw is not None else json.dumps(body).encode()
        async with session.request(method, engine.url + path, data=data, headers={"Content-Type": "application/json", **(headers or {})}) as response:
            return response.status, dict(response.headers), await response.read()


BAD_REQUESTS = [
    ({"messages": user("hi")}, "model", "missing_required_parameter"),
    ({"model": 3, "messages": user("hi")}, "model", "invalid_type"),
    ({"model": "sonnet"}, "messages", "missing_required_parameter"),
    ({"model": "sonnet", "messages": []}, "messages", "empty_array"),
    ({"model": "sonnet", "messages": "hi"}, "messages", "invalid_type"),
    ({"model": "sonnet", "messages": [123]}, "messages[0]", "invalid_type"),
    ({"model": "sonnet", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role", "invalid_value"),
    ({"model": "sonnet", "messages": [{"role": "user", "content": 5}]}, "messages[0].content", "invalid_type"),
    ({"model": "sonnet", "messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}, "messages[0].content[0]", "invalid_type"),
    ({"model": "sonnet", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}, "messages[0].content[0].type", "unsupported_value"),
    ({"model": "sonnet", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id", "missing_required_parameter"),
    ({"model": "sonnet", "messages": user("hi"), "n": 2}, "n", "unsupported_value"),
    ({"model": "sonnet", "messages": user("hi"), "logprobs": True}, "logprobs", "unsupported_parameter"),
    ({"model": "sonnet", "messages": user("hi"), "modalities": ["text", "audio"]}, "modalities", "unsupported_value"),
    ({"model": "sonnet", "messages": user("hi"), "stream": "yes"}, "stream", "invalid_type"),
    ({"model": "sonnet", "messages": user("hi"), "stream_options": {"include_usage": True}}, "stream_options", "invalid_value"),
    ({"model": "sonnet", "messages": user("hi"), "max_tokens": 0}, "max_tokens", "invalid_value"),
    ({"model": "sonnet", "messages": user("hi"), "response_format": {"type": "xml"}}, "response_format", "invalid_value"),
    ({"model": "sonnet", "messages": user("hi"), "stop": 5}, "stop", "invalid_type"),
]


@pytest.mark.parametrize(("body", "param", "code"), BAD_REQUESTS)
async def test_bad_requests_name_the_param_and_spawn_nothing(engine, fake_claude_env, body, param, code):
    status, headers, raw = await post(engine, body)
    error = json.loads(raw)["error"]
    assert status == 400
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert set(error) == {"message", "type", "param", "code"}
    assert headers["x-should-retry"] == "false"
    assert list(fake_claude_env.iterdir()) == []  # no CLI run for a bad request


async def test_body_that_is_not_json(engine, fake_claude_env):
    status, headers, raw = await post(engine, None, raw=b"{not json")
    assert status == 400 and json.loads(raw)["error"]["code"] == "invalid_json"
    assert headers["Content-Type"].startswith("application/json")


async def test_unknown_model_is_404_without_spawning(engine, fake_claude_env):
    async with strict_client(engine) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            await client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    assert list(fake_claude_env.iterdir()) == []


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/nope", 404), ("GET", "/v1/chat/completions", 405), ("DELETE", "/v1/models", 405), ("POST", "/v1/completions", 404)])
async def test_other_routes_get_json_errors(engine, method, path, status):
    got, headers, raw = await post(engine, {}, path=path, method=method)
    assert got == status
    assert headers["Content-Type"].startswith("application/json")
    assert set(json.loads(raw)["error"]) == {"message", "type", "param", "code"}


FAULTS = [
    ("[[fake:not_logged_in]]", 401, "cli_not_authenticated", "false"),
    ("[[fake:rate_limit_subscription resets_in=7200]]", 429, "rate_limit_exceeded", None),
    ("[[fake:billing]]", 402, "insufficient_quota", "false"),
    ("[[fake:model_not_found]]", 404, "model_not_found", "false"),
    ("[[fake:prompt_too_long]]", 400, "context_length_exceeded", "false"),
    ("[[fake:server_error retries=2]]", 502, "upstream_error", None),
    ("[[fake:overloaded retries=1]]", 503, "upstream_overloaded", None),
    ("[[fake:network retries=1]]", 502, "upstream_unreachable", None),
    ("[[fake:max_turns]]", 500, "max_turns", "false"),
    ("[[fake:max_budget]]", 402, "max_budget", "false"),
    ("[[fake:crash_midstream after=2]]", 502, "cli_crashed", None),
    ("[[fake:exit_no_result code=7 stderr=\"boom: out of memory\"]]", 502, "cli_crashed", None),
    ("[[fake:usage_error]]", 500, "cli_usage_error", "false"),
]


@pytest.mark.parametrize(("marker", "status", "code", "retry"), FAULTS)
async def test_cli_failures_map_to_statuses(engine, openai_client, marker, status, code, retry):
    with pytest.raises(openai.APIStatusError) as caught:
        await openai_client.chat.completions.create(model="sonnet", messages=user(marker))
    error = caught.value
    assert (error.status_code, error.code) == (status, code)
    assert error.response.headers.get("x-should-retry") == retry
    if code == "rate_limit_exceeded":
        assert 7100 <= int(error.response.headers["retry-after"]) <= 7200
    if "boom" in marker:
        assert "boom: out of memory" in error.message  # the stderr tail reaches the client
    # the server is still there
    reply = await openai_client.chat.completions.create(model="sonnet", messages=user("still up?"))
    assert reply.choices[0].message.content == "You said: still up?"


async def test_early_failure_of_a_stream_is_a_real_status(openai_client):
    with pytest.raises(openai.AuthenticationError):
        async for _ in await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:not_logged_in]]"), stream=True):
            pass


async def test_crash_mid_stream_is_an_error_event_not_a_success(openai_client):
    received = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in await openai_client.chat.completions.create(model="sonnet", messages=user("[[fake:crash_midstream after=3]]"), stream=True):
            received.append(chunk)
    assert "exited with code 3" in caught.value.message
    # Every delta written before the crash reached the client (some in one chunk if read together).
    assert "".join(c.choices[0].delta.content or "" for c in received if c.choices) == "".join(short_words(3))
    assert not any(c.choices and c.choices[0].finish_reason for c in received)


async def test_cli_missing_is_503_not_a_crash(start_engine, tmp_path):
    engine = await start_engine(claude=str(tmp_path / "no-such-claude"))
    assert engine.cli_status is not None and engine.cli_status.found is False
    async with strict_client(engine) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(model="sonnet", messages=user("hi"))
    assert caught.value.status_code == 503 and caught.value.code == "cli_not_found"
    assert caught.value.response.headers["x-should-retry"] == "false"


async def test_cli_that_never_exits_after_its_answer_is_reaped(start_engine):
    engine = await start_engine()
    engine.runs.settings = dataclasses.replace(engine.runs.settings, exit_grace=0.3)
    async with strict_client(engine) as client:
        reply = await client.chat.completions.create(model="sonnet", messages=user("[[fake:no_exit_after_result]] hi"))
    assert reply.choices[0].finish_reason == "stop"
    await no_children_left()


async def test_a_hung_cli_times_out_with_504(start_engine):
    engine = await start_engine(first_output_timeout=0.5)
    async with strict_client(engine) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(model="sonnet", messages=user("[[fake:hang]]"))
    assert (caught.value.status_code, caught.value.code) == (504, "timeout")
    await no_children_left()
