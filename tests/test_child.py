"""The child process on the event loop (tui_proxy/claude/child.py): pipes, exit, fd hygiene."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from tui_proxy.claude import child as child_module
from tui_proxy.claude.child import Child

PY = sys.executable


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


async def _read_all(pipe) -> bytes:
    out = []
    while True:
        data = await pipe.read(1 << 20)
        if not data:
            return b"".join(out)
        out.append(data)


async def test_stdin_bigger_than_the_pipe_buffer_reaches_the_child_whole(tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    child = Child.spawn([PY, "-c", "import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"], env=dict(os.environ), cwd=str(tmp_path))
    await child.stdin.write(data)
    child.stdin.close()
    out = await _read_all(child.stdout)
    assert await child.wait() == 0
    import hashlib

    assert out.decode().strip() == hashlib.sha256(data).hexdigest()
    child.close()


async def test_stdout_larger_than_the_pause_bound_arrives_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(child_module, "PAUSE_AT", 64 * 1024)
    code = "import sys\nfor i in range(200000): sys.stdout.write(f'{i}\\n')"
    child = Child.spawn([PY, "-c", code], env=dict(os.environ), cwd=str(tmp_path))
    child.stdin.close()
    out = await _read_all(child.stdout)
    assert out.split(b"\n")[:-1] == [str(i).encode() for i in range(200000)]
    assert await child.wait() == 0
    child.close()


async def test_exit_by_signal_is_negative_and_the_child_leads_its_own_session(tmp_path):
    child = Child.spawn([PY, "-c", "import time; time.sleep(30)"], env=dict(os.environ), cwd=str(tmp_path))
    assert os.getsid(child.pid) == child.pid  # start_new_session: its own group for killpg
    child.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGTERM
    assert child.returncode == -signal.SIGTERM
    child.close()


async def test_the_child_gets_no_fd_of_ours_and_we_keep_none_of_its(tmp_path):
    before = _fds()
    child = Child.spawn([PY, "-c", "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"], env=dict(os.environ), cwd=str(tmp_path))
    child.stdin.close()
    out = await _read_all(child.stdout)
    await child.wait()
    child.close()
    # 0, 1, 2 and the fd listdir itself opens: nothing inherited from the proxy.
    assert len(eval(out)) <= 4, out
    assert _fds() == before


async def test_writing_to_a_child_that_exited_is_a_broken_pipe(tmp_path):
    child = Child.spawn([PY, "-c", "pass"], env=dict(os.environ), cwd=str(tmp_path))
    await child.wait()
    with pytest.raises(BrokenPipeError):
        await child.stdin.write(b"x" * (4 * 1024 * 1024))
    child.close()


async def test_cut_ends_a_read_that_a_straggler_keeps_open(tmp_path):
    # The child exits but a grandchild holds stdout: a cut gives the reader EOF.
    child = Child.spawn(["/bin/sh", "-c", "echo hi; sleep 30 & exit 0"], env=dict(os.environ), cwd=str(tmp_path))
    child.stdin.close()
    assert await asyncio.wait_for(child.stdout.read(), 10) == b"hi\n"
    await asyncio.wait_for(child.wait(), 10)
    pending = asyncio.ensure_future(child.stdout.read())
    await asyncio.sleep(0.05)
    assert not pending.done()
    child.stdout.cut()
    assert await asyncio.wait_for(pending, 5) == b""
    os.killpg(child.pid, signal.SIGKILL)
    child.close()


async def test_without_pidfd_the_exit_is_still_seen(tmp_path, monkeypatch):
    def no_pidfd(pid):
        raise OSError("no pidfd here")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd, raising=False)
    child = Child.spawn([PY, "-c", "raise SystemExit(7)"], env=dict(os.environ), cwd=str(tmp_path))
    child.stdin.close()
    assert await asyncio.wait_for(child.wait(), 10) == 7
    child.close()


async def test_a_missing_program_raises_and_leaks_no_fd(tmp_path):
    before = _fds()
    with pytest.raises(FileNotFoundError):
        Child.spawn([str(tmp_path / "missing")], env={}, cwd=str(tmp_path))
    assert _fds() == before
