"""How a batch of capture events becomes rows, in one transaction of the writer thread.

Each exchange changed by the batch is written once: one INSERT when its request is in the
batch, with everything that followed it, else one UPDATE (each UPDATE rewrites the whole row,
its big columns included). Its pieces (stdout lines, stderr reads, SSE events) become one
`parts` row per kind, packed (`packing.py`).
"""

from __future__ import annotations

import json
import sqlite3
from operator import attrgetter
from typing import Callable

from ..events import (
    CliContinued,
    CliExited,
    CliSpawned,
    CliStderr,
    CliStdout,
    HistorySent,
    Event,
    ExchangeFinished,
    QuotaReported,
    RequestReceived,
    ResponseChunk,
    ResponseStarted,
    ToolCallsRequested,
    UpstreamRetry,
)
from ..flat import flat_dict
from ..quota.windows import report_to_dict
from .model import CaptureState
from .packing import pack
from .redact import redact_headers, redact_path
from .schema import PART_CHUNK, PART_STDERR, PART_STDOUT

#: Events that become `parts` rows: their kind and their pieces of text (each piece is one
#: stdout line, stderr read or SSE event, timed with the event).
PARTS = {
    CliStdout: (PART_STDOUT, attrgetter("lines")),
    CliStderr: (PART_STDERR, lambda event: (event.text,)),
    ResponseChunk: (PART_CHUNK, attrgetter("chunks")),
}


