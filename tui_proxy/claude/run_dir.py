"""Each run's private folder: an empty working directory, its own TMPDIR, the system prompt file."""

from __future__ import annotations

import os
import tempfile


def make_run_dir(runs_dir: str, system_prompt: str | None) -> str:
    """A fresh 0700 folder under `runs_dir` with `cwd/`, `tmp/` and a 0600 `system-prompt.txt`."""
    path = tempfile.mkdtemp(prefix="run-", dir=runs_dir)  # 0700
    os.mkdir(os.path.join(path, "cwd"), 0o700)
    os.mkdir(os.path.join(path, "tmp"), 0o700)
    if system_prompt is not None:
        fd = os.open(os.path.join(path, "system-prompt.txt"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(system_prompt)
    return path


#: The folder an engine keeps its runs in, in TMPDIR: `claude-max-tui-runs-XXXX/`.
RUNS_PREFIX = "claude-max-tui-runs-"
#: In each runs folder: "<pid> <start time>" of the proxy that owns it.
OWNER_FILE = ".owner"


def claim_runs_dir(tmp: str | None = None) -> str:
    """A new runs folder for this process, after sweeping those left by proxies that died
    (`kill -9`, a crash): their run folders hold system prompts in clear text."""
    tmp = tmp or tempfile.gettempdir()
    sweep_stale_runs_dirs(tmp)
    path = tempfile.mkdtemp(prefix=RUNS_PREFIX, dir=tmp)  # 0700
    fd = os.open(os.path.join(path, OWNER_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()} {_start_time(os.getpid())}\n")
    return path


def sweep_stale_runs_dirs(tmp: str | None = None) -> list[str]:
    """Remove runs folders of ours (this user's) whose owning process is gone; returns them.
    A live proxy's folder, one without an owner file (an older version's, or one being
    created), and anything not ours are left alone."""
    import shutil

    tmp = tmp or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(tmp)
    except OSError:
        return removed
    uid = os.getuid()
    for name in names:
        if not name.startswith(RUNS_PREFIX):
            continue
        path = os.path.join(tmp, name)
        try:
            st = os.lstat(path)
            if st.st_uid != uid or not os.path.isdir(path) or os.path.islink(path):
                continue
            with open(os.path.join(path, OWNER_FILE)) as f:
                pid_text, _, start_text = f.read().strip().partition(" ")
            pid, start = int(pid_text), int(start_text)
        except (OSError, ValueError):
            continue  # no (readable) owner file: not provably stale
        if _start_time(pid) == start:
            continue  # its proxy is alive
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _start_time(pid: int) -> int | None:
    from .proc_tree import start_time

    return start_time(pid)
