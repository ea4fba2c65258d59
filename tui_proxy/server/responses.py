"""`POST /v1/responses` (the OpenAI Responses face over the relay) and `GET /v1/responses/{id}`."""

from __future__ import annotations

import json
import time

from aiohttp import web

from ..errors import ProxyError
from ..exchange import Exchange
from ..openai import responses_response as shapes
from ..openai.responses_request import ResponsesRequest, parse_responses_request
from ..openai.responses_store import history, resolve_references, stored_response
from .error_shapes import OPENAI
from .face import Answer, Parsed, SseEvent
from .keys import ENGINE, EngineView
from .relay import relay


class Responses:
    name = "responses"
    errors = OPENAI

    async def parse(self, data: object, engine: EngineView) -> Parsed:
        previous = data.get("previous_response_id") if isinstance(data, dict) else None
        earlier = await history(engine.store, previous) if isinstance(previous, str) else None
        if isinstance(data, dict) and isinstance(data.get("input"), list):
            data = {**data, "input": await resolve_references(engine.store, data["input"])}
        parsed = parse_responses_request(data, earlier)
        return Parsed(parsed.request, parsed)

    def stream(self, exchange: Exchange, parsed: Parsed) -> "ResponsesStream":
        return ResponsesStream(exchange, parsed)

    def body(self, exchange: Exchange, parsed: Parsed, answer: Answer) -> dict:
        extra: ResponsesRequest = parsed.extra
        done = answer.done
        incomplete = _incomplete_reason(done.finish_reason)
        output = shapes.output_items(exchange.id, answer.text, answer.thinking, done.tool_calls, extra.namespaced, incomplete=incomplete is not None)
        return shapes.response_object(
            shapes.response_id(exchange.id),
            int(exchange.started_at),
            parsed.request.model.id,
            extra.echo,
            status="incomplete" if incomplete else "completed",
            output=output,
            usage=done.usage,
            completed_at=int(time.time()),
            incomplete_reason=incomplete,
        )


class ResponsesStream:
    """`response.created`, `.in_progress`, the output items with their deltas, then
    `response.completed` (or `.incomplete` at the length limit, `.failed` on a failure)."""

    __slots__ = ("events",)

    def __init__(self, exchange: Exchange, parsed: Parsed) -> None:
        extra: ResponsesRequest = parsed.extra
        self.events = shapes.EventWriter(exchange.id, int(exchange.started_at), parsed.request.model.id, extra.echo, extra.namespaced)

    def opening(self) -> list[SseEvent]:
        return _sse(self.events.opening())

    def text(self, text: str) -> list[SseEvent]:
        return _sse(self.events.text(text))

    def thinking(self, text: str) -> list[SseEvent]:
        return _sse(self.events.thinking(text))

    def tool_call_started(self, index: int, call_id: str, name: str) -> list[SseEvent]:
        return _sse(self.events.call_started(index, call_id, name))

    def tool_call_arguments(self, index: int, fragment: str) -> list[SseEvent]:
        return _sse(self.events.call_arguments(index, fragment))

    def finished(self, answer: Answer) -> list[SseEvent]:
        done = answer.done
        incomplete = _incomplete_reason(done.finish_reason)
        status = "incomplete" if incomplete else "completed"
        return _sse(self.events.finished(status, done.usage, int(time.time()), done.tool_calls, incomplete))

    def failed(self, error: ProxyError) -> list[SseEvent]:
        return _sse(self.events.failed(error))


def _incomplete_reason(finish_reason: str) -> str | None:
    return "max_output_tokens" if finish_reason == "length" else None


def _sse(events: list[tuple[str, str]]) -> list[SseEvent]:
    return [SseEvent(data, kind) for kind, data in events]


async def retrieve_response(request: web.Request) -> web.Response:
    """`GET /v1/responses/{id}`: the response object of that exchange, from the capture store."""
    engine = request.app[ENGINE]
    response_id = request.match_info["response_id"]
    found = None if engine.store is None else await stored_response(engine.store, response_id)
    if found is None:
        off = " (the capture store is off: --no-capture)" if engine.store is None else ""
        raise ProxyError(404, f"No response found with id {response_id!r}{off}.", code="not_found", param="response_id", retryable=False)
    return web.json_response(found[1], dumps=lambda data: json.dumps(data, ensure_ascii=False))


async def compact_response(request: web.Request) -> web.Response:
    """`POST /v1/responses/compact`: not offered (OpenAI's compaction returns encrypted items
    only its own models read); a 404 like any unknown route, saying so."""
    raise ProxyError(404, "POST /v1/responses/compact is not supported by claude-max-tui: send the conversation in 'input'.", code="not_found", retryable=False)


responses = relay(Responses())
