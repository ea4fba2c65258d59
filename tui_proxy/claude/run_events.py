"""What a CLI run yields, whatever the API face that consumes it."""

from __future__ import annotations

from dataclasses import dataclass

from ..conversation import ToolCall
from ..events import Usage
from ..tools.stream_calls import ToolCallArguments, ToolCallStarted


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    #: How many of the CLI's deltas it joins (those read together: see `RunReader.feed_lines`).
    count: int = 1


@dataclass(frozen=True, slots=True)
class Thinking:
    text: str


@dataclass(frozen=True, slots=True)
class Restart:
    """The CLI retried a failed turn and wrote a different answer: output from `keep` on is void.

    A consumer that still holds its output (not streaming) truncates to `keep` characters;
    one that already sent it cannot take it back and must fail.
    """

    keep: int


@dataclass(frozen=True, slots=True)
class Done:
    finish_reason: str
    usage: Usage
    #: The model the CLI actually used (e.g. `claude-sonnet-5-5`).
    resolved_model: str | None
    #: Structured output, when a JSON schema was asked for.
    structured_output: object = None
    #: The client tool calls that ended the run (finish_reason "tool_calls").
    tool_calls: tuple[ToolCall, ...] = ()
    #: The stop sequence that cut the answer, if one did.
    stop_sequence: str | None = None


RunEvent = Text | Thinking | Restart | ToolCallStarted | ToolCallArguments | Done
