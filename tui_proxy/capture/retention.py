"""Retention: keep at most N exchanges, B bytes and D days; the oldest go first.

Runs when the store opens (all at once) and on the writer thread in bounded steps: at most
`limit` exchanges deleted per transaction and the freed pages given back a few at a time
(`vacuum_step`), so the writer never stalls behind a long vacuum while its queue grows.

Exchanges still in progress are never pruned: their rows are being written to. Requests
refused before authentication (a wrong or missing key, a foreign Host or Origin) are kept
apart in a small ring of their own: anyone who can reach the port can send them cheaply,
so they must never push the owner's exchanges out.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

DEFAULT_MAX_COUNT = 10_000
DEFAULT_MAX_BYTES = 1024**3
DEFAULT_MAX_AGE_DAYS = 30.0
#: How many refused-before-authentication exchanges are kept (newest first), besides the
#: owner's: enough to see who knocks, never enough to matter.
REFUSED_KEEP = 100
#: Error codes of requests refused before authentication (server/guard.py).
REFUSED_CODES = ("invalid_api_key", "host_not_allowed", "origin_not_allowed")
#: Pages (4 KiB by default) one `vacuum_step` gives back: about a millisecond's work.
VACUUM_STEP_PAGES = 256


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    #: None disables a limit.
    max_count: int | None = DEFAULT_MAX_COUNT
    max_bytes: int | None = DEFAULT_MAX_BYTES
    max_age_days: float | None = DEFAULT_MAX_AGE_DAYS


def prune(conn: sqlite3.Connection, policy: RetentionPolicy, now: float) -> int:
    """Delete everything that exceeds the policy and give the space back; returns how
    many exchanges went. For the store's opening; the writer uses `prune_step`."""
    total = 0
    while True:
        pruned, more = prune_step(conn, policy, now, limit=5000)
        total += pruned
        if not more:
            break
    # `executescript` steps the pragma to the end (`execute` frees one page per step).
    conn.executescript("PRAGMA incremental_vacuum;")
    return total


def prune_step(conn: sqlite3.Connection, policy: RetentionPolicy, now: float, limit: int = 500) -> tuple[int, bool]:
    """Delete the oldest `limit` exchanges over the policy, in one transaction: (how many
    went, whether more are due)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        doomed = _expired(conn, policy, now)
        step = doomed[:limit]
        conn.executemany("DELETE FROM parts WHERE exchange = ?", ((seq,) for seq in step))
        conn.executemany("DELETE FROM exchanges WHERE seq = ?", ((seq,) for seq in step))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite rolls back itself on a full disk
            conn.execute("ROLLBACK")
        raise
    return len(step), len(doomed) > len(step)


def vacuum_step(conn: sqlite3.Connection, pages: int = VACUUM_STEP_PAGES) -> int:
    """Give up to `pages` free pages back to the OS; returns how many are still free."""
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    if free and conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
        return 0  # a store made before incremental vacuum: its free pages are only reused
    if free:
        conn.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return free


def _expired(conn: sqlite3.Connection, policy: RetentionPolicy, now: float) -> list[int]:
    """The `seq` of every exchange to delete, oldest last."""
    # Newest first: walk down, keep while within every limit, the rest goes.
    rows = conn.execute(
        "SELECT seq, started_at, size_bytes, coalesce(json_extract(error, '$.code') IN (%s), 0) AS refused"
        " FROM exchanges WHERE state != 'open' ORDER BY started_at DESC, id DESC" % ",".join("?" * len(REFUSED_CODES)),
        REFUSED_CODES,
    )
    oldest_allowed = None if policy.max_age_days is None else now - policy.max_age_days * 86400
    refused_keep = REFUSED_KEEP if policy.max_count is None else min(REFUSED_KEEP, policy.max_count)
    doomed: list[int] = []
    kept = kept_refused = 0
    kept_bytes = 0
    full = False  # once one exchange does not fit, every older one goes too
    for seq, started_at, size, refused in rows:
        too_old = oldest_allowed is not None and started_at < oldest_allowed
        if refused:
            if too_old or kept_refused >= refused_keep:
                doomed.append(seq)
            else:
                kept_refused += 1
            continue
        full = (
            full
            or too_old
            or (policy.max_count is not None and kept >= policy.max_count)
            or (policy.max_bytes is not None and kept_bytes + size > policy.max_bytes)
        )
        if full:
            doomed.append(seq)
        else:
            kept += 1
            kept_bytes += size
    # Oldest first, so that a bounded step takes those.
    doomed.reverse()
    return doomed
