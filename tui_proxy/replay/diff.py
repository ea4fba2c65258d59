"""Original versus replay: the answer text as a unified diff, the figures side by side."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from ..capture.model import Capture


@dataclass(frozen=True, slots=True)
class DiffRow:
    name: str
    original: str
    new: str
    #: For numbers: the change as text (`+12.0%`); empty otherwise.
    delta: str = ""

    @property
    def changed(self) -> bool:
        return self.original != self.new


@dataclass(frozen=True, slots=True)
class ReplayDiff:
    original_id: str
    new_id: str
    #: Unified diff lines of the answer text; empty when identical.
    text_diff: tuple[str, ...]
    rows: tuple[DiffRow, ...]

    @property
    def same_text(self) -> bool:
        return not self.text_diff

    @property
    def outcome_changed(self) -> bool:
        """Text, status, finish reason, error or state differ (timings always do)."""
        return not self.same_text or any(r.changed for r in self.rows if r.name in _OUTCOME)


_OUTCOME = ("status", "state", "finish reason", "error", "tool calls")


def diff(original: Capture, new: Capture) -> ReplayDiff:
    text_diff = tuple(
        difflib.unified_diff(
            original.text.splitlines(), new.text.splitlines(),
            fromfile=f"original {original.id}", tofile=f"replay {new.id}", lineterm="",
        )
    )
    o_usage, n_usage = original.usage, new.usage
    rows = (
        DiffRow("status", _text(original.status), _text(new.status)),
        DiffRow("state", original.state.value, new.state.value),
        DiffRow("finish reason", _text(original.finish_reason), _text(new.finish_reason)),
        DiffRow("error", _error(original), _error(new)),
        DiffRow("tool calls", _tool_calls(original), _tool_calls(new)),
        DiffRow("model", _text(original.model), _text(new.model)),
        _number("prompt tokens", o_usage and o_usage.prompt_tokens, n_usage and n_usage.prompt_tokens),
        _number("completion tokens", o_usage and o_usage.completion_tokens, n_usage and n_usage.completion_tokens),
        _number("cached tokens", o_usage and o_usage.cached_tokens, n_usage and n_usage.cached_tokens),
        _number("ttft ms", original.ttft_ms, new.ttft_ms),
        _number("duration ms", original.duration_ms, new.duration_ms),
    )
    return ReplayDiff(original.id, new.id, text_diff, rows)


def render_diff(d: ReplayDiff) -> str:
    width = max(len(row.original) for row in d.rows)
    width = max(width, len("original"))
    lines = [f"replay {d.new_id} of {d.original_id}", ""]
    lines.append(f"  {'':<18} {'original':>{width}}   replay")
    for row in d.rows:
        mark = "*" if row.changed else " "
        delta = f"  ({row.delta})" if row.delta else ""
        lines.append(f"{mark} {row.name:<18} {row.original:>{width}}   {row.new}{delta}")
    lines.append("")
    if d.same_text:
        lines.append("answer text: identical")
    else:
        lines.append("answer text:")
        lines.extend(d.text_diff)
    return "\n".join(lines)


def _number(name: str, original: float | None, new: float | None) -> DiffRow:
    delta = ""
    if original is not None and new is not None and original != new:
        delta = f"{(new - original) / original * 100:+.1f}%" if original else f"{new - original:+g}"
    return DiffRow(name, _text(original), _text(new), delta)


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _tool_calls(capture: Capture) -> str:
    """Names and arguments, not call ids (new on every run), JSON compared as values."""
    if not capture.tool_calls:
        return "-"
    return " ".join(f"{name}({_compact_json(arguments)})" for _, name, arguments in capture.tool_calls)


def _compact_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return text


def _error(capture: Capture) -> str:
    return "-" if capture.error_type is None else f"{capture.error_type}: {capture.error_message}"
