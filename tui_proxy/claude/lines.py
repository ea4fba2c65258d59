"""Parse the CLI's stream-json stdout, one line at a time, into typed records.

Rules from docs/claude-cli.md §4: always `json.loads` (the result line's `"type"` is near its
end), skip unknown types and non-JSON lines, ignore sub-agent output.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from dataclasses import dataclass, field
from typing import Any, Union

from ..quota.windows import QuotaReport, from_rate_limit_event


@dataclass(frozen=True, slots=True)
class Init:
    session_id: str | None
    model: str | None
    version: str | None
    tools: tuple[str, ...]
    #: MCP server name → connection status ("connected", "failed", "needs-auth", "pending").
    mcp_servers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageStart:
    message_id: str | None
    usage: dict


@dataclass(frozen=True, slots=True)
class BlockStart:
    index: int
    kind: str
    tool_id: str | None = None
    tool_name: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    text: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class ToolInputDelta:
    partial_json: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class BlockStop:
    index: int


@dataclass(frozen=True, slots=True)
class MessageDelta:
    stop_reason: str | None
    usage: dict


@dataclass(frozen=True, slots=True)
class MessageStop:
    pass


@dataclass(frozen=True, slots=True)
class AssistantMessage:
    message_id: str | None
    model: str | None
    blocks: tuple[dict, ...]
    #: Set on the CLI's synthetic error messages (`authentication_failed`, `rate_limit`...).
    error: str | None
    api_error: str | None = None

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.blocks if b.get("type") == "text")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A `rate_limit_event`: the representative window (what the outcome keys on) and the
    whole report (every window, the billing bucket)."""

    status: str | None
    resets_at: float | None
    rate_limit_type: str | None
    report: QuotaReport = field(default_factory=QuotaReport)


@dataclass(frozen=True, slots=True)
class ApiRetry:
    """A `system/api_retry` line: the CLI failed an upstream call and tries again."""

    attempt: int | None
    max_retries: int | None
    error_status: int | None
    error: str | None
    #: How long the CLI waits before that next attempt.
    retry_delay_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Result:
    subtype: str
    is_error: bool
    result: str | None
    errors: tuple[str, ...]
    stop_reason: str | None
    terminal_reason: str | None
    api_error_status: int | None
    usage: dict
    total_cost_usd: float | None
    num_turns: int | None
    duration_ms: float | None
    structured_output: Any = None


@dataclass(frozen=True, slots=True)
class NotJson:
    """A line that is not JSON: kept as CLI output, never fatal."""

    text: str


@dataclass(frozen=True, slots=True)
class Other:
    """A JSON line of a type the engine does not use."""

    type: str | None
    subtype: str | None = None
    data: dict = field(default_factory=dict)


CliLine = Union[
    Init, MessageStart, BlockStart, TextDelta, ThinkingDelta, ToolInputDelta, BlockStop,
    MessageDelta, MessageStop, AssistantMessage, RateLimit, ApiRetry, Result, NotJson, Other,
]  # fmt: skip


def parse_line(line: str) -> CliLine:
    return _text_delta_fast(line) or parse_json_line(line)


#: Nearly every line of a streaming answer starts exactly so. It is read without a full
#: `json.loads` (a sixth of the per-token cost); any variation takes the full path. ASCII
#: digits only: `\d` would take other scripts' digits, which JSON does not.
_TEXT_DELTA_HEAD = re.compile(r'\{"type":"stream_event","event":\{"type":"content_block_delta","index":([0-9]+),"delta":\{"type":"text_delta","text":"')


def _text_delta_fast(line: str) -> TextDelta | None:
    text = text_delta_text(line)
    if text is None:
        return None
    return TextDelta(text, int(_TEXT_DELTA_HEAD.match(line).group(1)))  # type: ignore[union-attr]


def text_delta_text(line: str) -> str | None:
    """The text of a main-agent text delta line, read without a full `json.loads` and without
    a record (the reader's hot path: a few calls in C); None for any other line (then
    `parse_line` it)."""
    head = _TEXT_DELTA_HEAD.match(line)
    if head is None:
        return None
    try:
        text, end = scanstring(line, head.end())
    except ValueError:
        return None
    # The event object ends there, and it is the main agent's (a sub-agent's has a non-null
    # parent). Inside a JSON string that key would have escaped quotes, so no false match.
    if not line.startswith("}},", end) or line.find('"parent_tool_use_id":null', end) < 0:
        return None
    return text


