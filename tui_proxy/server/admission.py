"""How many CLI runs at once, and a bounded, time-limited queue for the rest."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from ..openai.errors import ApiError


class Admission:
    def __init__(self, max_concurrency: int, max_queue: int, queue_timeout: float) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.max_queue = max(0, max_queue)
        self.queue_timeout = queue_timeout
        self._slots = asyncio.Semaphore(self.max_concurrency)
        self.running = 0
        self.waiting = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.locked():
            if self.waiting >= self.max_queue:
                raise self._busy(f"{self.running} runs in flight and {self.waiting} waiting")
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
            except asyncio.TimeoutError:
                raise self._busy(f"no run slot freed up within {self.queue_timeout:g} s") from None
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()

    def _busy(self, why: str) -> ApiError:
        return ApiError(
            429,
            f"claude-max-tui is at its concurrency limit ({self.max_concurrency} runs): {why}. Retry shortly.",
            type="rate_limit_error",
            code="concurrency_limit",
            retry_after=2,
            source="request",
        )
