"""One CLI child process: spawn, feed stdin, frame stdout, drain stderr, stop, reap.

Spawning is separate from feeding so that a run can be started before its request
arrives (the CLI waits on stdin) and handed the prompt later.

The whole tree is reaped, not just the CLI: it leads its own process group (killpg reaches
what it starts there), and its descendants are sampled from /proc while it runs, so that
one that made its own session is found and killed too once the CLI is gone. When the CLI
exits while such a process still holds its stdout, stdout is cut after a short grace: the
run ends at once (a crash, 502) instead of waiting for the idle timeout.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
from collections import deque
from typing import AsyncIterator, Callable

from ..errors import ProxyError
from . import proc_tree
from .argv import argv_too_long
from .child import Child, done_within

#: stdout is read in chunks this big and split on b"\n" with no line-size cap
#: (3 MB lines happen; asyncio's readline stops at 64 KiB).
READ_CHUNK = 256 * 1024
STDERR_TAIL_BYTES = 16 * 1024
#: The longest stdout line accepted. Real lines reach ~3 MB (a big answer in one
#: `assistant` line); past this it is the CLI's fault (an endless line would otherwise grow
#: memory until the idle timeout). `CLAUDE_MAX_TUI_MAX_LINE_BYTES` overrides it.
MAX_LINE_BYTES = int(os.environ.get("CLAUDE_MAX_TUI_MAX_LINE_BYTES") or 64 * 1024 * 1024)
#: Seconds stdout may stay open once the CLI has exited (what it wrote is still arriving);
#: after that it is held by a stray descendant, and cut.
STDOUT_AFTER_EXIT = 0.5
#: Seconds between two samples of the CLI's descendants (and looks at its exit) while it runs.
TREE_SAMPLE_EVERY = 0.25

#: Every child spawned and not yet reaped. A handler cancelled mid-cleanup (its client
#: left) leaves the reaping to a background task; shutdown reaps whatever is still here.
_LIVE: set["CliProcess"] = set()


def live_processes(under: str | None = None) -> list["CliProcess"]:
    """Children not yet reaped, optionally only those whose cwd or TMPDIR is inside `under`
    (an engine's runs folder: each engine reaps its own; runs share one cwd outside it)."""
    prefix = None if under is None else os.path.join(under, "")
    return [p for p in _LIVE if prefix is None or p.cwd.startswith(prefix) or p.env.get("TMPDIR", "").startswith(prefix)]


class CliProcess:
    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: str, on_stderr: Callable[[str], None] | None = None) -> None:
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self._on_stderr = on_stderr
        self._proc: Child | None = None
        self._stderr_tail: deque[bytes] = deque()
        self._stderr_size = 0
        self._stderr_done: asyncio.Future | None = None
        #: Why the engine ended the child, if it did.
        self.stopped_because: str | None = None
        #: Descendants seen while it ran, as (pid, start time): killed once it is gone.
        self._descendants: set[tuple[int, int]] = set()
        #: The next look at the CLI's descendants (or, once it exited, at its pipes).
        self._sampler: asyncio.TimerHandle | None = None
        #: stdout was cut: the CLI exited but something it started still held the pipe.
        self.stdout_cut = False
        self._reaped = False
        self.max_line_bytes = MAX_LINE_BYTES

    def listen_stderr(self, on_stderr: Callable[[str], None] | None) -> None:
        """Who hears stderr from now on (a CLI started ahead gets its listener when attached)."""
        self._on_stderr = on_stderr

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    async def start(self) -> None:
        """Spawn the child (no shell). Raises OSError if it cannot be executed, a 400
        ProxyError if its command line is too long for the system (E2BIG)."""
        try:
            self._proc = await self._spawn()
        except OSError as exc:
            if exc.errno == errno.E2BIG:
                raise argv_too_long(max(self.argv, key=len)) from None
            raise
        _LIVE.add(self)
        # Callbacks, not tasks: a run's own CPU counts (docs: the lighter proxy).
        self._proc.stderr.listen(self._on_stderr_data)
        self._stderr_done = self._proc.stderr.wait_closed()
        loop = asyncio.get_running_loop()
        # Not at once: a CLI has started nothing yet, and most short runs end before.
        self._sampler = loop.call_later(TREE_SAMPLE_EVERY, self._sample_tree)
        self._proc.when_exited(self._exited)

    async def _spawn(self) -> Child:
        # Its own process group, so a stop reaches anything it spawned too.
        return await Child.start(self.argv, env=self.env, cwd=self.cwd)

    async def send(self, data: bytes, *, close: bool = True) -> None:
        """Write to stdin, then close it (the CLI does not finish before EOF) unless the CLI
        is to be kept for a next turn of its conversation (then the result line ends a turn)."""
        assert self._proc and self._proc.stdin
        stdin = self._proc.stdin
        try:
            await stdin.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child died early; its exit code and stderr tell why
        finally:
            if close:
                stdin.close()

    def close_stdin(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()

    async def stdout_reads(self) -> AsyncIterator[list[str]]:
        """The stdout lines each read of the pipe completes (decoded, without their "\\n"), as
        soon as it completes them: a fast stream brings many lines per read, and they are
        handled together. At EOF, a last line without its newline comes alone.
        """
        assert self._proc and self._proc.stdout
        read = self._proc.stdout.read
        pending: list[bytes] = []  # the start of a line longer than one read
        pending_size = 0
        while True:
            chunk = await read(READ_CHUNK)
            if not chunk:
                break
            end = chunk.rfind(b"\n")
            if end < 0:
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size > self.max_line_bytes:
                    raise self._line_too_long()
                continue
            if pending:
                pending.append(chunk[:end])
                block = b"".join(pending)
                pending = []
            else:
                block = chunk[:end]
            rest = chunk[end + 1 :]
            pending_size = len(rest)
            if rest:
                pending.append(rest)
            # One decode per read: b"\n" is never part of a multi-byte character, so decoding
            # the lines together gives what decoding each one would.
            yield block.decode("utf-8", "replace").split("\n")
        if pending:
            yield [b"".join(pending).decode("utf-8", "replace")]

    def _line_too_long(self) -> ProxyError:
        """The CLI's fault: it is stopped (the caller's cleanup reaps it) and the run fails."""
        self.stopped_because = "line_too_long"
        self.signal(signal.SIGKILL)
        return ProxyError(
            502,
            f"The Claude CLI wrote a stdout line longer than {self.max_line_bytes:,} bytes; the run was stopped.",
            code="cli_line_too_long",
            source="cli",
        )

    def _sample_tree(self) -> None:
        """Note the CLI's descendants while it runs (after it exits they are re-parented
        and can no longer be told apart)."""
        proc = self._proc
        assert proc is not None
        if proc.returncode is None:
            self._descendants |= proc_tree.descendants(proc.pid)
            self._sampler = asyncio.get_running_loop().call_later(TREE_SAMPLE_EVERY, self._sample_tree)

    def _exited(self) -> None:
        """The CLI exited: its pipes get a moment to deliver what it wrote, then are cut if a
        straggler still holds them (unless the run has reaped it by then: `_end_tree`)."""
        if self._sampler is not None:
            self._sampler.cancel()
        if not self._reaped:
            self._sampler = asyncio.get_running_loop().call_later(STDOUT_AFTER_EXIT, self._cut_if_held)

    def _cut_if_held(self) -> None:
        proc = self._proc
        assert proc is not None
        if proc.stdout.closed and proc.stderr.closed:
            return
        self._kill_strays()
        for pipe in (proc.stdout, proc.stderr):
            if not pipe.closed:
                self.stdout_cut = True
                pipe.cut()  # the reader sees EOF once what was buffered is read

    def _kill_strays(self) -> None:
        """Kill what the CLI left behind: its process group, and every descendant seen."""
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc_tree.kill(self._descendants)
        self._descendants.clear()

    def _on_stderr_data(self, chunk: bytes) -> None:
        self._stderr_tail.append(chunk)
        self._stderr_size += len(chunk)
        while self._stderr_size > STDERR_TAIL_BYTES and len(self._stderr_tail) > 1:
            self._stderr_size -= len(self._stderr_tail.popleft())
        if self._on_stderr:
            self._on_stderr(chunk.decode("utf-8", "replace"))

    def stderr_tail(self) -> str:
        return b"".join(self._stderr_tail).decode("utf-8", "replace")[-STDERR_TAIL_BYTES:]

    async def wait(self) -> int:
        """Wait for the exit, then release the pipes (a run stops reading at its result line)."""
        assert self._proc
        code = await self._proc.wait()
        _LIVE.discard(self)
        self._end_tree()
        if self._stderr_done is not None and not self._stderr_done.done():
            try:
                await done_within(self._stderr_done, 1.0)  # what the CLI wrote last on stderr
            except asyncio.CancelledError:
                pass
        self._release_pipes()
        return code

    async def exited_within(self, timeout: float) -> bool:
        """Whether the child exits on its own within `timeout` seconds (not reaped by this)."""
        assert self._proc
        return await self._proc.exited_within(timeout)

    def _release_pipes(self) -> None:
        # A straggler may hold the pipes open: release ours now, so that no fd outlives its
        # run (or the event loop, at shutdown).
        if self._proc is not None:
            self._proc.close()

    def signal(self, sig: int) -> None:
        """Signal the child's whole process group (it leads its own session)."""
        if not self._proc or self._proc.returncode is not None:
            return
        try:
            os.killpg(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                self._proc.send_signal(sig)
            except ProcessLookupError:
                pass

    async def stop(self, reason: str, *, grace: float = 2.0) -> int | None:
        """TERM, then KILL after `grace` seconds; always reaps. Safe to call twice."""
        if self._proc is None:
            return None
        if self._proc.returncode is None:
            self.stopped_because = self.stopped_because or reason
            self.signal(signal.SIGTERM)
            if not await self._proc.exited_within(grace):
                self.signal(signal.SIGKILL)
        code = await self._proc.wait()
        _LIVE.discard(self)
        self._end_tree()
        self._release_pipes()
        return code

    def _end_tree(self) -> None:
        """The CLI is reaped: nothing it started may outlive it (once: its group got SIGKILL)."""
        if self._reaped:
            return
        self._reaped = True
        if self._sampler is not None:
            self._sampler.cancel()
        self._kill_strays()
