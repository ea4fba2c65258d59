"""CLIs started ahead of their request, for the first turn of a new conversation.

About 70 % of a cold `claude -p` start is process boot (docs/warm-start.md): a CLI spawned
ahead and waiting on stdin answers in about 0.3x the time. What is fixed at spawn (working
folder, TMPDIR, environment, tools, MCP config, JSON schema, effort) is the same for every
slot; the request's model and system prompt are given at request time through the CLI's
control protocol (`set_model`, `initialize`), which sends byte-identical upstream requests
(tests/test_pool_real_cli.py). A request a slot cannot take (client tools, a schema, an
effort level, earlier turns) is spawned cold, never served by a wrong slot.

Slots are refilled one at a time, a moment after one is taken (so the refill's boot does not
compete with the request that just took a slot, on 2 cores), recycled after `max_age` and
when the CLI binary or the login changes, and all reaped at shutdown.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections import deque
from dataclasses import dataclass

from ..claude.argv import RunOptions, build_argv, build_env
from ..claude.plan import RunPlan
from ..claude.process import CliProcess
from ..claude.run import RunSettings
from ..claude.run_dir import make_run_dir
from ..conversation import ModelRequest, TextPart

#: Seconds a slot may wait before it is replaced by a fresh one.
MAX_AGE = 600.0
#: Seconds after a slot is taken before its replacement is spawned.
REFILL_DELAY = 0.5
#: How often slots are checked for age, death, a new binary or a new login.
CHECK_EVERY = 15.0


@dataclass(slots=True)
class Slot:
    process: CliProcess
    run_dir: str
    born: float
    #: The CLI binary and login as they were at spawn (see `login_fingerprint`).
    fingerprint: tuple


def poolable(request: ModelRequest, plan: RunPlan) -> bool:
    """Whether a slot can answer this request exactly as a cold run would: nothing it needs is
    fixed at spawn. Only the model and the system prompt are given at request time, and the
    prompt goes on stdin: one text message (an image on stdin gets an extra block naming its
    temp file, which would break the conversation's cache prefix on the next turn)."""
    turns = request.conversation.turns
    return (
        not plan.tools.offered
        and plan.options.json_schema is None
        and plan.options.effort is None
        and len(turns) == 1
        and turns[0].role == "user"
        and all(isinstance(part, TextPart) for part in turns[0].parts)
    )


class Pool:
    def __init__(self, settings: RunSettings, size: int, *, max_age: float = MAX_AGE, refill_delay: float = REFILL_DELAY) -> None:
        self.settings = settings
        self.size = max(0, size)
        self.max_age = max_age
        self.refill_delay = refill_delay
        self._ready: deque[Slot] = deque()
        self._spawning = 0
        self._tasks: set[asyncio.Task] = set()
        self._closed = False
        self._checker: asyncio.Task | None = None
        #: Slots served, and requests that could have used one but found none ready.
        self.served = 0
        self.missed = 0

    def __len__(self) -> int:
        """Slots ready now."""
        return len(self._ready)

    def pids(self) -> list[int]:
        return [slot.process.pid or 0 for slot in self._ready]

    def start(self) -> None:
        if self.size:
            self._fill()
            self._checker = asyncio.ensure_future(self._check_periodically())

    def take(self, request: ModelRequest, plan: RunPlan) -> Slot | None:
        """A ready slot for this request, or None (then it is spawned cold)."""
        if not self.size or self._closed or not poolable(request, plan):
            return None
        now = time.monotonic()
        fingerprint = login_fingerprint(self.settings)
        while self._ready:
            slot = self._ready.popleft()
            if slot.process.returncode is None and now - slot.born < self.max_age and slot.fingerprint == fingerprint:
                self.served += 1
                self._later(self.refill_delay, self._fill)
                return slot
            self._discard(slot)
        self.missed += 1
        self._later(self.refill_delay, self._fill)
        return None

    async def close(self) -> None:
        """No more slots; every child reaped, every folder removed."""
        self._closed = True
        if self._checker is not None:
            self._checker.cancel()
        while self._ready:
            self._discard(self._ready.popleft())
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- filling and recycling -----------------------------------------------------------

    def _fill(self) -> None:
        while not self._closed and len(self._ready) + self._spawning < self.size:
            self._spawning += 1
            self._track(self._spawn())

    async def _spawn(self) -> None:
        s = self.settings
        run_dir = None
        try:
            run_dir = (s.folders.take() if s.folders is not None else None) or await asyncio.to_thread(make_run_dir, s.runs_dir, None)
            argv = build_argv(s.cli_path, RunOptions(model=""))
            env = build_env(s.inherited_env, tmpdir=os.path.join(run_dir, "tmp"))
            # The one working directory of every run (claude/workdir.py): the CLI names it in its
            # environment message, which must match the conversation's later turns.
            process = CliProcess(argv, env=env, cwd=s.workdir or os.path.join(run_dir, "cwd"))
            await process.start()
        except OSError:
            # No CLI (or no room): nothing to pool; requests spawn cold and say why.
            if run_dir:
                await _release_folder(s, run_dir)
            return
        finally:
            self._spawning -= 1
        slot = Slot(process, run_dir, time.monotonic(), login_fingerprint(s))
        if self._closed:
            self._discard(slot)
        else:
            self._ready.append(slot)

    async def _check_periodically(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            now = time.monotonic()
            fingerprint = login_fingerprint(self.settings)
            for slot in list(self._ready):
                if slot.process.returncode is not None or now - slot.born >= self.max_age or slot.fingerprint != fingerprint:
                    self._ready.remove(slot)
                    self._discard(slot)
            self._fill()

    def _discard(self, slot: Slot) -> None:
        async def stop() -> None:
            try:
                await slot.process.stop("recycled", grace=self.settings.kill_grace)
            finally:
                await _release_folder(self.settings, slot.run_dir)

        self._track(stop())

    def _later(self, delay: float, callback) -> None:
        if not self._closed:
            asyncio.get_running_loop().call_later(delay, callback)

    def _track(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _release_folder(settings: RunSettings, run_dir: str) -> None:
    if settings.folders is not None:
        settings.folders.give_back(run_dir)
    else:
        await asyncio.to_thread(shutil.rmtree, run_dir, True)


def login_fingerprint(settings: RunSettings) -> tuple:
    """What makes a started CLI stale: a replaced binary, or a login that changed since (the
    credentials file, the OAuth token or API key in the environment the CLI inherits)."""
    home = settings.inherited_env.get("HOME") or os.path.expanduser("~")
    stats = []
    for path in (settings.cli_path, os.path.join(home, ".claude", ".credentials.json")):
        try:
            st = os.stat(path)
            stats.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            stats.append(None)
    env = settings.inherited_env
    return (*stats, env.get("CLAUDE_CODE_OAUTH_TOKEN"), env.get("ANTHROPIC_API_KEY"))
