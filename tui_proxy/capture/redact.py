"""Secrets never reach the disk: header values that carry credentials are replaced.

The engine redacts before publishing too; the store does it again so it never depends
on that.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping
from urllib.parse import parse_qsl, quote

REDACTED = "[redacted]"

_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        # Not credentials by name, but they tie a request to an account.
        "openai-organization",
        "openai-project",
    }
)
#: Name parts that make a header look like it carries a credential (`x-goog-api-key`,
#: `x-auth-token`, `anthropic-api-key`, `x-amz-security-token`...). Whole parts only,
#: so `x-ratelimit-remaining-tokens` or `keep-alive` stay readable.
_SECRET_PARTS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "auth", "authentication", "credential", "credentials", "signature", "sig"}
)
_SPLIT = re.compile(r"[-_.]")


@lru_cache(maxsize=1024)  # a few names, asked for at each request (bounded: clients choose them)
def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    if lowered in _SECRET_HEADERS:
        return True
    return any(part in _SECRET_PARTS for part in _SPLIT.split(lowered))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: REDACTED if is_secret_header(name) else value for name, value in headers.items()}


def redact_path(path_qs: str) -> str:
    """A request path with the values of key-like query parameters (`?api_key=`, `token`,
    `key`...) replaced: some clients put the key in the URL."""
    path, sep, query = path_qs.partition("?")
    if not sep or not query:
        return path_qs
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        shown = REDACTED if is_secret_header(name) else value
        parts.append(f"{quote(name, safe='')}={quote(shown, safe='[]')}")
    return f"{path}?{'&'.join(parts)}"
