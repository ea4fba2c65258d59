"""The CLI launcher (tui_proxy/claude/launcher.py): every CLI in one session that is not the
proxy's, each in its own process group; nothing leaks, nothing outlives the proxy."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from bench.soak import child_pids
from tests.waiting import no_children_left, until
from tui_proxy.claude import launcher as launcher_module
from tui_proxy.claude.child import Child
from tui_proxy.claude.launcher import close_launcher, current_launcher, open_launcher

PY = sys.executable


@pytest.fixture
async def launcher():
    opened = open_launcher()
    assert opened is not None
    yield opened
    await close_launcher()
    assert opened._process.poll() is not None  # the helper exited


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


async def _read_all(pipe) -> bytes:
    out = []
    while data := await pipe.read(1 << 20):
        out.append(data)
    return b"".join(out)


def _helper_children(launcher) -> list[int]:
    return child_pids(launcher.pid)


async def test_children_share_the_helpers_session_each_in_its_own_group(launcher, tmp_path):
    children = [await Child.start([PY, "-c", "import time; time.sleep(30)"], env=dict(os.environ), cwd=str(tmp_path)) for _ in range(3)]
    for child in children:
        assert os.getsid(child.pid) == launcher.pid != os.getsid(0)
        assert os.getpgid(child.pid) == child.pid  # killpg reaches what it starts, and only that
        assert child.pid in _helper_children(launcher)
        os.killpg(child.pid, signal.SIGTERM)
    assert [await asyncio.wait_for(child.wait(), 10) for child in children] == [-signal.SIGTERM] * 3
    for child in children:
        child.close()


async def test_pipes_exit_codes_cwd_and_environment_reach_the_child(launcher, tmp_path):
    code = "import os, sys; data = sys.stdin.read(); print(data.upper(), os.getcwd(), os.environ['PROBE']); sys.exit(7)"
    child = await Child.start([PY, "-c", code], env={**os.environ, "PROBE": "seen"}, cwd=str(tmp_path))
    await child.stdin.write(b"hello")
    child.stdin.close()
    assert (await _read_all(child.stdout)).decode().split() == ["HELLO", str(tmp_path), "seen"]
    assert await child.wait() == 7
    child.close()


async def test_the_child_gets_no_fd_and_no_ignored_signal_of_ours(launcher, tmp_path):
    before = _fds()
    child = await Child.start([PY, "-c", "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"], env=dict(os.environ), cwd=str(tmp_path))
    child.stdin.close()
    fds = (await _read_all(child.stdout)).decode()
    await child.wait()
    child.close()
    assert len(eval(fds)) <= 4, fds  # 0, 1, 2 and the one listdir opens
    assert _fds() == before


async def _ignored_signals(start) -> set[int]:
    child = await start(["/bin/grep", "SigIgn", "/proc/self/status"], env={}, cwd="/")
    child.stdin.close()
    mask = int((await _read_all(child.stdout)).split()[1], 16)
    await child.wait()
    child.close()
    # glibc's posix_spawn leaves its two internal signals (32, 33: below SIGRTMIN) ignored
    # across exec; a program's own libc sets them up again, and no program may use them.
    return {sig for sig in range(1, 65) if mask & (1 << (sig - 1)) and not 32 <= sig < signal.SIGRTMIN}


async def test_the_child_ignores_no_signal_that_a_direct_spawn_would_not(launcher):
    # The helper ignores SIGINT, SIGTERM and SIGHUP, Python ignores SIGPIPE and SIGXFSZ, and
    # ignored signals survive exec: the child must start as a direct spawn's does (which
    # inherits what this process ignores: a background job of a script ignores SIGINT and
    # SIGQUIT, as under CI), and with Python's own two at their default.
    launched = await _ignored_signals(Child.start)

    async def direct(argv, *, env, cwd):
        return Child.spawn(argv, env=env, cwd=cwd)

    assert launched == await _ignored_signals(direct)
    assert not launched & {signal.SIGPIPE, signal.SIGXFSZ}
    assert not launched & {signal.SIGTERM, signal.SIGHUP} - {sig for sig in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(sig) == signal.SIG_IGN}


async def test_a_missing_program_or_folder_raises_as_popen_does_and_leaks_no_fd(launcher, tmp_path):
    before = _fds()
    with pytest.raises(FileNotFoundError) as missing:
        await Child.start([str(tmp_path / "missing")], env={}, cwd=str(tmp_path))
    assert missing.value.filename == str(tmp_path / "missing")
    with pytest.raises(FileNotFoundError) as no_folder:
        await Child.start([PY, "-c", "pass"], env={}, cwd=str(tmp_path / "gone"))
    assert no_folder.value.filename == str(tmp_path / "gone")
    (tmp_path / "plain").write_text("not a program")
    with pytest.raises(PermissionError):
        await Child.start([str(tmp_path / "plain")], env={}, cwd=str(tmp_path))
    assert _fds() == before
    assert current_launcher() is launcher  # failures of a spawn are not failures of the helper


async def test_a_bare_name_is_looked_up_on_the_childs_path(launcher, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "hello-prog"
    program.write_text("#!/bin/sh\necho found on PATH\n")
    program.chmod(0o755)
    child = await Child.start(["hello-prog"], env={"PATH": f"/nonexistent:{bin_dir}"}, cwd=str(tmp_path))
    child.stdin.close()
    assert await _read_all(child.stdout) == b"found on PATH\n"
    assert await child.wait() == 0
    child.close()
    with pytest.raises(FileNotFoundError):
        await Child.start(["hello-prog"], env={"PATH": "/nonexistent"}, cwd=str(tmp_path))


async def test_an_argv_larger_than_the_socket_buffer_arrives_whole(launcher, tmp_path):
    args = [f"{i}:" + "x" * 100_000 for i in range(12)]  # 1.2 MB, several socket buffers
    child = await Child.start([PY, "-c", "import sys, hashlib; print(hashlib.sha256('|'.join(sys.argv[1:]).encode()).hexdigest())", *args], env=dict(os.environ), cwd=str(tmp_path))
    child.stdin.close()
    import hashlib

    assert (await _read_all(child.stdout)).decode().strip() == hashlib.sha256("|".join(args).encode()).hexdigest()
    assert await child.wait() == 0
    child.close()


async def test_spawns_at_once_each_get_their_own_child(launcher, tmp_path):
    starts = [Child.start([PY, "-c", f"import sys; print({i}); sys.exit({i})"], env=dict(os.environ), cwd=str(tmp_path)) for i in range(8)]
    children = await asyncio.gather(*starts)
    for i, child in enumerate(children):
        child.stdin.close()
        assert await _read_all(child.stdout) == f"{i}\n".encode()
        assert await child.wait() == i
        child.close()


async def test_a_spawn_cancelled_while_waiting_leaves_no_child(launcher, tmp_path):
    before = _fds()
    for _ in range(5):
        task = asyncio.ensure_future(Child.start([PY, "-c", "import time; time.sleep(30)"], env=dict(os.environ), cwd=str(tmp_path)))
        await asyncio.sleep(0)  # sent, not answered yet
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await until(lambda: not launcher._waiting and not _helper_children(launcher) and not launcher._exits, "every request answered, the orphans killed and reaped")
    assert _fds() == before


async def test_when_the_helper_dies_children_are_still_seen_to_exit_and_spawns_go_direct(launcher, tmp_path):
    child = await Child.start([PY, "-c", "import time; time.sleep(30)"], env=dict(os.environ), cwd=str(tmp_path))
    os.kill(launcher.pid, signal.SIGKILL)
    await until(lambda: launcher.gone, "the launcher noticed")
    assert current_launcher() is None
    os.killpg(child.pid, signal.SIGKILL)
    assert await asyncio.wait_for(child.wait(), 10) == launcher_module.UNKNOWN_EXIT
    child.close()
    direct = await Child.start([PY, "-c", "import time; time.sleep(30)"], env=dict(os.environ), cwd=str(tmp_path))
    assert os.getsid(direct.pid) == direct.pid  # started the direct way: its own session
    direct.send_signal(signal.SIGKILL)
    assert await asyncio.wait_for(direct.wait(), 10) == -signal.SIGKILL
    direct.close()


async def test_nothing_the_launcher_started_outlives_a_killed_proxy(tmp_path):
    script = textwrap.dedent(f"""
        import asyncio, os, sys
        sys.path.insert(0, {str(launcher_module.__file__).rsplit('/tui_proxy/', 1)[0]!r})
        from tui_proxy.claude.launcher import open_launcher
        from tui_proxy.claude.child import Child
        async def main():
            open_launcher()
            children = [await Child.start(["/bin/sh", "-c", "sleep 60 & sleep 60"], env=dict(os.environ), cwd="/") for _ in range(3)]
            print(" ".join(str(c.pid) for c in children), flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """)
    proxy = subprocess.Popen([PY, "-c", script], stdout=subprocess.PIPE, start_new_session=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proxy.stdout.readline), 20)
        pids = [int(pid) for pid in line.split()]
        assert len(pids) == 3
        proxy.kill()
        proxy.wait()

        def group_alive(pgid: int) -> bool:
            try:
                os.killpg(pgid, 0)
                return True
            except ProcessLookupError:
                return False

        await until(lambda: not any(group_alive(pid) for pid in pids), "every CLI's group gone after the proxy was killed")
    finally:
        if proxy.poll() is None:
            proxy.kill()
        proxy.stdout.close()


async def test_an_engine_starts_its_clis_through_the_launcher_and_closes_it(start_engine, fake_claude_env):
    import aiohttp

    engine = await start_engine()
    launcher = current_launcher()
    assert launcher is not None
    async with aiohttp.ClientSession() as http:
        request = http.post(engine.url + "/v1/chat/completions", json={"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": "[[fake:tokens n=400 delay_ms=5]] hi"}]})
        async with request as response:
            assert response.status == 200
            await response.content.readline()
            await until(lambda: bool(_helper_children(launcher)), "the CLI started by the helper")
            (pid,) = _helper_children(launcher)
            assert os.getsid(pid) == launcher.pid and os.getpgid(pid) == pid
            await response.read()
    await no_children_left()
    await engine.stop()
    await until(lambda: launcher._process.poll() is not None, "the helper exited with the engine")
    assert current_launcher() is None


async def test_without_the_launcher_each_cli_has_its_own_session(start_engine, fake_claude_env):
    import aiohttp

    from bench.soak import proxy_children

    engine = await start_engine(launcher=False)
    assert current_launcher() is None
    async with aiohttp.ClientSession() as http:
        request = http.post(engine.url + "/v1/chat/completions", json={"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": "[[fake:tokens n=400 delay_ms=5]] hi"}]})
        async with request as response:
            await response.content.readline()
            await until(lambda: bool(proxy_children(os.getpid())), "the CLI started")
            (pid,) = proxy_children(os.getpid())
            assert os.getsid(pid) == pid
            await response.read()
    await no_children_left()


async def test_engines_on_one_loop_share_the_launcher_until_the_last_stops(start_engine, fake_claude_env):
    first = await start_engine()
    launcher = current_launcher()
    second = await start_engine()
    assert current_launcher() is launcher
    await first.stop()
    assert current_launcher() is launcher  # the second engine still spawns through it
    await second.stop()
    await until(lambda: launcher._process.poll() is not None, "the helper exited with the last engine")
    assert current_launcher() is None


async def test_a_spawn_waiting_when_the_launcher_closes_fails_and_leaves_no_child(tmp_path):
    # An engine's stop closes the launcher after reaping its CLIs; a spawn still in flight
    # (a pool slot being refilled) must not start a CLI nobody will reap.
    launcher = open_launcher()
    spawns = [asyncio.ensure_future(Child.start([PY, "-c", "import time; time.sleep(30)"], env=dict(os.environ), cwd=str(tmp_path))) for _ in range(3)]
    await asyncio.sleep(0)  # the first is sent, the others wait their turn
    await close_launcher()
    results = await asyncio.gather(*spawns, return_exceptions=True)
    for result in results:
        if isinstance(result, Child):  # answered before the close: killed with the helper
            assert await asyncio.wait_for(result.wait(), 10) is not None
            result.close()
        else:
            assert isinstance(result, OSError), result
    assert any(isinstance(result, OSError) for result in results)
    assert launcher._process.poll() is not None
    await no_children_left()
