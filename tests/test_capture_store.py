"""The store and recorder, fed with synthetic event sequences on a real EventBus."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import sqlite3
import threading
import time

import pytest

from tui_proxy.capture import AmbiguousIdError, CaptureRecorder, CaptureState, CaptureStore
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.events import CliStdout, EventBus, ExchangeFinished, RequestReceived, ResponseChunk, TokenDelta

NOW = time.time()


@pytest.fixture
def store(tmp_path):
    with CaptureStore.open(tmp_path / "data" / "captures.sqlite3", commit_interval=0.01) as store:
        yield store


def record(store: CaptureStore, events) -> None:
    bus = EventBus()
    store.record(bus)
    for event in events:
        bus.publish(event)
    assert store.flush(timeout=10)


def test_streamed_exchange_round_trips(store):
    events = exchange_events(words=12)
    record(store, events)
    xid = events[0].exchange_id
    capture = store.get(xid)
    assert capture is not None
    assert capture.state is CaptureState.COMPLETE and capture.complete and not capture.incomplete
    assert capture.method == "POST" and capture.path == "/v1/chat/completions"
    assert capture.client == "OpenAI/Python 1.60.0" and capture.stream
    assert capture.request_body == events[0].body
    assert capture.cli_argv[0] == "/usr/local/bin/claude" and capture.cli_pid == 4242
    assert json.loads(capture.cli_stdin)["type"] == "user"
    stdout = [e for e in events if isinstance(e, CliStdout)]
    assert [line.text for line in capture.stdout] == [line for e in stdout for line in e.lines]
    assert [line.at for line in capture.stdout] == [e.at for e in stdout for _ in e.lines]
    chunks = [e for e in events if isinstance(e, ResponseChunk)]
    assert [c.text for c in capture.chunks] == [c for e in chunks for c in e.chunks]
    assert capture.response_body.endswith("data: [DONE]\n\n")
    assert capture.response_status == 200 and capture.response_streaming
    finished = events[-1]
    assert isinstance(finished, ExchangeFinished)
    assert capture.text == finished.text and capture.usage == finished.usage
    assert capture.finish_reason == "stop" and capture.status == 200 and capture.exit_code == 0
    assert capture.ttft_ms == pytest.approx(finished.ttft_ms)
    assert capture.duration_ms == pytest.approx(finished.duration_ms)
    assert capture.prompt_tokens == 25 and capture.completion_tokens == 12


def test_non_streamed_body_is_the_json(store):
    events = exchange_events(stream=False, words=5)
    record(store, events)
    capture = store.get(events[0].exchange_id)
    body = json.loads(capture.response_body)
    assert body["choices"][0]["message"]["content"] == capture.text


def test_failures_are_captured(store):
    cli_error = exchange_events(outcome="cli_error", start=NOW - 100 + 1)
    rejected = exchange_events(outcome="rejected", start=NOW - 100 + 2)
    cut = exchange_events(outcome="disconnect", start=NOW - 100 + 3)
    record(store, cli_error + rejected + cut)

    failed = store.get(cli_error[0].exchange_id)
    assert failed.status == 503 and failed.exit_code == 1
    assert "overloaded" in failed.stderr_text and failed.error.source == "cli"
    assert failed.error_type == "server_error" and failed.complete

    refused = store.get(rejected[0].exchange_id)
    assert refused.status == 400 and refused.cli_argv == () and refused.error.param == "messages"
    assert json.loads(refused.response_body)["error"]["type"] == "invalid_request_error"

    interrupted = store.get(cut[0].exchange_id)
    assert interrupted.state is CaptureState.INCOMPLETE and interrupted.incomplete
    assert interrupted.killed_because == "disconnect" and interrupted.text


def test_in_progress_rows_are_written_before_the_end(store):
    events = exchange_events(words=10)
    half = len(events) // 2
    record(store, events[:half])
    capture = store.get(events[0].exchange_id)
    assert capture.state is CaptureState.OPEN and capture.in_progress
    assert capture.status is None and len(capture.stdout) > 1
    record(store, events[half:])
    assert store.get(events[0].exchange_id).complete


def test_token_deltas_and_notices_are_not_queued(store):
    seen = []
    store.writer.submit = lambda event, urgent=False: seen.append(event)  # type: ignore[method-assign]
    recorder = store.recorder()  # binds submit now
    for event in exchange_events(words=3):
        recorder(event)
    assert seen and not any(isinstance(e, TokenDelta) for e in seen)


def test_record_subscribes_the_store_only_to_the_events_it_keeps(store):
    submitted = []
    store.writer.submit = lambda event, urgent=False: submitted.append(event)  # type: ignore[method-assign]
    bus = EventBus()
    calls = 0
    recorder = store.recorder

    def counting_recorder():
        inner = recorder()

        def call(event):
            nonlocal calls
            calls += 1
            inner(event)

        return call

    store.recorder = counting_recorder  # type: ignore[method-assign]
    unsubscribe = store.record(bus)
    events = list(exchange_events(words=3))
    for event in events:
        bus.publish(event)
    kept = [e for e in events if isinstance(e, CaptureRecorder.EVENTS)]
    assert any(isinstance(e, TokenDelta) for e in events) and len(kept) < len(events)
    assert calls == len(kept) and submitted == kept  # never called for a delta
    unsubscribe()
    bus.publish(events[0])
    assert calls == len(kept)


def test_sqlite_never_runs_on_the_publishing_thread(store):
    threads: set[int] = set()
    store.writer._conn.set_trace_callback(lambda sql: threads.add(threading.get_ident()))
    record(store, exchange_events())
    assert threads and threading.get_ident() not in threads


def test_fifty_interleaved_exchanges_all_complete(store):
    sequences = [exchange_events(start=NOW - 100 + i, words=20) for i in range(50)]
    merged = []
    rng = random.Random(5)
    cursors = [0] * 50
    while any(c < len(s) for c, s in zip(cursors, sequences)):  # interleave like 50 live streams
        i = rng.choice([i for i, s in enumerate(sequences) if cursors[i] < len(s)])
        merged.append(sequences[i][cursors[i]])
        cursors[i] += 1
    record(store, merged)
    summaries = store.list(limit=100)
    assert len(summaries) == 50 and all(s.complete for s in summaries)
    for sequence in sequences:
        capture = store.get(sequence[0].exchange_id)
        assert len(capture.stdout) == sum(len(e.lines) for e in sequence if isinstance(e, CliStdout))


def test_lines_and_chunks_written_together_are_kept_one_by_one(store):
    events = exchange_events(words=2)
    xid = events[0].exchange_id
    at = events[3].at
    together = [
        CliStdout(xid, at, ('{"a":1}', "not json", '{"b":2}')),
        ResponseChunk(xid, at, '{"c":1}', more=('{"c":2}', '{"c":3}')),
    ]
    record(store, events[:4] + together + events[4:])
    capture = store.get(xid)
    assert [(line.at, line.text) for line in capture.stdout if line.at == at][-3:] == [(at, '{"a":1}'), (at, "not json"), (at, '{"b":2}')]
    texts = [c.text for c in capture.chunks]
    assert texts[texts.index('{"c":1}') :][:3] == ['{"c":1}', '{"c":2}', '{"c":3}']


def test_list_is_newest_first_pages_and_filters(store):
    ids = []
    for i in range(5):
        # Fixed ids: a random one can hold "503" and match the free-text filter below.
        events = exchange_events(f"0193c1f2a4b{i}-7e1f00a{i}", start=NOW - 100 + i, outcome="cli_error" if i == 2 else "ok")
        ids.append(events[0].exchange_id)
        record(store, events)
    assert [s.id for s in store.list()] == ids[::-1]
    assert [s.id for s in store.list(limit=2, before=ids[3])] == [ids[2], ids[1]]
    assert [s.id for s in store.list(filter_text="server_error")] == [ids[2]]
    assert [s.id for s in store.list(filter_text="503")] == [ids[2]]
    assert len(store.list(filter_text="sonnet")) == 5
    assert store.list(filter_text="100%_") == []
    summary = store.list(limit=1)[0]
    assert summary.prompt_tokens == 25 and summary.finish_reason == "stop" and summary.ttft_ms


def test_get_by_prefix_and_short_id(store):
    a = exchange_events("0193c1f2a4b0-5e1f09aa")
    b = exchange_events("0193c1f2a4b1-77aa0000")
    record(store, a + b)
    assert store.get("0193c1f2a4b0").id == a[0].exchange_id
    assert store.get("5e1f09").id == a[0].exchange_id
    assert store.get("nope") is None
    with pytest.raises(AmbiguousIdError):
        store.get("0193c1f2a4b")


async def test_async_reads(store):
    events = exchange_events()
    record(store, events)
    summaries, capture = await asyncio.gather(store.alist(), store.aget(events[0].exchange_id))
    assert summaries[0].id == capture.id


def test_replay_of_is_kept(store):
    original = exchange_events(start=NOW - 100 + 0)
    replayed = exchange_events(start=NOW - 100 + 10, replay_of=original[0].exchange_id)
    record(store, original + replayed)
    assert store.get(replayed[0].exchange_id).replay_of == original[0].exchange_id
    assert store.list(limit=1)[0].replay_of == original[0].exchange_id


def test_finish_without_request_still_leaves_a_row(store):
    events = exchange_events()
    record(store, [e for e in events if not isinstance(e, RequestReceived)])
    assert store.get(events[0].exchange_id).complete


def test_a_bad_event_does_not_lose_its_batch(store):
    events = exchange_events(words=3)
    bad = CliStdout(events[0].exchange_id, 1.0, lines=(None,))  # type: ignore[arg-type]  # NOT NULL violation
    record(store, events[:3] + [bad] + events[3:])
    capture = store.get(events[0].exchange_id)
    assert capture.complete and store.last_error


def test_multi_megabyte_bodies_and_lines(store):
    events = exchange_events(words=3)
    big_body = b'{"messages":[{"role":"user","content":"' + b"x" * 5_000_000 + b'"}]}'
    events[0] = dataclasses.replace(events[0], body=big_body)
    big_line = '{"type":"stream_event","text":"' + "é" * 3_000_000 + '"}'
    events.insert(3, CliStdout(events[0].exchange_id, events[2].at, (big_line,)))
    record(store, events)
    capture = store.get(events[0].exchange_id)
    assert capture.request_body == big_body and capture.complete
    assert big_line in [line.text for line in capture.stdout]
    assert capture.stdout[-1].text != big_line  # order kept around it


def test_pieces_after_the_finish_are_kept_and_counted(tmp_path):
    db = tmp_path / "c.sqlite3"
    events = exchange_events(words=3)
    xid = events[0].exchange_id
    late = CliStdout(xid, events[-1].at + 0.1, ("late line after the finish",))
    with CaptureStore.open(db, prune_interval=0, commit_interval=0.01) as store:
        record(store, events)
        record(store, [late])
        record(store, exchange_events(words=1))  # a batch after: settles the caches
        assert store.get(xid).stdout[-1].text == late.lines[0]
        assert not store.writer.rows.sizes and not store.writer.rows.seqs
    size = sqlite3.connect(db).execute("SELECT size_bytes FROM exchanges WHERE id = ?", (xid,)).fetchone()[0]
    assert size >= len(events[0].body) + len(late.lines[0])


def test_interrupted_rows_count_the_parts_they_hold(tmp_path):
    db = tmp_path / "c.sqlite3"
    events = exchange_events(words=50)
    store = CaptureStore.open(db)
    record(store, events[:60])
    store.writer.rows.sizes.clear()  # as if the process died: in-memory sizes gone
    store.close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE exchanges SET state = 'open'")  # close() does not finish it, but be explicit
    conn.commit()
    before = conn.execute("SELECT size_bytes FROM exchanges").fetchone()[0]
    with CaptureStore.open(db) as reopened:
        capture = reopened.get(events[0].exchange_id)
        assert capture.state is CaptureState.INTERRUPTED
    after = conn.execute("SELECT size_bytes FROM exchanges").fetchone()[0]
    assert after - before >= sum(len(line.text) for line in capture.stdout)
