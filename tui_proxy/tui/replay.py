"""Replay from the console: `tui_proxy.replay` on the selected exchange, then the diff.

The original is the stored capture when the store is on (the whole body, even one cut
in memory), else the console's in-memory exchange shaped like one. The replay is
compared with what the client saw of it, so the diff never waits on the store.
"""

from __future__ import annotations

from ..capture.model import Capture
from ..capture.store import CaptureStore
from ..replay import ReplayRefused, await_capture, replay
from ..replay_diff import ReplayDiff, diff
from .exchange_view import ExchangeView
from .view_capture import capture_from_view

#: How long a just-finished exchange may take to be committed to the store.
STORE_WAIT_SECONDS = 5.0


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


async def replay_and_diff(view: ExchangeView, store: CaptureStore | None, url: str, api_key: str | None) -> ReplayDiff:
    original = await original_capture(view, store)
    result = await replay(original, to_url=url, api_key=api_key)
    return diff(original, result.as_capture(original))
