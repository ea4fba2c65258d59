"""Retention: keep at most N exchanges, B bytes and D days; the oldest go first.

Runs when the store opens and periodically on the writer thread. Exchanges still in progress are
never pruned: their rows are being written to.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

DEFAULT_MAX_COUNT = 10_000
DEFAULT_MAX_BYTES = 1024**3
DEFAULT_MAX_AGE_DAYS = 30.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    #: None disables a limit.
    max_count: int | None = DEFAULT_MAX_COUNT
    max_bytes: int | None = DEFAULT_MAX_BYTES
    max_age_days: float | None = DEFAULT_MAX_AGE_DAYS


def prune(conn: sqlite3.Connection, policy: RetentionPolicy, now: float) -> int:
    """Delete what exceeds the policy, in one transaction; returns how many exchanges went."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        doomed = _expired(conn, policy, now)
        conn.executemany("DELETE FROM parts WHERE exchange = ?", ((seq,) for seq in doomed))
        conn.executemany("DELETE FROM exchanges WHERE seq = ?", ((seq,) for seq in doomed))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if doomed:
        # Give the freed pages back to the OS. It frees one page per step and
        # `execute` steps once; `executescript` steps to the end.
        conn.executescript("PRAGMA incremental_vacuum;")
    return len(doomed)


def _expired(conn: sqlite3.Connection, policy: RetentionPolicy, now: float) -> list[int]:
    """The `seq` of every exchange to delete."""
    # Newest first: walk down, keep while within every limit, the rest goes.
    rows = conn.execute(
        "SELECT seq, started_at, size_bytes FROM exchanges WHERE state != 'open'"
        " ORDER BY started_at DESC, id DESC"
    )
    oldest_allowed = None if policy.max_age_days is None else now - policy.max_age_days * 86400
    doomed: list[int] = []
    kept = 0
    kept_bytes = 0
    full = False  # once one exchange does not fit, every older one goes too
    for seq, started_at, size in rows:
        full = (
            full
            or (policy.max_count is not None and kept >= policy.max_count)
            or (policy.max_bytes is not None and kept_bytes + size > policy.max_bytes)
            or (oldest_allowed is not None and started_at < oldest_allowed)
        )
        if full:
            doomed.append(seq)
        else:
            kept += 1
            kept_bytes += size
    return doomed
