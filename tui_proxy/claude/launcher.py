"""Starting CLIs through one helper process, so that they all share one session.

This kernel gives each session its own CPU share (autogroups). A CLI started in a session of
its own (as `Child.spawn` does) is one more share against the proxy's: with twenty busy CLIs
the proxy, which relays every stream and draws the console, got a twenty-first of the
machine, and its loop stalled for tens of ms at a time while they ran (bench/ui_load.py). The
helper (`launcher_helper.py`) leads one session of its own and starts every CLI there, each
in its own process group, so that a stop still reaches what a CLI started. The CLIs share one
CPU share and the proxy keeps its own; the vfork and exec of each spawn happen in the helper,
not on the proxy's loop.

An engine opens the launcher for its loop (`open_launcher`) and closes it when it stops;
`Child.start` uses it when one is open on the running loop and spawns directly otherwise. If
the helper cannot be started or dies, spawning goes back to the direct way, and the children
it had started are watched through pidfds (their exit codes are then unknown: 255, as asyncio
says for a child reaped elsewhere).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections import deque

from .pidfd import when_exited

log = logging.getLogger(__name__)

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launcher_helper.py")
#: Exit code of a child whose helper died before reporting it.
UNKNOWN_EXIT = 255


class LauncherGone(Exception):
    """The helper is not there (any more): spawn directly."""


class Launcher:
    def __init__(self, loop: asyncio.AbstractEventLoop, process: subprocess.Popen, sock: socket.socket) -> None:
        self._loop = loop
        self._process = process
        self._sock = sock
        self._buffer = bytearray()
        #: Spawns waiting for their answer, oldest first (only the first one was sent).
        self._waiting: deque[tuple[bytes, list[int], asyncio.Future]] = deque()
        #: Children started and not yet reported as exited, and who waits for that.
        self._exits: dict[int, asyncio.Future] = {}
        #: The rest of a request longer than one send.
        self._sending: asyncio.Future | None = None
        #: Done once the helper is reaped (set when it is closed or lost).
        self._helper_exited: asyncio.Future | None = None
        self.gone = False
        loop.add_reader(sock.fileno(), self._on_readable)

    @property
    def pid(self) -> int:
        return self._process.pid

    @classmethod
    def start(cls, loop: asyncio.AbstractEventLoop) -> "Launcher":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-S", HELPER, str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), start_new_session=True, cwd="/",
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        return cls(loop, process, ours)

    # -- spawning -------------------------------------------------------------------------

    async def spawn(self, argv: list[str], *, env: dict[str, str], cwd: str, fds: tuple[int, int, int]) -> tuple[int, asyncio.Future]:
        """Start `argv` with `fds` as its stdin, stdout and stderr: its pid, and a future of its
        exit code. Raises OSError as `subprocess.Popen` would, LauncherGone if the helper is."""
        if self.gone:
            raise LauncherGone()
        message = json.dumps({"argv": list(argv), "env": env, "cwd": os.path.abspath(cwd)}).encode() + b"\n"
        answer = self._loop.create_future()
        # Our own copies: the caller may close its ends as soon as this returns or fails.
        self._waiting.append((message, [os.dup(fd) for fd in fds], answer))
        if len(self._waiting) == 1:
            self._send_first()
        try:
            reply, exited = await answer
        except asyncio.CancelledError:
            self._abandon(answer)
            raise
        if "pid" in reply:
            return reply["pid"], exited
        raise OSError(reply["errno"], reply["message"], reply["filename"])

    def _abandon(self, answer: asyncio.Future) -> None:
        """Its spawner was cancelled: a request not sent yet is dropped, a child already
        started is killed (one answered as the cancel came is; a sent one is when answered)."""
        if answer.done() and not answer.cancelled():
            reply, _ = answer.result()
            if "pid" in reply:
                _kill_group(reply["pid"])
            return
        for index, (_, fds, waiting) in enumerate(self._waiting):
            if waiting is answer and index > 0:
                del self._waiting[index]
                for fd in fds:
                    os.close(fd)
                return

    def _send_first(self) -> None:
        if self.gone or not self._waiting:
            return  # a retry that came after the end
        message, fds, answer = self._waiting[0]
        try:
            sent = socket.send_fds(self._sock, [message], fds)
        except BlockingIOError:  # never with an idle helper; the fds go with a later try
            self._loop.call_later(0.001, self._send_first)
            return
        except OSError:
            self._lost()
            return
        for fd in fds:
            os.close(fd)
        self._waiting[0] = (message, [], answer)
        if sent < len(message):  # a long argv: the rest follows, the helper reads to the line's end
            self._sending = asyncio.ensure_future(self._send_rest(message[sent:]))

    async def _send_rest(self, rest: bytes) -> None:
        try:
            await self._loop.sock_sendall(self._sock, rest)
        except OSError:
            self._lost()

    def _on_readable(self) -> None:
        try:
            data = self._sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        self._buffer += data
        while (end := self._buffer.find(b"\n")) >= 0:
            message = json.loads(bytes(self._buffer[:end]))
            del self._buffer[: end + 1]
            self._handle(message)

    def _handle(self, message: dict) -> None:
        if "exit" in message:
            exited = self._exits.pop(message["exit"], None)
            if exited is not None and not exited.done():
                exited.set_result(message["code"])
            return
        _, _, answer = self._waiting.popleft()
        exited = None
        if "pid" in message:
            pid = message["pid"]
            exited = self._exits[pid] = self._loop.create_future()
            if answer.done():  # its spawner was cancelled meanwhile: nobody owns this child
                _kill_group(pid)
        if not answer.done():
            answer.set_result((message, exited))
        if self._waiting:
            self._send_first()

    # -- the end --------------------------------------------------------------------------

    def _lost(self) -> None:
        if not self.gone:
            log.warning("the CLI launcher (pid %s) is gone; CLIs are started directly from now on", self.pid)
            self._shut()

    async def close(self, timeout: float = 5.0) -> None:
        """End the helper: at EOF it kills any child still alive and reaps it, then exits;
        this waits for that (an engine closes it once it has reaped its own). A spawn still
        waiting fails: nothing may start once its engine stopped."""
        if not self.gone:
            self._shut(closing=True)
        assert self._helper_exited is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._helper_exited), timeout)
        except asyncio.TimeoutError:
            self._process.kill()  # reaped by the same watch

    def _shut(self, closing: bool = False) -> None:
        """No more answers from the helper: waiting spawns go direct (or fail, if it is being
        closed), live children are watched without it."""
        self.gone = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        while self._waiting:
            _, fds, answer = self._waiting.popleft()
            for fd in fds:
                os.close(fd)
            if not answer.done():
                answer.set_exception(OSError(errno.ESHUTDOWN, "the CLI launcher was closed") if closing else LauncherGone())
        for pid, exited in self._exits.items():
            watch_exit(self._loop, pid, exited)
        self._exits = {}
        self._helper_exited = self._reap_helper()

    def _reap_helper(self) -> asyncio.Future:
        """Done once the helper has exited and is reaped (a pidfd on the loop; a thread's
        `wait` without one)."""
        process = self._process
        reaped = self._loop.create_future()

        def exited() -> None:
            process.poll()
            if not reaped.done():
                reaped.set_result(None)

        if when_exited(self._loop, process.pid, exited):
            return reaped
        return asyncio.ensure_future(asyncio.to_thread(process.wait))


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def watch_exit(loop: asyncio.AbstractEventLoop, pid: int, exited: asyncio.Future) -> None:
    """Resolve `exited` (with UNKNOWN_EXIT) once `pid`, not our child, is gone."""

    def gone() -> None:
        if not exited.done():
            exited.set_result(UNKNOWN_EXIT)

    def poll() -> None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            gone()
            return
        loop.call_later(0.1, poll)

    if not when_exited(loop, pid, gone):
        poll()


# -- one launcher per loop, shared by the engines on it ---------------------------------------

_OPEN: dict[asyncio.AbstractEventLoop, Launcher] = {}
#: Engines on each loop that opened its launcher: the last one to close it ends it.
_USERS: dict[asyncio.AbstractEventLoop, int] = {}


def open_launcher() -> Launcher | None:
    """The running loop's launcher, started if there is none or it died (None where it cannot
    be: no `posix_spawn` or fd passing here, or the helper failed to start). Each call is
    paired with a `close_launcher` on the same loop."""
    loop = asyncio.get_running_loop()
    _USERS[loop] = _USERS.get(loop, 0) + 1
    launcher = _OPEN.get(loop)
    if launcher is not None and not launcher.gone:
        return launcher
    if not (hasattr(os, "posix_spawn") and hasattr(socket, "send_fds")):
        return None
    try:
        launcher = _OPEN[loop] = Launcher.start(loop)
    except OSError as exc:
        log.warning("the CLI launcher could not be started (%s); CLIs are started directly", exc)
        return None
    return launcher


async def close_launcher() -> None:
    """One user of the running loop's launcher is done; the last one closes it (its helper
    kills what is still alive: an engine closes it once it has reaped its own)."""
    loop = asyncio.get_running_loop()
    users = _USERS.get(loop, 0) - 1
    if users > 0:
        _USERS[loop] = users
        return
    _USERS.pop(loop, None)
    launcher = _OPEN.pop(loop, None)
    if launcher is not None:
        await launcher.close()


def current_launcher() -> Launcher | None:
    """The running loop's launcher, if one is open and alive."""
    try:
        launcher = _OPEN.get(asyncio.get_running_loop())
    except RuntimeError:
        return None
    return launcher if launcher is not None and not launcher.gone else None
