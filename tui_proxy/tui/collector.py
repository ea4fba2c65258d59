"""Garbage collection on the console's terms: full collections while nothing streams.

A full collection walks every object the process keeps apart from the frozen ones (the
console's history, Textual's caches of drawn lines: each line keeps seven small caches,
some 75 000 objects in bench/ui_load.py) in one go: 30-80 ms of CPU on a small machine,
every client stalled. Python starts one after ten young collections once enough objects
survived, so a burst of traffic, which allocates the most, got one every few seconds in
the middle of its streams (the longest single stall left once the screens were painted
in parts).

So the console freezes what start-up made, and Python's own full collections are off.
Young collections still run as usual and reclaim nearly all garbage. A full collection
runs once nothing has been in flight for IDLE_SECONDS, and freezes what is left: the next
one walks only what came after. Now and then (WALK_ALL_EVERY, or once the frozen objects
doubled) an idle one unfreezes first and walks everything (100-200 ms here), to reclaim
cycles among objects frozen while alive that died since. Under traffic that never pauses,
one runs every BUSY_COLLECT_EVERY seconds at most often: a stall a minute instead of one
every few seconds; garbage cycles that outlived the young collections wait that long.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

#: Nothing in flight this long: a good moment for a full collection.
IDLE_SECONDS = 1.0
#: At most one idle collection this often (an idle console still allocates a little).
IDLE_COLLECT_EVERY = 10.0
#: Without traffic since the last one, an idle collection waits for this many young ones
#: (Python's own pace).
IDLE_YOUNG = 10
#: Under traffic that never pauses, a full collection at most this long after the last one.
BUSY_COLLECT_EVERY = 60.0
#: An idle collection walks the frozen objects too at least this often.
WALK_ALL_EVERY = 600.0
#: Python's third threshold (young collections between two full ones) that never comes.
NEVER = 1 << 30


class Collector:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._busy_at = clock()
        self._collected_at = clock()
        self._thresholds: tuple[int, int, int] | None = None
        self._walked_all_at = clock()
        self._frozen_after_walk = 0

    def start(self) -> None:
        """Freeze what start-up made; full collections from now on only by `tick`."""
        gc.freeze()
        self._thresholds = gc.get_threshold()
        young, middle, _ = self._thresholds
        gc.set_threshold(young, middle, NEVER)
        self._collected_at = self._walked_all_at = self.clock()
        self._frozen_after_walk = gc.get_freeze_count()

    def stop(self) -> None:
        """Python's collector as it was (the objects frozen meanwhile walked again)."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            gc.unfreeze()
            self._thresholds = None

    def tick(self, in_flight: int) -> str | None:
        """At each flush: "idle", "idle, all" or "busy" if it ran a full collection, None otherwise."""
        now = self.clock()
        if in_flight:
            self._busy_at = now
        young = gc.get_count()[2]  # young collections since the last full one
        if not young:
            return None  # nothing to gain
        if in_flight:
            if now - self._collected_at < BUSY_COLLECT_EVERY:
                return None
            gc.collect()  # what came since the last freeze (frozen cycles wait for a pause)
            self._collected_at = now
            return "busy"
        if now - self._busy_at < IDLE_SECONDS or now - self._collected_at < IDLE_COLLECT_EVERY:
            return None
        if self._busy_at < self._collected_at and young < IDLE_YOUNG:
            return None  # no traffic since the last one, and little made: not worth a walk
        walk_all = now - self._walked_all_at >= WALK_ALL_EVERY or gc.get_freeze_count() > 2 * self._frozen_after_walk
        if walk_all:
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._collected_at = now
        if walk_all:
            self._walked_all_at = now
            self._frozen_after_walk = gc.get_freeze_count()
            return "idle, all"
        return "idle"
