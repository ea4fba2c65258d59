"""The engine: the aiohttp server, the CLI runner and the capture store, wired to one bus.

Both faces (console and headless) build an Engine, subscribe to its bus, then start it
inside their own event loop:

    engine = Engine(config)
    engine.bus.subscribe(my_subscriber)
    await engine.start()          # binds host:port (OSError if taken), probes the CLI
    ...                           # engine.url, engine.cli_status, engine.active_runs
    await engine.kill(exchange_id)
    await engine.stop()           # stops accepting, ends streams, reaps children, flushes captures

It is the composition root: the run registry (`runs/`, the one owner of every CLI child), the
capture store and the web app (`server/`, which sees the engine only as `server.keys.EngineView`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from typing import Callable

from aiohttp import web

from .claude.argv import build_env, default_inherited_env
from .claude.launcher import close_launcher, open_launcher
from .claude.probe import CliStatus, probe_cli
from .claude.run import RunSettings
from .claude.run_dir import RunFolders
from .claude.session_file import CliContext
from .claude.workdir import Workdir, open_workdir
from .config import Config
from .events import EventBus, Notice, QuotaReported
from .exchange import Exchange
from .ids import new_exchange_id
from .quota.latest import LatestQuota
from .quota.usage_poll import UsagePoller
from .quota.windows import QuotaReport
from .runs.registry import Runs
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
        #: The subscription's limit windows as last reported (every run's, every poll's).
        self.quota = LatestQuota(clock=clock)
        self.bus.subscribe(self.quota, only=(QuotaReported,))
        #: Reads the windows without a model call (set at start, when the CLI is known).
        self.usage_poll: UsagePoller | None = None
        #: The loop's CLI launcher (one session for every CLI: claude/launcher.py) is open for it.
        self._launcher_open = False
        #: Every live CLI child (set at start, when the CLI is known).
        self.runs: Runs = None  # type: ignore[assignment]
        self.store = None
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._unsubscribe_store: Callable[[], None] | None = None
        self._workdir: Workdir | None = None

    # -- state the faces show ----------------------------------------------------------

    @property
    def url(self) -> str:
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def active_runs(self) -> int:
        """Live CLI children: answering, waiting for tool results, or being reaped."""
        return len(self.runs) if self.runs is not None else 0

    # -- exchanges -----------------------------------------------------------------------

    def new_exchange(self) -> Exchange:
        return Exchange(self._ids(), self.bus, self.clock)

    async def kill(self, exchange_id: str) -> bool:
        """End a running request: its client gets an error, its child is reaped."""
        return self.runs is not None and self.runs.kill(exchange_id)

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
        self._workdir = workdir = await asyncio.to_thread(open_workdir, str(config.data_dir), inherited.get("HOME") or os.path.expanduser("~"), inherited.get("CLAUDE_CONFIG_DIR"))
        runs_dir = workdir.runs_dir
        self._launcher_open = config.launcher
        if config.launcher:
            open_launcher()
        folders = RunFolders(runs_dir)
        folders.start()
        self.runs = Runs(RunSettings(
            cli_path=self.cli_status.path or config.claude,
            inherited_env=inherited,
            runs_dir=runs_dir,
            first_output_timeout=config.first_output_timeout,
            idle_timeout=config.idle_timeout,
            total_timeout=config.timeout,
            kill_grace=KILL_GRACE,
            workdir=workdir.cwd,
            sessions_dir=workdir.sessions_dir,
            context=await asyncio.to_thread(CliContext.load, os.path.join(workdir.root, "cli-records.json"), self.cli_status.version or ""),
            folders=folders,
        ), pool_size=config.pool_size if self.cli_status.found else 0, warm_count=config.warm_conversations, warm_max_mb=config.warm_max_mb)
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
            await self._close_launcher()
            folders.close()
            shutil.rmtree(runs_dir, ignore_errors=True)
            workdir.close()
            raise
        self.port = _bound_port(site) or config.port
        self.runs.start_pool()
        usage = self.runs.usage
        self.usage_poll = UsagePoller(usage.ask, self._quota_polled, interval=config.usage_poll_seconds if self.cli_status.found else 0, rest=usage.rest)
        self.usage_poll.start()
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
        if self.usage_poll is not None:
            await self.usage_poll.close()
        if self.runs is not None:
            self.runs.stop_all("shutdown")  # streams end with an error event
        if runner is not None:
            await runner.cleanup()
        if self.runs is not None:
            await self.runs.close(KILL_GRACE)  # every child reaped, the runs folder gone
        await self._close_launcher()
        if self._workdir is not None:
            self._workdir.close()
            self._workdir = None
        await asyncio.to_thread(self._close_store)

    async def _close_launcher(self) -> None:
        if self._launcher_open:
            self._launcher_open = False
            await close_launcher()  # its helper gone: nothing it started is left

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
        self._unsubscribe_store = self.store.record(self.bus)
        self.store.announce_problems(self.bus)

    def _close_store(self) -> None:
        if self._unsubscribe_store:
            self._unsubscribe_store()
            self._unsubscribe_store = None
        if self.store is not None:
            store, self.store = self.store, None
            store.flush()
            store.close()

    def _quota_polled(self, report: QuotaReport) -> None:
        self.bus.publish(QuotaReported(exchange_id="", at=self.clock(), report=report))

    def _notice(self, level: str, message: str, **data) -> None:
        self.bus.publish(Notice(exchange_id="", at=self.clock(), level=level, message=message, data=data))  # type: ignore[arg-type]


def _bound_port(site: web.TCPSite) -> int | None:
    server = site._server  # aiohttp keeps the asyncio Server here; its sockets know the real port
    for sock in getattr(server, "sockets", None) or ():
        return sock.getsockname()[1]
    return None
