"""Garbage collection on the console's terms: full collections while nothing streams.

A full collection walks every object the process keeps apart from the frozen ones (the
console's history, Textual's caches of drawn lines: some 50 000 objects after a few
hundred requests) in one go: 40-80 ms of CPU on a small machine, every client stalled.
Python starts one after ten young collections once enough objects survived, so a burst
of traffic, which allocates the most, got them in the middle of its streams (the
longest single stall bench/ui_load.py measured once the detail view was fixed).

At start-up the console freezes what it made (never walked again). After that,
automatic full collections wait for FULL_EVERY young ones instead of ten, and the flush
runs one once nothing has been in flight for IDLE_SECONDS. A full collection still
comes on its own under traffic that never pauses; it walks the same live objects, so it
takes as long as before, only less often.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

#: Young (generation 1) collections between two automatic full ones (Python's default: 10).
FULL_EVERY = 100
#: Nothing in flight this long: a good moment for a full collection.
IDLE_SECONDS = 1.0
#: At most one idle collection this often (an idle console still allocates a little).
IDLE_COLLECT_EVERY = 10.0


class Collector:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._busy_at = clock()
        self._collected_at = float("-inf")

    def start(self) -> None:
        """Freeze what start-up made and space the automatic full collections out."""
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_EVERY)

    def tick(self, in_flight: int) -> bool:
        """At each flush: a full collection if nothing streams for a while. True if it ran."""
        now = self.clock()
        if in_flight:
            self._busy_at = now
            return False
        if now - self._busy_at < IDLE_SECONDS or now - self._collected_at < IDLE_COLLECT_EVERY:
            return False
        if not gc.get_count()[2]:  # no young collection since the last full one: nothing to gain
            return False
        gc.collect()
        self._collected_at = now
        return True
