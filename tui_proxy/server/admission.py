"""What gets a CLI run: how many at once, a bounded, time-limited queue for the rest, and
prompts no model could take refused before anything is spawned."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from ..errors import ProxyError


class Admission:
    def __init__(self, max_concurrency: int, max_queue: int, queue_timeout: float) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.max_queue = max(0, max_queue)
        self.queue_timeout = queue_timeout
        self._slots = asyncio.Semaphore(self.max_concurrency)
        self._closed = asyncio.Event()
        self.running = 0
        self.waiting = 0

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """At shutdown: waiting requests and new ones get a 503 instead of a run."""
        self._closed.set()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.closed:
            raise shutting_down()
        if self._slots.locked():
            # Occupancy, not `waiting` alone: a waiter just handed a freed slot still counts
            # as waiting until it runs, and must not make the queue look full.
            if self.running + self.waiting >= self.max_concurrency + self.max_queue:
                raise self._busy(f"{self.running} runs in flight and {self.waiting} waiting")
            self.waiting += 1
            try:
                await self._wait_for_slot()
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

    async def _wait_for_slot(self) -> None:
        acquire = asyncio.ensure_future(self._slots.acquire())
        closing = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait((acquire, closing), timeout=self.queue_timeout, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled: the client went away while waiting
            closing.cancel()
            if _settle(acquire):
                self._slots.release()
            raise
        closing.cancel()
        got = _settle(acquire)
        if self.closed:
            if got:
                self._slots.release()
            raise shutting_down()
        if not got:
            raise self._busy(f"no run slot freed up within {self.queue_timeout:g} s")

    def _busy(self, why: str) -> ProxyError:
        return ProxyError(
            429,
            f"claude-max-tui is at its concurrency limit ({self.max_concurrency} runs): {why}. Retry shortly.",
            kind="rate_limit",
            code="concurrency_limit",
            retry_after=2,
            source="request",
        )


def _settle(acquire: asyncio.Future) -> bool:
    """True if the slot was acquired. A pending acquire is cancelled: the semaphore then
    hands a slot it was about to give on to the next waiter, so no race leaks one."""
    if not acquire.done():
        acquire.cancel()
        return False
    return not acquire.cancelled() and acquire.exception() is None


def shutting_down() -> ProxyError:
    return ProxyError(503, "claude-max-tui is shutting down; the request was not run.", code="server_shutting_down", source="shutdown")


def prompt_chars(body: Any) -> int:
    """Characters of text a request body carries: every string in it except inline
    `data:` URLs (images and files, bounded separately). An upper bound on the prompt.

    Iterative, so that any JSON `json.loads` accepted can be measured."""
    total = 0
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not value.startswith("data:"):
                total += len(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return total


def check_prompt_size(body: Any, max_chars: int) -> None:
    """Refuse, before spawning, a prompt far beyond any model's context (400)."""
    chars = prompt_chars(body)
    if chars > max_chars:
        raise ProxyError(
            400,
            f"This request carries about {chars:,} characters of text, more than claude-max-tui accepts "
            f"({max_chars:,}, far beyond any Claude model's context window). Shorten the conversation.",
            code="context_length_exceeded",
            param="messages",
            retryable=False,
        )
