"""Item 4 and the stdout-line bound of item 6 (issue 16): nothing a CLI starts outlives it
(same process group or its own session), a grandchild holding stdout does not keep a
crashed run waiting for the idle timeout, and an endless stdout line is the CLI's fault."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp
import pytest

from bench.soak import leaked_children
from tests.conftest import wait_until
from tui_proxy.claude import process as process_module
from tui_proxy.claude.proc_tree import start_time


async def post(engine, text: str) -> tuple[int, dict]:
    body = {"model": "sonnet", "messages": [{"role": "user", "content": text}]}
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", json=body) as response:
            return response.status, await response.json()


def grandchild_pids(record_dir: Path) -> list[int]:
    return [int(p.read_text()) for p in record_dir.glob("grandchild-*.txt")]


def alive(pid: int) -> bool:
    return start_time(pid) is not None


async def test_a_crash_while_a_grandchild_holds_stdout_is_a_prompt_502(start_engine, fake_claude_env):
    # An idle timeout of 60 s: waiting for it would give a 504 "went silent", a minute later.
    engine = await start_engine(idle_timeout=60)
    status, body = await asyncio.wait_for(post(engine, "[[fake:grandchild session=1 hold=1]]"), 30)
    assert status == 502 and body["error"]["code"] == "cli_crashed", body
    pids = grandchild_pids(fake_claude_env)
    assert len(pids) == 1
    assert await wait_until(lambda: not alive(pids[0]), 5), "the grandchild outlived the run"
    assert leaked_children(fake_claude_env) == []


@pytest.mark.parametrize("session", [True, False], ids=["own-session", "same-group"])
async def test_a_grandchild_dies_with_a_run_that_answered(start_engine, fake_claude_env, session):
    engine = await start_engine()
    status, body = await post(engine, f"[[fake:grandchild session={int(session)} hold=0 answer=1]]")
    assert status == 200 and body["choices"][0]["message"]["content"], body
    pids = grandchild_pids(fake_claude_env)
    assert len(pids) == 1
    assert await wait_until(lambda: not alive(pids[0]), 5), "the grandchild outlived the run"


async def test_an_endless_stdout_line_is_the_clis_fault_and_the_child_is_stopped(start_engine, fake_claude_env, monkeypatch):
    monkeypatch.setattr(process_module, "MAX_LINE_BYTES", 2 * 1024 * 1024)
    engine = await start_engine(idle_timeout=60)
    status, body = await asyncio.wait_for(post(engine, "[[fake:endless_line]]"), 30)
    assert status == 502 and body["error"]["code"] == "cli_line_too_long", body
    assert "2,097,152" in body["error"]["message"]
    assert await wait_until(lambda: leaked_children(fake_claude_env) == [], 5)
    await asyncio.to_thread(engine.store.flush, 10)
    capture = (await engine.store.alist(limit=1))[0]
    full = await engine.store.aget(capture.id)
    assert full.status == 502 and "cli_line_too_long" in str(full.error)


async def test_lines_of_three_megabytes_still_pass(start_engine, fake_claude_env):
    assert process_module.MAX_LINE_BYTES >= 64 * 1024 * 1024
    engine = await start_engine()
    status, body = await post(engine, "[[fake:bigline size=3000000]]")
    assert status == 200 and len(body["choices"][0]["message"]["content"]) == 3_000_000
