"""Runs stopped at client tool calls, kept alive for the client's next request.

When the model calls client tools the CLI waits, with the whole conversation in its
context and its prompt cached upstream. If the client's next request is exactly that
conversation plus the results of those calls, the same CLI goes on (measured: the answer
after a tool round starts ~0.5–1 s sooner than with a new run, and the model sees real
tool_use/tool_result blocks). Anything else — an edited history, a retry of a request
that already resumed the run, results after `WAIT_SECONDS`, a full parking lot, a
restarted proxy — takes the always-correct path: a new run with the transcript.

A parked run is tracked by the engine as an active run, so the console can kill it and
shutdown stops it; its waiting is bounded by `WAIT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from ..claude.run import CliRun
from ..claude.run_events import Done
from ..conversation import ToolSpec, Turn
from . import bridge

#: How long a run waits for the client's tool results before it is stopped.
WAIT_SECONDS = bridge.WAIT_SECONDS
#: Parked runs per engine at most (each is a live CLI process); the oldest goes first.
MAX_PARKED = 8


@dataclass(slots=True)
class _Parked:
    run: CliRun
    #: What the next request must repeat for the run to go on.
    system_prompt: str | None
    turns: tuple[Turn, ...]
    options: object
    tools: tuple[ToolSpec, ...]
    tracker: object
    timer: asyncio.TimerHandle


class ParkedRuns:
    def __init__(self, engine) -> None:
        self.engine = engine
        self._runs: dict[frozenset[str], _Parked] = {}

    def __len__(self) -> int:
        return len(self._runs)

    def park(self, run: CliRun, chat, plan, done: Done) -> bool:
        """Keep `run` (stopped at `done.tool_calls`) for the next request. False: finish it instead."""
        if not done.tool_calls or run.process is None:
            return False
        while len(self._runs) >= MAX_PARKED:
            self.drop(next(iter(self._runs)), "evicted")
        key = frozenset(call.id for call in done.tool_calls)
        tracker = self.engine.new_exchange()
        tracker.on_kill = lambda reason: self.drop(key, reason)
        self.engine.track(tracker)
        timer = asyncio.get_running_loop().call_later(WAIT_SECONDS, self.drop, key, "tool_wait_timeout")
        self._runs[key] = _Parked(run, plan.prompt.system_prompt, chat.conversation.turns, plan.options, plan.tools.offered, tracker, timer)
        return True

    def claim(self, chat, plan) -> tuple[CliRun, dict[str, tuple[str, bool]]] | None:
        """The parked run this request continues, with the tool results by call id; else None."""
        turns = chat.conversation.turns
        split = len(turns)
        while split and turns[split - 1].role == "tool":
            split -= 1
        if split == len(turns) or split == 0 or not turns[split - 1].tool_calls:
            return None
        results = {turn.tool_call_id: (turn.text, False) for turn in turns[split:]}
        key = frozenset(call.id for call in turns[split - 1].tool_calls)
        parked = self._runs.get(key)
        if parked is None:
            return None
        same = (
            parked.run.awaiting_tools
            and parked.run.process is not None
            and parked.run.process.returncode is None  # the CLI is still waiting
            and results.keys() == key
            and parked.turns == turns[: split - 1]
            and parked.system_prompt == plan.prompt.system_prompt
            and parked.options == plan.options
            and parked.tools == plan.tools.offered
        )
        if not same:
            self.drop(key, "conversation_changed")
            return None
        self._release(key)
        return parked.run, results

    def discard(self, run: CliRun) -> None:
        """Forget `run` if it is parked (its request failed after all); the caller ends it."""
        for key, parked in list(self._runs.items()):
            if parked.run is run:
                self._release(key)

    def drop(self, key: frozenset[str], reason: str) -> None:
        """Stop a parked run (timeout, eviction, kill, shutdown, a changed conversation)."""
        parked = self._release(key)
        if parked is not None:
            parked.run.kill(reason)
            self.engine.background(parked.run.finish())

    def _release(self, key: frozenset[str]) -> _Parked | None:
        parked = self._runs.pop(key, None)
        if parked is not None:
            parked.timer.cancel()
            parked.tracker.on_kill = None  # untrack() would otherwise kill it
            self.engine.untrack(parked.tracker)
        return parked


_by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def parked_runs(engine) -> ParkedRuns:
    """The engine's parking lot (kept beside the engine, which knows nothing of tools)."""
    lot = _by_engine.get(engine)
    if lot is None:
        lot = _by_engine[engine] = ParkedRuns(engine)
    return lot
