"""The prompt as the CLI receives it: stream-json lines on stdin (or text input).

Lines are handed out one user message at a time as they arrive, because the real CLI
starts a turn per `user` line while stdin is still open, and only exits at EOF.
"""

from __future__ import annotations  # annotations stay strings: no typing import at startup

import json

from . import lifecycle


class InputError(Exception):
    """A message for stderr; the process then exits 1."""


class UserMessage:
    def __init__(self) -> None:
        self.texts: list = []  # text of every text block, in order
        self.images = 0
        self.chars = 0  # characters of text (drives the fake token counts)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def last_text(self) -> str:
        return self.texts[-1] if self.texts else ""


def user_message(content) -> UserMessage:
    message = UserMessage()
    if isinstance(content, str):
        message.texts.append(content)
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                message.texts.append(block["text"])
            elif block.get("type") == "image":
                message.images += 1
    message.chars = sum(len(t) for t in message.texts)
    return message


def _read_line(stream) -> bytes:
    with lifecycle.waiting():
        return stream.readline()


class ControlRequest:
    """A `control_request` line (the Agent SDK's control protocol): answered, no turn of its own."""

    def __init__(self, request_id, request: dict) -> None:
        self.request_id = request_id
        self.subtype = request.get("subtype")
        self.request = request


def stream_json_messages(stream, on_line: Callable[[bytes], None]) -> Iterator[UserMessage | ControlRequest]:
    """Yield each user message and control request; raise InputError like the real CLI on bad lines."""
    while True:
        raw = _read_line(stream)
        if not raw:
            return
        on_line(raw)
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            raise InputError(
                f"Error parsing streaming input line (type=unknown, {len(text)} chars): SyntaxError") from None
        if isinstance(obj, dict) and obj.get("type") == "control_request" and isinstance(obj.get("request"), dict):
            yield ControlRequest(obj.get("request_id"), obj["request"])
            continue
        if not isinstance(obj, dict) or obj.get("type") != "user":
            continue  # assistant lines: ignored here, no output of their own
        message = obj.get("message")
        role = message.get("role") if isinstance(message, dict) else None
        if role != "user":
            shown = "undefined" if role is None else str(role)
            raise InputError(f"Error: Expected message role 'user', got '{shown}'")
        yield user_message(message.get("content"))


def text_message(stream, positionals: list, on_line: Callable[[bytes], None]) -> UserMessage:
    """--input-format text: stdin text, else the positional prompt."""
    data = b""
    if stream is not None and not stream.isatty():
        with lifecycle.waiting():
            data = stream.read()
        on_line(data)
    text = data.decode("utf-8", "replace")
    if positionals:
        text = " ".join(positionals) + ("\n\n" + text if text.strip() else "")
    if not text.strip():
        raise InputError("Error: Input must be provided either through stdin or as a prompt argument "
                         "when using --print")
    return user_message(text.rstrip())
