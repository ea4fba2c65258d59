"""One CLI kept for the `get_usage` control request: the plan's windows without a model call.

Why not a pooled spare (runs/pool.py): every run, spares included, has nonessential traffic
disabled (`CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC`, no telemetry), and with it the CLI
answers `get_usage` without asking Anthropic (`rate_limits: null`; measured on 2.1.328). This
CLI is started without that switch and with telemetry and error reporting off instead
(`DISABLE_TELEMETRY`, `DISABLE_ERROR_REPORTING`, `DISABLE_AUTOUPDATER`): then it reads
`GET https://api.anthropic.com/api/oauth/usage` (the OAuth host, not ANTHROPIC_BASE_URL) with
the login's token, plus the profile and settings lookups an interactive CLI makes at start.
It is never sent a prompt, so it never spends a model call.

It is spawned when first asked, kept waiting on stdin between questions (one boot, not one per
poll), replaced when it dies, after `max_age`, or when the CLI binary or the login changed,
and reaped with the engine's other children.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import shutil
import time

from ..claude.argv import RunOptions, build_argv, build_env
from ..claude.process import CliProcess
from ..claude.run import RunSettings
from ..claude.run_dir import make_run_dir
from .pool import login_fingerprint

log = logging.getLogger(__name__)

#: Seconds a usage CLI is kept before a fresh one replaces it.
MAX_AGE = 3600.0
#: What the usage CLI runs with instead of the runs' "no nonessential traffic".
QUIET_ENV = {"DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1", "DISABLE_AUTOUPDATER": "1"}


class UsageCliError(RuntimeError):
    """No answer: the CLI could not start, died, said it cannot, or was too slow."""


class UsageCli:
    def __init__(self, settings: RunSettings, *, max_age: float = MAX_AGE) -> None:
        self.settings = settings
        self.max_age = max_age
        self._process: CliProcess | None = None
        self._run_dir: str | None = None
        self._born = 0.0
        self._fingerprint: tuple = ()
        self._reader: asyncio.Task | None = None
        self._waiting: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.returncode is None else None

    async def ask(self, timeout: float) -> dict:
        """The `get_usage` reply's `response` object. Raises UsageCliError."""
        async with self._lock:  # one question at a time
            if self._closed:
                raise UsageCliError("closed")
            process = await self._ready()
            request_id = f"usage-{next(self._ids)}"
            reply: asyncio.Future = asyncio.get_running_loop().create_future()
            self._waiting[request_id] = reply
            # skip_behaviors: no scan of local transcripts, only the plan's limits.
            line = {"type": "control_request", "request_id": request_id, "request": {"subtype": "get_usage", "skip_behaviors": True}}
            try:
                await process.send((json.dumps(line) + "\n").encode(), close=False)
                response = await asyncio.wait_for(reply, timeout)
            except asyncio.TimeoutError:
                await self._discard()  # a CLI that does not answer is of no further use
                raise UsageCliError(f"no get_usage reply within {timeout:g} s") from None
            finally:
                self._waiting.pop(request_id, None)
            if response.get("subtype") != "success":
                raise UsageCliError(str(response.get("error") or response.get("subtype") or "error reply"))
            body = response.get("response")
            if not isinstance(body, dict):
                raise UsageCliError("a reply without a response object")
            return body

    async def rest(self) -> None:
        """Stop the CLI until the next question (while the poller backs off)."""
        async with self._lock:
            await self._discard()

    async def close(self) -> None:
        self._closed = True
        await self.rest()

    # -- the child ----------------------------------------------------------------------

    async def _ready(self) -> CliProcess:
        process = self._process
        stale = process is not None and (
            process.returncode is not None
            or time.monotonic() - self._born >= self.max_age
            or login_fingerprint(self.settings) != self._fingerprint
        )
        if stale:
            await self._discard()
        if self._process is None:
            await self._spawn()
        assert self._process is not None
        return self._process

    async def _spawn(self) -> None:
        s = self.settings
        run_dir = await asyncio.to_thread(make_run_dir, s.runs_dir, None)
        env = build_env(s.inherited_env, tmpdir=os.path.join(run_dir, "tmp"))
        env.pop("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", None)
        env.update(QUIET_ENV)
        process = CliProcess(build_argv(s.cli_path, RunOptions(model="")), env=env, cwd=os.path.join(run_dir, "cwd"))
        try:
            await process.start()
        except Exception as exc:  # not executable (OSError), or its command line refused
            await asyncio.to_thread(shutil.rmtree, run_dir, True)
            raise UsageCliError(f"cannot start the CLI: {exc}") from None
        self._process, self._run_dir = process, run_dir
        self._born, self._fingerprint = time.monotonic(), login_fingerprint(s)
        self._reader = asyncio.ensure_future(self._read(process))

    async def _read(self, process: CliProcess) -> None:
        """Route control replies to their questions; anything else the CLI prints is ignored."""
        try:
            async for lines in process.stdout_reads():
                for line in lines:
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(obj, dict) or obj.get("type") != "control_response":
                        continue
                    response = obj.get("response")
                    if isinstance(response, dict):
                        waiting = self._waiting.get(str(response.get("request_id")))
                        if waiting is not None and not waiting.done():
                            waiting.set_result(response)
        except Exception as exc:  # a broken pipe or an endless line: the CLI is replaced
            log.debug("usage CLI stdout failed: %s", exc)
        finally:
            for waiting in self._waiting.values():
                if not waiting.done():
                    waiting.set_exception(UsageCliError(f"the CLI exited ({process.returncode})"))

    async def _discard(self) -> None:
        process, run_dir, reader = self._process, self._run_dir, self._reader
        self._process = self._run_dir = self._reader = None
        if process is not None:
            process.close_stdin()
            await process.stop("recycled", grace=self.settings.kill_grace)
        if reader is not None:
            reader.cancel()
            try:
                await reader
            except (asyncio.CancelledError, Exception):
                pass
        if run_dir is not None:
            await asyncio.to_thread(shutil.rmtree, run_dir, True)
