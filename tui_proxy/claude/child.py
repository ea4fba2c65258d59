"""A child process on the event loop, without asyncio's subprocess machinery.

`asyncio.create_subprocess_exec` costs ~0.6-0.9 ms of the proxy's CPU per spawn (a transport and
protocol per pipe, connection tasks, and on Python 3.11 a thread per child to wait for it), about
three times what the spawn itself costs. Here the child is started by the launcher's helper
(`launcher.py`: one session for every CLI) or by `subprocess.Popen` (vfork and exec, no shell,
every other fd closed, its own session), its pipes are read and written non-blocking straight
from the loop's selector, and its exit is reported by the launcher or seen through a pidfd
(Linux 5.3+; elsewhere one thread per child blocks in `waitpid`, as asyncio's own watcher does).

Nothing here knows of the CLI: `process.py` frames its stdout and decides when to stop it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from collections import deque
from typing import Callable

from .launcher import LauncherGone, current_launcher
from .pidfd import when_exited

#: Unread stdout (or stderr) past this stops reading the pipe until the consumer catches up.
PAUSE_AT = 1024 * 1024
READ_SIZE = 256 * 1024


class PipeReader:
    """The read end of a child's pipe. `read()` returns what has arrived (b"" at EOF)."""

    __slots__ = ("_loop", "_fd", "_chunks", "_size", "_waiter", "_eof", "_reading", "_listener", "_closed")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self._loop = loop
        self._fd = fd
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._waiter: asyncio.Future | None = None
        #: No more data will come: the writer closed its end, or the pipe was cut.
        self._eof = False
        self._reading = False
        #: Given every chunk as it arrives instead of buffering it (see `listen`).
        self._listener: Callable[[bytes], None] | None = None
        self._closed: asyncio.Future | None = None
        os.set_blocking(fd, False)
        self._resume()

    @property
    def closed(self) -> bool:
        """EOF seen (or cut): what is buffered may still be read."""
        return self._eof

    async def read(self, n: int = -1) -> bytes:
        """What has arrived since the last read (at most the pause bound), b"" once at EOF."""
        while not self._chunks:
            if self._eof:
                return b""
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        data = self._chunks.popleft() if len(self._chunks) == 1 else b"".join(self._take_all())
        self._size = 0 if not self._chunks else self._size - len(data)
        if not self._reading and not self._eof:
            self._resume()
        return data

    def listen(self, listener: Callable[[bytes], None]) -> None:
        """Hand every chunk to `listener` as it arrives (what is buffered first), no reader
        task needed; `wait_closed()` tells when the pipe is done."""
        self._listener = listener
        if self._chunks:
            listener(b"".join(self._take_all()))
            self._size = 0
        if not self._reading and not self._eof:
            self._resume()

    def wait_closed(self) -> asyncio.Future:
        """Done at EOF (or cut)."""
        if self._closed is None:
            self._closed = self._loop.create_future()
            if self._eof:
                self._closed.set_result(None)
        return self._closed

    def _take_all(self) -> list[bytes]:
        chunks = list(self._chunks)
        self._chunks.clear()
        return chunks

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""  # EIO and the like: the pipe is done
        if data:
            if self._listener is not None:
                self._listener(data)
                return
            self._chunks.append(data)
            self._size += len(data)
            if self._size >= PAUSE_AT:
                self._pause()
        else:
            self._finish()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _resume(self) -> None:
        self._reading = True
        self._loop.add_reader(self._fd, self._on_readable)

    def _pause(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def _finish(self) -> None:
        if self._eof:
            return
        self._eof = True
        self._pause()
        try:
            os.close(self._fd)
        except OSError:
            pass
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def cut(self) -> None:
        """Stop reading: the consumer gets what is buffered, then EOF."""
        self._finish()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class PipeWriter:
    """The write end of the child's stdin: writes that never block the loop."""

    __slots__ = ("_loop", "_fd", "_pending", "_drained", "closed")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self._loop = loop
        self._fd = fd
        self._pending = b""
        self._drained: asyncio.Future | None = None
        self.closed = False
        os.set_blocking(fd, False)

    async def write(self, data: bytes) -> None:
        """All of `data`, or BrokenPipeError if the child closed its end (or we closed ours)."""
        if self.closed:
            raise BrokenPipeError("stdin is closed")
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                raise BrokenPipeError(str(exc)) from None
            view = view[written:]
        if not view:
            return
        self._pending = bytes(view)
        self._drained = self._loop.create_future()
        self._loop.add_writer(self._fd, self._on_writable)
        try:
            await self._drained
        finally:
            self._drained = None

    def _on_writable(self) -> None:
        try:
            written = os.write(self._fd, self._pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._end(BrokenPipeError(str(exc)))
            return
        self._pending = self._pending[written:]
        if not self._pending:
            self._end(None)

    def _end(self, error: BaseException | None) -> None:
        self._loop.remove_writer(self._fd)
        self._pending = b""
        drained = self._drained
        if drained is not None and not drained.done():
            if error is None:
                drained.set_result(None)
            else:
                drained.set_exception(error)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._drained is not None:
            self._end(BrokenPipeError("stdin was closed"))
        try:
            os.close(self._fd)
        except OSError:
            pass


class Child:
    """One spawned child: its three pipes and its exit."""

    def __init__(self, pid: int, loop: asyncio.AbstractEventLoop, stdin: int, stdout: int, stderr: int, *, popen: subprocess.Popen | None = None, exited: asyncio.Future | None = None) -> None:
        self._popen = popen
        self._loop = loop
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = PipeWriter(loop, stdin)
        self.stdout = PipeReader(loop, stdout)
        self.stderr = PipeReader(loop, stderr)
        self._exited = loop.create_future()
        if exited is None:
            self._watch_exit()  # our own child
        else:  # the launcher's: it reaps and reports
            exited.add_done_callback(lambda done: self._exit(done.result()))

    @classmethod
    async def start(cls, argv: list[str], *, env: dict[str, str], cwd: str) -> "Child":
        """Start `argv` (no shell) in `cwd` in its own process group, every other fd closed:
        through the running loop's launcher when one is open (one session for every CLI:
        launcher.py), else as `spawn` does. Raises OSError when it cannot be executed."""
        launcher = current_launcher()
        if launcher is None:
            return cls.spawn(argv, env=env, cwd=cwd)
        ends = _pipes()
        stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w = ends
        try:
            pid, exited = await launcher.spawn(argv, env=env, cwd=cwd, fds=(stdin_r, stdout_w, stderr_w))
        except LauncherGone:
            _close(ends)
            return cls.spawn(argv, env=env, cwd=cwd)
        except BaseException:
            _close(ends)
            raise
        _close((stdin_r, stdout_w, stderr_w))
        return cls(pid, asyncio.get_running_loop(), stdin_w, stdout_r, stderr_r, exited=exited)

    @classmethod
    def spawn(cls, argv: list[str], *, env: dict[str, str], cwd: str) -> "Child":
        """Start `argv` (no shell) in `cwd`, its own session (so its process group is its own),
        every other fd closed. Raises OSError when it cannot be executed."""
        ends = _pipes()
        stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w = ends
        try:
            popen = subprocess.Popen(argv, stdin=stdin_r, stdout=stdout_w, stderr=stderr_w, cwd=cwd, env=env, close_fds=True, start_new_session=True)
        except BaseException:
            _close(ends)
            raise
        # The child's ends: EOF on stdout once the child (and its heirs) close theirs.
        _close((stdin_r, stdout_w, stderr_w))
        return cls(popen.pid, asyncio.get_running_loop(), stdin_w, stdout_r, stderr_r, popen=popen)

    # -- exit ----------------------------------------------------------------------------

    def _watch_exit(self) -> None:
        if not when_exited(self._loop, self.pid, lambda: self._reap(os.WNOHANG)):
            threading.Thread(target=self._wait_blocking, name=f"waitpid-{self.pid}", daemon=True).start()

    def _wait_blocking(self) -> None:
        try:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = 255  # reaped elsewhere; as asyncio says then
        try:
            self._loop.call_soon_threadsafe(self._exit, code)
        except RuntimeError:
            pass  # the loop is closed: nobody waits any more

    def _reap(self, flags: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:
            self._exit(255)
            return
        if pid:
            self._exit(os.waitstatus_to_exitcode(status))
        else:  # not reapable yet (never seen): wait for it the blocking way
            threading.Thread(target=self._wait_blocking, name=f"waitpid-{self.pid}", daemon=True).start()

    def _exit(self, code: int) -> None:
        if self.returncode is not None:
            return
        self.returncode = code
        if self._popen is not None:
            self._popen.returncode = code  # Popen must never wait for it again
        if not self._exited.done():
            self._exited.set_result(code)

    async def wait(self) -> int:
        """The exit code once the child has exited (negative: the signal that ended it)."""
        if self.returncode is not None:
            return self.returncode
        return await asyncio.shield(self._exited)

    async def exited_within(self, timeout: float) -> bool:
        """Whether the child exits within `timeout` seconds (one timer; cancelling this
        leaves the child alone)."""
        return await done_within(self._exited, timeout)

    def when_exited(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the loop) once the child has exited."""
        self._exited.add_done_callback(lambda _: callback())

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def close(self) -> None:
        """Release every pipe (unread output is dropped)."""
        self.stdin.close()
        self.stdout.cut()
        self.stderr.cut()


def _pipes() -> list[int]:
    """Three pipes (close-on-exec; the child gets its ends as 0, 1 and 2): stdin's read and
    write ends, stdout's, stderr's. No file objects."""
    ends: list[int] = []
    try:
        for _ in range(3):
            ends.extend(os.pipe())
    except BaseException:
        _close(ends)
        raise
    return ends


def _close(fds) -> None:
    for fd in fds:
        os.close(fd)


async def done_within(future: asyncio.Future, timeout: float) -> bool:
    """Whether `future` is done within `timeout` seconds, without a task, a shield or a
    second future per wait (`asyncio.wait_for(asyncio.shield(...))` costs several per run)."""
    if future.done():
        return True
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(timeout, wake)
    future.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        future.remove_done_callback(wake)
    return future.done()
