"""Message objects and stream events exactly as the Messages API sends them.

A stream: `message_start`, `ping`, then per content block `content_block_start`, its deltas
(`text_delta`, `thinking_delta` + `signature_delta`, `input_json_delta`), `content_block_stop`;
then `message_delta` (stop reason, usage) and `message_stop`; a failure after the start is an
`error` event. Thinking signatures are the proxy's own (the CLI does not hand Anthropic's on):
they let clients pass the blocks back, which the proxy then drops.
"""

from __future__ import annotations

import base64
import json

from ..claude.run_events import Done
from ..conversation import ToolCall
from ..events import Usage

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

#: The run's finish reasons as Anthropic's `stop_reason`.
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def stop_reason(done: Done) -> str:
    if done.stop_sequence is not None:
        return "stop_sequence"
    return STOP_REASONS.get(done.finish_reason, "end_turn")


def usage_object(usage: Usage) -> dict:
    """Anthropic counts cache reads and writes apart from `input_tokens` (ours sums them)."""
    return {
        "input_tokens": max(0, usage.prompt_tokens - usage.cached_tokens - usage.cache_creation_tokens),
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"thinking_tokens": usage.reasoning_tokens},
        # Not reported by the CLI: null, as the API itself sends when it has no figure.
        "cache_creation": None,
        "server_tool_use": None,
        "service_tier": None,
        "inference_geo": None,
    }


def signature(message_id: str) -> str:
    """An opaque signature for a thinking block (not Anthropic's: nothing upstream verifies it)."""
    return base64.b64encode(f"claude-max-tui:{message_id}".encode()).decode()


def tool_input(call: ToolCall) -> dict:
    """The call's arguments as an object; text that is not a JSON object is kept under `_raw`."""
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        return {"_raw": call.arguments}
    return value if isinstance(value, dict) else {"_raw": call.arguments}


def message(message_id: str, model: str, *, text: str, thinking: str | None, done: Done) -> dict:
    """The whole answer. `thinking`: None when the client did not ask to see it."""
    content: list[dict] = []
    if thinking is not None:
        content.append({"type": "thinking", "thinking": thinking, "signature": signature(message_id)})
    if text or not done.tool_calls:
        content.append({"type": "text", "text": text, "citations": None})
    for call in done.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call), "caller": DIRECT})
    return _message(message_id, model, content, stop_reason(done), done.stop_sequence, usage_object(done.usage))


#: A tool call made by the model itself (not by a server tool).
DIRECT = {"type": "direct"}


def _message(message_id: str, model: str, content: list, stop: str | None, stop_sequence: str | None, usage: dict) -> dict:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": stop_sequence,
        "stop_details": None,
        "container": None,
        "usage": usage,
    }


class MessageEvents:
    """The events of one streamed message: opens and closes content blocks as the kind of
    output changes. Each method returns `(event name, JSON data)` pairs."""

    __slots__ = ("message_id", "model", "_open", "_next_index", "_tool_blocks")

    def __init__(self, message_id: str, model: str) -> None:
        self.message_id = message_id
        self.model = model
        #: The open block: (kind, index), or None.
        self._open: tuple[str, int] | None = None
        self._next_index = 0
        #: The run's tool call index -> its content block index.
        self._tool_blocks: dict[int, int] = {}

    def start(self) -> list[tuple[str, str]]:
        # The counts come with message_delta (the CLI reports them at the end).
        start = _message(self.message_id, self.model, [], None, None, usage_object(Usage()))
        return [_event("message_start", {"type": "message_start", "message": start}), _event("ping", {"type": "ping"})]

    def text(self, text: str) -> list[tuple[str, str]]:
        events = self._ensure("text", {"type": "text", "text": ""})
        index = self._open[1]  # type: ignore[index]
        events.append(("content_block_delta", '{"type":"content_block_delta","index":' + str(index) + ',"delta":{"type":"text_delta","text":' + _dumps(text) + "}}"))
        return events

    def thinking(self, text: str | None) -> list[tuple[str, str]]:
        """A thinking delta; None opens the block without text (`display: "omitted"`)."""
        events = self._ensure("thinking", {"type": "thinking", "thinking": "", "signature": ""})
        if text:
            index = self._open[1]  # type: ignore[index]
            events.append(_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": text}}))
        return events

    def tool_call_started(self, call_index: int, call_id: str, name: str) -> list[tuple[str, str]]:
        events = self._close()
        index = self._next_index
        self._next_index += 1
        self._tool_blocks[call_index] = index
        self._open = ("tool_use", index)
        events.append(_event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}, "caller": DIRECT}}))
        return events

    def tool_call_arguments(self, call_index: int, fragment: str) -> list[tuple[str, str]]:
        index = self._tool_blocks.get(call_index)
        if index is None or not fragment:
            return []
        return [_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": fragment}})]

    def finish(self, done: Done) -> list[tuple[str, str]]:
        events = self._close()
        delta = {"type": "message_delta", "delta": {"stop_reason": stop_reason(done), "stop_sequence": done.stop_sequence}, "usage": usage_object(done.usage)}
        return [*events, _event("message_delta", delta), _event("message_stop", {"type": "message_stop"})]

    def _ensure(self, kind: str, block: dict) -> list[tuple[str, str]]:
        if self._open is not None and self._open[0] == kind:
            return []
        events = self._close()
        index = self._next_index
        self._next_index += 1
        self._open = (kind, index)
        events.append(_event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}))
        return events

    def _close(self) -> list[tuple[str, str]]:
        if self._open is None:
            return []
        kind, index = self._open
        self._open = None
        events = []
        if kind == "thinking":
            events.append(_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": signature(self.message_id)}}))
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        return events


def _event(name: str, data: dict) -> tuple[str, str]:
    return name, _dumps(data)
