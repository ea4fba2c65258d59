"""`--resume <uuid>`: the conversation from a session file, as the real CLI (2.1.328) reads it.

The file is `$HOME/.claude/projects/<cwd, non-alphanumerics as ->/<uuid>.jsonl`, read at
start; a missing one is one `error_during_execution` result "No conversation found with
session ID: <uuid>" and exit 1. With `CLAUDE_CODE_RESUME_INTERRUPTED_TURN=1` and no stdin
line the last user record is the message answered. `FAKE_CLAUDE_RESUME_FAILS=1` plays a CLI
that cannot resume (the proxy must fall back to a transcript).

What the fake "model" reads: earlier records rendered like the proxy's transcript tags (so
markers and tool results anywhere in the history are seen, as by the other scenarios), then
the last message's text. Without `--no-session-persistence` the fake appends an environment
and a model attachment after the records when the file has none, like the real one.
"""

from __future__ import annotations

import json
import os

from .prompt import UserMessage


class NoConversation(Exception):
    pass


def session_path(env: dict, cwd: str, session_id: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in cwd)
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".claude", "projects", slug, f"{session_id}.jsonl")


def read_records(path: str) -> list:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def resumed_message(env: dict, cwd: str, session_id: str) -> tuple[UserMessage, list]:
    """The message to answer and the file's records. Raises NoConversation."""
    path = session_path(env, cwd, session_id)
    if env.get("FAKE_CLAUDE_RESUME_FAILS") == "1" or not os.path.isfile(path):
        raise NoConversation(f"No conversation found with session ID: {session_id}")
    records = read_records(path)
    messages = [r["message"] for r in records if r.get("type") in ("user", "assistant") and isinstance(r.get("message"), dict)]
    if not messages or messages[-1].get("role") != "user":
        raise NoConversation(f"No conversation found with session ID: {session_id}")
    message = UserMessage()
    history = "".join(_tagged(m) for m in messages[:-1])
    if history:
        message.texts.append(f"<conversation_history>\n{history}</conversation_history>\n")
    for block in _blocks(messages[-1]):
        if block.get("type") == "text":
            message.texts.append(block.get("text", ""))
        elif block.get("type") == "image":
            message.images += 1
        elif block.get("type") == "tool_result":
            message.texts.append(_tool_result(block))
    message.chars = sum(len(t) for t in message.texts)
    return message, records


def append_cli_records(env: dict, cwd: str, session_id: str, records: list, model: str) -> None:
    """What the real CLI appends with persistence on, when the file lacks its attachments."""
    kinds = {r.get("attachment", {}).get("type") for r in records if r.get("type") == "attachment"}
    added = []
    if "environment" not in kinds:
        added.append({"type": "environment", "snapshot": {"workingDirectory": cwd, "isWorktree": False, "isGitRepo": False,
                                                          "additionalWorkingDirectories": [], "platform": "linux", "shell": "bash",
                                                          "osVersion": "Linux fake"}})
    if "model" not in kinds:
        added.append({"type": "model", "identity": {"modelId": model, "marketingName": model, "knowledgeCutoff": "never"},
                      "text": f"You are powered by the model named {model}."})
    with open(session_path(env, cwd, session_id), "a", encoding="utf-8") as f:
        for attachment in added:
            f.write(json.dumps({"type": "attachment", "attachment": attachment, "sessionId": session_id}) + "\n")


def _blocks(message: dict) -> list:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _tool_result(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return f'<tool_result tool_call_id="{block.get("tool_use_id")}">\n{content}\n</tool_result>\n'


def _tagged(message: dict) -> str:
    role = message.get("role")
    parts = []
    for block in _blocks(message):
        kind = block.get("type")
        if kind == "text":
            parts.append(block.get("text", ""))
        elif kind == "tool_use":
            parts.append(f'\n<tool_call id="{block.get("id")}" name="{block.get("name")}">{json.dumps(block.get("input"))}</tool_call>')
        elif kind == "tool_result":
            parts.append(_tool_result(block))
    return f"<{role}>\n{''.join(parts)}\n</{role}>\n"
