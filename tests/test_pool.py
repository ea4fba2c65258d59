"""CLIs started ahead of their request (runs/pool.py), with the fake CLI: what a slot may serve,
what it is told at request time, and that every slot is reaped."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import aiohttp

from conftest import FAKE_CLAUDE, children_of, strict_client, wait_until

SYSTEM = {"role": "system", "content": "You are terse."}
USER = {"role": "user", "content": "hello"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def record_of(record_dir: Path, pid: int) -> dict:
    return json.loads((record_dir / f"{pid}.json").read_text())


async def ready(engine, count: int) -> list[int]:
    assert await wait_until(lambda: len(engine.runs.pool) == count, timeout=15), f"pool never had {count} ready slots"
    return engine.runs.pool.pids()


async def test_a_new_conversation_takes_a_started_cli_and_tells_it_model_and_system_prompt(start_engine, fake_claude_env):
    engine = await start_engine(pool_size=1)
    (slot_pid,) = await ready(engine, 1)
    async with strict_client(engine) as client:
        reply = await client.chat.completions.create(model="claude-opus-4", messages=[SYSTEM, USER])
    assert reply.choices[0].message.content == "You said: hello"
    record = record_of(fake_claude_env, slot_pid)
    # Nothing of the request was fixed at spawn: no model flag, no system prompt file...
    assert "--model" not in record["argv"] and "--system-prompt-file" not in " ".join(record["argv"])
    # ...both came through the control protocol, before the prompt.
    assert record["control"] == ["initialize", "set_model"]
    assert record["system_prompt"] == "You are terse." and record["set_model"] == "opus"
    assert json.loads(record["stdin"].splitlines()[-1])["type"] == "user"
    assert engine.runs.pool.served == 1
    # Refilled after a moment: a new slot, not the one used.
    (refill_pid,) = await ready(engine, 1)
    assert refill_pid != slot_pid


async def test_requests_a_slot_cannot_serve_exactly_are_spawned_cold(start_engine, fake_claude_env):
    engine = await start_engine(pool_size=1)
    (slot_pid,) = await ready(engine, 1)
    history = [USER, {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "again"}]
    requests = [
        dict(messages=[USER], tools=[WEATHER]),  # client tools: an MCP config fixed at spawn
        dict(messages=[{"role": "user", "content": "Status? [[fake:structured]]"}], response_format={"type": "json_object"}),  # a schema: fixed at spawn
        dict(messages=[USER], reasoning_effort="high"),  # an effort level: fixed at spawn
        dict(messages=history),  # earlier turns: not a new conversation
    ]
    async with strict_client(engine) as client:
        for extra in requests:
            await client.chat.completions.create(model="sonnet", **extra)
    assert engine.runs.pool.served == 0 and engine.runs.pool.missed == 0
    assert engine.runs.pool.pids() == [slot_pid]  # still waiting, untouched
    assert "control" not in record_of(fake_claude_env, slot_pid)
    cold = [r for r in map(json.loads, (p.read_text() for p in fake_claude_env.glob("*.json"))) if r["pid"] != slot_pid]
    assert len(cold) == len(requests) and all("control" not in r and "--model" in r["argv"] for r in cold)


async def test_a_slot_of_a_replaced_binary_is_not_served(start_engine, fake_claude_env, tmp_path):
    cli = tmp_path / "claude"  # a binary of its own, to replace
    cli.write_text(f'#!/bin/sh\nexec "{FAKE_CLAUDE}" "$@"\n')
    cli.chmod(0o755)
    engine = await start_engine(pool_size=1, claude=str(cli))
    (slot_pid,) = await ready(engine, 1)
    os.utime(cli, ns=(0, 0))  # "a new version": the binary's stat changed since the slot started
    async with strict_client(engine) as client:
        await client.chat.completions.create(model="sonnet", messages=[USER])
    assert engine.runs.pool.served == 0 and engine.runs.pool.missed == 1
    assert await wait_until(lambda: slot_pid not in children_of(os.getpid()), timeout=10)  # recycled


async def test_the_pool_stays_within_its_size_and_shutdown_reaps_every_slot(start_engine):
    engine = await start_engine(pool_size=2)
    await ready(engine, 2)
    async with strict_client(engine) as client:
        await asyncio.gather(*(client.chat.completions.create(model="sonnet", messages=[USER]) for _ in range(5)))
    await ready(engine, 2)
    assert await wait_until(lambda: engine.active_runs == 0, timeout=10)
    assert len(children_of(os.getpid())) == 2  # the two idle slots, nothing else
    await engine.stop()
    assert children_of(os.getpid()) == []


async def test_a_pooled_run_killed_mid_answer_is_reaped(start_engine):
    engine = await start_engine(pool_size=1)
    (slot_pid,) = await ready(engine, 1)
    body = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": "[[fake:slow delay_ms=200]] tell me a long story"}]}
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        assert response.status == 200
        await response.content.readline()  # the stream is open: the run is live
        (exchange_id,) = [e for e in engine.runs._answering]
        assert await engine.kill(exchange_id)
        rest = (await response.read()).decode()
    assert '"code": "killed"' in rest or '"code":"killed"' in rest
    assert await wait_until(lambda: slot_pid not in children_of(os.getpid()), timeout=10)
