"""The engine: the aiohttp server, the CLI runner and the capture store, wired to one bus.

Both faces (console and headless) build an Engine, subscribe to its bus, then start it
inside their own event loop:

    engine = Engine(config)
    engine.bus.subscribe(my_subscriber)
    await engine.start()          # binds host:port (OSError if taken), probes the CLI
    ...                           # engine.url, engine.cli_status, engine.active_runs
    await engine.kill(exchange_id)
    await engine.stop()           # stops accepting, ends streams, reaps children, flushes captures
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from typing import Callable, Coroutine

from aiohttp import web

from .claude.argv import build_env, default_inherited_env
from .claude.probe import CliStatus, probe_cli
from .claude.process import live_processes
from .claude.run import RunSettings
from .claude.run_dir import claim_runs_dir
from .config import Config
from .events import EventBus, Notice
from .exchange import Exchange
from .ids import new_exchange_id
from .server.admission import Admission
from .server.app import make_web_app
from .server.connections import GuardedTCPSite, handler_args, max_connections_for
from .server.guard import is_loopback

log = logging.getLogger(__name__)

#: Seconds that in-flight requests get to end on their own at shutdown.
SHUTDOWN_GRACE = 5.0
#: SIGTERM to SIGKILL. The CLI exits at once on SIGTERM (143, nothing to flush); this
#: bounds one that does not, so a client that leaves ends its child within a second.
KILL_GRACE = 0.5


class Engine:
    def __init__(
        self,
        config: Config,
        *,
        bus: EventBus | None = None,
        clock: Callable[[], float] = time.time,
        ids: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        self.bus = bus or EventBus()
        self.clock = clock
        self._ids = ids or (lambda: new_exchange_id(clock()))
        self.admission = Admission(config.max_concurrency, config.max_queue, config.queue_timeout)
        self.cli_status: CliStatus | None = None
        self.run_settings: RunSettings | None = None
        self.store = None
        self.port: int | None = None
        self._in_flight: dict[str, Exchange] = {}
        self._background: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._runs_dir: str | None = None
        self._unsubscribe_store: Callable[[], None] | None = None

    # -- state the faces show ----------------------------------------------------------

    @property
    def url(self) -> str:
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def active_runs(self) -> int:
        return len(self._in_flight)

    # -- exchanges -----------------------------------------------------------------------

    def new_exchange(self) -> Exchange:
        return Exchange(self._ids(), self.bus, self.clock)

    def track(self, exchange: Exchange) -> None:
        self._in_flight[exchange.id] = exchange

    def untrack(self, exchange: Exchange) -> None:
        self._in_flight.pop(exchange.id, None)
        # Safety net: a handler that left by an unexpected exception never reaped its
        # child. After a normal end the child is already reaped and this does nothing.
        if exchange.on_kill is not None:
            exchange.on_kill("abandoned")
            exchange.on_kill = None

    def background(self, coroutine: Coroutine) -> None:
        """Run work that outlives its request (reaping a child); awaited at shutdown."""
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def kill(self, exchange_id: str) -> bool:
        """End a running request: its client gets an error, its child is reaped."""
        exchange = self._in_flight.get(exchange_id)
        if exchange is None or exchange.on_kill is None:
            return False
        exchange.on_kill("killed")
        return True

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        config = self.config
        if not is_loopback(config.host) and not config.api_key and not config.allow_remote:
            raise PermissionError(
                f"Refusing to listen on {config.host} without an API key: anyone who can reach it could use "
                "your Claude subscription. Set --api-key (or CLAUDE_MAX_TUI_API_KEY), or pass --allow-remote."
            )
        inherited = default_inherited_env()
        self.cli_status = await probe_cli(config.claude, env=build_env(inherited, tmpdir=tempfile.gettempdir()))
        self._runs_dir = await asyncio.to_thread(claim_runs_dir)
        self.run_settings = RunSettings(
            cli_path=self.cli_status.path or config.claude,
            inherited_env=inherited,
            runs_dir=self._runs_dir,
            first_output_timeout=config.first_output_timeout,
            idle_timeout=config.idle_timeout,
            total_timeout=config.timeout,
            kill_grace=KILL_GRACE,
        )
        if config.capture:
            await self._open_store()
        app = make_web_app(self)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=SHUTDOWN_GRACE, **handler_args(config.header_timeout))
        await self._runner.setup()
        site = GuardedTCPSite(self._runner, config.host, config.port, reuse_address=True, max_connections=max_connections_for(config.max_concurrency, config.max_connections))
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            self._close_store()
            shutil.rmtree(self._runs_dir, ignore_errors=True)
            raise
        self.port = _bound_port(site) or config.port
        self._notice("info", f"listening on {self.url}", url=self.url)
        status = self.cli_status
        if not status.found:
            self._notice("error", f"Claude CLI not found ({status.error}). {status.hint or ''}".strip())
        elif status.logged_in is False:
            self._notice("warning", f"Claude CLI {status.version} is not logged in. {status.hint or ''}".strip())
        else:
            self._notice("info", f"Claude CLI {status.version} at {status.path}")

    async def stop(self) -> None:
        """Stop accepting, end in-flight runs (streams get an error event), reap, flush."""
        runner, self._runner = self._runner, None
        self.admission.close()  # queued and late requests get a 503, not a new child
        if runner is not None:
            for site in list(runner.sites):
                await site.stop()
        for exchange in list(self._in_flight.values()):
            if exchange.on_kill:
                exchange.on_kill("shutdown")
        if runner is not None:
            await runner.cleanup()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._runs_dir:
            # Last resort: a child whose handler was cancelled twice (client gone, then
            # the server's own shutdown) may still be unreaped: no child outlives stop().
            leftovers = live_processes(under=self._runs_dir)
            await asyncio.gather(*(p.stop("shutdown", grace=KILL_GRACE) for p in leftovers))
        await asyncio.to_thread(self._close_store)
        if self._runs_dir:
            await asyncio.to_thread(shutil.rmtree, self._runs_dir, True)
            self._runs_dir = None

    async def _open_store(self) -> None:
        from .capture.store import CaptureStore

        try:
            config = self.config
            self.store = await asyncio.to_thread(
                CaptureStore.open,
                config.capture_path,
                max_count=config.capture_max_count,
                max_bytes=config.capture_max_mb * 1024 * 1024,
                max_age_days=config.capture_max_days,
                clock=self.clock,
            )
        except Exception as exc:  # a broken store must not stop the proxy; say so loudly
            log.exception("capture store failed to open")
            self._notice("error", f"Capture is off: the store at {self.config.capture_path} could not be opened ({exc}).")
            return
        self._unsubscribe_store = self.bus.subscribe(self.store.recorder())
        self.store.announce_problems(self.bus)

    def _close_store(self) -> None:
        if self._unsubscribe_store:
            self._unsubscribe_store()
            self._unsubscribe_store = None
        if self.store is not None:
            store, self.store = self.store, None
            store.flush()
            store.close()

    def _notice(self, level: str, message: str, **data) -> None:
        self.bus.publish(Notice(exchange_id="", at=self.clock(), level=level, message=message, data=data))  # type: ignore[arg-type]


def _bound_port(site: web.TCPSite) -> int | None:
    server = site._server  # aiohttp keeps the asyncio Server here; its sockets know the real port
    for sock in getattr(server, "sockets", None) or ():
        return sock.getsockname()[1]
    return None
