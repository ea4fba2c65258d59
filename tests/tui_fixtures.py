"""Helpers for the console tests: a console over the real engine and fake CLI, and readers
that turn what a panel shows into plain strings to assert on."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from pathlib import Path
from typing import Any, Callable

import aiohttp
import pytest
from rich.console import Console

from tui_proxy.config import Config
from tui_proxy.tui.app import ConsoleApp, make_app

ROOT = Path(__file__).resolve().parent.parent
FAKE_CLAUDE = str(ROOT / "tests" / "bin" / "claude")


def console_app(tmp_path: Path, **overrides: Any) -> ConsoleApp:
    """The console over the real engine, the project's fake CLI and a free port."""
    # No CLIs started ahead or kept warm: each run is reaped after its answer, as the panels
    # these tests read expect (tests/test_pool.py and test_warm.py cover those).
    values: dict[str, Any] = dict(port=0, claude=FAKE_CLAUDE, data_dir=tmp_path / "data", capture=False, pool_size=0, warm_conversations=0, usage_poll_seconds=0)
    values.update(overrides)
    # Finalise what earlier tests left behind now, before the console routes log records
    # into its errors panel: a leftover client closing on a dead loop logs an error.
    gc.collect()
    return make_app(Config(**values))


async def settle(pilot, predicate: Callable[[], bool] | None = None, timeout: float = 15.0) -> None:
    """Wait until `predicate()` holds (events arrive as the CLI talks), then flush and repaint."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while predicate is not None and not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await asyncio.sleep(0.02)
    app.flush()
    await pilot.pause()


def chat_body(prompt: str, *, stream: bool = True, model: str = "sonnet") -> dict:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": prompt}]}


async def post_chat(app: ConsoleApp, prompt: str, *, stream: bool = True, model: str = "sonnet", user_agent: str = "pilot-test/1.0") -> tuple[int, str, str]:
    """(status, x-request-id, body) of one chat completion against the app's in-app server.

    The connection stays open until the console has seen the exchange finish, as an SDK
    client's keep-alive pool would: a client that hangs up at once races the server's
    bookkeeping, which is not what these tests are about.
    """
    async with aiohttp.ClientSession(headers={"User-Agent": user_agent}) as session:
        async with session.post(app.engine.url + "/v1/chat/completions", json=chat_body(prompt, stream=stream, model=model)) as response:
            result = response.status, response.headers.get("x-request-id", ""), await response.text()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline and ((view := app.state.get(result[1])) is None or view.in_flight):
            await asyncio.sleep(0.01)
    return result


def plain(renderable: Any, width: int = 200) -> str:
    """What a Rich renderable or Textual content prints as, without styles."""
    console = Console(width=width, record=True, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


async def detail_text(pilot, tab: str) -> str:
    """A document tab of the open detail view (request, response, cli), once it is built."""
    screen = pilot.app.screen
    await settle(pilot, lambda: screen.ready)
    return screen.query_one(f"#{tab}-body").plain


def static_text(widget) -> str:
    content = widget.content
    return content if isinstance(content, str) else plain(content)


def table_rows(table) -> list[list[str]]:
    """Every row of a DataTable as strings, in display order."""
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def sse_errors(body: str) -> list[dict]:
    """The `error` objects of an SSE body (a stream that ended in an error event)."""
    found = []
    for line in body.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            try:
                data = json.loads(line[6:])
            except ValueError:
                continue
            if isinstance(data, dict) and "error" in data:
                found.append(data["error"])
    return found


@pytest.fixture
def utc_clock(monkeypatch):
    """Scene times print the same on every machine (import it autouse into a test module)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
