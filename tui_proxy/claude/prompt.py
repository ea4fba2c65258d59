"""Render a conversation as the CLI's input: one stream-json user line on stdin.

The CLI takes one user message per turn (extra `user` lines start extra turns, injected
`assistant` lines land in an unreliable order), so earlier turns are flattened into a
tagged transcript ahead of the last user message. Every role survives, tool calls and
tool results included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..conversation import Conversation, ImagePart, TextPart, Turn


@dataclass(frozen=True, slots=True)
class CliPrompt:
    #: Replaces Claude Code's own system prompt (sent through a private file, never argv).
    system_prompt: str | None
    #: Anthropic content blocks of the single user message.
    blocks: tuple[dict, ...]

    def stdin_line(self) -> str:
        message = {"role": "user", "content": list(self.blocks)}
        line = {"type": "user", "message": message, "parent_tool_use_id": None, "session_id": ""}
        # ensure_ascii keeps the line 7-bit: no U+2028 surprises in any reader.
        return json.dumps(line, ensure_ascii=True, separators=(",", ":")) + "\n"

    @property
    def text(self) -> str:
        return "".join(b["text"] for b in self.blocks if b["type"] == "text")


def render_prompt(conversation: Conversation, extra_system: str | None = None) -> CliPrompt:
    system = conversation.system
    if extra_system:
        system = f"{system}\n\n{extra_system}" if system else extra_system
    turns = conversation.turns
    # The trailing user turns are the message to answer; everything before is history.
    split = len(turns)
    while split > 0 and turns[split - 1].role == "user":
        split -= 1
    history, current = turns[:split], turns[split:]

    blocks = _Blocks()
    if history:
        blocks.text("<conversation_history>\n")
        for turn in history:
            _render_turn(turn, blocks)
        blocks.text("</conversation_history>\n\n")
        if not current:
            blocks.text("Continue the conversation above as the assistant.")
    for i, turn in enumerate(current):
        if i:
            blocks.text("\n\n")
        blocks.parts(turn)
    return CliPrompt(system_prompt=system, blocks=blocks.finish())


def _render_turn(turn: Turn, blocks: "_Blocks") -> None:
    if turn.role == "tool":
        blocks.text(f'<tool_result tool_call_id="{turn.tool_call_id}">\n{turn.text}\n</tool_result>\n')
        return
    name = f' name="{turn.name}"' if turn.name else ""
    blocks.text(f'<{turn.role}{name}>\n')
    blocks.parts(turn)
    for call in turn.tool_calls:
        blocks.text(f'\n<tool_call id="{call.id}" name="{call.name}">{call.arguments}</tool_call>')
    blocks.text(f"\n</{turn.role}>\n")


class _Blocks:
    """Content blocks with adjacent text merged. Text pieces are collected and joined once
    per block: appending to a growing string would make rendering quadratic in the number
    of messages (60,000 short ones froze the event loop for seconds)."""

    __slots__ = ("_items", "_pending")

    def __init__(self) -> None:
        self._items: list[dict] = []
        self._pending: list[str] = []

    def text(self, text: str) -> None:
        self._pending.append(text)

    def parts(self, turn: Turn) -> None:
        for part in turn.parts:
            if isinstance(part, TextPart):
                self._pending.append(part.text)
            elif isinstance(part, ImagePart):
                self._flush()
                self._items.append({"type": "image", "source": part.source()})

    def finish(self) -> tuple[dict, ...]:
        self._flush()
        if not self._items:
            self._items.append({"type": "text", "text": ""})
        return tuple(self._items)

    def _flush(self) -> None:
        if self._pending:
            self._items.append({"type": "text", "text": "".join(self._pending)})
            self._pending.clear()
