"""Replay from the console: `tui_proxy.replay.send` on the selected exchange, then the diff.

The original is the stored capture when the store is on (the whole body, even one cut
in memory), else the console's in-memory exchange shaped like one. The replay is
compared with what the client saw of it, so the diff never waits on the store; but a
client of a non-streamed answer cannot see its first token, so the replay's ttft is the
proxy's, read from the console's own row of the replay (as the CLI's `replay` reads it
from the new capture).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Callable

from ..capture.model import Capture
from ..capture.store import CaptureStore
from ..replay.send import ReplayRefused, await_capture, replay
from ..replay.diff import ReplayDiff, diff
from .exchange_view import ExchangeView
from .view_capture import capture_from_view

#: How long a just-finished exchange may take to be committed to the store.
STORE_WAIT_SECONDS = 5.0
#: How long the replay's own row may take to finish after its client got the answer.
ROW_WAIT_SECONDS = 2.0


async def original_capture(view: ExchangeView, store: CaptureStore | None) -> Capture:
    if view.in_flight:
        raise ReplayRefused(f"{view.id} is still running: replay it once it has finished")
    if store is not None:
        capture = await await_capture(store, view.id, timeout=STORE_WAIT_SECONDS)
        if capture is not None:
            return capture
    if not view.path:
        raise ReplayRefused(f"{view.id} has no request to replay")
    if view.body_cut:
        raise ReplayRefused(f"{view.id}'s body was cut in memory: replay it from the capture store (claude-max-tui replay)")
    return capture_from_view(view)


async def replay_and_diff(
    view: ExchangeView,
    store: CaptureStore | None,
    url: str,
    api_key: str | None,
    *,
    seen: Callable[[str], ExchangeView | None] = lambda exchange_id: None,
) -> ReplayDiff:
    """Replay `view` and diff; `seen(id)` is the console's row of an exchange (for the replay's ttft)."""
    original = await original_capture(view, store)
    result = await replay(original, to_url=url, api_key=api_key)
    new = result.as_capture(original)
    if new.ttft_ms is None and result.new_id:
        row = await _finished_row(seen, result.new_id)
        if row is not None and row.ttft_ms() is not None:
            new = dataclasses.replace(new, ttft_ms=row.ttft_ms())
    return diff(original, new)


async def _finished_row(seen: Callable[[str], ExchangeView | None], exchange_id: str) -> ExchangeView | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ROW_WAIT_SECONDS
    while (row := seen(exchange_id)) is None or row.in_flight:
        if loop.time() > deadline:
            return row
        await asyncio.sleep(0.02)
    return row