class RowWriter:
    """The writer thread's SQL: turns batches of events into rows (see the module's docstring)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        #: exchanges.seq of the exchanges in progress (a cache: rebuilt from the table).
        self.seqs: dict[str, int] = {}
        #: Bytes each exchange in progress has gathered since its request: added to its
        #: size_bytes when it finishes (retention only weighs finished exchanges).
        self.sizes: dict[str, int] = {}
        #: Exchanges finished by the open transaction.
        self._finishing = 0
        #: Pieces for `parts` gathered during a transaction: (exchange seq, kind) → (times, texts);
        #: keyed by the exchange's id instead while its row waits in `_rows` to be inserted.
        self._parts: dict[tuple[int | str, int], tuple[list[float], list[str]]] = {}
        #: The row changes of the transaction's exchanges, written at its end (`_write_rows`).
        self._rows: dict[str, _Row] = {}
        self._apply: dict[type, Callable[[Event], None]] = {
            RequestReceived: self._request_received,
            CliSpawned: self._cli_spawned,
            CliContinued: self._cli_continued,
            CliExited: self._cli_exited,
            ResponseStarted: self._response_started,
            ToolCallsRequested: self._tool_calls_requested,
            HistorySent: self._history_sent,
            QuotaReported: self._quota_reported,
            UpstreamRetry: self._upstream_retry,
            ExchangeFinished: self._exchange_finished,
        }

    def transaction(self, events: list[Event]) -> int:
        """Write `events` in one transaction: the number of exchanges it finished. Rolled back
        (and raised) on any error."""
        sizes = self.sizes
        rows = self._rows
        self._parts.clear()
        rows.clear()
        self._finishing = 0
        self.conn.execute("BEGIN")
        try:
            for event in events:
                part = PARTS.get(type(event))
                if part is not None:  # the bulk of all events: kept lean
                    kind, data_of = part
                    texts = data_of(event)
                    xid = event.exchange_id
                    row = rows.get(xid)
                    if row is not None and row.insert is not None:
                        key: tuple[int | str, int] = (xid, kind)  # its seq comes with its INSERT
                    else:
                        key = (self.seqs.get(xid) or self._seq(xid, event.at), kind)
                    pieces = self._parts.get(key)
                    if pieces is None:
                        pieces = self._parts[key] = ([], [])
                    if len(texts) == 1:
                        pieces[0].append(event.at)
                        pieces[1].append(texts[0])
                        sizes[xid] = sizes.get(xid, 0) + len(texts[0])
                    else:
                        pieces[0].extend([event.at] * len(texts))
                        pieces[1].extend(texts)
                        sizes[xid] = sizes.get(xid, 0) + sum(map(len, texts))
                    continue
                apply = self._apply.get(type(event))
                if apply is not None and event.exchange_id:
                    apply(event)
            seqs = self._write_rows()
            parts = self._parts
            self.conn.executemany(
                "INSERT INTO parts (exchange, kind, times, lengths, texts) VALUES (?, ?, ?, ?, ?)",
                ((seqs[key] if type(key) is str else key, kind, *pack(times, texts)) for (key, kind), (times, texts) in parts.items()),
            )
            self.conn.execute("COMMIT")
            return self._finishing
        except BaseException:
            if self.conn.in_transaction:  # SQLite rolls back itself on a full disk
                self.conn.execute("ROLLBACK")
            self.seqs.clear()  # may name rows that were just rolled back
            raise

    def _row(self, exchange_id: str) -> _Row | None:
        """The pending changes of an exchange's row, or None when it has no row (an UPDATE
        would change nothing: its event is dropped, as it always was)."""
        row = self._rows.get(exchange_id)
        if row is None:
            if exchange_id not in self.seqs:
                found = self.conn.execute("SELECT seq FROM exchanges WHERE id = ?", (exchange_id,)).fetchone()
                if found is None:
                    return None
                self.seqs[exchange_id] = found[0]
            row = self._rows[exchange_id] = _Row()
        return row

    def _write_rows(self) -> dict[str, int]:
        """Each changed row once: an INSERT for a request received in this transaction, with
        everything that followed it; one UPDATE for the others. Returns the new rows' seqs."""
        conn = self.conn
        inserted: dict[str, int] = {}
        for xid, row in self._rows.items():
            if row.insert is not None:
                columns = dict(row.insert)
                columns.update(row.sets)
                columns["size_bytes"] += row.grow
                columns["upstream_retries"] = row.retries
                cursor = conn.execute(f"INSERT OR IGNORE INTO exchanges ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", tuple(columns.values()))
                if cursor.rowcount == 1:
                    seq = cursor.lastrowid
                else:  # the row was there already: the request's columns are ignored, the rest applies
                    seq = conn.execute("SELECT seq FROM exchanges WHERE id = ?", (xid,)).fetchone()[0]
                    self._update(xid, row)
                inserted[xid] = seq
                if not row.finished:
                    self.seqs[xid] = seq
            elif row.sets or row.grow or row.retries:
                self._update(xid, row)
        return inserted

    def _update(self, exchange_id: str, row: _Row) -> None:
        sets = row.sets
        assignments = [f"{column} = ?" for column in sets]
        values = list(sets.values())
        if row.grow:
            assignments.append("size_bytes = size_bytes + ?")
            values.append(row.grow)
        if row.retries:
            assignments.append("upstream_retries = upstream_retries + ?")
            values.append(row.retries)
        if assignments:
            self.conn.execute(f"UPDATE exchanges SET {', '.join(assignments)} WHERE id = ?", (*values, exchange_id))

    def _seq(self, exchange_id: str, at: float) -> int:
        """exchanges.seq of `exchange_id`; events of an exchange never seen (the store
        opened mid-run, or it was pruned) get a placeholder row rather than being lost."""
        seq = self.seqs.get(exchange_id)
        if seq is None:
            self.conn.execute(
                "INSERT OR IGNORE INTO exchanges (id, state, started_at, method, path) VALUES (?, 'open', ?, '', '')",
                (exchange_id, at),
            )
            seq = self.conn.execute("SELECT seq FROM exchanges WHERE id = ?", (exchange_id,)).fetchone()[0]
            self.seqs[exchange_id] = seq
        return seq

    def settle(self) -> None:
        """Pieces that come after an exchange's finish (stderr of a CLI reaped later) leave
        entries in the caches: add their bytes to the finished rows and forget them."""
        try:
            self.conn.execute("BEGIN")
            for exchange_id in set(self.sizes) | set(self.seqs):
                row = self.conn.execute("SELECT state FROM exchanges WHERE id = ?", (exchange_id,)).fetchone()
                if row is None or row[0] != CaptureState.OPEN.value:
                    self.seqs.pop(exchange_id, None)
                    size = self.sizes.pop(exchange_id, 0)
                    self.conn.execute("UPDATE exchanges SET size_bytes = size_bytes + ? WHERE id = ?", (size, exchange_id))
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:  # SQLite rolls back itself on a full disk
                self.conn.execute("ROLLBACK")
            raise

    # ---- one method per event type ----

    def _request_received(self, e: RequestReceived) -> None:
        if e.exchange_id in self._rows or e.exchange_id in self.seqs:
            return  # its row exists: INSERT OR IGNORE would change nothing
        headers = json.dumps(redact_headers(e.headers))
        self._rows[e.exchange_id] = _Row(
            {
                "id": e.exchange_id, "state": CaptureState.OPEN.value, "started_at": e.at, "method": e.method,
                "path": redact_path(e.path), "client": e.client, "remote": e.remote, "model": e.model,
                "stream": e.stream, "replay_of": e.replay_of, "request_headers": headers, "request_body": e.body,
                "size_bytes": len(e.body) + len(headers),
            }
        )  # fmt: skip

    def _cli_spawned(self, e: CliSpawned) -> None:
        row = self._row(e.exchange_id)
        if row is not None:
            row.sets.update(cli_argv=json.dumps(list(e.argv)), cli_pid=e.pid, cli_stdin=e.stdin, cli_cwd=e.cwd, system_prompt=e.system_prompt)
        self._grow(e.exchange_id, len(e.stdin) + len(e.system_prompt or ""))

    def _cli_continued(self, e: CliContinued) -> None:
        # No spawn of its own: the CLI of an earlier exchange went on (argv stays empty).
        row = self._row(e.exchange_id)
        if row is not None:
            row.sets.update(cli_pid=e.pid, cli_stdin=e.stdin)
        self._grow(e.exchange_id, len(e.stdin))

    def _cli_exited(self, e: CliExited) -> None:
        row = self._row(e.exchange_id)
        if row is not None:
            row.sets.update(exit_code=e.returncode, killed_because=e.killed_because)

    def _response_started(self, e: ResponseStarted) -> None:
        row = self._row(e.exchange_id)
        if row is not None:
            row.sets.update(response_started_at=e.at, response_status=e.status, response_headers=json.dumps(redact_headers(e.headers)), response_streaming=e.streaming)

    def _tool_calls_requested(self, e: ToolCallsRequested) -> None:
        calls = json.dumps([list(call) for call in e.calls])
        row = self._row(e.exchange_id)
        if row is not None:
            row.sets["tool_calls"] = calls
        self._grow(e.exchange_id, len(calls))

    def _history_sent(self, e: HistorySent) -> None:
        row = self._row(e.exchange_id)
        if row is not None:
            row.sets["history"] = json.dumps({"mode": e.mode, "messages": e.messages, "reason": e.reason, "fallback": e.fallback})

    def _quota_reported(self, e: QuotaReported) -> None:
        # The last report of the exchange's run wins (a kept CLI reports once per turn).
        row = self._row(e.exchange_id)
        if row is not None:
            row.sets["quota"] = json.dumps(report_to_dict(e.report))

    def _upstream_retry(self, e: UpstreamRetry) -> None:
        row = self._row(e.exchange_id)
        if row is not None:
            row.retries += 1

    def _exchange_finished(self, e: ExchangeFinished) -> None:
        xid = e.exchange_id
        row = self._rows.get(xid)
        if row is None or row.insert is None:
            if xid not in self.seqs:
                self._seq(xid, e.at - e.duration_ms / 1000)  # a finish without a start still leaves a row
            row = self._row(xid)
            assert row is not None
        self.seqs.pop(xid, None)
        self._finishing += 1
        state = CaptureState.COMPLETE if e.complete else CaptureState.INCOMPLETE
        row.sets.update(
            state=state.value, ended_at=e.at, status=e.status, finish_reason=e.finish_reason,
            usage=None if e.usage is None else json.dumps(flat_dict(e.usage)),
            error=None if e.error is None else json.dumps(flat_dict(e.error)),
            text=e.text, thinking=e.thinking, ttft_ms=e.ttft_ms, duration_ms=e.duration_ms,
        )  # fmt: skip
        if e.model is not None:  # else the request's model stays
            row.sets["model"] = e.model
        row.grow += self.sizes.pop(xid, 0) + len(e.text) + len(e.thinking)
        row.finished = True

    def _grow(self, exchange_id: str, size: int) -> None:
        self.sizes[exchange_id] = self.sizes.get(exchange_id, 0) + size


class _Row:
    """What a transaction changes in one exchange's row."""

    __slots__ = ("insert", "sets", "grow", "retries", "finished")

    def __init__(self, insert: dict[str, object] | None = None) -> None:
        #: The request's columns, when the row is inserted by this transaction.
        self.insert = insert
        #: Columns set since (the last value of each wins, as with one UPDATE per event).
        self.sets: dict[str, object] = {}
        self.grow = 0  # added to size_bytes
        self.retries = 0  # added to upstream_retries
        self.finished = False
