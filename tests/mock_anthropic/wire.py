"""Render scenario outcomes as Messages API responses (JSON message or SSE events)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .replies import Reply, TextBlock, ThinkingBlock, ToolUseBlock, usage


def message_json(reply: Reply, *, message_id: str, model: str) -> dict[str, Any]:
    """The non-streaming answer: one complete `message` object."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block.final() for block in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": usage(reply.output_tokens),
    }


def message_start(*, message_id: str, model: str) -> tuple[str, dict[str, Any]]:
    return "message_start", {
        "type": "message_start",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage(1),
        },
    }


def block_events(index: int, block: TextBlock | ThinkingBlock | ToolUseBlock, *, delta_limit: int | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """content_block_start, its deltas (at most `delta_limit`), and content_block_stop unless cut short."""
    if isinstance(block, TextBlock):
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": chunk} for chunk in block.chunks]
    elif isinstance(block, ThinkingBlock):
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": chunk} for chunk in block.chunks]
        deltas.append({"type": "signature_delta", "signature": block.signature})
    else:
        start = {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": chunk} for chunk in block.input_json_chunks]
    yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": start}
    for delta in deltas[:delta_limit]:
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    if delta_limit is None:
        yield "content_block_stop", {"type": "content_block_stop", "index": index}


def reply_events(reply: Reply, *, message_id: str, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The whole SSE sequence of a successful streamed reply."""
    yield message_start(message_id=message_id, model=model)
    for index, block in enumerate(reply.blocks):
        yield from block_events(index, block)
    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": reply.output_tokens},
    }
    yield "message_stop", {"type": "message_stop"}


def sse_frame(event: str, data: dict[str, Any]) -> bytes:
    # Raw UTF-8 like the real API; json.dumps escapes \n and \r, the only
    # characters that could break SSE framing.
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
