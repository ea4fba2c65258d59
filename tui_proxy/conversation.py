"""The translation core: a conversation independent of the API face that carried it.

`/v1/chat/completions` (and later `/v1/responses`) parse their requests into this; the CLI
prompt is rendered from it. Nothing here knows HTTP or the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union


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
    tool_call_id: str | None = None

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
