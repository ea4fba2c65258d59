"""Runs stopped at client tool calls, kept alive for the client's next request.

When the model calls client tools the CLI waits, with the whole conversation in its
context and its prompt cached upstream. If the client's next request is exactly that
conversation plus the results of those calls, the same CLI goes on (measured: the answer
after a tool round starts ~0.5–1 s sooner than with a new run, and the model sees real
tool_use/tool_result blocks). Anything else — an edited history, a retry of a request
that already resumed the run, results after `WAIT_SECONDS`, a full parking lot, a
restarted proxy — takes the always-correct path: a new run.

Parked runs stay in the run registry (`runs/registry.py`): they count as active runs,
the console can kill them and shutdown stops them; their waiting is bounded here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from ..claude.run import CliRun
from ..claude.run_events import Done
from ..conversation import ModelRequest, Turn
from ..claude.plan import RunPlan
from ..tools import bridge

#: How long a run waits for the client's tool results before it is stopped.
WAIT_SECONDS = bridge.WAIT_SECONDS
#: Parked runs at most (each is a live CLI process); the oldest goes first.
MAX_PARKED = 8


@dataclass(slots=True)
class _Parked:
    run: CliRun
    #: What the next request must repeat for the run to go on.
    turns: tuple[Turn, ...]
    plan: RunPlan
    timer: asyncio.TimerHandle


class ParkedRuns:
    def __init__(self, drop_run: Callable[[CliRun, str], None]) -> None:
        #: Ends a run that will not go on (the registry kills and reaps it).
        self._drop_run = drop_run
        self._runs: dict[frozenset[str], _Parked] = {}

    def __len__(self) -> int:
        return len(self._runs)

    def park(self, run: CliRun, request: ModelRequest, plan: RunPlan, done: Done) -> bool:
        """Keep `run` (stopped at `done.tool_calls`) for the next request. False: finish it instead."""
        if not done.tool_calls or run.process is None:
            return False
        while len(self._runs) >= MAX_PARKED:
            self.drop(next(iter(self._runs)), "evicted")
        key = frozenset(call.id for call in done.tool_calls)
        timer = asyncio.get_running_loop().call_later(WAIT_SECONDS, self.drop, key, "tool_wait_timeout")
        self._runs[key] = _Parked(run, request.conversation.turns, plan, timer)
        return True

    def claim(self, request: ModelRequest, plan: RunPlan) -> tuple[CliRun, dict[str, tuple[str, bool]]] | None:
        """The parked run this request continues, with the tool results by call id; else None."""
        turns = request.conversation.turns
        split = len(turns)
        while split and turns[split - 1].role == "tool":
            split -= 1
        if split == len(turns) or split == 0 or not turns[split - 1].tool_calls:
            return None
        results = {turn.tool_call_id: (turn.text, turn.is_error) for turn in turns[split:]}
        key = frozenset(call.id for call in turns[split - 1].tool_calls)
        parked = self._runs.get(key)
        if parked is None:
            return None
        before = parked.plan
        same = (
            parked.run.awaiting_tools
            and parked.run.process is not None
            and parked.run.process.returncode is None  # the CLI is still waiting
            and results.keys() == key
            and parked.turns == turns[: split - 1]
            and before.prompt.system_prompt == plan.prompt.system_prompt
            and before.options == plan.options
            and before.tools.offered == plan.tools.offered
        )
        if not same:
            self.drop(key, "conversation_changed")
            return None
        self._release(key)
        return parked.run, results

    def holds(self, run: CliRun) -> bool:
        return any(parked.run is run for parked in self._runs.values())

    def discard(self, run: CliRun) -> None:
        """Forget `run` if it is parked (its request failed after all); the caller ends it."""
        for key, parked in list(self._runs.items()):
            if parked.run is run:
                self._release(key)

    def drop(self, key: frozenset[str], reason: str) -> None:
        """Stop a parked run (timeout, eviction, a changed conversation)."""
        parked = self._release(key)
        if parked is not None:
            self._drop_run(parked.run, reason)

    def drop_answered(self, exchange_id: str, reason: str) -> bool:
        """Stop the run parked after answering `exchange_id`, if any."""
        for key, parked in list(self._runs.items()):
            if parked.run.exchange is not None and parked.run.exchange.id == exchange_id:
                self.drop(key, reason)
                return True
        return False

    def drop_all(self, reason: str) -> None:
        for key in list(self._runs):
            self.drop(key, reason)

    def _release(self, key: frozenset[str]) -> _Parked | None:
        parked = self._runs.pop(key, None)
        if parked is not None:
            parked.timer.cancel()
        return parked
