"""The one thread that writes the capture store.

The recorder hands it events through a queue; it commits them in batches (`rows.py` turns a
batch into rows): it waits up to `commit_interval` after the first event of a batch so a
burst of stdout lines becomes one transaction, except when an exchange finishes or someone
flushes, which commit at once (a finished exchange must survive a `kill -9`), or when a full
batch is already waiting. A commit that a finish forces leaves out the exchanges that started
since the last one and go on (`_hold_back`): they are written whole at their own finish, or
one commit interval later.

It must keep up under sustained load, and memory must stay flat when it cannot (a slow or
full disk): the queue is bounded by the bytes it holds. Past `max_queue_bytes`, stdout,
stderr and response pieces are dropped; past twice that, everything but an exchange's finish
(its row, status and answer text). Drops are counted and announced (log, console Notice,
/health), and so are write failures (full disk, read-only or corrupt store, the file deleted
under us) while serving goes on. Retention runs in bounded steps between batches
(`retention.prune_step`, `vacuum_step`), triggered by time and by bytes written.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from typing import Callable

from ..events import Event, ExchangeFinished, RequestReceived
from .retention import RetentionPolicy, prune_step, vacuum_step
from .rows import PARTS, RowWriter

log = logging.getLogger(__name__)


class _Flush:
    """A marker in the queue: set once everything queued before it is committed."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()

#: Events whose loss costs a part of a capture, not the exchange itself.
_PIECES = tuple(PARTS)
#: Seconds between two announcements of the same problem (drops, a failing store).
_ANNOUNCE_EVERY = 30.0
#: Seconds between two checks that the store file is still the one we write to.
_FILE_CHECK_EVERY = 2.0


def _weight(event: object) -> int:
    """About the memory an event holds while queued."""
    part = PARTS.get(type(event))
    if part is not None:
        pieces = part[1](event)
        try:
            return 100 * len(pieces) + sum(map(len, pieces))  # the hot path: one per read and write
        except TypeError:  # not text: the write will fail and say so
            return 100 * len(pieces) + sum(map(_len, pieces))
    if isinstance(event, RequestReceived):
        return 500 + _len(event.body)
    if isinstance(event, ExchangeFinished):
        return 500 + _len(event.text) + _len(event.thinking)
    return 500


def _len(value: object) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 0


def _hold_back(events: list[Event]) -> tuple[list[Event], list[Event]]:
    """Split a batch whose commit an exchange's finish forced: the events of exchanges that
    started in it and have not finished wait for the next commit, the rest go now.

    A client's next request comes the moment it has its answer, before that answer's exchange
    is closed (its CLI is reaped first): committed then, the new exchange's row was inserted
    with its request alone and rewritten whole by an UPDATE with everything else in the next
    transaction. Held back, it is one INSERT, its pieces one `parts` row each. Held events wait
    one commit interval at most, and only once: they are written with the next batch whatever
    it holds.
    """
    started = {event.exchange_id for event in events if type(event) is RequestReceived}
    if not started:
        return events, []
    started.difference_update(event.exchange_id for event in events if type(event) is ExchangeFinished)
    if not started:
        return events, []
    write = [event for event in events if event.exchange_id not in started]
    hold = [event for event in events if event.exchange_id in started]
    return write, hold


