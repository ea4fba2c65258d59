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
        self._lines: queue.Queue[object] = queue.Queue(maxsize=limit)
        self._thread = threading.Thread(target=self._run, name="line-output", daemon=True)
        self._thread.start()

    def line(self, text: str) -> None:
        """Never blocks."""
        try:
            self._lines.put_nowait(text)
        except queue.Full:
            self.dropped += 1

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

        The dropped-lines notice waits for room like the stop marker: the queue is often still
        full at this point (that is why lines were dropped), and the notice must not be one more.
        """
        deadline = time.monotonic() + timeout
        try:
            if self.dropped:
                notice = f"claude-max-tui: {self.dropped} log lines dropped (the output was not being read)"
                self._lines.put(notice, timeout=timeout)
            self._lines.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
        except queue.Full:
            return
        self._thread.join(max(0.0, deadline - time.monotonic()))
