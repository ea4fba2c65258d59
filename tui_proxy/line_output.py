"""Log lines written from a thread of their own, so a stalled reader never stalls the proxy.

Headless output often goes to a pipe (`| less`, a supervisor). A reader that stops reading
fills the pipe, and the next write blocks: on the event loop, that would stop every request.
Here only this thread waits; past `limit` waiting lines, new ones are dropped and counted.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import TextIO

_STOP = object()


class LineOutput:
    def __init__(self, out: TextIO, *, limit: int = 10_000) -> None:
        self.out = out
        self.dropped = 0
        self._limit = limit
        # A SimpleQueue (C, no Python-level locks and conditions: a line a request), bounded here.
        self._lines: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="line-output", daemon=True)
        self._thread.start()

    def line(self, text: str) -> None:
        """Never blocks."""
        if self._lines.qsize() >= self._limit:
            self.dropped += 1
        else:
            self._lines.put(text)

    def _run(self) -> None:
        while True:
            text = self._lines.get()
            if text is _STOP:
                return
            try:
                self.out.write(f"{text}\n")
                if self._lines.empty():
                    self.out.flush()
            except (OSError, ValueError):
                pass  # stdout closed: nothing more to say

    def close(self, timeout: float = 2.0) -> None:
        """Write what is waiting (at most `timeout` seconds), then stop the thread.

        The dropped-lines notice and the stop marker go past the bound (two more at most).
        """
        deadline = time.monotonic() + timeout
        if self.dropped:
            self._lines.put(f"claude-max-tui: {self.dropped} log lines dropped (the output was not being read)")
        self._lines.put(_STOP)
        self._thread.join(max(0.0, deadline - time.monotonic()))
