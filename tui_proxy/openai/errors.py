"""A `ProxyError` in OpenAI's wire shape: `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ProxyError

#: Our kinds as OpenAI's `type` strings (a wrong key is an `invalid_request_error` there).
TYPES = {
    "invalid_request": "invalid_request_error",
    "not_found": "invalid_request_error",
    "too_large": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "billing": "insufficient_quota",
    "rate_limit": "rate_limit_error",
    "overloaded": "server_error",
    "timeout": "server_error",
    "server": "server_error",
}


def error_type(error: ProxyError) -> str:
    if error.code == "invalid_api_key":
        return "invalid_request_error"  # what OpenAI itself answers for a bad key
    return TYPES[error.kind]


def error_body(error: ProxyError) -> dict[str, Any]:
    return {"error": {"message": error.message, "type": error_type(error), "param": error.param, "code": error.code}}


def error_bytes(error: ProxyError) -> bytes:
    return json.dumps(error_body(error), ensure_ascii=False).encode()
