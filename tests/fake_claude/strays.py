"""Faults of the process tree: a CLI that leaves processes behind, one that writes a
stdout line that never ends. (Issue 16: the proxy must reap the whole tree, and end a
run promptly when the CLI is gone but a grandchild still holds its stdout.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from . import lifecycle
from . import text as texts
from .faults import ANSWER, BUN_CRASH
from .run import Run
from .stdout import stderr, write_fd

#: What a grandchild runs: nothing but a long sleep.
_SLEEPER = "import time\nwhile True: time.sleep(60)"


def grandchild(run: Run) -> None:
    """Start a grandchild, then answer (answer=1) or crash without a result (exit 3).

    session=1 puts the grandchild in its own session (out of reach of the process group);
    hold=1 lets it inherit stdout (the pipe stays open after the CLI exits); wait_ms (700)
    is how long the CLI lives on after spawning it. The grandchild's pid is written to
    `$FAKE_CLAUDE_RECORD_DIR/grandchild-<cli pid>.txt` (and to stderr)."""
    session, hold = run.spec.bool("session", True), run.spec.bool("hold", True)
    run.init()
    kid = subprocess.Popen(
        [sys.executable, "-c", _SLEEPER],
        stdin=subprocess.DEVNULL,
        stdout=None if hold else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=session,
        close_fds=True,
    )
    record = os.environ.get("FAKE_CLAUDE_RECORD_DIR")
    if record:
        with open(os.path.join(record, f"grandchild-{os.getpid()}.txt"), "w") as f:
            f.write(str(kid.pid))
    stderr(f"fake claude: grandchild {kid.pid}\n")
    time.sleep(run.spec.int("wait_ms", 700) / 1000)
    if run.spec.bool("answer", False):
        run.answer(texts.split_words(ANSWER, 4))
        run.result()
        lifecycle.exit_now(0)
    response = run.response()
    response.start()
    response.open_text()
    response.text_delta("Started a helper, then crashed. ")
    stderr(BUN_CRASH)
    lifecycle.exit_now(3)


def endless_line(run: Run) -> None:
    """init, then one stdout line that never ends (`chunk` bytes at a time, no newline)."""
    run.init()
    chunk = b"x" * run.spec.int("chunk", 65536)
    while True:
        write_fd(1, chunk)
