"""Thinking as `reasoning_content` (never inside `content`), and `reasoning_effort` → `--effort`."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

THINK = [{"role": "user", "content": '[[fake:thinking thinking="Let me think step by step." text="The answer is 4."]]'}]


def last_argv(record_dir: Path) -> list[str]:
    return json.loads(max(record_dir.glob("*.json"), key=lambda p: p.stat().st_mtime).read_text())["argv"]


async def test_non_stream_reasoning_is_its_own_field(openai_client):
    reply = await openai_client.chat.completions.create(model="sonnet", messages=THINK)
    message = reply.choices[0].message
    assert message.content == "The answer is 4."
    assert message.model_extra["reasoning_content"] == "Let me think step by step."
    assert reply.usage.completion_tokens_details.reasoning_tokens > 0


async def test_streamed_reasoning_comes_as_reasoning_content_deltas(openai_client):
    stream = await openai_client.chat.completions.create(model="sonnet", messages=THINK, stream=True)
    chunks = [c async for c in stream]
    deltas = [c.choices[0].delta for c in chunks]
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    content = "".join(d.content or "" for d in deltas)
    assert reasoning == "Let me think step by step."
    assert content == "The answer is 4."
    first_text = next(i for i, d in enumerate(deltas) if d.content)
    last_thought = max(i for i, d in enumerate(deltas) if (d.model_extra or {}).get("reasoning_content"))
    assert last_thought < first_text  # thinking streams first, separately


@pytest.mark.parametrize(("effort", "flag"), [("high", "high"), ("low", "low"), ("minimal", "low"), ("none", "low"), ("xhigh", "xhigh"), ("max", "max"), ("medium", "medium")])
async def test_reasoning_effort_maps_to_the_cli_effort(openai_client, fake_claude_env, effort, flag):
    await openai_client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hi"}], reasoning_effort=effort)
    argv = last_argv(fake_claude_env)
    assert argv[argv.index("--effort") + 1] == flag


async def test_no_effort_flag_without_reasoning_effort(openai_client, fake_claude_env):
    await openai_client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hi"}])
    assert "--effort" not in last_argv(fake_claude_env)


async def test_unknown_reasoning_effort_is_rejected(openai_client):
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hi"}], reasoning_effort="extreme")
    assert caught.value.param == "reasoning_effort"
