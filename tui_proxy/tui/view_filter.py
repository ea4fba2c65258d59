"""The filter language (tui_proxy.filters) read over the console's live exchanges."""

from __future__ import annotations

from ..filters import Fields, Filter, parse_filter
from .exchange_view import ExchangeView
from .formatting import called_tools


def _text(view: ExchangeView, needle: str) -> bool:
    haystack = (view.id, view.client, view.model or "", view.path, str(view.text), _code(view) or "")
    if any(needle in s.lower() for s in haystack):
        return True
    return needle.encode() in view.body.lower()


def _code(view: ExchangeView) -> str | None:
    error = view.error
    return None if error is None else (error.code or error.type)


VIEW_FIELDS = Fields(
    values={
        "status": lambda v: v.status,
        "tokens": lambda v: v.tokens_out,
        "in": lambda v: v.tokens_in,
        "ttft": lambda v: v.ttft_ms(),
        "dur": lambda v: v.final_duration_ms,
        "model": lambda v: v.model,
        "client": lambda v: v.client,
        "id": lambda v: v.id,
        "path": lambda v: v.path,
        "code": _code,
    },
    flags={
        "error": lambda v: v.failed,
        "ok": lambda v: not v.in_flight and not v.failed,
        "live": lambda v: v.in_flight,
        "done": lambda v: not v.in_flight,
        "stream": lambda v: v.stream,
        "thinking": lambda v: len(v.thinking) > 0,
        "tool": called_tools,
    },
    text=_text,
)


def parse_view_filter(text: str) -> Filter:
    """A console filter; FilterError (with a hint) when the text means nothing."""
    return parse_filter(text, VIEW_FIELDS)
