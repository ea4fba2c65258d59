"""Queries that read captures back: rows in, model dataclasses out."""

from __future__ import annotations

import json
import sqlite3

from ..events import ErrorInfo, Usage
from .model import Capture, CaptureState, CaptureSummary, TimedLine
from .packing import unpack
from .schema import PART_CHUNK, PART_STDERR, PART_STDOUT
from ..quota.windows import report_from_dict


class AmbiguousIdError(LookupError):
    """An id prefix matched more than one capture."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        super().__init__(f"{prefix!r} matches {len(matches)} captures: {', '.join(matches[:5])}")
        self.prefix = prefix
        self.matches = matches


_SUMMARY_COLUMNS = """
    id, started_at, method, path, client, model, stream, status, ttft_ms, duration_ms,
    json_extract(usage, '$.prompt_tokens') AS prompt_tokens,
    json_extract(usage, '$.completion_tokens') AS completion_tokens,
    json_extract(usage, '$.cached_tokens') AS cached_tokens,
    json_extract(usage, '$.cost_usd') AS cost_usd,
    finish_reason,
    json_extract(error, '$.type') AS error_type,
    json_extract(error, '$.message') AS error_message,
    replay_of, state, quota, upstream_retries
"""

#: What free-text filtering looks at: the metadata a list row shows, not the bodies.
_FILTERED_COLUMNS = ("id", "method", "path", "client", "model", "finish_reason", "state", "error", "replay_of")


def list_summaries(
    conn: sqlite3.Connection, *, limit: int, before: str | None, filter_text: str | None
) -> list[CaptureSummary]:
    """Newest first. `before` is an exchange id: page to the ones older than it."""
    where: list[str] = []
    params: list[object] = []
    if before is not None:
        where.append("(started_at, id) < (SELECT started_at, id FROM exchanges WHERE id = ?)")
        params.append(before)
    if filter_text:
        pattern = "%" + filter_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [f"{column} LIKE ? ESCAPE '\\'" for column in _FILTERED_COLUMNS]
        matches.append("CAST(status AS TEXT) = ?")
        where.append("(" + " OR ".join(matches) + ")")
        params.extend([pattern] * len(_FILTERED_COLUMNS))
        params.append(filter_text.strip())
    sql = f"SELECT {_SUMMARY_COLUMNS} FROM exchanges"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_at DESC, id DESC LIMIT ?"
    params.append(limit)
    return [_summary(row) for row in conn.execute(sql, params)]


def resolve_id(conn: sqlite3.Connection, id_or_prefix: str) -> str | None:
    """An exact id, a unique prefix of one, or a unique short id (the random tail)."""
    if conn.execute("SELECT 1 FROM exchanges WHERE id = ?", (id_or_prefix,)).fetchone():
        return id_or_prefix
    escaped = id_or_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    for pattern in (escaped + "%", "%-" + escaped + "%"):
        matches = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM exchanges WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 6", (pattern,)
            )
        ]
        if len(matches) > 1:
            raise AmbiguousIdError(id_or_prefix, matches)
        if matches:
            return matches[0]
    return None


def get_capture(conn: sqlite3.Connection, id_or_prefix: str) -> Capture | None:
    exchange_id = resolve_id(conn, id_or_prefix)
    if exchange_id is None:
        return None
    row = conn.execute(f"SELECT {_SUMMARY_COLUMNS}, * FROM exchanges WHERE id = ?", (exchange_id,)).fetchone()
    if row is None:  # pruned meanwhile
        return None
    parts: dict[int, list[TimedLine]] = {PART_STDOUT: [], PART_STDERR: [], PART_CHUNK: []}
    for kind, times, lengths, texts in conn.execute(
        "SELECT kind, times, lengths, texts FROM parts WHERE exchange = ? ORDER BY rowid", (row["seq"],)
    ):
        parts[kind].extend(unpack(times, lengths, texts))
    return Capture(
        **_summary_fields(row),
        remote=row["remote"],
        ended_at=row["ended_at"],
        request_headers=json.loads(row["request_headers"]),
        request_body=bytes(row["request_body"]),
        cli_argv=tuple(json.loads(row["cli_argv"])) if row["cli_argv"] else (),
        cli_pid=row["cli_pid"],
        cli_stdin=row["cli_stdin"],
        cli_cwd=row["cli_cwd"],
        system_prompt=row["system_prompt"],
        stdout=tuple(parts[PART_STDOUT]),
        stderr=tuple(parts[PART_STDERR]),
        exit_code=row["exit_code"],
        killed_because=row["killed_because"],
        response_started_at=row["response_started_at"],
        response_status=row["response_status"],
        response_headers=json.loads(row["response_headers"]) if row["response_headers"] else {},
        response_streaming=None if row["response_streaming"] is None else bool(row["response_streaming"]),
        chunks=tuple(parts[PART_CHUNK]),
        text=row["text"] or "",
        thinking=row["thinking"] or "",
        usage=Usage(**json.loads(row["usage"])) if row["usage"] else None,
        error=ErrorInfo(**json.loads(row["error"])) if row["error"] else None,
        tool_calls=tuple(tuple(call) for call in json.loads(row["tool_calls"])) if row["tool_calls"] else (),
        history=json.loads(row["history"]) if row["history"] else None,
    )


def _summary_fields(row: sqlite3.Row) -> dict[str, object]:
    return {
        "id": row["id"],
        "started_at": row["started_at"],
        "method": row["method"],
        "path": row["path"],
        "client": row["client"],
        "model": row["model"],
        "stream": bool(row["stream"]),
        "status": row["status"],
        "ttft_ms": row["ttft_ms"],
        "duration_ms": row["duration_ms"],
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "cached_tokens": row["cached_tokens"],
        "cost_usd": row["cost_usd"],
        "finish_reason": row["finish_reason"],
        "error_type": row["error_type"],
        "error_message": row["error_message"],
        "replay_of": row["replay_of"],
        "state": CaptureState(row["state"]),
        "quota": report_from_dict(json.loads(row["quota"])) if row["quota"] else None,
        "upstream_retries": row["upstream_retries"] or 0,
    }


def _summary(row: sqlite3.Row) -> CaptureSummary:
    return CaptureSummary(**_summary_fields(row))
