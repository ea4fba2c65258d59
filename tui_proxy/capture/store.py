"""The capture store: SQLite in WAL mode, one writer thread, one read connection.

Writes never happen on the event loop: the recorder queues events, the writer thread
commits them. Reads use their own connection; async code calls `alist`/`aget`, which
run in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .files import create_private_file, secure_dir, secure_files
from .model import Capture, CaptureState, CaptureSummary
from .owner_lock import OwnerLock
from .reader import AmbiguousIdError, get_capture, list_summaries
from .recorder import CaptureRecorder
from .retention import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT, RetentionPolicy, prune
from .schema import StoreVersionError, check_readable, migrate
from .writer import CaptureWriter

if TYPE_CHECKING:
    from ..events import EventBus

__all__ = ["AmbiguousIdError", "CaptureStore", "StoreVersionError"]

log = logging.getLogger(__name__)

_BUSY_TIMEOUT_S = 10.0


class CaptureStore:
    def __init__(
        self,
        path: Path,
        reader: sqlite3.Connection,
        writer: CaptureWriter | None,
        owner_lock: OwnerLock | None,
    ) -> None:
        self.path = path
        self._reader = reader
        self._reader_lock = threading.Lock()
        self._writer = writer
        self._owner_lock = owner_lock
        self._closed = False

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        max_count: int | None = DEFAULT_MAX_COUNT,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        max_age_days: float | None = DEFAULT_MAX_AGE_DAYS,
        read_only: bool = False,
        commit_interval: float = 0.1,
        prune_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
        max_queue_bytes: int = 256 * 1024 * 1024,
    ) -> CaptureStore:
        """Open (creating, migrating, recovering and pruning as needed) the store at `path`.

        Blocking (a migration or a first prune may take a while): from a running event
        loop, call it through `asyncio.to_thread`.

        `read_only=True` is for commands that only look (captures, replay): no writer
        thread, no migration, no recovery, nothing changed; FileNotFoundError if absent.
        """
        path = Path(path).expanduser().absolute()
        if read_only:
            if not path.exists():
                raise FileNotFoundError(f"no capture store at {path}")
            reader = _connect(path, read_only=True)
            try:
                check_readable(reader)
            except BaseException:
                reader.close()
                raise
            return cls(path, reader, None, None)

        secure_dir(path.parent)
        create_private_file(path)
        owner_lock = OwnerLock(path)
        conn = _connect(path, read_only=False)
        try:
            # Lets pruning give space back. Only takes on a new, empty file, so it comes
            # before anything (even the journal mode) writes the header.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("PRAGMA journal_mode = WAL")
            # A process crash loses nothing committed; only power loss may lose the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            # After a checkpoint the WAL shrinks back to this: one burst of big answers must
            # not leave the store file pair far above its cap for good.
            conn.execute(f"PRAGMA journal_size_limit = {16 * 1024 * 1024}")
            secure_files(path)
            migrate(conn)
            if owner_lock.try_exclusive():
                _mark_interrupted(conn, clock())
            owner_lock.share()
            policy = RetentionPolicy(max_count, max_bytes, max_age_days)
            prune(conn, policy, clock())
            writer = CaptureWriter(
                conn,
                policy,
                commit_interval=commit_interval,
                prune_interval=prune_interval,
                clock=clock,
                max_queue_bytes=max_queue_bytes,
                path=path,
            )
            reader = _connect(path, read_only=True)
        except BaseException:
            conn.close()
            owner_lock.release()
            raise
        writer.start()
        return cls(path, reader, writer, owner_lock)

    @property
    def read_only(self) -> bool:
        return self._writer is None

    @property
    def writer(self) -> CaptureWriter:
        if self._writer is None:
            raise RuntimeError("this capture store was opened read-only")
        return self._writer

    @property
    def last_error(self) -> str | None:
        """The last write failure, if any (the store keeps going after one)."""
        return None if self._writer is None else self._writer.last_error

    def health(self) -> dict:
        """For /health: whether captures are being kept, and what was lost."""
        writer = self._writer
        if writer is None:
            return {"ok": True, "path": str(self.path), "read_only": True}
        now = time.monotonic()
        recent_drop = writer.last_drop_at is not None and now - writer.last_drop_at < 60
        # A failing store that lets a small write through now and then is still losing captures.
        recent_loss = writer.last_loss_at is not None and now - writer.last_loss_at < 60
        return {
            "ok": not (writer.failing or recent_loss or writer.file_missing or recent_drop or not writer.alive),
            "path": str(self.path),
            "error": writer.last_error if (writer.failing or recent_loss or writer.file_missing) else None,
            "file_missing": writer.file_missing,
            "dropped_events": writer.dropped_events,
            "exchanges_written": writer.finished_written,
            "queued_bytes": writer.queued_bytes,
        }

    def announce_problems(self, bus: EventBus) -> None:
        """Publish the writer's problems (drops, failing writes) on `bus` as Notices.
        Call from the event loop: the writer thread hands them over to it."""
        from ..events import Notice

        loop = asyncio.get_running_loop()

        def publish(level: str, message: str) -> None:
            notice = Notice(exchange_id="", at=time.time(), level=level, message=message, data={"source": "capture"})
            loop.call_soon_threadsafe(bus.publish, notice)

        self.writer.on_problem = publish

    def recorder(self) -> CaptureRecorder:
        """The bus subscriber that feeds this store (`record` subscribes it)."""
        return CaptureRecorder(self.writer)

    def record(self, bus: EventBus) -> Callable[[], None]:
        """Record what `bus` publishes from now on; returns the unsubscribe. Subscribed only to
        the events it records: the bus does not even call it for a token delta."""
        return bus.subscribe(self.recorder(), only=CaptureRecorder.EVENTS)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every event recorded so far is committed. Not on the event loop."""
        return True if self._writer is None else self._writer.flush(timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.close()
        with self._reader_lock:
            self._reader.close()
        if self._owner_lock is not None:
            self._owner_lock.release()

    def __enter__(self) -> CaptureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reads (blocking: from async code use alist/aget) ----

    def list(
        self, limit: int = 100, before: str | None = None, filter_text: str | None = None
    ) -> list[CaptureSummary]:
        """Newest first; `before` (an exchange id) pages back; `filter_text` matches metadata."""
        with self._reader_lock:
            return list_summaries(self._reader, limit=limit, before=before, filter_text=filter_text)

    def get(self, exchange_id: str) -> Capture | None:
        """By id, unique id prefix or unique short id; AmbiguousIdError if several match."""
        with self._reader_lock:
            return get_capture(self._reader, exchange_id)

    async def alist(
        self, limit: int = 100, before: str | None = None, filter_text: str | None = None
    ) -> list[CaptureSummary]:
        return await asyncio.to_thread(self.list, limit, before, filter_text)

    async def aget(self, exchange_id: str) -> Capture | None:
        return await asyncio.to_thread(self.get, exchange_id)


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    if read_only:
        conn = sqlite3.connect(
            path.as_uri() + "?mode=ro", uri=True, isolation_level=None,
            check_same_thread=False, timeout=_BUSY_TIMEOUT_S,
        )
        conn.row_factory = sqlite3.Row
        return conn
    # Autocommit mode: the writer and the migrations say BEGIN/COMMIT themselves.
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_S)


def _mark_interrupted(conn: sqlite3.Connection, now: float) -> None:
    """Rows left in progress by a process that died: keep them, say they were cut, and
    count what their parts hold (a live writer adds that up when an exchange finishes)."""
    cursor = conn.execute(
        "UPDATE exchanges SET state = ?, ended_at = coalesce(ended_at, ?),"
        " size_bytes = size_bytes"
        " + coalesce((SELECT sum(length(texts)) FROM parts WHERE parts.exchange = exchanges.seq), 0)"
        " WHERE state = ?",
        (CaptureState.INTERRUPTED.value, now, CaptureState.OPEN.value),
    )
    if cursor.rowcount:
        log.warning("capture store: %d exchanges were interrupted by an earlier exit", cursor.rowcount)
