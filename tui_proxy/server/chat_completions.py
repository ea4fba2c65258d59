"""`POST /v1/chat/completions`: the OpenAI chat face over the relay."""

from __future__ import annotations

import json

from ..errors import ProxyError
from ..exchange import Exchange
from ..openai import chat_response
from ..openai.chat_request import parse_chat_request
from ..openai.errors import error_body
from .error_shapes import OPENAI
from .face import Answer, Parsed, SseEvent
from .keys import EngineView
from .relay import relay

_DONE = [SseEvent("[DONE]")]


class ChatCompletions:
    name = "chat.completions"
    errors = OPENAI

    async def parse(self, data: object, engine: EngineView) -> Parsed:
        chat = parse_chat_request(data)
        return Parsed(chat.request, chat.include_usage)

    def stream(self, exchange: Exchange, parsed: Parsed) -> "ChatStream":
        return ChatStream(exchange, parsed)

    def body(self, exchange: Exchange, parsed: Parsed, answer: Answer) -> dict:
        done = answer.done
        return chat_response.completion(
            "chatcmpl-" + exchange.id,
            int(exchange.started_at),
            parsed.request.model.id,
            # With tool calls and no text, OpenAI's content is null.
            content=answer.text if answer.text or not done.tool_calls else None,
            finish_reason=done.finish_reason,
            usage=done.usage,
            reasoning=answer.thinking or None,
            tool_calls=chat_response.tool_call_objects(done.tool_calls),
        )


class ChatStream:
    """Chat chunks: a role chunk, one chunk per delta, the finish, usage if asked, `[DONE]`."""

    __slots__ = ("chunks", "include_usage")

    def __init__(self, exchange: Exchange, parsed: Parsed) -> None:
        self.include_usage = bool(parsed.extra)
        self.chunks = chat_response.ChunkWriter("chatcmpl-" + exchange.id, int(exchange.started_at), parsed.request.model.id, include_usage=self.include_usage)

    def opening(self) -> list[SseEvent]:
        return [SseEvent(self.chunks.role())]

    def text(self, text: str) -> list[SseEvent]:
        return [SseEvent(self.chunks.content(text))]

    def thinking(self, text: str) -> list[SseEvent]:
        return [SseEvent(self.chunks.reasoning(text))]

    def tool_call_started(self, index: int, call_id: str, name: str) -> list[SseEvent]:
        return [SseEvent(self.chunks.tool_call_start(index, call_id, name))]

    def tool_call_arguments(self, index: int, fragment: str) -> list[SseEvent]:
        return [SseEvent(self.chunks.tool_call_arguments(index, fragment))]

    def finished(self, answer: Answer) -> list[SseEvent]:
        events = [SseEvent(self.chunks.finish_chunk(answer.done.finish_reason))]
        if self.include_usage:
            events.append(SseEvent(self.chunks.usage(answer.done.usage)))
        return events + _DONE

    def failed(self, error: ProxyError) -> list[SseEvent]:
        # The SDKs raise APIError on an `error` event; [DONE] after it is harmless.
        return [SseEvent(json.dumps(error_body(error), ensure_ascii=False))] + _DONE


chat_completions = relay(ChatCompletions())
