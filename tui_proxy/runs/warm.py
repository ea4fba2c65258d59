"""Conversations kept warm: after an answer, the CLI stays open for the conversation's next turn.

A CLI that answered keeps the whole conversation, natively, with its prompt cache: if the
client's next request is exactly that conversation (same system prompt, options, no client
tools), its answer, and one or more new user messages, those messages are written to the CLI
as one stdin line and it answers at once (measured with the real CLI: ~50 ms to the first token
instead of a cold start). Anything else (an edited, trimmed or regenerated history, another
system prompt, images in the new message, a request after the wait, two clients sending the
same conversation) takes the always-correct path: a new run built from the request alone.

Bounded by count, memory and time; least recently used first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from ..claude.plan import RunPlan
from ..claude.prompt import render_prompt
from ..claude.run import CliRun
from ..conversation import Conversation, ImagePart, ModelRequest, TextPart, Turn

#: How long a CLI waits for its conversation's next turn.
WAIT_SECONDS = 180.0


@dataclass(slots=True)
class _Warm:
    run: CliRun
    #: The conversation the CLI holds: the request's turns and its answer.
    turns: tuple[Turn, ...]
    plan: RunPlan
    timer: asyncio.TimerHandle


def keepable(request: ModelRequest, plan: RunPlan) -> bool:
    """Whether a run may keep its stdin open for a next turn: a plain conversation (client
    tools have their own continuation, runs/parked.py; a schema or a cut answer end the CLI)."""
    return not plan.tools.offered and plan.options.json_schema is None and not plan.stop and plan.max_tokens is None


class WarmRuns:
    def __init__(self, drop_run: Callable[[CliRun, str], None], *, max_count: int, max_mb: int, wait_seconds: float = WAIT_SECONDS) -> None:
        self._drop_run = drop_run
        self.max_count = max(0, max_count)
        self.max_mb = max_mb
        self.wait_seconds = wait_seconds
        self._runs: OrderedDict[str, _Warm] = OrderedDict()  # by run id, least recently used first
        #: Next turns answered by a warm CLI, and kept CLIs dropped unused or for a changed history.
        self.continued = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def enabled(self) -> bool:
        return self.max_count > 0

    def keep(self, run: CliRun, request: ModelRequest, plan: RunPlan, answer_text: str) -> bool:
        """Keep `run` (its answer just went out) for the conversation's next turn."""
        if not self.enabled or run.process is None or run.process.returncode is not None:
            return False
        answer = Turn("assistant", (TextPart(answer_text),) if answer_text else ())
        timer = asyncio.get_running_loop().call_later(self.wait_seconds, self.drop, run.id, "warm_timeout")
        self._runs[run.id] = _Warm(run, (*request.conversation.turns, answer), plan, timer)
        while len(self._runs) > self.max_count or (len(self._runs) > 1 and self._resident_mb() > self.max_mb):
            self.drop(next(iter(self._runs)), "evicted")
        return run.id in self._runs

    def claim(self, request: ModelRequest, plan: RunPlan) -> tuple[CliRun, str] | None:
        """The warm CLI whose conversation this request continues, with the stdin line of the
        new user messages; None when there is none (then nothing is changed)."""
        turns = request.conversation.turns
        split = len(turns)
        while split and turns[split - 1].role == "user":
            split -= 1
        new = turns[split:]
        if not new or split == 0 or any(isinstance(p, ImagePart) for t in new for p in t.parts):
            return None
        for run_id, warm in reversed(self._runs.items()):
            if warm.turns == turns[:split] and _same_run(warm.plan, plan):
                self._release(run_id)
                if warm.run.process is None or warm.run.process.returncode is not None:
                    self._drop_run(warm.run, "exited")
                    return None
                self.continued += 1
                # Only the new messages: the CLI holds everything before them.
                line = render_prompt(Conversation(None, new)).stdin_line()
                return warm.run, line
        return None

    def holds(self, run: CliRun) -> bool:
        return run.id in self._runs

    def discard(self, run: CliRun) -> None:
        self._release(run.id)

    def drop(self, run_id: str, reason: str) -> None:
        warm = self._release(run_id)
        if warm is not None:
            self.dropped += 1
            self._drop_run(warm.run, reason)

    def drop_answered(self, exchange_id: str, reason: str) -> bool:
        for run_id, warm in list(self._runs.items()):
            if warm.run.exchange is not None and warm.run.exchange.id == exchange_id:
                self.drop(run_id, reason)
                return True
        return False

    def drop_all(self, reason: str) -> None:
        for run_id in list(self._runs):
            self.drop(run_id, reason)

    def resident_mb(self) -> float:
        return self._resident_mb()

    def _resident_mb(self) -> float:
        return sum(_rss_mb(w.run.process.pid) for w in self._runs.values() if w.run.process and w.run.process.pid)

    def _release(self, run_id: str) -> _Warm | None:
        warm = self._runs.pop(run_id, None)
        if warm is not None:
            warm.timer.cancel()
        return warm


def _same_run(before: RunPlan, now: RunPlan) -> bool:
    """What the kept CLI was started with must be what this request asks for."""
    return before.prompt.system_prompt == now.prompt.system_prompt and before.options == now.options and before.tools.offered == now.tools.offered


def _rss_mb(pid: int) -> float:
    """Resident memory of a CLI (the native binary's shared pages included: an upper bound)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
