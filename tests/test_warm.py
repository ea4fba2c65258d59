"""Conversations kept warm (runs/warm.py), with the fake CLI: the next turn of a conversation is
written to the CLI that answered the last one; anything else is a new run built from the
request alone; every kept CLI is bounded and reaped."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from conftest import children_of, strict_client, wait_until
from tui_proxy.events import CliContinued
from tui_proxy.runs import warm

SYSTEM = {"role": "system", "content": "You are terse."}


def runs(record_dir: Path) -> dict[int, dict]:
    return {r["pid"]: r for r in (json.loads(p.read_text()) for p in record_dir.glob("*.json"))}


def _text(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content if isinstance(b, dict))


def user_lines(record: dict) -> list[str]:
    """The user messages a CLI was asked to answer: the last of the session file it resumed
    (the request's own message), then each line written to its stdin (the next turns)."""
    resumed = [r for r in record.get("resumed") or [] if r.get("type") == "user"]
    first = [_text(resumed[-1]["message"])] if resumed else []
    return first + [_text(json.loads(line)["message"]) for line in record["stdin"].splitlines() if json.loads(line).get("type") == "user"]


async def chat(client, messages, **extra):
    reply = await client.chat.completions.create(model="sonnet", messages=messages, **extra)
    return reply, {"role": "assistant", "content": reply.choices[0].message.content}


async def test_the_next_turn_is_one_line_to_the_cli_that_answered(start_engine, fake_claude_env):
    engine = await start_engine(warm_conversations=2)
    continued: list[CliContinued] = []
    engine.bus.subscribe(lambda e: continued.append(e) if isinstance(e, CliContinued) else None)
    async with strict_client(engine) as client:
        first, answer = await chat(client, [SYSTEM, {"role": "user", "content": "one"}])
        assert len(engine.runs.warm) == 1
        second, answer2 = await chat(client, [SYSTEM, {"role": "user", "content": "one"}, answer, {"role": "user", "content": "two"}])
        third, _ = await chat(client, [SYSTEM, {"role": "user", "content": "one"}, answer, {"role": "user", "content": "two"}, answer2, {"role": "user", "content": "three"}])
    assert [r.choices[0].message.content for r in (first, second, third)] == ["You said: one", "You said: two", "You said: three"]
    (record,) = runs(fake_claude_env).values()  # one CLI answered all three
    assert user_lines(record) == ["one", "two", "three"]  # each turn: only its new message
    assert [e.previous_exchange_id for e in continued] == [first.id.removeprefix("chatcmpl-"), second.id.removeprefix("chatcmpl-")]
    # Usage and cost are each turn's own, not the process's sum.
    assert second.usage.completion_tokens == third.usage.completion_tokens
    assert engine.runs.warm.continued == 2


@pytest.mark.parametrize(
    "change",
    ["edited answer", "other system prompt", "trimmed history", "other model"],
)
async def test_a_conversation_that_is_not_the_one_the_cli_holds_gets_a_new_run(start_engine, fake_claude_env, change):
    engine = await start_engine(warm_conversations=2)
    async with strict_client(engine) as client:
        _, answer = await chat(client, [SYSTEM, {"role": "user", "content": "one"}])
        history = [SYSTEM, {"role": "user", "content": "one"}, answer, {"role": "user", "content": "two"}]
        model = "sonnet"
        if change == "edited answer":
            history[2] = {"role": "assistant", "content": "Something else."}
        elif change == "other system prompt":
            history[0] = {"role": "system", "content": "You are verbose."}
        elif change == "trimmed history":
            history = [SYSTEM, {"role": "user", "content": "two"}]
        else:
            model = "opus"
        reply = await client.chat.completions.create(model=model, messages=history)
    assert reply.choices[0].message.content.endswith("two")  # the fake echoes what it was given
    records = runs(fake_claude_env)
    assert len(records) == 2  # a new run, built from this request alone
    new = [r for r in records.values() if user_lines(r) != ["one"]][0]
    assert len(user_lines(new)) == 1 and user_lines(new)[0].endswith("two")
    assert engine.runs.warm.continued == 0


async def test_two_clients_continuing_the_same_conversation_at_once_are_both_answered(start_engine, fake_claude_env):
    engine = await start_engine(warm_conversations=2)
    async with strict_client(engine) as client:
        _, answer = await chat(client, [{"role": "user", "content": "one"}])
        history = [{"role": "user", "content": "one"}, answer, {"role": "user", "content": "two"}]
        replies = await asyncio.gather(*(client.chat.completions.create(model="sonnet", messages=history) for _ in range(2)))
    assert [r.choices[0].message.content for r in replies] == ["You said: two"] * 2
    # One went on with the kept CLI, the other got a new run built from its request alone.
    assert engine.runs.warm.continued == 1 and len(runs(fake_claude_env)) == 2


async def test_kept_clis_are_bounded_by_count_least_recently_used_first(start_engine):
    engine = await start_engine(warm_conversations=1)
    async with strict_client(engine) as client:
        await chat(client, [{"role": "user", "content": "first conversation"}])
        first_pid = children_of(os.getpid())
        await chat(client, [{"role": "user", "content": "second conversation"}])
    assert len(engine.runs.warm) == 1
    assert await wait_until(lambda: len(children_of(os.getpid())) == 1 and children_of(os.getpid()) != first_pid, timeout=10)


async def test_a_kept_cli_waits_a_bounded_time_and_shutdown_reaps_the_rest(start_engine, monkeypatch):
    engine = await start_engine(warm_conversations=2)
    engine.runs.warm.wait_seconds = 0.3
    async with strict_client(engine) as client:
        await chat(client, [{"role": "user", "content": "one"}])
        assert await wait_until(lambda: children_of(os.getpid()) == [] and engine.active_runs == 0, timeout=10)
        engine.runs.warm.wait_seconds = warm.WAIT_SECONDS
        await chat(client, [{"role": "user", "content": "two"}])
    assert len(children_of(os.getpid())) == 1
    await engine.stop()
    assert children_of(os.getpid()) == []


async def test_runs_that_cannot_be_continued_are_not_kept(start_engine):
    engine = await start_engine(warm_conversations=2)
    async with strict_client(engine) as client:
        await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hello there friend"}], stop=["friend"])
        await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "Status? [[fake:structured]]"}], response_format={"type": "json_object"})
    assert len(engine.runs.warm) == 0
    assert await wait_until(lambda: children_of(os.getpid()) == [], timeout=10)
