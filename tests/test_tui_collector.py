"""Full garbage collections while nothing streams (tui/collector.py), with Python's real collector."""

from __future__ import annotations

import gc

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


def test_start_freezes_and_spaces_automatic_full_collections_out(collections):
    before = gc.get_freeze_count()
    Collector().start()
    assert gc.get_freeze_count() > before
    assert gc.get_threshold()[2] == collector.FULL_EVERY


def test_a_full_collection_runs_once_nothing_has_streamed_for_a_while(collections):
    clock = Clock()
    quiet = Collector(clock)
    gc.collect(1)  # something to gain: a young collection since the last full one
    assert not quiet.tick(in_flight=3)
    clock.now += collector.IDLE_SECONDS / 2
    assert not quiet.tick(in_flight=0)  # the last stream ended a moment ago
    collections.clear()
    clock.now += collector.IDLE_SECONDS
    assert quiet.tick(in_flight=0)
    assert 2 in collections

    gc.collect(1)
    clock.now += collector.IDLE_SECONDS
    assert not quiet.tick(in_flight=0)  # not again so soon
    clock.now += collector.IDLE_COLLECT_EVERY
    assert quiet.tick(in_flight=0)


def test_nothing_to_gain_no_collection(collections):
    clock = Clock()
    quiet = Collector(clock)
    gc.collect()  # a full one: no young collection since
    clock.now += collector.IDLE_SECONDS + collector.IDLE_COLLECT_EVERY
    collections.clear()
    assert gc.get_count()[2] == 0
    assert not quiet.tick(in_flight=0)
    assert 2 not in collections