class CaptureWriter:
    def __init__(
        self,
        conn: sqlite3.Connection,
        policy: RetentionPolicy,
        *,
        commit_interval: float = 0.1,
        max_batch: int = 5000,
        prune_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
        max_queue_bytes: int = 256 * 1024 * 1024,
        path: str | os.PathLike | None = None,
    ) -> None:
        self._conn = conn
        self._policy = policy
        self._commit_interval = commit_interval
        self._max_batch = max_batch
        self._prune_interval = prune_interval
        self._clock = clock
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._urgent = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        #: The last write error, for a health line in the console (None when fine).
        self.last_error: str | None = None
        #: When events were last lost to a failing write (monotonic), even if a later one worked.
        self.last_loss_at: float | None = None
        #: True while writes fail (cleared by the next successful commit).
        self.failing = False
        #: The store file is gone (deleted, or its folder): commits go nowhere.
        self.file_missing = False
        self._max_queue_bytes = max_queue_bytes
        self._queued_bytes = 0
        self._queue_lock = threading.Lock()
        #: Events dropped because the queue was full, and when the last one was.
        self.dropped_events = 0
        self.last_drop_at: float | None = None
        self._announced_drops = 0
        self._announced: dict[str, float] = {}
        #: Told about problems (level, message) from the writer thread: the engine turns
        #: this into a console Notice. Must be thread-safe.
        self.on_problem: Callable[[str, str], None] | None = None
        self._path = None if path is None else os.fspath(path)
        self._file_id = _file_id(self._path)
        self._last_file_check = 0.0
        #: Bytes and finished exchanges written since the last prune: retention runs often
        #: enough under load that the store stays near its cap.
        self._written_since_prune = 0
        self._finished_since_prune = 0
        self._prune_due = False
        self._vacuum_due = False
        #: Exchanges whose finish was committed (a proof for soaks that nothing was lost,
        #: retention notwithstanding).
        self.finished_written = 0
        #: The SQL of each batch (its caches of rows in progress live there).
        self.rows = RowWriter(conn)

    # ---- called from other threads (the event loop, to_thread workers) ----

    def start(self) -> None:
        self._thread.start()

    def submit(self, event: Event, *, urgent: bool = False) -> None:
        """Cheap enough for the event loop: one queue put (and an event set when urgent).
        Never blocks: over the queue's bound, the event is dropped and counted."""
        weight = _weight(event)
        with self._queue_lock:
            bound = self._max_queue_bytes if isinstance(event, _PIECES) else 2 * self._max_queue_bytes
            if self._queued_bytes + weight > bound and not isinstance(event, ExchangeFinished):
                self.dropped_events += 1
                self.last_drop_at = time.monotonic()
                return
            self._queued_bytes += weight
        self._queue.put(event)
        if urgent:
            self._urgent.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything submitted so far is committed; False on timeout."""
        if not self._thread.is_alive():
            return True
        marker = _Flush()
        self._queue.put(marker)
        self._urgent.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._urgent.set()
            self._thread.join(timeout)

    # ---- the writer thread ----

    def _run(self) -> None:
        last_prune = self._clock()  # the store pruned at open
        #: Events of exchanges in progress held back from a commit that another exchange's
        #: finish forced (see `_hold_back`), and when they must be written at the latest.
        held: list[Event] = []
        held_until = 0.0
        while True:
            if held:
                timeout: float | None = max(0.0, held_until - time.monotonic())
            else:
                timeout = None if not self._maintenance_due() else 0
            try:
                first = self._queue.get(timeout=timeout)
            except queue.Empty:
                if held:
                    self._write_weighed(held)
                    held = []
                else:
                    self._maintain()  # idle: one bounded step of retention at a time
                continue
            # Linger to gather a batch, unless something is urgent or a full batch waits.
            urgent = first is _STOP or isinstance(first, (_Flush, ExchangeFinished))
            if not urgent and self._queue.qsize() < self._max_batch:
                linger = self._commit_interval if not held else max(0.0, held_until - time.monotonic())
                urgent = self._urgent.wait(linger)
            self._urgent.clear()
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            new = [item for item in batch if isinstance(item, Event)]
            everything = len(batch) == self._max_batch or any(item is _STOP or isinstance(item, _Flush) for item in batch)
            if urgent and not everything:
                write, hold = _hold_back(new)
                write, held = held + write, hold
                held_until = time.monotonic() + self._commit_interval
            else:
                write, held = held + new, []
            self._write_weighed(write)
            for item in batch:
                if isinstance(item, _Flush):
                    item.done.set()
            if any(item is _STOP for item in batch):
                self._settle()
                return
            if self._clock() - last_prune >= self._prune_interval or self._pruning_wanted():
                last_prune = self._clock()
                self._settle()
                self._prune_due = True
            self._maintain()
            self._check_health()

    def _write_weighed(self, events: list[Event]) -> None:
        """Write `events` and take their weight off the queue's (held events still count)."""
        weight = sum(map(_weight, events))
        self._write(events)
        with self._queue_lock:
            self._queued_bytes -= weight
        self._written_since_prune += weight

    # ---- retention in bounded steps ----

    def _pruning_wanted(self) -> bool:
        policy = self._policy
        by_bytes = policy.max_bytes is not None and self._written_since_prune >= max(policy.max_bytes // 50, 256 * 1024)
        by_count = policy.max_count is not None and self._finished_since_prune >= max(policy.max_count // 50, 1)
        return by_bytes or by_count

    def _maintenance_due(self) -> bool:
        return self._prune_due or self._vacuum_due

    def _maintain(self) -> None:
        """One bounded step: a prune transaction, else a few pages of vacuum."""
        try:
            if self._prune_due:
                self._written_since_prune = self._finished_since_prune = 0
                pruned, self._prune_due = prune_step(self._conn, self._policy, self._clock())
                if pruned:
                    self._vacuum_due = True
                    log.debug("capture retention pruned %d exchanges", pruned)
            elif self._vacuum_due:
                self._vacuum_due = vacuum_step(self._conn) > 0
        except Exception as exc:
            self._prune_due = self._vacuum_due = False
            self.last_error = f"pruning: {exc}"
            self._announce("error", f"Capture retention failed: {exc}")

    # ---- saying when captures are being lost ----

    def _check_health(self) -> None:
        if self.dropped_events != self._announced_drops:
            if self._announce("warning", "The capture writer cannot keep up: events are being dropped (the answers are not affected).", key="drops"):
                self._announced_drops = self.dropped_events
        if self._path is not None and time.monotonic() - self._last_file_check >= _FILE_CHECK_EVERY:
            self._last_file_check = time.monotonic()
            missing = _file_id(self._path) != self._file_id
            if missing and not self.file_missing:
                self._announce("error", f"The capture store {self._path} was deleted or replaced: new exchanges are not being kept. Restart the proxy to start a new store.")
            self.file_missing = missing

    def _announce(self, level: str, message: str, *, key: str | None = None) -> bool:
        """Log and tell the console, at most once per `_ANNOUNCE_EVERY` per kind of problem."""
        key = key or message
        now = time.monotonic()
        if now - self._announced.get(key, -_ANNOUNCE_EVERY) < _ANNOUNCE_EVERY:
            return False
        self._announced[key] = now
        if key == "drops":
            message = f"{message} {self.dropped_events:,} dropped so far."
        log.log(logging.ERROR if level == "error" else logging.WARNING, "%s", message)
        if self.on_problem is not None:
            try:
                self.on_problem(level, message)
            except Exception:  # the loop may be closing: the log line stays
                pass
        return True

    def _write(self, events: list[Event]) -> None:
        if not events:
            return
        try:
            self._transaction(events)
            self.failing = False
            return
        except Exception as exc:
            first_error = exc
        if self.failing and _store_failure(first_error):
            # The store itself refuses (full disk, read-only, corrupt): no use retrying
            # each event; the problem is already announced (and re-announced now and then).
            self._lost(len(events), len(events), first_error)
            return
        # One bad event must not cost the batch: write them one by one.
        failed = 0
        for event in events:
            try:
                self._transaction([event])
            except Exception as exc:
                failed += 1
                self.last_error = f"{type(event).__name__} {event.exchange_id}: {exc}"
        if failed:
            self._lost(failed, len(events), first_error)

    def _transaction(self, events: list[Event]) -> None:
        finished = self.rows.transaction(events)
        self.finished_written += finished
        self._finished_since_prune += finished

    def _settle(self) -> None:
        try:
            self.rows.settle()
        except Exception as exc:
            self.last_error = f"settling sizes: {exc}"
            log.exception("capture size bookkeeping failed")

    def _lost(self, failed: int, total: int, error: Exception) -> None:
        self.failing = True
        self.last_loss_at = time.monotonic()
        self.last_error = f"{type(error).__name__}: {error}"
        self._announce("error", f"Capture writes are failing ({error}): {failed} of {total} events lost in the last batch; serving continues.", key=f"write:{error}")

def _file_id(path: str | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _store_failure(error: Exception) -> bool:
    """An error of the store as a whole rather than of one event."""
    text = str(error).lower()
    return isinstance(error, sqlite3.DatabaseError) and any(
        words in text for words in ("full", "readonly", "read-only", "malformed", "not a database", "disk i/o", "unable to open")
    )
