"""A captured body as readable text (the conversation view) and header redaction, for the console."""

from __future__ import annotations

import json
from typing import Any


_SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"}
ROLE_STYLES = {"system": "bold magenta", "user": "bold cyan", "assistant": "bold green", "tool": "bold yellow"}


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


def content_text(content: Any) -> str:
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
