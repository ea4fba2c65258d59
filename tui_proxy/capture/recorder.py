"""The bus subscriber that feeds the capture store.

Called synchronously on the event loop for every event, so it only queues: the writer
thread does the rest. Token deltas are skipped: stdout lines and the finish event carry
the same text.
"""

from __future__ import annotations

from ..events import Event, ExchangeFinished, Notice, TokenDelta
from .writer import CaptureWriter

_SKIPPED = (TokenDelta, Notice)


class CaptureRecorder:
    """Subscribed by `CaptureStore.record` with `only=CaptureRecorder.EVENTS`: the bus then does
    not even call it for the events it skips (a stream publishes a `TokenDelta` per read of
    the CLI's output)."""

    __slots__ = ("_submit",)

    #: Every event type it records.
    EVENTS: tuple[type[Event], ...] = ()

    def __init__(self, writer: CaptureWriter) -> None:
        self._submit = writer.submit

    def __call__(self, event: Event) -> None:
        if isinstance(event, _SKIPPED) or not event.exchange_id:
            return
        # A finished exchange is committed at once: it must survive a kill -9.
        self._submit(event, urgent=isinstance(event, ExchangeFinished))


CaptureRecorder.EVENTS = tuple(kind for kind in Event.__subclasses__() if not issubclass(kind, _SKIPPED))
