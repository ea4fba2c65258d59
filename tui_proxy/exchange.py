"""One request/response exchange as the engine sees it: its id, its clock, its events."""

from __future__ import annotations

import time
from typing import Callable

from .events import Event, EventBus


class Exchange:
    """Publishes an exchange's events with its id and the engine's clock, and keeps its timings."""

    __slots__ = ("id", "bus", "clock", "started", "started_at", "first_token", "model", "stream", "finished")

    def __init__(self, exchange_id: str, bus: EventBus, clock: Callable[[], float]) -> None:
        self.id = exchange_id
        self.bus = bus
        self.clock = clock
        self.started = time.monotonic()
        self.started_at = clock()
        #: monotonic time of the first model output (text or thinking).
        self.first_token: float | None = None
        self.model: str | None = None
        self.stream = False
        self.finished = False

    def publish(self, event_type: type[Event], **fields) -> None:
        self.bus.publish(event_type(exchange_id=self.id, at=self.clock(), **fields))

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000

    def ttft_ms(self) -> float | None:
        return None if self.first_token is None else (self.first_token - self.started) * 1000

    def mark_first_token(self) -> None:
        if self.first_token is None:
            self.first_token = time.monotonic()
