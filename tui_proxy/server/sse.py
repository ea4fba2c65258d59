"""Server-sent events on an aiohttp StreamResponse: data events, keep-alives, one writer."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

#: A client that reads nothing for this long is gone: without a bound, one that stops
#: reading would block its handler (and run slot) forever once the socket buffers fill.
WRITE_TIMEOUT = 60.0

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


class SseStream:
    """Commits the 200 lazily, so failures before the first output keep their real status."""

    __slots__ = ("request", "response", "headers", "last_write", "_keepalive", "_interval")

    def __init__(self, request: web.Request, headers: dict[str, str], keepalive_interval: float) -> None:
        self.request = request
        self.headers = {**SSE_HEADERS, **headers}
        self.response: web.StreamResponse | None = None
        self.last_write = time.monotonic()
        self._keepalive: asyncio.Task | None = None
        self._interval = keepalive_interval

    @property
    def committed(self) -> bool:
        return self.response is not None

    async def commit(self) -> bool:
        """Send the 200 and headers. Returns True the first time."""
        if self.response is not None:
            return False
        response = web.StreamResponse(status=200, headers=self.headers)
        self.response = response
        await response.prepare(self.request)
        self._keepalive = asyncio.ensure_future(self._keep_alive())
        return True

    async def data(self, payload: str) -> None:
        await self._write(("data: " + payload + "\n\n").encode())

    async def comment(self, text: str = "keep-alive") -> None:
        await self._write(f": {text}\n\n".encode())

    async def _write(self, data: bytes) -> None:
        assert self.response is not None
        self.last_write = time.monotonic()
        try:
            await asyncio.wait_for(self.response.write(data), WRITE_TIMEOUT)
        except asyncio.TimeoutError:
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            # A ConnectionError: the handler treats it as the client leaving (child killed).
            raise ConnectionResetError(f"the client read nothing for {WRITE_TIMEOUT:g} s") from None

    async def _keep_alive(self) -> None:
        # Long CLI silences (retries last minutes): comments keep proxies and clients patient.
        try:
            while True:
                await asyncio.sleep(self._interval / 2)
                transport = self.request.transport
                if transport is None or transport.is_closing():
                    return  # the client is gone; the handler's own cleanup takes over
                if time.monotonic() - self.last_write >= self._interval:
                    await self.comment()
        except (ConnectionError, RuntimeError):
            pass

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self.response is not None:
            try:
                await self.response.write_eof()
            except (ConnectionError, RuntimeError):
                pass
