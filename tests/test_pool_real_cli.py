"""A CLI started ahead (runs/pool.py) against the REAL pinned CLI and the mock Messages API: the
request it sends upstream is the one a cold run of the same request sends."""

from __future__ import annotations

import json
import re

import pytest
from openai import AsyncOpenAI

from tests.mock_anthropic import MockAnthropic
from tests.real_cli import FAKE_OAUTH_TOKEN, find_real_cli, real_cli_engine, require_real_cli
from tui_proxy.config import Config
from tui_proxy.engine import Engine
from tui_proxy.events import CliSpawned

from conftest import wait_until

MESSAGES = [{"role": "system", "content": "You are the pool fixture. Be terse."}, {"role": "user", "content": "Please answer. [[mock:text]]"}]


@pytest.fixture
async def rig(tmp_path, monkeypatch):
    cli = require_real_cli(find_real_cli())
    home = tmp_path / "home"
    home.mkdir()
    async with MockAnthropic() as mock:
        for name, value in {"HOME": str(home), "ANTHROPIC_BASE_URL": mock.base_url, "CLAUDE_CODE_OAUTH_TOKEN": FAKE_OAUTH_TOKEN, "CLAUDE_CODE_MAX_RETRIES": "0"}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        engines = {}
        spawned: list[CliSpawned] = []
        for name, pool_size in (("pooled", 1), ("cold", 0)):
            engine = Engine(Config(port=0, claude=cli, data_dir=tmp_path / name, capture=False, pool_size=pool_size, warm_conversations=0, usage_poll_seconds=0))
            engine.bus.subscribe(lambda e: spawned.append(e) if isinstance(e, CliSpawned) else None)
            await engine.start()
            engines[name] = engine
        try:
            yield mock, engines, spawned
        finally:
            for engine in engines.values():
                await engine.stop()


def upstream(mock: MockAnthropic, cwd: str) -> dict:
    """The last message request, with what differs by nature between any two runs made equal:
    the CLI's random session id, and the run's own working folder."""
    body = json.loads(json.dumps(mock.message_requests()[-1].body).replace(cwd, "<cwd>"))
    # The one known difference: a CLI given its first message on stdin names today's date at
    # the end of its environment message; one resuming the proxy's session file (a cold run,
    # claude/session_file.py) at its start. Only that sentence is set aside; all else is equal.
    body = json.loads(re.sub(r"(\\n\\n)?Today's date is \d{4}-\d{2}-\d{2}\.(\\n\\n)?", "", json.dumps(body)))
    user = json.loads(body["metadata"]["user_id"])
    user["session_id"] = "<session>"
    body["metadata"]["user_id"] = json.dumps(user)
    return body


async def ask(engine: Engine, stream: bool) -> str:
    async with AsyncOpenAI(base_url=engine.url + "/v1", api_key="unused", max_retries=0, _strict_response_validation=True, timeout=60) as client:
        if stream:
            chunks = [c async for c in await client.chat.completions.create(model="sonnet", messages=MESSAGES, stream=True)]
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        return (await client.chat.completions.create(model="sonnet", messages=MESSAGES)).choices[0].message.content


@pytest.mark.parametrize("stream", [False, True])
async def test_a_pooled_run_sends_what_a_cold_run_sends(rig, stream):
    mock, engines, spawned = rig
    pooled = engines["pooled"]
    assert await wait_until(lambda: len(pooled.runs.pool) == 1, timeout=30), "no slot started"
    answer = await ask(pooled, stream)
    assert pooled.runs.pool.served == 1
    pooled_body = upstream(mock, spawned[-1].cwd)
    assert "--model" not in spawned[-1].argv and "set_model" in spawned[-1].stdin  # it was a slot
    cold_answer = await ask(engines["cold"], stream)
    cold_body = upstream(mock, spawned[-1].cwd)
    assert "--model" in spawned[-1].argv  # and this one a cold run
    assert answer == cold_answer
    assert pooled_body == cold_body
    assert "You are the pool fixture." in json.dumps(pooled_body["system"])  # the system prompt was obeyed
    assert pooled_body["model"] == "claude-sonnet-5-5"  # the model was set


def without_breakpoints(messages: list) -> list:
    """Messages as the prompt cache compares them: without the moving breakpoint marks, and a
    string content as the one text block it stands for (the CLI writes the message that holds
    the breakpoint as blocks, the same message later as a string)."""
    plain = json.loads(json.dumps(messages), object_hook=lambda o: {k: v for k, v in o.items() if k != "cache_control"})
    return [{**m, "content": [{"type": "text", "text": m["content"]}] if isinstance(m["content"], str) else m["content"]} for m in plain]


@pytest.fixture
async def warm_engine(tmp_path, monkeypatch):
    async with MockAnthropic() as mock:
        async with real_cli_engine(tmp_path, monkeypatch, mock, capture=False, pool_size=1, warm_conversations=2) as engine:
            yield mock, engine


async def test_a_conversation_kept_warm_sends_its_history_natively_turn_after_turn(warm_engine):
    """Three turns through the proxy: the first on a pooled CLI, the next two written to that
    same CLI. Each upstream request is the previous one plus the answer and the new message:
    the system blocks and every earlier message byte-identical (the prompt cache's prefix)."""
    mock, engine = warm_engine
    assert await wait_until(lambda: len(engine.runs.pool) == 1, timeout=30)
    messages = [MESSAGES[0], {"role": "user", "content": "Turn one. [[mock:text]]"}]
    async with AsyncOpenAI(base_url=engine.url + "/v1", api_key="unused", max_retries=0, _strict_response_validation=True, timeout=60) as client:
        for turn in ("Turn two. [[mock:text]]", "Turn three. [[mock:text]]", None):
            reply = await client.chat.completions.create(model="sonnet", messages=messages)
            if turn is None:
                break
            messages = [*messages, {"role": "assistant", "content": reply.choices[0].message.content}, {"role": "user", "content": turn}]
    requests = mock.message_requests()
    assert len(requests) == 3 and engine.runs.pool.served == 1 and engine.runs.warm.continued == 2
    assert len({r.headers["x-claude-code-session-id"] for r in requests}) == 1  # one CLI
    for before, after in zip(requests, requests[1:]):
        assert after.body["system"] == before.body["system"]
        # Up to the earlier request's last cache breakpoint (the breakpoint itself moves on).
        assert without_breakpoints(after.body["messages"][: len(before.body["messages"])]) == without_breakpoints(before.body["messages"])
        added = after.body["messages"][len(before.body["messages"]) :]
        assert [m["role"] for m in added] == ["assistant", "user"]
    last_user = requests[-1].body["messages"][-1]["content"]
    assert "Turn three." in json.dumps(last_user)
