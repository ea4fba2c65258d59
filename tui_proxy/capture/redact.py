"""Secrets never reach the disk: header values that carry credentials are replaced.

The engine redacts before publishing too; the store does it again so it never depends
on that.
"""

from __future__ import annotations

import re
from typing import Mapping

REDACTED = "[redacted]"

_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
    }
)
#: Name parts that make a header look like it carries a credential (`x-goog-api-key`,
#: `x-auth-token`, `anthropic-api-key`, `x-amz-security-token`...). Whole parts only,
#: so `x-ratelimit-remaining-tokens` or `keep-alive` stay readable.
_SECRET_PARTS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "auth", "credential", "credentials", "signature"}
)
_SPLIT = re.compile(r"[-_.]")


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    if lowered in _SECRET_HEADERS:
        return True
    return any(part in _SECRET_PARTS for part in _SPLIT.split(lowered))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: REDACTED if is_secret_header(name) else value for name, value in headers.items()}
