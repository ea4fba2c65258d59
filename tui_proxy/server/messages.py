"""`POST /v1/messages`: the Anthropic Messages face over the relay."""

from __future__ import annotations

from ..anthropic import messages_response
from ..anthropic.errors import error_bytes
from ..anthropic.messages_request import MessagesRequest, ThinkingDisplay, parse_messages_request
from ..errors import ProxyError
from ..exchange import Exchange
from .error_shapes import ANTHROPIC
from .face import Answer, Parsed, SseEvent
from .keys import EngineView
from .relay import relay


def message_id(exchange: Exchange) -> str:
    return "msg_" + exchange.id


class Messages:
    name = "messages"
    errors = ANTHROPIC

    async def parse(self, data: object, engine: EngineView) -> Parsed:
        parsed: MessagesRequest = parse_messages_request(data)
        return Parsed(parsed.request, parsed.thinking)

    def stream(self, exchange: Exchange, parsed: Parsed) -> "MessagesStream":
        return MessagesStream(exchange, parsed)

    def body(self, exchange: Exchange, parsed: Parsed, answer: Answer) -> dict:
        thinking: ThinkingDisplay = parsed.extra
        shown = None
        if thinking.shown and answer.thinking:
            shown = "" if thinking.omitted else answer.thinking
        return messages_response.message(message_id(exchange), parsed.request.model.id, text=answer.text, thinking=shown, done=answer.done)


class MessagesStream:
    __slots__ = ("events", "thinking_shown")

    def __init__(self, exchange: Exchange, parsed: Parsed) -> None:
        thinking: ThinkingDisplay = parsed.extra
        self.events = messages_response.MessageEvents(message_id(exchange), parsed.request.model.id)
        #: None: not shown; False: shown with its text; True: blocks without text (omitted).
        self.thinking_shown = (thinking.omitted if thinking.shown else None)

    def opening(self) -> list[SseEvent]:
        return _sse(self.events.start())

    def text(self, text: str) -> list[SseEvent]:
        return _sse(self.events.text(text))

    def thinking(self, text: str) -> list[SseEvent]:
        if self.thinking_shown is None:
            return []  # the client did not ask for thinking (the console and captures still have it)
        return _sse(self.events.thinking(None if self.thinking_shown else text))

    def tool_call_started(self, index: int, call_id: str, name: str) -> list[SseEvent]:
        return _sse(self.events.tool_call_started(index, call_id, name))

    def tool_call_arguments(self, index: int, fragment: str) -> list[SseEvent]:
        return _sse(self.events.tool_call_arguments(index, fragment))

    def finished(self, answer: Answer) -> list[SseEvent]:
        return _sse(self.events.finish(answer.done))

    def failed(self, error: ProxyError) -> list[SseEvent]:
        # The anthropic SDKs raise on an `error` event, with its type.
        return [SseEvent(error_bytes(error).decode(), "error")]


def _sse(events: list[tuple[str, str]]) -> list[SseEvent]:
    return [SseEvent(data, name) for name, data in events]


messages = relay(Messages())
