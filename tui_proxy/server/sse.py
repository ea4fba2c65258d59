"""Server-sent events on an aiohttp StreamResponse: events (named or not), keep-alives, one writer."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

#: A client that reads nothing for this long is gone: without a bound, one that stops
#: reading would block its handler (and run slot) forever once the socket buffers fill.
WRITE_TIMEOUT = 60.0
#: Below the transport's default high-water mark (64 KiB): a write that keeps the buffer
#: under it returns at once, so it needs no timeout.
QUICK_WRITE_BYTES = 48 * 1024

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


class _SseResponse(web.StreamResponse):
    # The headers leave with the first event (one write, one packet) rather than alone at
    # `prepare()`: a stream's headers are only sent once there is something to send.
    _send_headers_immediately = False


class SseStream:
    """Commits the 200 lazily, so failures before the first output keep their real status."""

    __slots__ = ("request", "response", "headers", "last_write", "_keepalive", "_interval", "_held", "_closed")

    def __init__(self, request: web.Request, headers: dict[str, str], keepalive_interval: float) -> None:
        self.request = request
        self.headers = {**SSE_HEADERS, **headers}
        self.response: web.StreamResponse | None = None
        self.last_write = time.monotonic()
        self._keepalive: asyncio.TimerHandle | None = None
        self._interval = keepalive_interval
        self._held: list[str] = []
        self._closed = False

    async def commit(self) -> bool:
        """Send the 200 and headers. Returns True the first time."""
        if self.response is not None:
            return False
        response = _SseResponse(status=200, headers=self.headers)
        self.response = response
        await response.prepare(self.request)
        self._keepalive = asyncio.get_running_loop().call_later(self._interval / 2, self._keep_alive)
        return True

    def hold(self, frame: str) -> None:
        """Queue an event (see `frame()`) for the next write: events that arrived together
        leave together.

        Held events never wait for more output: they go out with the next event, or as soon
        as the handler waits on the CLI again (the loop's next turn), whichever comes first.
        """
        self._held.append(frame)
        if len(self._held) == 1:
            asyncio.get_running_loop().call_soon(self._flush_held_soon)

    def _flush_held_soon(self) -> None:
        if self._held:
            asyncio.ensure_future(self._flush_held())

    async def _flush_held(self) -> None:
        if not self._held:
            return
        text, self._held = "".join(self._held), []
        try:
            await self._write(text.encode())
        except (ConnectionError, RuntimeError):
            pass  # the client is gone: the handler finds out on its next write

    async def send(self, frame: str) -> None:
        """Send an event (see `frame()`), with any held before it, in one write."""
        if self._held:
            self._held.append(frame)
            text, self._held = "".join(self._held), []
            await self._write(text.encode())
        else:
            await self._write(frame.encode())

    async def comment(self, text: str = "keep-alive") -> None:
        held, self._held = "".join(self._held), []  # never overtake held events
        await self._write((held + f": {text}\n\n").encode())

    async def _write(self, data: bytes, *, eof: bool = False) -> None:
        assert self.response is not None
        self.last_write = time.monotonic()
        write = self.response.write_eof if eof else self.response.write
        transport = self.request.transport
        if transport is not None and transport.get_write_buffer_size() + len(data) < QUICK_WRITE_BYTES:
            # Room in the socket buffer: the write cannot block, so no timer (the hot path).
            await write(data)
            return
        try:
            await asyncio.wait_for(write(data), WRITE_TIMEOUT)
        except asyncio.TimeoutError:
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            # A ConnectionError: the handler treats it as the client leaving (child killed).
            raise ConnectionResetError(f"the client read nothing for {WRITE_TIMEOUT:g} s") from None

    def _keep_alive(self) -> None:
        # Long CLI silences (retries last minutes): comments keep proxies and clients patient.
        # A timer every half interval (not a task: most streams never need a comment).
        transport = self.request.transport
        if transport is None or transport.is_closing():
            return  # the client is gone; the handler's own cleanup takes over
        if time.monotonic() - self.last_write >= self._interval:
            self._keepalive = None
            asyncio.ensure_future(self._comment_then_keep_alive())
        else:
            self._keepalive = asyncio.get_running_loop().call_later(self._interval / 2, self._keep_alive)

    async def _comment_then_keep_alive(self) -> None:
        try:
            await self.comment()
        except (ConnectionError, RuntimeError):
            return
        if not self._closed:
            self._keepalive = asyncio.get_running_loop().call_later(self._interval / 2, self._keep_alive)

    async def close(self, last: str | None = None) -> None:
        """End the stream. `last` (an event, see `frame()`) leaves with any held before it and
        the end of the body, in one write; like `send()`, it raises when the client is gone."""
        self._closed = True
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self.response is None:
            return
        if last is not None:
            held, self._held = "".join(self._held), []
            await self._write((held + last).encode(), eof=True)
            return
        try:
            await self.response.write_eof()
        except (ConnectionError, RuntimeError):
            pass


def frame(data: str, event: str | None = None) -> str:
    """One event as sent: an `event:` line when it is named (Responses, Messages), then `data:`."""
    if event is None:
        return "data: " + data + "\n\n"
    return "event: " + event + "\ndata: " + data + "\n\n"
