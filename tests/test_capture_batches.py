"""How the capture writer cuts its transactions when an exchange's finish forces a commit.

A client's next request arrives the moment it has its answer, before that answer's exchange is
closed (its CLI is reaped first). The finish commits at once; the new exchange, started since,
is held back so that its row is written once, whole, instead of inserted with its request and
rewritten by an UPDATE. These tests publish events in that order and look at the store and at
the statements the writer ran.
"""

from __future__ import annotations

import time

import pytest

from tui_proxy.capture import CaptureState, CaptureStore
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.capture.writer import _hold_back
from tui_proxy.events import EventBus, ExchangeFinished, RequestReceived

from tests.waiting import until_sync

NOW = time.time()


@pytest.fixture
def slow_store(tmp_path):
    """A store that would linger 30 s: whatever is written sooner was forced by a finish."""
    with CaptureStore.open(tmp_path / "captures.sqlite3", commit_interval=30.0) as store:
        yield store


def publisher(store: CaptureStore):
    bus = EventBus()
    store.record(bus)
    return bus.publish


def statements(store: CaptureStore) -> list[str]:
    seen: list[str] = []
    store.writer._conn.set_trace_callback(seen.append)
    return seen


def test_the_next_request_waits_for_its_own_finish_and_is_written_once(slow_store):
    publish = publisher(slow_store)
    sql = statements(slow_store)
    first = exchange_events(start=NOW - 10, words=5)
    second = exchange_events(start=NOW - 9, words=5)
    for event in first[:-1] + second[:4] + first[-1:]:
        publish(event)
    until_sync(lambda: (c := slow_store.get(first[0].exchange_id)) is not None and c.complete, "the first exchange committed")
    assert slow_store.get(second[0].exchange_id) is None  # held back, not committed with it

    for event in second[4:]:
        publish(event)
    until_sync(lambda: (c := slow_store.get(second[0].exchange_id)) is not None and c.complete, "the second exchange committed")
    capture = slow_store.get(second[0].exchange_id)
    assert capture.request_body == second[0].body and capture.cli_pid == 4242 and capture.text == second[-1].text
    assert len(capture.stdout) == sum(len(getattr(e, "lines", ())) for e in second)
    writes = [s for s in sql if s.startswith(("INSERT OR IGNORE INTO exchanges", "UPDATE exchanges"))]
    assert len(writes) == 2 and all(s.startswith("INSERT") for s in writes)  # a row each, no rewrite


def test_held_events_are_written_within_the_commit_interval_without_more_traffic(tmp_path):
    with CaptureStore.open(tmp_path / "captures.sqlite3", commit_interval=0.3) as store:
        publish = publisher(store)
        first = exchange_events(start=NOW - 10, words=5)
        second = exchange_events(start=NOW - 9, words=5)
        for event in first[:-1] + second[:4] + first[-1:]:
            publish(event)
        until_sync(lambda: store.get(second[0].exchange_id) is not None, "the held exchange written")
        assert store.get(second[0].exchange_id).state is CaptureState.OPEN
        assert store.get(first[0].exchange_id).complete


def test_a_flush_writes_held_events_too(slow_store):
    publish = publisher(slow_store)
    first = exchange_events(start=NOW - 10, words=5)
    second = exchange_events(start=NOW - 9, words=5)
    for event in first[:-1] + second[:4] + first[-1:]:
        publish(event)
    assert slow_store.flush(timeout=10)
    assert slow_store.get(second[0].exchange_id).state is CaptureState.OPEN


def test_events_are_held_back_once_only(slow_store):
    # A long stream must not wait behind every other exchange's finish.
    publish = publisher(slow_store)
    long = exchange_events(start=NOW - 10, words=30)
    a = exchange_events(start=NOW - 9, words=3)
    b = exchange_events(start=NOW - 8, words=3)
    for event in long[:4] + a:
        publish(event)
    until_sync(lambda: (c := slow_store.get(a[0].exchange_id)) is not None and c.complete, "the first short exchange committed")
    assert slow_store.get(long[0].exchange_id) is None
    for event in b:
        publish(event)
    until_sync(lambda: (c := slow_store.get(b[0].exchange_id)) is not None and c.complete, "the second short exchange committed")
    held = slow_store.get(long[0].exchange_id)
    assert held is not None and held.state is CaptureState.OPEN


def test_hold_back_keeps_only_exchanges_started_and_not_finished_in_the_batch():
    done = exchange_events(start=NOW - 10, words=2)
    started = exchange_events(start=NOW - 9, words=2)
    whole = exchange_events(start=NOW - 8, words=2)
    earlier = exchange_events(start=NOW - 7, words=2)
    batch = done[2:] + started[:3] + whole + earlier[3:-1]
    write, hold = _hold_back(batch)
    assert hold == started[:3]
    assert write == [e for e in batch if e.exchange_id != started[0].exchange_id]
    assert isinstance(write[-1], type(earlier[-2])) and not any(isinstance(e, RequestReceived) and e.exchange_id == started[0].exchange_id for e in write)
    assert _hold_back(done[1:]) == (done[1:], [])  # nothing started here
    assert any(isinstance(e, ExchangeFinished) for e in whole)
