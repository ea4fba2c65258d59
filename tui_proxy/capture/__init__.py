"""Capture: every exchange on disk (SQLite), read back as plain dataclasses.

    store = CaptureStore.open(config.capture_path)
    store.record(engine.bus)
    ...
    summaries = await store.alist(limit=100)
    capture = await store.aget(exchange_id)
    await asyncio.to_thread(store.flush)
    store.close()
"""

from .model import Capture, CaptureState, CaptureSummary, TimedLine
from .recorder import CaptureRecorder
from .retention import RetentionPolicy
from .store import AmbiguousIdError, CaptureStore, StoreVersionError

__all__ = [
    "AmbiguousIdError",
    "Capture",
    "CaptureRecorder",
    "CaptureState",
    "CaptureStore",
    "CaptureSummary",
    "RetentionPolicy",
    "StoreVersionError",
    "TimedLine",
]
