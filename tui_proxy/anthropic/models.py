"""The model catalogue in Anthropic's shape (`GET /v1/models` with `anthropic-version`)."""

from __future__ import annotations

from datetime import datetime, timezone

from ..models import CATALOGUE, CREATED, ModelEntry

CREATED_AT = datetime.fromtimestamp(CREATED, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def display_name(model_id: str) -> str:
    """`claude-opus-4-5` -> `Claude Opus 4.5`, `sonnet` -> `Sonnet`."""
    words: list[str] = []
    for piece in model_id.split("-"):
        if piece.isdigit() and words and words[-1][-1:].isdigit():
            words[-1] += "." + piece  # version parts: 4-5 -> 4.5
        else:
            words.append(piece.capitalize() if piece.isalpha() else piece)
    return " ".join(words)


def model_object(entry: ModelEntry) -> dict:
    return {"type": "model", "id": entry.id, "display_name": display_name(entry.id), "created_at": CREATED_AT}


def model_list(limit: int = 20, after_id: str | None = None, before_id: str | None = None) -> dict:
    """A page of the catalogue, paginated as Anthropic does (`after_id`/`before_id`, `limit`)."""
    ids = [entry.id for entry in CATALOGUE]
    entries = list(CATALOGUE)
    if after_id is not None:
        entries = entries[ids.index(after_id) + 1 :] if after_id in ids else []
        page = entries[:limit]
        has_more = len(entries) > limit
    elif before_id is not None:
        entries = entries[: ids.index(before_id)] if before_id in ids else []
        page = entries[-limit:]
        has_more = len(entries) > limit
    else:
        page = entries[:limit]
        has_more = len(entries) > limit
    data = [model_object(entry) for entry in page]
    return {"data": data, "has_more": has_more, "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}
