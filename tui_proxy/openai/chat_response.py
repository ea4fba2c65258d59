"""Shape chat completions and chunks exactly as OpenAI clients validate them (docs/openai-contract.md §3-§4)."""

from __future__ import annotations

import json

from ..events import Usage

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: The same for one string (what `_dumps` does for a str), without the encoder's Python frame:
#: one call per streamed delta.
_dumps_str = json.encoder.encode_basestring

#: A string, not null: llm-comply validates against a spec where `system_fingerprint` is a
#: string. It names this proxy, since no backend configuration fingerprint exists.
SYSTEM_FINGERPRINT = "fp_claude_max_tui"


def usage_object(usage: Usage) -> dict:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def completion(completion_id: str, created: int, model: str, *, content: str | None, finish_reason: str, usage: Usage, reasoning: str | None = None, tool_calls: list[dict] | None = None) -> dict:
    message: dict = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
    if tool_calls:
        message["tool_calls"] = tool_calls
    if reasoning:
        message["reasoning_content"] = reasoning
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage_object(usage),
    }


def tool_call_objects(calls) -> list[dict]:
    """`tool_calls` of a message; `arguments` stays a JSON string (an object breaks clients)."""
    return [{"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}} for call in calls]


class ChunkWriter:
    """Serialises the chunks of one stream. Same id, created, model and object on every chunk.

    Hot path (one call per token): the constant parts are encoded once.
    """

    __slots__ = ("_head", "_tail", "_base")

    def __init__(self, completion_id: str, created: int, model: str, *, include_usage: bool) -> None:
        self._base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model, "system_fingerprint": SYSTEM_FINGERPRINT}
        head = _dumps(self._base)[:-1]
        self._head = head + ',"choices":[{"index":0,"delta":'
        self._tail = ',"logprobs":null,"finish_reason":null}]' + (',"usage":null}' if include_usage else "}")

    def role(self) -> str:
        return self._head + '{"role":"assistant","content":""}' + self._tail

    def content(self, text: str) -> str:
        return self._head + '{"content":' + _dumps_str(text) + "}" + self._tail

    def reasoning(self, text: str) -> str:
        return self._head + '{"reasoning_content":' + _dumps_str(text) + "}" + self._tail

    def tool_call_start(self, index: int, call_id: str, name: str) -> str:
        """First delta of a call: `index` (required by the SDKs), id, type, name, empty arguments."""
        call = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        return self._head + _dumps({"tool_calls": [call]}) + self._tail

    def tool_call_arguments(self, index: int, fragment: str) -> str:
        return self._head + _dumps({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}) + self._tail

    def delta(self, delta: dict) -> str:
        return self._head + _dumps(delta) + self._tail

    def finish_chunk(self, finish_reason: str) -> str:
        tail = self._tail.replace('"finish_reason":null', '"finish_reason":' + _dumps(finish_reason), 1)
        return self._head + "{}" + tail

    def usage(self, usage: Usage) -> str:
        return _dumps({**self._base, "choices": [], "usage": usage_object(usage)})
