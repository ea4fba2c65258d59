"""Poll the plan's windows with the CLI's `get_usage` control request, quietly.

Every `interval` seconds (`--usage-poll-seconds`, default 300: the upstream endpoint is itself
rate-limited, others poll no more than every 3 minutes) the usage CLI (runs/usage_cli.py) is
asked; its reply becomes a QuotaReport(source="get_usage") published as `QuotaReported` with
exchange_id "". No model call is ever made. When the CLI cannot tell (an API key, a token
without the profile scope, an older CLI without `get_usage`, an error reply, no answer), one
debug line is logged and the next try waits twice as long (up to `MAX_BACKOFF`); the CLI kept
for it is stopped meanwhile. A request never waits on this.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from .usage_reply import UsageUnavailable, from_get_usage
from .windows import QuotaReport

log = logging.getLogger(__name__)

#: Seconds after start before the first poll: the engine's start (and the pool's first
#: spawns) go first on a small machine.
FIRST_DELAY = 2.0
#: The longest wait between two tries while the CLI cannot tell.
MAX_BACKOFF = 3600.0
#: Seconds a `get_usage` reply may take (the CLI's own fetch times out after 5 s; a cold
#: start comes first).
REPLY_TIMEOUT = 30.0


class UsagePoller:
    def __init__(
        self,
        ask: Callable[[float], Awaitable[dict]],
        on_report: Callable[[QuotaReport], None],
        *,
        interval: float,
        rest: Callable[[], Awaitable[None]] | None = None,
        first_delay: float | None = None,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        """`ask(timeout)`: the `get_usage` reply's response object (raises on failure).
        `rest()`: free what asking holds (the usage CLI) while backing off."""
        self.ask = ask
        self.on_report = on_report
        self.interval = interval
        self.rest = rest
        self.first_delay = FIRST_DELAY if first_delay is None else first_delay
        self.max_backoff = max(max_backoff, interval)
        #: Polls answered with windows, and polls that were not (for /health).
        self.answered = 0
        self.unanswered = 0
        #: Why the last poll gave nothing (None after a good one).
        self.last_problem: str | None = None
        self.next_delay = self.first_delay
        #: Polls in a row that gave nothing: the wait doubles with each.
        self._streak = 0
        self._task: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.ensure_future(self._loop())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def poll(self) -> QuotaReport | None:
        """One poll: the report (published), or None (and the next delay grows)."""
        try:
            report = from_get_usage(await self.ask(REPLY_TIMEOUT))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # UsageUnavailable, the CLI's error, a timeout: all quiet
            reason = exc.reason if isinstance(exc, UsageUnavailable) else str(exc) or type(exc).__name__
            if self._streak == 0:  # once per streak, not once per try
                log.debug("get_usage gave no windows (%s); trying again in %.0f s, then less often", reason, min(self.interval * 2, self.max_backoff))
            self.last_problem = reason
            self.unanswered += 1
            self._streak += 1
            self.next_delay = min(self.interval * 2**self._streak, self.max_backoff)
            if self.rest is not None:
                await self.rest()
            return None
        self.answered += 1
        self.last_problem = None
        self._streak = 0
        self.next_delay = self.interval
        self.on_report(report)
        return report

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.next_delay)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let a poll end the loop (nor reach a request)
                log.exception("usage poll failed")
                self.next_delay = self.max_backoff

    def as_dict(self) -> dict:
        return {"interval_seconds": self.interval, "answered": self.answered, "unanswered": self.unanswered, "last_problem": self.last_problem}
