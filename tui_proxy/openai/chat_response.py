"""Shape chat completions and chunks exactly as OpenAI clients validate them (contract §3-§4)."""

from __future__ import annotations

import json

from ..events import Usage

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


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
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage_object(usage),
    }


class ChunkWriter:
    """Serialises the chunks of one stream. Same id, created, model and object on every chunk.

    Hot path (one call per token): the constant parts are encoded once.
    """

    __slots__ = ("_head", "_tail", "_base")

    def __init__(self, completion_id: str, created: int, model: str, *, include_usage: bool) -> None:
        self._base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model, "system_fingerprint": None}
        head = _dumps(self._base)[:-1]
        self._head = head + ',"choices":[{"index":0,"delta":'
        self._tail = ',"logprobs":null,"finish_reason":null}]' + (',"usage":null}' if include_usage else "}")

    def role(self) -> str:
        return self._head + '{"role":"assistant","content":""}' + self._tail

    def content(self, text: str) -> str:
        return self._head + '{"content":' + _dumps(text) + "}" + self._tail

    def reasoning(self, text: str) -> str:
        return self._head + '{"reasoning_content":' + _dumps(text) + "}" + self._tail

    def delta(self, delta: dict) -> str:
        return self._head + _dumps(delta) + self._tail

    def finish(self, finish_reason: str) -> str:
        tail = self._tail.replace('"finish_reason":null', '"finish_reason":' + _dumps(finish_reason), 1)
        return self._head + "{}" + tail

    def usage(self, usage: Usage) -> str:
        return _dumps({**self._base, "choices": [], "usage": usage_object(usage)})
