"""What `copy` takes from an exchange: the answer, the response JSON, an SSE chunk, the argv.

The text goes to the clipboard by OSC 52 and to a private file beside the captures,
since no terminal reports whether OSC 52 reached a clipboard (tmux drops it unless
`set-clipboard` is on).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from ..config import Config
from . import formatting as fmt
from .exchange_view import ExchangeView
from .widgets.text_lines import TextLines

#: Part → how notices name it.
COPY_PARTS = {"answer": "answer text", "response": "response JSON", "chunk": "SSE chunk", "argv": "CLI argv"}


def clipboard_file(config: Config) -> Path:
    return Path(config.data_dir) / "clipboard.txt"


def copy_part(view: ExchangeView, part: str, screen: object) -> str | None:
    """The text of `part`, or None when the exchange has none. An SSE chunk is the one
    the detail view's search stands on, else the last one."""
    if part == "answer":
        return str(view.text) or None
    if part == "argv":
        return shlex.join(view.argv) if view.argv else None
    chunks = [c for c in view.chunks if c != "[DONE]"]
    if part == "response":
        if not chunks:
            return None
        if not view.stream:
            return fmt.pretty_json(chunks[-1])
        return "\n".join(f"data: {c}" for c in view.chunks) + "\n"
    if part == "chunk":
        current = _chunk_at_search(screen)
        return current if current is not None else (chunks[-1] if chunks else None)
    raise ValueError(f"unknown part {part!r}")


def _chunk_at_search(screen: object) -> str | None:
    query = getattr(screen, "query", None)
    if query is None:
        return None
    for document in query("#response-body").results(TextLines):
        if document.current_match >= 0:
            line = document.lines[document.matches[document.current_match]]
            text = line.plain if hasattr(line, "plain") else str(line)
            if text.startswith("data: "):
                return text[len("data: ") :]
    return None
