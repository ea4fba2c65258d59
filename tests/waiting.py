"""Waiting for what happens just after an answer (a child reaped in the background, a slot
freed, a run folder removed): poll the real condition until it holds or a deadline passes,
then fail naming what was left. Never a fixed sleep then an assert: on a loaded machine the
background work lands later, but it does land."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Callable

from bench.soak import proxy_children

#: Generous for a 2-core CI machine under load; a passing test returns as soon as it holds.
DEFAULT_TIMEOUT = 10.0


async def none_left(left: Callable[[], object], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Poll `left()` (what is still there: a list, a count, a dict of non-zero counters) until
    it is empty or zero; after `timeout` seconds fail with `what` and the last value seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while remaining := left():
        if loop.time() > deadline:
            raise AssertionError(f"{what} still left after {timeout:g} s: {remaining!r}")
        await asyncio.sleep(0.02)


async def until(condition: Callable[[], bool], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Poll `condition()` until it holds; after `timeout` seconds fail naming `what` was awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not reached after {timeout:g} s: {what}")
        await asyncio.sleep(0.02)


def until_sync(condition: Callable[[], bool], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """`until` for a test without an event loop (what it awaits happens on another thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached after {timeout:g} s: {what}")
        time.sleep(0.005)


def live_children(pid: int | None = None) -> list[str]:
    """Live (non-zombie) children of `pid` (this test process by default), each with its command line."""
    return [f"{child} {_cmdline(child)}" for child in proxy_children(pid or os.getpid())]


async def no_children_left(pid: int | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Every child of `pid` (this process by default) reaped, not merely signalled."""
    await none_left(lambda: live_children(pid), "child processes", timeout)


async def no_runs_left(engine, timeout: float = DEFAULT_TIMEOUT) -> None:
    """The engine closed every exchange and gave back every run slot and queue place."""

    def busy() -> dict[str, int]:
        counters = {"active runs": engine.active_runs, "slots taken": engine.admission.running, "queued": engine.admission.waiting}
        return {name: count for name, count in counters.items() if count}

    await none_left(busy, "engine work", timeout)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
    except OSError:
        return "(gone)"
