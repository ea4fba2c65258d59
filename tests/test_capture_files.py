"""Permission bits, schema versions, read-only opens and who marks rows interrupted."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from tui_proxy.capture import CaptureState, CaptureStore, StoreVersionError
from tui_proxy.capture.schema import SCHEMA_VERSION
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.events import EventBus


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def record(store, events):
    bus = EventBus()
    store.record(bus)
    for event in events:
        bus.publish(event)
    assert store.flush(timeout=10)


def test_directory_0700_files_0600_even_with_a_loose_umask(tmp_path):
    old = os.umask(0o000)
    try:
        data = tmp_path / "data"
        db = data / "captures.sqlite3"
        with CaptureStore.open(db) as store:
            record(store, exchange_events())
            assert mode(data) == 0o700
            for name in ("captures.sqlite3", "captures.sqlite3-wal", "captures.sqlite3-shm", "captures.sqlite3.lock"):
                assert (data / name).exists(), name
                assert mode(data / name) == 0o600, name
    finally:
        os.umask(old)


def test_existing_loose_directory_and_file_are_tightened(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    db = data / "captures.sqlite3"
    db.touch(mode=0o644)
    with CaptureStore.open(db):
        assert mode(data) == 0o700 and mode(db) == 0o600


def test_wal_mode_and_schema_version(tmp_path):
    db = tmp_path / "captures.sqlite3"
    CaptureStore.open(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental


def test_a_newer_schema_is_refused(tmp_path):
    db = tmp_path / "captures.sqlite3"
    CaptureStore.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreVersionError):
        CaptureStore.open(db)
    with pytest.raises(StoreVersionError):
        CaptureStore.open(db, read_only=True)


def test_reopening_keeps_data_and_migrates_nothing(tmp_path):
    db = tmp_path / "captures.sqlite3"
    events = exchange_events()
    with CaptureStore.open(db) as store:
        record(store, events)
    with CaptureStore.open(db) as store:
        assert store.get(events[0].exchange_id).complete


def test_read_only_open(tmp_path):
    db = tmp_path / "captures.sqlite3"
    with pytest.raises(FileNotFoundError):
        CaptureStore.open(db, read_only=True)
    events = exchange_events()
    with CaptureStore.open(db) as store:
        record(store, events)
    # The writer has closed (WAL checkpointed and removed): readers still work.
    with CaptureStore.open(db, read_only=True) as reader:
        assert reader.read_only and reader.get(events[0].exchange_id).complete
        with pytest.raises(RuntimeError):
            reader.recorder()


def test_rows_of_a_live_writer_are_not_marked_interrupted(tmp_path):
    db = tmp_path / "captures.sqlite3"
    events = exchange_events()
    with CaptureStore.open(db) as first:
        record(first, events[:4])  # in progress
        with CaptureStore.open(db) as second, CaptureStore.open(db, read_only=True) as reader:
            assert second.get(events[0].exchange_id).state is CaptureState.OPEN
            assert reader.get(events[0].exchange_id).state is CaptureState.OPEN
    # Nobody alive any more: the next writer declares it interrupted.
    with CaptureStore.open(db) as third:
        capture = third.get(events[0].exchange_id)
        assert capture.state is CaptureState.INTERRUPTED and capture.incomplete and capture.ended_at
