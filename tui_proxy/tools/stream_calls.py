"""Client tool calls as the CLI streams them, turned into OpenAI tool-call pieces.

A `tool_use` block whose name is a client tool (`mcp__client__<name>`) becomes call
number `index` (0, 1, ... in order): first its id and name, then its arguments as the
JSON text fragments the model writes. Other tool_use blocks (the CLI's StructuredOutput,
a hallucinated built-in) are not the client's business and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..conversation import ToolCall
from .names import client_tool_name


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallArguments:
    index: int
    fragment: str


@dataclass(slots=True)
class _Open:
    index: int  # -1: a call the client never sees (parallel_tool_calls=false)
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)


class ToolCallCollector:
    """Feed it the CLI's content blocks; it tells what to send and keeps the finished calls."""

    __slots__ = ("parallel", "calls", "dropped", "_open")

    def __init__(self, parallel: bool = True) -> None:
        #: With parallel_tool_calls=false only the first call is kept (OpenAI: at most one).
        self.parallel = parallel
        self.calls: list[ToolCall] = []
        #: Calls the model made that the client is not shown (they still wait for an answer).
        self.dropped: list[ToolCall] = []
        self._open: dict[int, _Open] = {}  # block index → the call it carries

    @property
    def has_calls(self) -> bool:
        return bool(self.calls or self._open)

    def block_start(self, block_index: int, tool_id: str | None, cli_name: str | None) -> ToolCallStarted | None:
        name = client_tool_name(cli_name)
        if name is None or not tool_id:
            return None
        index = len(self.calls) + sum(1 for c in self._open.values() if c.index >= 0)
        if index and not self.parallel:
            self._open[block_index] = _Open(-1, tool_id, name)
            return None
        self._open[block_index] = _Open(index, tool_id, name)
        return ToolCallStarted(index, tool_id, name)

    def arguments(self, block_index: int, fragment: str) -> ToolCallArguments | None:
        call = self._open.get(block_index)
        if call is None or not fragment:
            return None
        call.arguments.append(fragment)
        return ToolCallArguments(call.index, fragment) if call.index >= 0 else None

    def block_stop(self, block_index: int) -> ToolCallArguments | None:
        """Closes a call. A call without arguments gets `{}`, so `arguments` is always JSON."""
        call = self._open.pop(block_index, None)
        if call is None:
            return None
        done = ToolCall(call.id, call.name, "".join(call.arguments) or "{}")
        if call.index < 0:
            self.dropped.append(done)
            return None
        self.calls.append(done)
        return None if call.arguments else ToolCallArguments(call.index, "{}")

    def close_open(self) -> list[ToolCallArguments]:
        """Blocks the stream never closed (a cut stream): close them as they are."""
        return [piece for piece in (self.block_stop(i) for i in list(self._open)) if piece is not None]
