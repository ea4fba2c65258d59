"""The versioned schema: an ordered list of migrations, the version in `PRAGMA user_version`.

To change the schema, append a function to MIGRATIONS; never edit a released one.
Every migration runs in its own transaction together with the version bump.
"""

from __future__ import annotations

import sqlite3
from typing import Callable


PART_STDOUT = 0
PART_STDERR = 1
PART_CHUNK = 2


class StoreVersionError(RuntimeError):
    """The database was written by a newer release (or needs migrating but is read-only)."""


def _v1_initial(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE exchanges (
            seq                 INTEGER PRIMARY KEY,     -- what parts point at: smaller than id
            id                  TEXT NOT NULL UNIQUE,
            state               TEXT NOT NULL,           -- CaptureState
            started_at          REAL NOT NULL,
            ended_at            REAL,
            method              TEXT NOT NULL,
            path                TEXT NOT NULL,
            client              TEXT NOT NULL DEFAULT '',
            remote              TEXT NOT NULL DEFAULT '',
            model               TEXT,
            stream              INTEGER NOT NULL DEFAULT 0,
            replay_of           TEXT,
            request_headers     TEXT NOT NULL DEFAULT '{}',  -- JSON, redacted
            request_body        BLOB NOT NULL DEFAULT x'',
            cli_argv            TEXT,                    -- JSON list
            cli_pid             INTEGER,
            cli_stdin           TEXT,
            cli_cwd             TEXT,
            system_prompt       TEXT,
            exit_code           INTEGER,
            killed_because      TEXT,
            response_started_at REAL,
            response_status     INTEGER,
            response_headers    TEXT,                    -- JSON, redacted
            response_streaming  INTEGER,
            status              INTEGER,
            finish_reason       TEXT,
            usage               TEXT,                    -- JSON Usage
            error               TEXT,                    -- JSON ErrorInfo
            text                TEXT,
            thinking            TEXT,
            ttft_ms             REAL,
            duration_ms         REAL,
            -- Bytes this exchange holds (bodies, lines, chunks): the size retention limit.
            size_bytes          INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    conn.execute("CREATE INDEX exchanges_by_time ON exchanges(started_at, id)")
    conn.execute("CREATE INDEX exchanges_open ON exchanges(state) WHERE state = 'open'")
    # Stdout lines, stderr pieces and response chunks, appended as they happen so an
    # exchange cut by a crash keeps what it had. One row holds one kind of one exchange's
    # pieces from one writer batch, packed (see packing.py): hundreds of pieces per
    # exchange would otherwise cost a row and an index entry each. Read in rowid order.
    conn.execute(
        """
        CREATE TABLE parts (
            exchange INTEGER NOT NULL,   -- exchanges.seq
            kind     INTEGER NOT NULL,   -- PART_STDOUT | PART_STDERR | PART_CHUNK
            times    BLOB NOT NULL,      -- float64 LE per piece: wall-clock time
            lengths  BLOB NOT NULL,      -- uint32 LE per piece: length in characters
            texts    TEXT NOT NULL       -- the pieces, joined
        )
        """
    )
    conn.execute("CREATE INDEX parts_by_exchange ON parts(exchange)")


def _v2_tool_calls(conn: sqlite3.Connection) -> None:
    # JSON list of [call id, function name, arguments JSON text]: the client tools the model called.
    conn.execute("ALTER TABLE exchanges ADD COLUMN tool_calls TEXT")


def _v3_history(conn: sqlite3.Connection) -> None:
    # How the run got the conversation: JSON {"mode", "messages", "reason", "fallback"}
    # (events.HistorySent): a transcript, or a failed resume, is a cache miss worth seeing.
    conn.execute("ALTER TABLE exchanges ADD COLUMN history TEXT")


def _v4_quota(conn: sqlite3.Connection) -> None:
    # The subscription's windows as the exchange's run last reported them (JSON of
    # quota.windows.QuotaReport), and how many times the CLI retried its upstream call.
    conn.execute("ALTER TABLE exchanges ADD COLUMN quota TEXT")
    conn.execute("ALTER TABLE exchanges ADD COLUMN upstream_retries INTEGER NOT NULL DEFAULT 0")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1_initial, _v2_tool_calls, _v3_history, _v4_quota)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it had. Needs autocommit mode."""
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise StoreVersionError(
            f"capture store has schema version {found}, this release knows up to {SCHEMA_VERSION}"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # A concurrent opener may have migrated meanwhile: re-check under the lock.
            if schema_version(conn) > version:
                conn.execute("ROLLBACK")
                continue
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def check_readable(conn: sqlite3.Connection) -> None:
    """For read-only opens: the schema must be exactly ours (a reader cannot migrate)."""
    found = schema_version(conn)
    if found != SCHEMA_VERSION:
        raise StoreVersionError(
            f"capture store has schema version {found}, expected {SCHEMA_VERSION}"
            + ("; start the proxy once to migrate it" if found < SCHEMA_VERSION else "")
        )
