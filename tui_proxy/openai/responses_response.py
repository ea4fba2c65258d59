"""Shape Responses API objects and stream events exactly as OpenAI clients validate them.

The response object (`object: "response"`) echoes the request's settings (`tools`, `text`,
`reasoning`, ...: the SDKs require several, Open Responses wants them all); its `output` holds
a `reasoning` item (the model's thinking as its summary), a `message` item (`output_text`)
and one `function_call` item per client tool call, in the order the model produced them.
Streaming sends each event with `event: <type>` and a `sequence_number` counting from 0.
"""

from __future__ import annotations

import json
from typing import Any

from ..conversation import ToolCall
from ..errors import ProxyError
from ..events import Usage
from .errors import error_type

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

#: The `code`s a failed response may carry (the SDK validates them strictly); ours map onto these.
_FAILED_CODES = {"rate_limit": "rate_limit_exceeded"}


def response_id(exchange_id: str) -> str:
    return "resp_" + exchange_id


def exchange_id_of(response_id: str) -> str | None:
    return response_id[len("resp_") :] if response_id.startswith("resp_") and len(response_id) > 5 else None


def usage_object(usage: Usage) -> dict:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": usage.cache_creation_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def response_object(rid: str, created_at: int, model: str, echo: dict, *, status: str, output: list[dict], usage: Usage | None = None,
                    completed_at: int | None = None, error: ProxyError | None = None, incomplete_reason: str | None = None) -> dict:
    return {
        "id": rid,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "completed_at": completed_at,
        "error": None if error is None else failure(error),
        "incomplete_details": None if incomplete_reason is None else {"reason": incomplete_reason},
        "model": model,
        "output": output,
        **echo,
        "usage": None if usage is None else usage_object(usage),
    }


def failure(error: ProxyError) -> dict:
    """`response.error`: `code` is one of OpenAI's; ours (stable, in the console) is in the message."""
    code = _FAILED_CODES.get(error.kind, "server_error")
    message = error.message if error.code in (None, code) else f"{error.message} ({error.code})"
    return {"code": code, "message": message, "param": error.param, "type": error_type(error)}


def message_item(item_id: str, text: str, status: str = "completed") -> dict:
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": [text_part(text)] if status != "in_progress" else []}


