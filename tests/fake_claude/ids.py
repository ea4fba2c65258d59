"""Identifiers and timestamps in the shapes the real CLI prints (no uuid/datetime import: startup speed)."""

from __future__ import annotations

import os
import time

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def uuid4() -> str:
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _anthropic_id(prefix: str) -> str:
    # Anthropic ids look like msg_01 + 22 base58 characters.
    return prefix + "01" + "".join(_BASE58[b % 58] for b in os.urandom(22))


def message_id() -> str:
    return _anthropic_id("msg_")


def request_id() -> str:
    return _anthropic_id("req_")


def tool_use_id() -> str:
    return _anthropic_id("toolu_")


def is_uuid(text: str) -> bool:
    parts = text.split("-")
    if [len(p) for p in parts] != [8, 4, 4, 4, 12]:
        return False
    try:
        int("".join(parts), 16)
    except ValueError:
        return False
    return True


def timestamp(epoch: float | None = None) -> str:
    """ISO-8601 UTC with milliseconds, like JavaScript's Date.toISOString()."""
    epoch = time.time() if epoch is None else epoch
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"
