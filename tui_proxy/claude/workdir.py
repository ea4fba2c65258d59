"""The one private working directory every CLI run shares, and what lives around it.

The CLI names its working directory in the environment message it sends after the first user
message, so a different cwd per run would change every conversation's cached prefix. Every run
therefore runs in ONE fixed, empty, private folder, stable across restarts:

    <data dir>/cli/            0700
        cwd/                   0700, empty: the cwd of every run
        runs-XXXX/             0700, this engine's per-run folders (TMPDIR, system prompt, MCP config)
        lock                   held (shared) while an engine runs; exclusive during the start-up sweep
    $HOME/.claude/projects/<cwd as a slug>/   0700: the session files of resumed runs (0600),
                                              each removed when its run's child has exited

At start-up, if no other engine uses the same data dir, leftovers of a crash are swept: run
folders, session files, and the `*.tmp.*` files the CLI sometimes strands in
`$HOME/.claude/plugins/store/` (only those written since our engine last started).
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from .session_file import project_dir


@dataclass(frozen=True, slots=True)
class Workdir:
    root: str
    cwd: str
    runs_dir: str
    sessions_dir: str
    #: Held open for the engine's life (a shared lock on `root/lock`).
    lock_fd: int
    #: What the start-up sweep removed (for a notice).
    swept: int

    def close(self) -> None:
        """The engine stops (its runs folder is already gone). The last engine on this data dir
        removes the sessions folder too, with what the CLI keeps there (a `memory/` folder)."""
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # another engine still runs here
        else:
            shutil.rmtree(self.sessions_dir, ignore_errors=True)
        try:
            os.close(self.lock_fd)
        except OSError:
            pass


def open_workdir(data_dir: str, home: str, config_dir: str | None = None) -> Workdir:
    """Make (or reuse) the layout, sweep a crash's leftovers if we are alone, lock it shared."""
    root = os.path.join(data_dir, "cli")
    _private_dir(data_dir)
    _private_dir(root)
    cwd = os.path.join(root, "cwd")
    _private_dir(cwd)
    sessions_dir = project_dir(home, cwd, config_dir)
    _private_dir(sessions_dir)  # 0700 even if an earlier CLI made it (its runs may write there too)
    fd = os.open(os.path.join(root, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    swept = 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # another engine runs on this data dir: its files are not leftovers
    else:
        swept = sweep(root, cwd, sessions_dir, home)
    fcntl.flock(fd, fcntl.LOCK_SH)  # downgrade: others may now start, but not sweep
    runs_dir = tempfile.mkdtemp(prefix="runs-", dir=root)
    return Workdir(root, cwd, runs_dir, sessions_dir, fd, swept)


def sweep(root: str, cwd: str, sessions_dir: str, home: str) -> int:
    """Remove what crashed engines left: run folders, session files, stray CLI temp files.
    Only called with the exclusive lock. Returns how many entries went."""
    removed = 0
    for path in glob.glob(os.path.join(root, "runs-*")):
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    for name in os.listdir(cwd):  # the cwd stays empty (a CLAUDE.md there would be loaded)
        path = os.path.join(cwd, name)
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) and not os.path.islink(path) else _unlink(path)
        removed += 1
    if os.path.isdir(sessions_dir):
        for name in os.listdir(sessions_dir):
            path = os.path.join(sessions_dir, name)
            # <uuid>.jsonl, and the <uuid>/ folders the CLI keeps beside them
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) and not os.path.islink(path) else _unlink(path)
            removed += 1
    removed += _sweep_plugin_temp(home, root)
    return removed


def _sweep_plugin_temp(home: str, root: str) -> int:
    """The CLI sometimes strands `*.tmp.*` files in ~/.claude/plugins/store/ (an atomic write cut
    short). Ours are those written since our engine last started (`root/started`); one still
    being written (under a minute old) is left alone."""
    store = os.path.join(home, ".claude", "plugins", "store")
    stamp = os.path.join(root, "started")
    try:
        since = os.stat(stamp).st_mtime
    except OSError:
        since = None
    with open(os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w"):
        pass  # this start, for the next sweep
    if since is None:
        return 0
    removed = 0
    now = time.time()
    for path in glob.glob(os.path.join(store, "*.tmp.*")):
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        if since <= mtime < now - 60:
            _unlink(path)
            removed += 1
    return removed


def _private_dir(path: str) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