def parse_json_line(line: str) -> CliLine:
    """The full path: `json.loads`, then the record for the line's type."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return NotJson(line)
    try:
        obj = json.loads(stripped)
    except (ValueError, RecursionError):  # nested deeper than the decoder goes: not ours
        return NotJson(line)
    if not isinstance(obj, dict):
        return NotJson(line)
    try:
        return _typed(obj)
    except (TypeError, ValueError, AttributeError, KeyError):
        # A known type with an unexpected shape: keep it visible, never crash a run.
        return Other(_str(obj.get("type")), _str(obj.get("subtype")), obj)


def _typed(obj: dict) -> CliLine:
    kind = obj.get("type")
    if obj.get("parent_tool_use_id") is not None:
        return Other(_str(kind), "subagent", obj)  # a sub-agent's output is not the answer
    if kind == "stream_event":
        return _stream_event(obj.get("event") or {})
    if kind == "assistant":
        message = obj.get("message") or {}
        blocks = message.get("content") or []
        return AssistantMessage(
            message_id=_str(message.get("id")),
            model=_str(message.get("model")),
            blocks=tuple(b for b in blocks if isinstance(b, dict)),
            error=_str(obj.get("error")),
            api_error=_str(obj.get("api_error")),
        )
    if kind == "result":
        return Result(
            subtype=_str(obj.get("subtype")) or "",
            is_error=bool(obj.get("is_error")),
            result=obj.get("result") if isinstance(obj.get("result"), str) else None,
            errors=tuple(str(e) for e in obj.get("errors") or () if e is not None),
            stop_reason=_str(obj.get("stop_reason")),
            terminal_reason=_str(obj.get("terminal_reason")),
            api_error_status=_int(obj.get("api_error_status")),
            usage=obj.get("usage") if isinstance(obj.get("usage"), dict) else {},
            total_cost_usd=_float(obj.get("total_cost_usd")),
            num_turns=_int(obj.get("num_turns")),
            duration_ms=_float(obj.get("duration_ms")),
            structured_output=obj.get("structured_output"),
        )
    if kind == "rate_limit_event":
        info = obj.get("rate_limit_info")
        if not isinstance(info, dict):
            info = obj
        return RateLimit(_str(info.get("status")), _float(info.get("resetsAt")), _str(info.get("rateLimitType")), from_rate_limit_event(info))
    if kind == "system":
        subtype = obj.get("subtype")
        if subtype == "init":
            tools = obj.get("tools") or []
            servers = {str(s.get("name")): str(s.get("status")) for s in obj.get("mcp_servers") or [] if isinstance(s, dict)}
            return Init(_str(obj.get("session_id")), _str(obj.get("model")), _str(obj.get("claude_code_version")), tuple(str(t) for t in tools), servers)
        if subtype == "api_retry":
            return ApiRetry(_int(obj.get("attempt")), _int(obj.get("max_retries")), _int(obj.get("error_status")), _str(obj.get("error")), _float(obj.get("retry_delay_ms")))
        return Other("system", _str(subtype), obj)
    return Other(_str(kind), _str(obj.get("subtype")), obj)


def _stream_event(event: dict) -> CliLine:
    kind = event.get("type")
    if kind == "content_block_delta":
        delta = event.get("delta") or {}
        index = _int(event.get("index")) or 0
        delta_type = delta.get("type")
        if delta_type == "text_delta":
            return TextDelta(str(delta.get("text", "")), index)
        if delta_type == "thinking_delta":
            return ThinkingDelta(str(delta.get("thinking", "")), index)
        if delta_type == "input_json_delta":
            return ToolInputDelta(str(delta.get("partial_json", "")), index)
        return Other("stream_event", _str(delta_type), event)
    if kind == "message_start":
        message = event.get("message") or {}
        usage = message.get("usage")
        return MessageStart(_str(message.get("id")), usage if isinstance(usage, dict) else {})
    if kind == "content_block_start":
        block = event.get("content_block") or {}
        return BlockStart(_int(event.get("index")) or 0, str(block.get("type", "")), _str(block.get("id")), _str(block.get("name")))
    if kind == "content_block_stop":
        return BlockStop(_int(event.get("index")) or 0)
    if kind == "message_delta":
        delta = event.get("delta") or {}
        usage = event.get("usage")
        return MessageDelta(_str(delta.get("stop_reason")), usage if isinstance(usage, dict) else {})
    if kind == "message_stop":
        return MessageStop()
    return Other("stream_event", _str(kind), event)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
