"""What a scenario answers, independent of how it goes on the wire.

A scenario returns one of:
* `Reply`: a successful model message (rendered as SSE or as one JSON message),
* `ApiError`: an HTTP error with the Anthropic error body,
* `BrokenStream`: a streamed reply that goes wrong part-way (error event,
  dropped connection or silence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

# Fixed usage numbers so transcripts are reproducible; cache fields are
# non-zero on purpose so clients must handle them.
INPUT_TOKENS = 25
CACHE_CREATION_INPUT_TOKENS = 1200
CACHE_READ_INPUT_TOKENS = 3400


@dataclass(frozen=True, slots=True)
class TextBlock:
    chunks: tuple[str, ...]  # one SSE text_delta per chunk

    def final(self) -> dict[str, Any]:
        return {"type": "text", "text": "".join(self.chunks)}


@dataclass(frozen=True, slots=True)
class ThinkingBlock:
    chunks: tuple[str, ...]
    signature: str

    def final(self) -> dict[str, Any]:
        return {"type": "thinking", "thinking": "".join(self.chunks), "signature": self.signature}


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    id: str
    name: str
    input_json_chunks: tuple[str, ...]  # concatenated they form the JSON arguments

    def final(self) -> dict[str, Any]:
        return {"type": "tool_use", "id": self.id, "name": self.name, "input": json.loads("".join(self.input_json_chunks))}


Block = TextBlock | ThinkingBlock | ToolUseBlock


@dataclass(frozen=True, slots=True)
class Reply:
    blocks: tuple[Block, ...]
    stop_reason: str = "end_turn"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def output_tokens(self) -> int:
        # Rough but deterministic: about four characters per token.
        characters = sum(len(str(block.final())) for block in self.blocks)
        return max(1, characters // 4)


@dataclass(frozen=True, slots=True)
class ApiError:
    status: int
    error_type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.error_type, "message": self.message}}


@dataclass(frozen=True, slots=True)
class BrokenStream:
    """Stream `partial` (message_start, its first block and first delta), then fail.

    `how`: "error" sends an SSE error event, "drop" cuts the TCP connection,
    "stall" goes silent after message_start until the client leaves.
    """

    how: Literal["error", "drop", "stall"]
    partial: Reply
    error: ApiError | None = None  # the error event's payload for how="error"


Outcome = Reply | ApiError | BrokenStream


def usage(output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": INPUT_TOKENS,
        "cache_creation_input_tokens": CACHE_CREATION_INPUT_TOKENS,
        "cache_read_input_tokens": CACHE_READ_INPUT_TOKENS,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
