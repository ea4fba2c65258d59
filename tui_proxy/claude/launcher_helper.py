"""The launcher's helper process: it starts every CLI, so that all of them share one session.

Run by `launcher.py` as `python -I -S launcher_helper.py FD` in a session of its own, with a
Unix socket to the proxy as FD. It imports nothing of the proxy (stdlib only; it starts in
a few ms) and does one thing at a time, on one thread:

- a request is one JSON line {"argv", "env", "cwd"} with the child's stdin, stdout and stderr
  attached (SCM_RIGHTS). The child is started by `posix_spawn` (vfork and exec) in its own
  process group, inside this session, and the answer is one line: {"pid"} or {"errno",
  "message", "filename"} (what `subprocess.Popen` would have raised). The proxy sends the
  next request only after the answer: the fds of two requests are never read together.
- each child's exit is reaped here and reported as {"exit": pid, "code": code} (negative: the
  signal that ended it), always after its {"pid"} answer.
- at EOF (the proxy closed the socket or died) every child's process group still alive gets
  SIGKILL and is reaped, then the helper exits.

Why (docs: README "Where a CLI runs"): this kernel gives each session its own CPU share. A CLI
in a session of its own is one more share against the proxy's: with twenty busy CLIs the
proxy (the console and every stream's relay) got a twenty-first of the machine. Together they
get one share, the proxy the other. Being no session leaders, the CLIs also cannot take a
terminal as their controlling one.
"""

from __future__ import annotations

import array
import errno
import json
import os
import selectors
import signal
import socket
import sys

#: Signals the helper ignores: it ends with the proxy's socket, not with the terminal or a
#: stop of the proxy's process group.
HELPER_IGNORES = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Given back to each child as default: Python's own ignored signals (as `Popen` does), and
#: those the helper ignores unless the proxy ignored them too (then a direct spawn's child
#: would inherit that, and so does this one: `main` narrows it).
CHILD_DEFAULTS = [signal.SIGPIPE, signal.SIGXFSZ, *HELPER_IGNORES]
CLOEXEC_FLAG = getattr(socket, "MSG_CMSG_CLOEXEC", 0)


class Helper:
    def __init__(self, sock: socket.socket, defaults: list[int]) -> None:
        self.sock = sock
        self.defaults = defaults
        self.live: set[int] = set()
        self.pending = bytearray()
        self.fds: list[int] = []

    # -- requests -------------------------------------------------------------------------

    def read_request(self) -> bool:
        """Read what is there; spawn for each whole line. False at EOF."""
        data, fds = receive(self.sock)
        self.fds.extend(fds)
        if not data:
            return False
        self.pending += data
        while (end := self.pending.find(b"\n")) >= 0:
            line = bytes(self.pending[:end])
            del self.pending[: end + 1]
            fds, self.fds = self.fds, []
            try:
                self.reply(self.spawn(json.loads(line), fds))
            finally:
                for fd in fds:
                    os.close(fd)
        return True

    def spawn(self, request: dict, fds: list[int]) -> dict:
        argv, env, cwd = request["argv"], request["env"], request["cwd"]
        if len(fds) != 3:
            return {"errno": errno.EBADF, "message": f"{len(fds)} fds came with the request, not 3", "filename": None}
        try:
            os.chdir(cwd)
        except OSError as exc:
            return {"errno": exc.errno, "message": exc.strerror, "filename": cwd}
        actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
        error: OSError | None = None
        for path in candidates(argv[0], env):
            try:
                pid = os.posix_spawn(path, argv, env, file_actions=actions, setpgroup=0, setsigdef=self.defaults)
            except OSError as exc:
                # As execvpe: the first error that is not "not here" wins over a later ENOENT.
                if error is None or error.errno in (errno.ENOENT, errno.ENOTDIR):
                    error = exc
                if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                    break
                continue
            self.live.add(pid)
            return {"pid": pid}
        assert error is not None
        return {"errno": error.errno, "message": os.strerror(error.errno or 0), "filename": argv[0]}

    def reply(self, message: dict) -> None:
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    # -- exits ----------------------------------------------------------------------------

    def reap(self) -> None:
        while self.live:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.live.clear()
                return
            if not pid:
                return
            self.live.discard(pid)
            self.reply({"exit": pid, "code": os.waitstatus_to_exitcode(status)})

    def end(self) -> None:
        """The proxy is gone: nothing it started may outlive it."""
        for pid in self.live:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        for _ in self.live:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break


def receive(sock: socket.socket) -> tuple[bytes, list[int]]:
    """What has arrived, and the fds that came with it, close-on-exec: a child gets only the
    three it is given (`socket.recv_fds` passes no flags, so no MSG_CMSG_CLOEXEC)."""
    fds = array.array("i")
    data, ancillary, _, _ = sock.recvmsg(1 << 20, socket.CMSG_LEN(3 * fds.itemsize), CLOEXEC_FLAG)
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if not CLOEXEC_FLAG:
        for fd in fds:
            os.set_inheritable(fd, False)
    return data, list(fds)


def candidates(program: str, env: dict[str, str]) -> list[str]:
    """Where to look for `program`: itself when it has a slash, else each folder of the
    child's PATH (as `subprocess.Popen` does with `env`)."""
    if os.sep in program:
        return [program]
    return [os.path.join(folder or os.curdir, program) for folder in os.get_exec_path(env)]


def main(fd: int) -> None:
    inherited = [sig for sig in HELPER_IGNORES if signal.getsignal(sig) == signal.SIG_IGN]
    for sig in HELPER_IGNORES:
        signal.signal(sig, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    sock.set_inheritable(False)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wake-up fd does the work
    helper = Helper(sock, [sig for sig in CHILD_DEFAULTS if sig not in inherited])
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, "request")
    selector.register(wake_r, selectors.EVENT_READ, "exit")
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "exit":
                    os.read(wake_r, 4096)
                    helper.reap()
                elif not helper.read_request():
                    return
            helper.reap()  # a child that exited between a select and its answer
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        helper.end()


if __name__ == "__main__":
    main(int(sys.argv[1]))