def text_part(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def reasoning_item(item_id: str, summary: str | None) -> dict:
    return {"type": "reasoning", "id": item_id, "summary": [] if summary is None else [{"type": "summary_text", "text": summary}]}


def function_call_item(item_id: str, call: ToolCall, namespaced: dict[str, tuple[str, str]], status: str = "completed") -> dict:
    item = {"type": "function_call", "id": item_id, "call_id": call.id, "name": call.name, "arguments": call.arguments, "status": status}
    if call.name in namespaced:
        item["namespace"], item["name"] = namespaced[call.name]
    return item


def output_items(exchange_id: str, text: str, thinking: str, calls: tuple[ToolCall, ...], namespaced: dict, *, incomplete: bool = False) -> list[dict]:
    """A whole answer's output: thinking, text, then the calls (the order the model works in)."""
    items: list[dict] = []
    if thinking:
        items.append(reasoning_item(item_id("rs", exchange_id, len(items)), thinking))
    if text or not calls:
        items.append(message_item(item_id("msg", exchange_id, len(items)), text, "incomplete" if incomplete else "completed"))
    for call in calls:
        items.append(function_call_item(item_id("fc", exchange_id, len(items)), call, namespaced))
    return items


def item_id(prefix: str, exchange_id: str, index: int) -> str:
    return f"{prefix}_{exchange_id}_{index}"


class EventWriter:
    """The events of one streamed response, numbered; the open output item is closed when
    another kind of output begins (thinking, then text, then calls, as the model goes)."""

    __slots__ = ("rid", "exchange_id", "created_at", "model", "echo", "namespaced", "sequence", "output", "_open", "_texts", "_calls")

    def __init__(self, exchange_id: str, created_at: int, model: str, echo: dict, namespaced: dict) -> None:
        self.rid = response_id(exchange_id)
        self.exchange_id = exchange_id
        self.created_at = created_at
        self.model = model
        self.echo = echo
        self.namespaced = namespaced
        self.sequence = 0
        #: Finished output items, in order.
        self.output: list[dict] = []
        #: The item being written: ("reasoning"|"message", item id) or ("calls", None).
        self._open: tuple[str, str | None] | None = None
        self._texts: list[str] = []
        #: Calls being written, by stream index: [item id, output index, call id, name, argument fragments].
        self._calls: dict[int, list[Any]] = {}

    def event(self, kind: str, **fields: Any) -> tuple[str, str]:
        data = _dumps({"type": kind, "sequence_number": self.sequence, **fields})
        self.sequence += 1
        return kind, data

    def response(self, status: str, **fields: Any) -> dict:
        return response_object(self.rid, self.created_at, self.model, self.echo, status=status, output=self.output, **fields)

    def opening(self) -> list[tuple[str, str]]:
        response = self.response("in_progress")
        return [self.event("response.created", response=response), self.event("response.in_progress", response=response)]

    def thinking(self, text: str) -> list[tuple[str, str]]:
        events = [] if self._is_open("reasoning") else self._begin("reasoning")
        self._texts.append(text)
        return events + [self.event("response.reasoning_summary_text.delta", item_id=self._open[1], output_index=len(self.output), summary_index=0, delta=text)]

    def text(self, text: str) -> list[tuple[str, str]]:
        events = [] if self._is_open("message") else self._begin("message")
        self._texts.append(text)
        return events + [self.event("response.output_text.delta", item_id=self._open[1], output_index=len(self.output), content_index=0, delta=text, logprobs=[])]

    def call_started(self, index: int, call_id: str, name: str) -> list[tuple[str, str]]:
        events = [] if self._is_open("calls") else self.close()
        self._open = ("calls", None)
        output_index = len(self.output) + len(self._calls)
        fc_id = item_id("fc", self.exchange_id, output_index)
        self._calls[index] = [fc_id, output_index, call_id, name, []]
        item = function_call_item(fc_id, ToolCall(call_id, name, ""), self.namespaced, "in_progress")
        return events + [self.event("response.output_item.added", output_index=output_index, item=item)]

    def call_arguments(self, index: int, fragment: str) -> list[tuple[str, str]]:
        call = self._calls.get(index)
        if call is None:
            return []
        call[4].append(fragment)
        return [self.event("response.function_call_arguments.delta", item_id=call[0], output_index=call[1], delta=fragment)]

    def finished(self, status: str, usage: Usage, completed_at: int, calls: tuple[ToolCall, ...] = (), incomplete_reason: str | None = None) -> list[tuple[str, str]]:
        events = self.close({call.id: call.arguments for call in calls}, incomplete=incomplete_reason is not None)
        if not self.output:  # an empty answer is still one (empty) message, as without streaming
            events += self._begin("message") + self.close(incomplete=incomplete_reason is not None)
        response = self.response(status, usage=usage, completed_at=completed_at, incomplete_reason=incomplete_reason)
        return events + [self.event("response.incomplete" if status == "incomplete" else "response.completed", response=response)]

    def failed(self, error: ProxyError) -> list[tuple[str, str]]:
        # Items left open stay out of the output: they were cut.
        return [self.event("response.failed", response=self.response("failed", error=error))]

    # ---- the open item ----

    def _is_open(self, kind: str) -> bool:
        return self._open is not None and self._open[0] == kind

    def _begin(self, kind: str) -> list[tuple[str, str]]:
        events = self.close()
        output_index = len(self.output)
        if kind == "reasoning":
            rid = item_id("rs", self.exchange_id, output_index)
            self._open = ("reasoning", rid)
            return events + [
                self.event("response.output_item.added", output_index=output_index, item=reasoning_item(rid, None)),
                self.event("response.reasoning_summary_part.added", item_id=rid, output_index=output_index, summary_index=0, part={"type": "summary_text", "text": ""}),
            ]
        mid = item_id("msg", self.exchange_id, output_index)
        self._open = ("message", mid)
        return events + [
            self.event("response.output_item.added", output_index=output_index, item=message_item(mid, "", "in_progress")),
            self.event("response.content_part.added", item_id=mid, output_index=output_index, content_index=0, part=text_part("")),
        ]

    def close(self, final_arguments: dict[str, str] | None = None, *, incomplete: bool = False) -> list[tuple[str, str]]:
        """Close the open item: its `.done` events, then `response.output_item.done`."""
        if self._open is None:
            return []
        kind, open_id = self._open
        self._open = None
        output_index = len(self.output)
        if kind == "calls":
            events = []
            for fc_id, index, call_id, name, fragments in self._calls.values():
                arguments = (final_arguments or {}).get(call_id) or "".join(fragments) or "{}"
                item = function_call_item(fc_id, ToolCall(call_id, name, arguments), self.namespaced)
                events.append(self.event("response.function_call_arguments.done", item_id=fc_id, output_index=index, name=item["name"], arguments=arguments))
                events.append(self.event("response.output_item.done", output_index=index, item=item))
                self.output.append(item)
            self._calls = {}
            return events
        text, self._texts = "".join(self._texts), []
        if kind == "reasoning":
            item = reasoning_item(open_id, text)
            self.output.append(item)
            part = {"type": "summary_text", "text": text}
            return [
                self.event("response.reasoning_summary_text.done", item_id=open_id, output_index=output_index, summary_index=0, text=text),
                self.event("response.reasoning_summary_part.done", item_id=open_id, output_index=output_index, summary_index=0, part=part),
                self.event("response.output_item.done", output_index=output_index, item=item),
            ]
        item = message_item(open_id, text, "incomplete" if incomplete else "completed")
        self.output.append(item)
        return [
            self.event("response.output_text.done", item_id=open_id, output_index=output_index, content_index=0, text=text, logprobs=[]),
            self.event("response.content_part.done", item_id=open_id, output_index=output_index, content_index=0, part=text_part(text)),
            self.event("response.output_item.done", output_index=output_index, item=item),
        ]
