"""Each run's private folder: an empty working directory, its own TMPDIR, the system prompt file.

Making and deleting a folder per request cost the proxy ~0.4 ms of CPU and, on ext4, 5-8 ms of
wall time to delete (journal). So the folders are kept: `RunFolders` hands out a ready, empty
folder, and takes it back once the run's child (and everything it started) is reaped; one
janitor thread empties it (the system prompt, the MCP config, whatever the CLI left in its
TMPDIR or cwd) and puts it back in the stock, or deletes it when the stock is full or the
folder is not as we made it. The janitor also deletes what else a run leaves (its session
file), in batches, off the event loop. Its queue is bounded: past the bound a folder or file
is left for the shutdown (or the next start's sweep) and counted.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import threading
from collections import deque

log = logging.getLogger(__name__)

SYSTEM_PROMPT_FILE = "system-prompt.txt"
#: What a run's folder holds: two folders (cwd, TMPDIR), at most two files of ours.
_DIRS = ("cwd", "tmp")
_FILES = frozenset({SYSTEM_PROMPT_FILE, "mcp-config.json"})
#: Jobs waiting for the janitor past this are not queued (left for shutdown) and counted.
MAX_PENDING = 10_000


def make_run_dir(runs_dir: str, system_prompt: str | None) -> str:
    """A fresh 0700 folder under `runs_dir` with `cwd/`, `tmp/` and a 0600 `system-prompt.txt`."""
    # Made again if it went (a data folder deleted under a running proxy): serving goes on.
    os.makedirs(runs_dir, mode=0o700, exist_ok=True)
    path = tempfile.mkdtemp(prefix="run-", dir=runs_dir)  # 0700
    for name in _DIRS:
        os.mkdir(os.path.join(path, name), 0o700)
    if system_prompt is not None:
        write_system_prompt(path, system_prompt)
    return path


def write_system_prompt(run_dir: str, system_prompt: str) -> str:
    path = os.path.join(run_dir, SYSTEM_PROMPT_FILE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(system_prompt)
    return path


class RunFolders:
    """The run folders of one engine (under its `runs_dir`), and the janitor that empties them."""

    def __init__(self, runs_dir: str, *, spare: int = 4, linger: float = 0.25) -> None:
        self.runs_dir = runs_dir
        #: Empty folders kept ready.
        self.spare = spare
        #: Seconds the janitor waits after being woken, so that one wake-up serves a batch.
        self.linger = linger
        self._ready: deque[str] = deque()
        #: ("recycle" | "remove", path), in order.
        self._jobs: deque[tuple[str, str]] = deque()
        self._wake = threading.Event()
        #: Set to cut the janitor's linger short (the stock runs low, or shutdown).
        self._hurry = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._idle_lock = threading.Lock()  # idle is set only when no wake-up is pending
        self._thread: threading.Thread | None = None
        #: Paths not queued because the janitor was MAX_PENDING jobs behind (left for shutdown).
        self.left_behind = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="run-folders", daemon=True)
        self._thread.start()
        self._nudge()  # make the first spare folders now

    # -- the event loop's side: never blocks on the disk but for one small file ------------

    def take(self) -> str | None:
        """A ready, empty folder, or None when the stock is out (make one off the loop then)."""
        try:
            path = self._ready.popleft()
        except IndexError:
            path = None
        left = len(self._ready)
        if left < self.spare:
            self._nudge()
            if not left:
                # The last one: no lingering. Else a steady stream of requests empties the stock
                # before the janitor wakes, and each later run makes its folder through a thread
                # while the folders of the runs before wait in the queue to be emptied.
                self._hurry.set()
        return path

    def give_back(self, path: str) -> None:
        """The run using `path` is over (its child reaped): empty it and keep it, off the loop."""
        self._queue("recycle", path)

    def remove(self, path: str) -> None:
        """Delete `path` (a file, or a folder with everything in it), off the loop."""
        self._queue("remove", path)

    def _queue(self, kind: str, path: str) -> None:
        if self._thread is None or self._stop.is_set() or len(self._jobs) >= MAX_PENDING:
            self.left_behind += 1
            if self.left_behind == 1:
                log.warning("run folders: the janitor is %d jobs behind; %s left for shutdown", len(self._jobs), path)
            return
        self._jobs.append((kind, path))
        self._nudge()

    def _nudge(self) -> None:
        if not self._wake.is_set():
            with self._idle_lock:
                self._idle.clear()
                self._wake.set()

    def settled(self, timeout: float | None = None) -> bool:
        """Wait (blocking) until every job given so far is done. For tests and shutdown."""
        self._nudge()
        return self._idle.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Do what is queued (at most `timeout` seconds), then stop. Spare folders stay: the
        engine deletes the whole runs folder next."""
        self._stop.set()
        self._hurry.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the janitor -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if not self._stop.is_set():
                self._hurry.wait(self.linger)  # gather a batch (shutdown and a low stock do not wait)
            self._hurry.clear()
            self._wake.clear()
            while self._jobs:
                kind, path = self._jobs.popleft()
                try:
                    if kind == "recycle":
                        self._recycle(path)
                    else:
                        _remove(path)
                except Exception:  # never let one odd path stop the janitor
                    log.exception("run folders: %s %s failed", kind, path)
            if not self._stop.is_set():
                self._top_up()
            with self._idle_lock:
                if not self._jobs and not self._wake.is_set():
                    self._idle.set()
            if self._stop.is_set() and not self._jobs:
                self._idle.set()
                return

    def _top_up(self) -> None:
        while len(self._ready) < self.spare and not self._stop.is_set():
            try:
                self._ready.append(make_run_dir(self.runs_dir, None))
            except OSError as exc:
                log.warning("run folders: cannot make a spare folder in %s: %s", self.runs_dir, exc)
                return

    def _recycle(self, path: str) -> None:
        if len(self._ready) < self.spare and _empty(path):
            self._ready.append(path)
        else:
            _remove(path)


def _empty(path: str) -> bool:
    """Make `path` as `make_run_dir` made it (no system prompt); False when it is not a run
    folder of ours any more (then it is deleted instead)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or stat.S_IMODE(st.st_mode) != 0o700 or st.st_uid != os.getuid():
            return False
        for name in os.listdir(path):
            full = os.path.join(path, name)
            if name in _FILES:
                os.unlink(full)
            elif name not in _DIRS:
                return False
        for name in _DIRS:
            folder = os.path.join(path, name)
            if os.path.islink(folder) or not os.path.isdir(folder):
                return False
            for entry in os.scandir(folder):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            if os.listdir(folder):
                return False
    except OSError:
        return False
    return True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except IsADirectoryError:
        shutil.rmtree(path, ignore_errors=True)
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
