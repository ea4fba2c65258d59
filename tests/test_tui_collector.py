"""Full garbage collections while nothing streams (tui/collector.py), with Python's real collector."""

from __future__ import annotations

import gc
import weakref

import pytest

from tui_proxy.tui import collector
from tui_proxy.tui.collector import Collector


@pytest.fixture
def collections():
    """The generations collected meanwhile; the collector's global settings restored after."""
    thresholds = gc.get_threshold()
    seen: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "stop":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_start_freezes_and_leaves_full_collections_to_the_console_stop_restores(collections):
    before_thresholds = gc.get_threshold()
    before = gc.get_freeze_count()
    quiet = Collector()
    quiet.start()
    assert gc.get_freeze_count() > before
    assert gc.get_threshold()[:2] == before_thresholds[:2] and gc.get_threshold()[2] == collector.NEVER
    quiet.stop()
    assert gc.get_threshold() == before_thresholds and gc.get_freeze_count() == 0


def young_collections(n: int = 1) -> None:
    for _ in range(n):
        gc.collect(1)


class Cycle:
    """Garbage only a full collection finds (frozen, only one that unfreezes first)."""

    def __init__(self) -> None:
        self.me = self


def alive(refs: list[weakref.ref]) -> int:
    return sum(1 for ref in refs if ref() is not None)


def test_a_full_collection_runs_once_nothing_has_streamed_for_a_while_and_freezes_what_is_left(collections):
    clock = Clock()
    quiet = Collector(clock)
    quiet.start()
    young_collections()
    assert quiet.tick(in_flight=3) is None  # streaming
    clock.now += collector.IDLE_SECONDS / 2
    assert quiet.tick(in_flight=0) is None  # the last stream ended a moment ago
    clock.now += collector.IDLE_COLLECT_EVERY
    collections.clear()
    frozen = [Cycle(), Cycle()]
    gc.freeze()
    rings = [weakref.ref(ring) for ring in frozen] + [weakref.ref(Cycle())]  # the last made after the freeze
    del frozen
    young_collections()  # (freezing counts them from zero again)
    assert quiet.tick(in_flight=0) == "idle"
    assert 2 in collections
    assert alive(rings) == 2  # the one made after the freeze collected; the frozen ones wait
    assert gc.get_freeze_count() > 0 and gc.get_count()[2] == 0  # the survivors frozen

    young_collections()
    clock.now += collector.IDLE_SECONDS
    assert quiet.tick(in_flight=0) is None  # not again so soon
    clock.now += collector.IDLE_COLLECT_EVERY
    assert quiet.tick(in_flight=0) is None  # no traffic since, one young collection: not worth it
    young_collections(collector.IDLE_YOUNG)
    clock.now += collector.WALK_ALL_EVERY
    assert quiet.tick(in_flight=0) == "idle, all"  # now and then everything is walked
    assert alive(rings) == 0 and gc.get_freeze_count() > 0


def test_an_idle_collection_walks_everything_once_the_frozen_objects_doubled(collections):
    clock = Clock()
    quiet = Collector(clock)
    quiet.start()
    kept = [[] for _ in range(gc.get_freeze_count() + 1000)]  # as a history loaded after start
    gc.collect(1)  # they survive young collections
    young_collections()
    clock.now += collector.IDLE_COLLECT_EVERY
    assert quiet.tick(in_flight=0) == "idle"  # froze them
    young_collections(collector.IDLE_YOUNG)
    clock.now += collector.IDLE_COLLECT_EVERY
    assert quiet.tick(in_flight=0) == "idle, all"
    del kept


def test_under_traffic_that_never_pauses_one_full_collection_a_while(collections):
    clock = Clock()
    busy = Collector(clock)
    busy.start()
    frozen = gc.get_freeze_count()
    for _ in range(50):  # many young collections, as a burst of streams makes
        young_collections()
        clock.now += collector.BUSY_COLLECT_EVERY / 100
        assert busy.tick(in_flight=20) is None
    assert 2 not in collections  # Python's own full collection never came
    clock.now += collector.BUSY_COLLECT_EVERY / 2
    assert busy.tick(in_flight=20) == "busy"
    assert 2 in collections
    assert gc.get_freeze_count() >= frozen  # frozen objects stay frozen (not walked)


def test_nothing_to_gain_no_collection(collections):
    clock = Clock()
    quiet = Collector(clock)
    quiet.start()
    gc.collect()  # a full one: no young collection since
    clock.now += collector.IDLE_SECONDS + collector.IDLE_COLLECT_EVERY + collector.BUSY_COLLECT_EVERY
    collections.clear()
    assert gc.get_count()[2] == 0
    assert quiet.tick(in_flight=0) is None
    assert quiet.tick(in_flight=3) is None
    assert 2 not in collections
