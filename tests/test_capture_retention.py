"""Retention: count, size and age limits, oldest first, never an exchange in progress."""

from __future__ import annotations

import os
import time

from tui_proxy.capture import CaptureState, CaptureStore
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.events import EventBus

NOW = time.time()


def fill(store, starts, **kwargs):
    bus = EventBus()
    store.record(bus)
    ids = []
    for start in starts:
        events = exchange_events(start=start, **kwargs)
        ids.append(events[0].exchange_id)
        for event in events:
            bus.publish(event)
    store.flush()
    return ids


def open_store(path, **limits):
    return CaptureStore.open(path, clock=lambda: NOW, commit_interval=0.01, **limits)


def test_count_limit_applies_at_open(tmp_path):
    db = tmp_path / "c.sqlite3"
    with open_store(db) as store:
        ids = fill(store, [NOW - 100 + i for i in range(10)])
    with open_store(db, max_count=4) as store:
        assert [s.id for s in store.list()] == ids[::-1][:4]


def test_age_limit(tmp_path):
    db = tmp_path / "c.sqlite3"
    with open_store(db) as store:
        old = fill(store, [NOW - 3 * 86400, NOW - 2.5 * 86400])
        new = fill(store, [NOW - 3600])
    with open_store(db, max_age_days=2) as store:
        assert [s.id for s in store.list()] == new
        assert all(store.get(i) is None for i in old)


def test_size_limit_keeps_the_newest_that_fit_and_gives_space_back(tmp_path):
    db = tmp_path / "c.sqlite3"
    with open_store(db) as store:
        ids = fill(store, [NOW - 1000 + i for i in range(200)], words=200)
        store.writer._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    big = os.path.getsize(db)
    one = big // 200
    with open_store(db, max_bytes=20 * one) as store:
        kept = [s.id for s in store.list(limit=1000)]
        assert 5 <= len(kept) < 30 and kept == ids[::-1][: len(kept)]
        store.writer._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert os.path.getsize(db) < big / 2
    # Pruned exchanges leave no parts behind.
    import sqlite3

    conn = sqlite3.connect(db)
    orphans = conn.execute("SELECT count(*) FROM parts WHERE exchange NOT IN (SELECT seq FROM exchanges)")
    assert orphans.fetchone()[0] == 0


def test_periodic_pruning_on_the_writer_thread_spares_open_exchanges(tmp_path):
    db = tmp_path / "c.sqlite3"
    with CaptureStore.open(db, max_count=2, prune_interval=0, commit_interval=0.01) as store:
        bus = EventBus()
        store.record(bus)
        live = exchange_events(start=NOW - 3000)  # the oldest of all, but still running
        for event in live[:5]:
            bus.publish(event)
        done = fill(store, [NOW - 10 + i for i in range(6)])
        fill(store, [NOW])  # one more batch so the periodic prune runs after the last
        listed = store.list(limit=100)
        assert live[0].exchange_id in [s.id for s in listed]
        assert store.get(live[0].exchange_id).state is CaptureState.OPEN
        finished = [s for s in listed if not s.in_progress]
        assert len(finished) <= 3 and done[0] not in [s.id for s in finished]


async def test_retention_limits_come_from_the_command_line(tmp_path):
    """`--capture-max-count` reaches the store the engine opens: older exchanges are pruned."""
    import asyncio

    from conftest import fake_config, strict_client
    from tui_proxy.cli import build_parser, config_from_args
    from tui_proxy.engine import Engine

    args = build_parser().parse_args(["--capture-max-count", "3", "--capture-max-mb", "50", "--capture-max-days", "2"])
    parsed = config_from_args(args, {})
    assert (parsed.capture_max_count, parsed.capture_max_mb, parsed.capture_max_days) == (3, 50, 2.0)
    engine = Engine(fake_config(tmp_path, capture_max_count=parsed.capture_max_count))
    await engine.start()
    try:
        async with strict_client(engine) as client:
            for i in range(6):
                await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": f"hi {i}"}])
        await asyncio.sleep(0.3)
    finally:
        await engine.stop()
    engine = Engine(fake_config(tmp_path, capture_max_count=parsed.capture_max_count))
    await engine.start()  # the store prunes when it opens
    try:
        kept = [await engine.store.aget(summary.id) for summary in await engine.store.alist(limit=100)]
    finally:
        await engine.stop()
    assert [capture.text for capture in kept] == ["You said: hi 5", "You said: hi 4", "You said: hi 3"]  # newest kept
