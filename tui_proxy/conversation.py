"""The face-neutral request: a conversation and what the client asked of the answer.

Every API face (`/v1/chat/completions`, `/v1/responses`, `/v1/messages`) parses its body into
one `ModelRequest`; the CLI run is planned from it alone. Nothing here knows HTTP, a wire
shape or the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from .models import ModelEntry


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image as an Anthropic source: base64 (`media_type`, `data`) or `url`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None

    def source(self) -> dict:
        if self.url is not None:
            return {"type": "url", "url": self.url}
        return {"type": "base64", "media_type": self.media_type, "data": self.data}


Part = Union[TextPart, ImagePart]


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    #: The JSON text of the arguments, as the client sent it.
    arguments: str


@dataclass(frozen=True, slots=True)
class Turn:
    role: Literal["user", "assistant", "tool"]
    parts: tuple[Part, ...] = ()
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    #: A tool turn: the call it answers, and whether the client reports a failure.
    tool_call_id: str | None = None
    is_error: bool = False

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict = field(default_factory=dict)
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    #: `system` and `developer` messages, joined in order.
    system: str | None
    turns: tuple[Turn, ...]


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """Whether the model may, must, or must not call the client's tools."""

    mode: Literal["auto", "none", "required", "named"] = "auto"
    #: The one tool to call, for `named`.
    name: str | None = None


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """What the client asked of the answer, beyond the conversation."""

    #: Cut the answer before the first of these (emulated on the output).
    stop: tuple[str, ...] = ()
    #: Cut the answer at about this many tokens (emulated on the output).
    max_tokens: int | None = None
    #: Structured output: the answer is one JSON value valid against this schema.
    json_schema: dict | None = None
    #: The CLI's effort level (low, medium, high, xhigh, max), when the client chose one.
    effort: str | None = None


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One request to the model, whatever API face carried it."""

    model: ModelEntry
    conversation: Conversation
    stream: bool = False
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = ToolChoice()
    parallel_tool_calls: bool = True
    output: OutputOptions = OutputOptions()
