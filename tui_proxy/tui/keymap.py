"""User key remapping by binding id, from `CLAUDE_MAX_TUI_KEYMAP`.

    CLAUDE_MAX_TUI_KEYMAP="console.kill=ctrl+k,console.copy_curl=c"

Every binding of the console has an id (`?` lists them); Textual's `App.set_keymap`
does the rest. Malformed entries are skipped, not fatal.
"""

from __future__ import annotations

from ..config import env_value


def parse_keymap(text: str | None) -> dict[str, str]:
    keymap: dict[str, str] = {}
    for entry in (text or "").split(","):
        binding_id, sep, keys = entry.partition("=")
        if sep and binding_id.strip() and keys.strip():
            keymap[binding_id.strip()] = keys.strip().replace(" ", ",")
    return keymap


def keymap_from_environment() -> dict[str, str]:
    return parse_keymap(env_value("keymap"))
