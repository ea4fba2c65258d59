"""Find the `[[mock:NAME key=value ...]]` marker that selects a scenario.

Tests put the marker in the prompt (or the system prompt); the CLI forwards it
inside the Messages API body, so the mock can pick its behaviour per request
without any side channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SCENARIO = "text"

_MARKER = re.compile(r"\[\[mock:(?P<name>[A-Za-z0-9_]+)(?P<params>(?:\s+[A-Za-z0-9_]+=[^\s\]]*)*)\s*\]\]")


@dataclass(frozen=True, slots=True)
class Marker:
    scenario: str
    params: dict[str, str] = field(default_factory=dict)

    def int_param(self, key: str, default: int) -> int:
        value = self.params.get(key)
        return int(value) if value is not None else default


def parse_marker(text: str) -> Marker | None:
    """The first marker in `text`, or None."""
    match = _MARKER.search(text)
    if match is None:
        return None
    params = dict(pair.split("=", 1) for pair in match.group("params").split())
    return Marker(match.group("name"), params)


def find_marker(body: dict[str, Any], default: str = DEFAULT_SCENARIO) -> Marker:
    """The first marker in the request's messages (oldest first), then in its system text;
    `default` names the scenario of a request without one."""
    for text in request_texts(body):
        marker = parse_marker(text)
        if marker is not None:
            return marker
    return Marker(default)


def request_texts(body: dict[str, Any]) -> Iterator[str]:
    """Every text a Messages API request carries: messages first, then system."""
    for message in body.get("messages") or []:
        yield from _content_texts(message.get("content"))
    yield from _content_texts(body.get("system"))


def system_text(body: dict[str, Any]) -> str:
    """The request's system prompt, all text blocks joined by newlines."""
    return "\n".join(_content_texts(body.get("system")))


def _content_texts(content: Any) -> Iterator[str]:
    # Content is either a plain string or a list of blocks; tool_result blocks
    # nest their own content the same way.
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if isinstance(block.get("text"), str):
                yield block["text"]
            if "content" in block:
                yield from _content_texts(block["content"])
