"""Scenario choice: `[[fake:NAME key=value ...]]` in the prompt, else $FAKE_CLAUDE_SCENARIO, else echo.

Values are bare words or JSON-quoted strings (`text="two words\\nand a newline"`).
The first marker wins: user text first, then the system prompt file.
"""

from __future__ import annotations

import json
import re

_MARKER = re.compile(r"\[\[fake:([A-Za-z0-9_]+)(.*?)\]\]", re.S)
_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)')


class Spec:
    def __init__(self, name: str = "echo", params: dict | None = None, source: str = "default") -> None:
        self.name = name
        self.params = params or {}
        self.source = source  # user | system_prompt | env | default

    def str(self, key: str, default: str) -> str:
        return self.params.get(key, default)

    def int(self, key: str, default: int) -> int:
        try:
            return int(float(self.params[key]))
        except (KeyError, ValueError):
            return default

    def float(self, key: str, default: float) -> float:
        try:
            return float(self.params[key])
        except (KeyError, ValueError):
            return default

    def bool(self, key: str, default: bool) -> bool:
        if key not in self.params:
            return default
        return self.params[key].lower() not in ("0", "false", "no", "off", "")


def _params(text: str) -> dict:
    params = {}
    for key, value in _PARAM.findall(text):
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        params[key] = value
    return params


def parse(text: str, source: str) -> Spec:
    """`NAME key=value ...` (the env form, without brackets)."""
    name, _, rest = text.strip().partition(" ")
    return Spec(name=name or "echo", params=_params(rest), source=source)


def find(text: str, source: str) -> Spec | None:
    match = _MARKER.search(text)
    if match is None:
        return None
    return Spec(name=match.group(1), params=_params(match.group(2)), source=source)


def choose(user_text: str, system_prompt: str, env: dict) -> Spec:
    return (find(user_text, "user") or find(system_prompt, "system_prompt")
            or (parse(env["FAKE_CLAUDE_SCENARIO"], "env") if env.get("FAKE_CLAUDE_SCENARIO", "").strip() else None)
            or Spec())
