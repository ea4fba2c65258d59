"""Connections the server holds: time limits, a cap, and quiet logs at the fd limit.

Slow or idle clients must not starve the proxy (issue 16):

* Idle connections, and headers trickled in: aiohttp's keep-alive timer closes a connection
  that has not sent a whole request's headers within `header_timeout` of opening or of its
  last response (`handler_args`, passed to the AppRunner).
* Bodies trickled in: `read_body_within` reads the body under a deadline before the handler
  runs (a 408), which then finds it already read.
* Too many connections: at `max_connections`, `GuardedTCPSite` makes room for a new
  connection by closing the oldest one still waiting for a request (idle, or trickling its
  headers); when every connection is busy with a request, the new one gets a 503 and is
  closed at once. Either way the fds left stay for `/health`, chat and the CLI's pipes.
  Automatic by default: the open-file limit minus a reserve for runs and the store.
* Log lines: failed `accept()`s at the fd limit (asyncio logs a traceback for each) and
  malformed requests (aiohttp logs one for each) become one line, at most once per 10 s
  per kind, with a count of those left out.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
import weakref

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..claude.outcome import client_disconnected
from ..errors import ProxyError

log = logging.getLogger(__name__)

#: fds kept free for everything but client connections: the store, the listening socket,
#: logs, and per CLI run its three pipes and the tool bridge's sockets.
RESERVE_FDS = 64
FDS_PER_RUN = 8
#: Seconds between two log lines of the same kind of connection trouble.
LOG_EVERY = 10.0

_OVER_CAP_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s"
)
_OVER_CAP_BODY = (
    b'{"error":{"message":"claude-max-tui has too many open connections; retry shortly.",'
    b'"type":"server_error","param":null,"code":"too_many_connections"}}'
)


def handler_args(header_timeout: float) -> dict:
    """Keyword arguments for `web.AppRunner`: aiohttp's own limits for each connection."""
    return {
        # Closes a connection waiting for a request (nothing sent yet, or headers only in
        # part) this long after it opened or after its last response.
        "keepalive_timeout": header_timeout,
        "max_line_size": 8190,
        "max_field_size": 8190,
    }


def max_connections_for(max_concurrency: int, configured: int = 0) -> int:
    """The connection cap: `configured`, else what the open-file limit leaves."""
    if configured > 0:
        return configured
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(16, min(4096, soft - RESERVE_FDS - FDS_PER_RUN * max_concurrency))


async def read_body_within(request: web.Request, seconds: float) -> None:
    """Read the request's body now, within `seconds` (aiohttp keeps it for the handler)."""
    if not request.can_read_body or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.content.is_eof():
        # All of it came with the headers (most requests): nothing to wait for, so no timer
        # and no task (`wait_for` makes one, and a loop turn before the handler goes on).
        await request.read()
        return
    try:
        await asyncio.wait_for(request.read(), seconds)
    except ConnectionError:
        # The client left while sending its body: a disconnect (499), not our error.
        raise client_disconnected() from None
    except asyncio.TimeoutError:
        raise ProxyError(
            408,
            f"The request body did not arrive within {seconds:g} s.",
            code="request_timeout",
            retryable=False,
        ) from None


class _OverCap(asyncio.Protocol):
    """A connection over the cap: a 503 and goodbye, without reading a byte."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(_OVER_CAP_RESPONSE % (len(_OVER_CAP_BODY), _OVER_CAP_BODY))  # type: ignore[attr-defined]
        transport.close()


class GuardedTCPSite(web.TCPSite):
    """A TCPSite whose connections are capped (see the module's docstring)."""

    def __init__(self, runner: web.BaseRunner, host: str | None, port: int | None, *, max_connections: int, **kwargs) -> None:
        super().__init__(runner, host, port, **kwargs)
        self.max_connections = max_connections
        self.refused = 0
        self.evicted = 0
        self._last_refusal_log = 0.0
        self._unlogged = 0

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        quiet_connection_errors(loop)
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= self.max_connections:
                waiting = _oldest_waiting(server.connections)
                if waiting is None:
                    self._over_cap()
                    return _OverCap()
                self.evicted += 1
                waiting.force_close()
            return server()

        self._server = await loop.create_server(
            protocol, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
        )  # fmt: skip
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    def _over_cap(self) -> None:
        self.refused += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._last_refusal_log >= LOG_EVERY:
            log.warning("%d open connections (the cap): %d new ones answered 503 and closed", self.max_connections, self._unlogged)
            self._last_refusal_log, self._unlogged = now, 0


def _oldest_waiting(handlers: list) -> object | None:
    """The oldest connection waiting for a request (aiohttp keeps them in arrival order;
    `_waiter` is the future of a handler waiting for its next request's headers)."""
    for handler in handlers:
        waiter = getattr(handler, "_waiter", None)
        if waiter is not None and not waiter.done():
            return handler
    return None


class _RateLimited:
    """One line per kind of trouble per `LOG_EVERY` seconds, no traceback."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def line(self, kind: str, text: str) -> str | None:
        now = time.monotonic()
        if now - self._last.get(kind, -LOG_EVERY) < LOG_EVERY:
            self._skipped[kind] = self._skipped.get(kind, 0) + 1
            return None
        self._last[kind] = now
        skipped = self._skipped.pop(kind, 0)
        return f"{text} (and {skipped} more like it in the last {LOG_EVERY:g} s)" if skipped else text


_limiter = _RateLimited()
_installed_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()


def quiet_connection_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Rate-limit, without tracebacks, what the loop and aiohttp log per failed connection."""
    if loop not in _installed_loops:
        _installed_loops.add(loop)
        previous = loop.get_exception_handler()

        def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
            message = context.get("message", "")
            exc = context.get("exception")
            if "accept()" in message or isinstance(exc, OSError) and "accept" in message:
                line = _limiter.line("accept", f"{message}: {exc}")
                if line:
                    log.error("%s", line)
                return
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handler)
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _OneLineBadRequests) for f in server_log.filters):
        server_log.addFilter(_OneLineBadRequests())


class _OneLineBadRequests(logging.Filter):
    """aiohttp logs every malformed request with its traceback: make it one line, rate-limited."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            line = _limiter.line("bad_request", f"{record.getMessage()}: malformed HTTP ({type(exc).__name__}: {' '.join(str(exc).split())})")
            if line is None:
                return False
            record.msg, record.args, record.exc_info, record.exc_text = line, (), None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
