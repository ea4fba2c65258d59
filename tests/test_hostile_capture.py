"""Items 2 and 6 of issue 16 (captures under load, capture failures): the writer's queue is
bounded (drops counted and announced, never an exchange's finish), retention keeps the
store near its cap in bounded steps while writes go on, and a failing or deleted store is
said on /health, as a Notice and in the log while serving continues. The long version is
`bench/soak.py --minutes N --capture-max-mb M`."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import threading

import aiohttp

from tui_proxy.capture import CaptureStore
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.events import CliStdout, EventBus, ExchangeFinished, Notice

from tests.conftest import wait_until
from tests.waiting import until_sync


def _publish_all(bus: EventBus, events) -> None:
    for event in events:
        bus.publish(event)


def test_a_stuck_writer_drops_pieces_with_a_count_but_keeps_every_finish(tmp_path, caplog):
    store = CaptureStore.open(tmp_path / "c.sqlite3", commit_interval=0.01, max_queue_bytes=200_000)
    problems: list[tuple[str, str]] = []
    store.writer.on_problem = lambda level, message: problems.append((level, message))
    writer = store.writer
    release = threading.Event()
    real = writer._transaction
    stuck = threading.Event()

    def slow_transaction(events):
        stuck.set()
        release.wait(30)
        return real(events)

    writer._transaction = slow_transaction
    bus = EventBus()
    store.record(bus)
    try:
        exchanges = [exchange_events(words=50) for _ in range(60)]
        _publish_all(bus, exchanges[0][:1])
        assert stuck.wait(10)
        for events in exchanges:
            for event in events:
                bus.publish(event)
                if isinstance(event, CliStdout):
                    # Big stdout lines: what a real 3 MB line does to the queue.
                    bus.publish(CliStdout(exchange_id=event.exchange_id, at=event.at, lines=("x" * 20_000,)))
        # Bounded: twice the cap at most (pieces stop at the cap, the rest at twice it).
        assert writer.queued_bytes <= 2 * 200_000 + 100_000
        assert writer.dropped_events > 0
        assert store.health()["ok"] is False and store.health()["dropped_events"] == writer.dropped_events
        with caplog.at_level(logging.WARNING):
            release.set()
            assert store.flush(30)
            until_sync(lambda: problems, "the drops announced")
    finally:
        release.set()
        store.close()
    assert problems[0][0] == "warning" and "dropped" in problems[0][1]
    assert any("dropped" in r.getMessage() for r in caplog.records)
    with CaptureStore.open(tmp_path / "c.sqlite3", read_only=True) as store:
        rows = {s.id: s for s in store.list(limit=1000)}
    # No finished exchange is lost, whatever was dropped on the way.
    for events in exchanges:
        xid = events[0].exchange_id
        assert xid in rows and rows[xid].state.value != "open", xid


def _file_bytes(path) -> int:
    return sum(os.path.getsize(p) for p in (str(path), str(path) + "-wal") if os.path.exists(p))


def test_retention_keeps_the_store_near_its_cap_while_writes_go_on(tmp_path):
    cap = 1024 * 1024
    path = tmp_path / "c.sqlite3"
    store = CaptureStore.open(path, commit_interval=0.01, max_bytes=cap, prune_interval=3600)
    bus = EventBus()
    store.record(bus)
    largest = 0
    last = None
    try:
        for round_ in range(40):  # ~16 MiB written in all, sixteen times the cap
            for _ in range(4):
                events = exchange_events(words=20)
                last = events[0].exchange_id
                _publish_all(bus, events[:3])
                bus.publish(CliStdout(exchange_id=last, at=events[3].at, lines=("y" * 100_000,)))
                _publish_all(bus, events[3:])
            assert store.flush(30)
            if round_ >= 5:
                largest = max(largest, os.path.getsize(path))
        until_sync(lambda: not store.writer._maintenance_due(), "retention done")
        summaries = store.list(limit=1000)
    finally:
        store.close()
    # No periodic prune in this test (an hour apart): the bytes written trigger it.
    assert largest < 3 * cap, f"the store reached {largest:,} bytes for a {cap:,}-byte cap"
    # The newest is kept; about ten of ~100 KiB fit under the cap, not the 160 written.
    assert summaries and summaries[0].id == last
    assert 3 <= len(summaries) <= 15, len(summaries)


async def test_a_full_disk_is_said_on_health_and_as_a_notice_while_serving_goes_on(start_engine, caplog):
    engine = await start_engine()
    notices: list[Notice] = []
    engine.bus.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
    conn = engine.store.writer._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    # SQLite's own "database or disk is full": no more pages may be added.
    conn.execute(f"PRAGMA max_page_count = {pages}")
    async with aiohttp.ClientSession() as session:
        for i in range(3):
            async with session.post(engine.url + "/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] " + "z" * 20_000}]}) as response:
                assert response.status == 200  # serving continues
        assert await wait_until(lambda: any(n.data.get("source") == "capture" for n in notices), 10)
        async with session.get(engine.url + "/health") as response:
            health = await response.json()
    assert health["status"] == "degraded" and health["capture"]["ok"] is False
    assert "full" in health["capture"]["error"]
    notice = next(n for n in notices if n.data.get("source") == "capture")
    assert notice.level == "error" and "full" in notice.message
    assert any("full" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


async def test_a_deleted_data_folder_is_said_on_health_and_as_a_notice(start_engine, tmp_path):
    engine = await start_engine()
    notices: list[Notice] = []
    engine.bus.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
    async with aiohttp.ClientSession() as session:
        async with session.get(engine.url + "/health") as response:
            assert (await response.json())["capture"]["ok"] is True
        shutil.rmtree(engine.store.path.parent)
        deadline = asyncio.get_running_loop().time() + 15
        while not notices:
            assert asyncio.get_running_loop().time() < deadline, "no notice"
            async with session.post(engine.url + "/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] hi"}]}) as response:
                assert response.status == 200
            await asyncio.sleep(0.2)
        async with session.get(engine.url + "/health") as response:
            health = await response.json()
    assert health["status"] == "degraded" and health["capture"]["file_missing"] is True
    assert "deleted" in notices[0].message


def test_store_health_is_ok_when_writes_succeed(tmp_path):
    with CaptureStore.open(tmp_path / "c.sqlite3", commit_interval=0.01) as store:
        bus = EventBus()
        store.record(bus)
        _publish_all(bus, exchange_events())
        assert store.flush(10)
        health = store.health()
    assert health["ok"] is True and health["dropped_events"] == 0 and health["error"] is None


async def test_a_corrupt_store_at_start_is_said_on_health_while_serving_goes_on(start_engine, tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "captures.sqlite3").write_bytes(b"this is not a database" * 100)
    engine = await start_engine()
    assert engine.store is None
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] hi"}]}) as response:
            assert response.status == 200
        async with session.get(engine.url + "/health") as response:
            health = await response.json()
    assert health["status"] == "degraded"
    assert health["capture"] == {"enabled": True, "ok": False, "error": "the capture store could not be opened (see the log)"}
    assert any("capture store failed to open" in r.getMessage() for r in caplog.records)
