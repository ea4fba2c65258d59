"""What an API face gives the relay: how to read its request and write its answers.

A face (`/v1/chat/completions`, `/v1/responses`, `/v1/messages`) is thin: it parses its body
into the neutral `ModelRequest` and renders answers, stream events and errors in its own wire
shape. Everything else (body decode, exchange, admission, the run, header hold, keep-alives,
cut and cancel, park and settle, bounded writes) is the relay's (`relay.py`), the same for all.
A new face is one file here implementing `Face`, plus its wire shapes in `openai/` or
`anthropic/`, and a route in `app.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..claude.run_events import Done
from ..conversation import ModelRequest
from ..errors import ProxyError
from ..exchange import Exchange
from .keys import EngineView


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event: `event: <name>` (when named) and `data: <data>`."""

    data: str
    event: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete answer (or the part of it up to client tool calls)."""

    text: str
    thinking: str
    done: Done


@dataclass(frozen=True, slots=True)
class Parsed:
    """A face's request: the neutral request, plus what only its wire shape needs (`extra`)."""

    request: ModelRequest
    extra: Any = None


class ErrorShape(Protocol):
    """How a face writes errors (also used for requests refused before any face parsed them)."""

    def status(self, error: ProxyError) -> int:
        """The HTTP status this face answers (mostly `error.status`)."""

    def type(self, error: ProxyError) -> str:
        """The error's `type` string in this face's vocabulary (kept in the exchange record)."""

    def body(self, error: ProxyError) -> bytes:
        """The JSON error body."""


class StreamShape(Protocol):
    """The SSE events of one streamed answer, in a face's wire shape. Each method returns
    the events to send (possibly none); the relay sends them in order."""

    def opening(self) -> list[SseEvent]: ...
    def text(self, text: str) -> list[SseEvent]: ...
    def thinking(self, text: str) -> list[SseEvent]: ...
    def tool_call_started(self, index: int, call_id: str, name: str) -> list[SseEvent]: ...
    def tool_call_arguments(self, index: int, fragment: str) -> list[SseEvent]: ...
    def finished(self, answer: Answer) -> list[SseEvent]: ...

    def failed(self, error: ProxyError) -> list[SseEvent]:
        """A failure after the stream began: the events that tell the client (then the end)."""


class Face(Protocol):
    #: Names the face in captures and logs, e.g. "chat.completions".
    name: str
    errors: ErrorShape

    async def parse(self, data: object, engine: EngineView) -> Parsed:
        """The decoded body as the neutral request; raises a `ProxyError` naming the param.
        (Async, and given the engine, for faces that look up earlier answers in the store.)"""

    def stream(self, exchange: Exchange, parsed: Parsed) -> StreamShape:
        """The event writer for one streamed answer."""

    def body(self, exchange: Exchange, parsed: Parsed, answer: Answer) -> dict:
        """The whole (non-streamed) answer."""
