"""Headless output never blocks the proxy, even when nobody reads it."""

from __future__ import annotations

import io
import threading

from tui_proxy.line_output import LineOutput


class StalledReader(io.StringIO):
    """A stdout whose reader stopped reading: every write blocks until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait()
        return super().write(text)


def test_lines_reach_the_output_in_order():
    out = io.StringIO()
    lines = LineOutput(out)
    for i in range(100):
        lines.line(f"line {i}")
    lines.close()
    assert out.getvalue().splitlines() == [f"line {i}" for i in range(100)]


def test_a_stalled_reader_never_blocks_the_caller_and_drops_are_counted():
    out = StalledReader()
    lines = LineOutput(out, limit=10)
    done = threading.Event()

    def writer() -> None:
        for i in range(1000):
            lines.line(f"line {i}")
        done.set()

    threading.Thread(target=writer).start()
    assert done.wait(5), "line() blocked on a stalled reader"
    assert 1000 - 11 <= lines.dropped <= 1000 - 10  # the queue, plus one line held by the blocked write
    out.release.set()
    lines.close()
    written = out.getvalue().splitlines()
    assert written[0] == "line 0" and written[-1] == f"claude-max-tui: {lines.dropped} log lines dropped (the output was not being read)"
