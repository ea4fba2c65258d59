"""An exchange's request as a curl command that replays it against this proxy."""

from __future__ import annotations

import shlex

from .state import ExchangeView

#: Headers curl computes itself, or that would be wrong when replayed.
_DROPPED = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}
_REDACTED_MARKERS = ("redacted", "***", "…")


def as_curl(view: ExchangeView, base_url: str) -> str:
    url = base_url.rstrip("/") + (view.path or "/")
    parts = ["curl"]
    if view.stream:
        parts.append("-N")  # print SSE events as they come
    if view.method.upper() != ("POST" if view.body else "GET"):
        parts += ["-X", view.method.upper()]
    parts.append(shlex.quote(url))
    for name, value in view.headers.items():
        lowered = name.lower()
        if lowered in _DROPPED:
            continue
        if lowered in ("authorization", "x-api-key") and any(m in value.lower() for m in _REDACTED_MARKERS):
            # The capture redacted the secret: leave a variable the user fills in.
            value = "Bearer $CLAUDE_MAX_TUI_API_KEY" if lowered == "authorization" else "$CLAUDE_MAX_TUI_API_KEY"
            parts += ["-H", f'"{name}: {value}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if view.body:
        parts += ["--data-binary", shlex.quote(view.body.decode("utf-8", "replace"))]
    return " ".join(parts)
