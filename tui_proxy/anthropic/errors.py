"""A `ProxyError` in Anthropic's wire shape: `{"type": "error", "error": {"type", "message"}}`.

Anthropic's types and statuses (https://docs.anthropic.com/en/api/errors): an overloaded
upstream is a 529 `overloaded_error` here (the OpenAI face says 503).
"""

from __future__ import annotations

import json

from ..errors import ProxyError

#: Our kinds as Anthropic's `error.type` strings.
TYPES = {
    "invalid_request": "invalid_request_error",
    "not_found": "not_found_error",
    "too_large": "request_too_large",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "billing": "billing_error",
    "rate_limit": "rate_limit_error",
    "overloaded": "overloaded_error",
    "timeout": "timeout_error",
    "server": "api_error",
}
OVERLOADED_STATUS = 529


def error_type(error: ProxyError) -> str:
    return TYPES[error.kind]


def error_status(error: ProxyError) -> int:
    return OVERLOADED_STATUS if error.kind == "overloaded" else error.status


def error_body(error: ProxyError) -> dict:
    return {"type": "error", "error": {"type": error_type(error), "message": error.message}}


def error_bytes(error: ProxyError) -> bytes:
    return json.dumps(error_body(error), ensure_ascii=False).encode()
