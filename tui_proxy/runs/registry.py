"""The one owner of every live CLI child of an engine.

A run enters here when it is prepared (spawned) and leaves when its child is reaped. In
between it answers a request, waits parked for the client's tool results (`parked.py`), or is
being reaped in the background after its answer went out. The registry starts runs (a parked
one continued, or a new one), parks and settles them, kills them (console, shutdown, a client
gone), reaps them, and at shutdown leaves no child behind.

A new conversation's first turn may take a CLI started ahead of it from the pool
(`pool.py`); after its answer a CLI may be kept warm for the conversation's next turn
(`warm.py`), as one stopped at client tool calls is parked for the results (`parked.py`).
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Callable, Coroutine

from ..claude.plan import RunPlan
from ..claude.process import live_processes
from ..claude.run import CliRun, RunSettings
from ..claude.run_events import Done
from ..conversation import ModelRequest
from ..exchange import Exchange
from ..ids import new_run_id
from .parked import ParkedRuns
from .pool import Pool
from .usage_cli import UsageCli
from .warm import WarmRuns, keepable


class Runs:
    def __init__(self, settings: RunSettings, pool_size: int = 0, warm_count: int = 0, warm_max_mb: int = 1024) -> None:
        self.settings = settings
        #: CLIs started ahead of their request (0: off).
        self.pool = Pool(settings, pool_size)
        #: The CLI kept for the plan's usage windows (quota/usage_poll.py asks it).
        self.usage = UsageCli(settings)
        #: Every run from its spawn until its child is reaped, by run id.
        self._live: dict[str, CliRun] = {}
        #: The run answering each exchange now, by exchange id (what the console can kill).
        self._answering: dict[str, CliRun] = {}
        #: Runs whose reaping has been decided (settled, dropped): no one else stops them.
        self._reaping: set[str] = set()
        self.parked = ParkedRuns(self._drop)
        self.warm = WarmRuns(self._drop, max_count=warm_count, max_mb=warm_max_mb)
        self._background: set[asyncio.Task] = set()
        self._stopping = False

    def __len__(self) -> int:
        """Live CLI children: answering, parked, or not yet reaped."""
        return len(self._live)

    # -- a request's run -----------------------------------------------------------------

    async def start(self, exchange: Exchange, request: ModelRequest, plan: RunPlan) -> CliRun:
        """The run that answers `exchange`: the parked run whose tool calls this request answers,
        else the warm CLI whose conversation it continues, else a new run (a pooled CLI when one
        fits, else spawned cold)."""
        claimed = self.parked.claim(request, plan)
        warm = None if claimed is not None else self.warm.claim(request, plan)
        if claimed is not None:
            run, results = claimed
            run.resume(exchange, plan.limiter(), results)
        elif warm is not None:
            run, line = warm
            await run.continue_turn(exchange, plan, line)
        else:
            run = CliRun(self.settings, plan, new_run_id())
            run.keep_stdin = self.warm.enabled and keepable(request, plan)
            self._live[run.id] = run
            slot = self.pool.take(request, plan)
            if slot is not None:
                run.adopt(slot.process, slot.run_dir)
            else:
                try:
                    await run.prepare()
                except BaseException:
                    await asyncio.shield(self.reap(run))
                    raise
            run.attach(exchange)
            if self._stopping:
                run.kill("shutdown")
        self._answering[exchange.id] = run
        return run

    def keep(self, run: CliRun, request: ModelRequest, plan: RunPlan, done: Done, answer_text: str) -> bool:
        """Keep a run for the client's next request, before the client can see the answer (that
        request may come the moment it does): parked when it waits for the client's tool results,
        warm when it can answer the conversation's next turn. False: settle it as usual."""
        if self._stopping:
            return False
        if done.finish_reason == "tool_calls":
            return self.parked.park(run, request, plan, done)
        if run.keep_stdin and run.warm and done.finish_reason == "stop":
            return self.warm.keep(run, request, plan, answer_text)
        return False

    def settle(self, run: CliRun, then: Callable[[], None]) -> None:
        """The answer is out: reap the child off the request, then call `then` (close the exchange).

        The connection is free at once (a keep-alive client's next request is not held up by
        the reap), and a client that hangs up now cannot turn a delivered answer into a cut one.
        """

        self._reaping.add(run.id)

        async def reap_then() -> None:
            try:
                await self.reap(run)
            finally:
                then()

        self.background(reap_then())

    def release(self, exchange: Exchange, run: CliRun) -> None:
        """The request is over, however it ended. Safety net: a run its handler left behind by
        an unexpected exception (neither parked nor reaped) is stopped and reaped here."""
        if self._answering.get(exchange.id) is run:
            del self._answering[exchange.id]
        if run.id in self._live and run.id not in self._reaping and not self.parked.holds(run) and not self.warm.holds(run):
            self._drop(run, "abandoned")

    async def reap(self, run: CliRun) -> None:
        """Stop (if it still runs) and reap `run`'s child; it leaves the registry."""
        self._reaping.add(run.id)
        self.parked.discard(run)
        self.warm.discard(run)
        try:
            await run.finish()
        finally:
            self._live.pop(run.id, None)
            self._reaping.discard(run.id)

    # -- the engine's controls -----------------------------------------------------------

    def kill(self, exchange_id: str) -> bool:
        """End the run answering `exchange_id` (its client gets an error), or the run parked
        after answering it with tool calls; the child is reaped."""
        run = self._answering.get(exchange_id)
        if run is not None:
            run.kill("killed")
            return True
        return self.parked.drop_answered(exchange_id, "killed") or self.warm.drop_answered(exchange_id, "killed")

    def background(self, coroutine: Coroutine) -> None:
        """Work that outlives its request (reaping a child); awaited at shutdown."""
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def start_pool(self) -> None:
        self.pool.start()

    def stop_all(self, reason: str = "shutdown") -> None:
        """Stop every run now (their requests end with an error); no new run lives on."""
        self._stopping = True
        self.parked.drop_all(reason)
        self.warm.drop_all(reason)
        for run in list(self._live.values()):
            run.kill(reason)

    async def close(self, kill_grace: float) -> None:
        """After `stop_all` and the requests' end: reap everything, remove the runs folder."""
        self.stop_all()
        await self.pool.close()
        await self.usage.close()
        for run in list(self._live.values()):
            if run.id not in self._reaping:
                self._drop(run, "shutdown")
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        # Last resort: a child whose handler was cancelled twice (client gone, then the
        # server's own shutdown) may still be unreaped: no child outlives the engine.
        leftovers = live_processes(under=self.settings.runs_dir)
        await asyncio.gather(*(p.stop("shutdown", grace=kill_grace) for p in leftovers))
        if self.settings.folders is not None:
            await asyncio.to_thread(self.settings.folders.close)  # what the runs left (session files) goes first
        await asyncio.to_thread(shutil.rmtree, self.settings.runs_dir, True)

    def _drop(self, run: CliRun, reason: str) -> None:
        self._reaping.add(run.id)
        run.kill(reason)
        self.background(self.reap(run))
