"""A request's conversation as native Anthropic messages, for a session file the CLI resumes.

User and assistant turns keep their text and images; client tool calls become `tool_use`
blocks (under the name the CLI offers them by, `mcp__client__<name>`) and tool turns
`tool_result` blocks, in the client's order. Consecutive turns of one side are one message
(the API alternates user and assistant; tool results and the text after them go together).

Some histories cannot be said this way (see `NotNative`): those take the transcript path, on
purpose and visibly.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from ..conversation import Conversation, ImagePart, TextPart, Turn
from ..tools.names import cli_tool_name

#: What the API accepts as a tool_use id.
_TOOL_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # "user" or "assistant"
    content: tuple[dict, ...]

    @property
    def tool_calls(self) -> tuple[dict, ...]:
        return tuple(block for block in self.content if block["type"] == "tool_use")


@dataclass(frozen=True, slots=True)
class NotNative:
    """Why a conversation goes as a transcript instead (a short, stable reason)."""

    reason: str


def native_messages(conversation: Conversation) -> tuple[Message, ...] | NotNative:
    """The conversation as alternating messages, starting with a user message and ending with
    one to answer; or why it cannot be."""
    turns = conversation.turns
    if not turns:
        return NotNative("empty_conversation")
    if turns[0].role != "user":
        return NotNative("starts_with_assistant")
    if turns[-1].role == "assistant":
        return NotNative("ends_with_assistant")
    messages: list[Message] = []
    pending_calls: dict[str, str] = {}  # tool_use id -> client call id, not yet answered
    for turn in turns:
        role = "assistant" if turn.role == "assistant" else "user"
        if role == "assistant" and pending_calls:
            return NotNative("tool_call_without_result")
        blocks = _blocks(turn)
        if isinstance(blocks, NotNative):
            return blocks
        if turn.role == "tool":
            tool_id = tool_use_id(turn.tool_call_id or "")
            if tool_id not in pending_calls:
                return NotNative("tool_result_without_call")
            del pending_calls[tool_id]
        elif turn.role == "user" and pending_calls:
            return NotNative("tool_call_without_result")
        for block in blocks:
            if block["type"] == "tool_use":
                if block["id"] in pending_calls:
                    return NotNative("duplicate_tool_call_id")
                pending_calls[block["id"]] = block["name"]
        if messages and messages[-1].role == role:
            messages[-1] = Message(role, _joined(messages[-1].content, blocks))
        else:
            messages.append(Message(role, blocks))
    if pending_calls:
        return NotNative("tool_call_without_result")
    return tuple(messages)


def _blocks(turn: Turn) -> tuple[dict, ...] | NotNative:
    if turn.role == "tool":
        # The shape (and key order) the CLI itself sends for an MCP tool's result, so that a
        # run continued after tool calls and the next turn's resumed run share their prefix.
        text = turn.text
        block: dict = {"tool_use_id": tool_use_id(turn.tool_call_id or ""), "type": "tool_result", "content": [{"type": "text", "text": text}] if text else ""}
        if turn.is_error:
            block["is_error"] = True
        return (block,)
    blocks: list[dict] = []
    for part in turn.parts:
        if isinstance(part, TextPart):
            if part.text:  # the API refuses empty text blocks
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append({"type": "image", "source": part.source()})
    for call in turn.tool_calls:
        try:
            arguments = json.loads(call.arguments) if call.arguments.strip() else {}
        except ValueError:
            return NotNative("tool_arguments_not_json")
        if not isinstance(arguments, dict):
            return NotNative("tool_arguments_not_object")
        blocks.append({"type": "tool_use", "id": tool_use_id(call.id), "name": cli_tool_name(call.name), "input": arguments})
    if not blocks:
        return NotNative(f"empty_{turn.role}_message")
    return tuple(blocks)


def _joined(before: tuple[dict, ...], after: tuple[dict, ...]) -> tuple[dict, ...]:
    # Tool results lead a user message (the API wants them first, right after the calls).
    merged = before + after
    results = tuple(b for b in merged if b["type"] == "tool_result")
    return results + tuple(b for b in merged if b["type"] != "tool_result") if results else merged


def tool_use_id(client_id: str) -> str:
    """The client's call id when the API accepts it as is, else a stable stand-in
    (the same on every turn, so the cached prefix holds)."""
    if _TOOL_ID.match(client_id):
        return client_id
    return "toolu_" + hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:24]
