"""A chat request's messages as a readable conversation, plus header redaction."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.text import Text

_SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"}
_ROLE_STYLES = {"system": "bold magenta", "user": "bold cyan", "assistant": "bold green", "tool": "bold yellow"}


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """The engine already redacts; this is the console's own belt to those braces."""
    out = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS and "redacted" not in value.lower():
            scheme = value.split(" ", 1)[0] + " " if " " in value else ""
            value = f"{scheme}[redacted]"
        out[name] = value
    return out


def parse_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, dict):
                kind = part.get("type")
                if kind == "text":
                    pieces.append(str(part.get("text", "")))
                elif kind in ("image_url", "input_image"):
                    pieces.append("[image]")
                else:
                    pieces.append(f"[{kind}]")
            else:
                pieces.append(str(part))
        return "\n".join(pieces)
    return json.dumps(content, ensure_ascii=False)


def conversation(body: bytes, *, max_chars: int | None = 4000) -> Group | Text:
    """Each message as `▌ role` then its text; long messages are cut (the body has them)."""
    data = parse_body(body)
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list):
        return Text("(no messages in this body)", style="dim")
    blocks: list[Text] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "?"))
        text = _content_text(message.get("content"))
        for call in message.get("tool_calls") or []:
            function = call.get("function", {}) if isinstance(call, dict) else {}
            text += f"\n→ {function.get('name', '?')}({function.get('arguments', '')})"
        if max_chars is not None and len(text) > max_chars:
            text = text[:max_chars] + f"… ({len(text) - max_chars} more characters)"
        block = Text()
        block.append(f"▌ {role}\n", style=_ROLE_STYLES.get(role, "bold"))
        block.append(text.strip() + "\n")
        blocks.append(block)
    return Group(*blocks)
