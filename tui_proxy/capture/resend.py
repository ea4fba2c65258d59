"""What of a captured request is sent again, by a replay or an exported curl command."""

from __future__ import annotations

from typing import Mapping

from .model import Capture, header_value
from .redact import REDACTED

#: Set by whoever sends again (HTTP client, curl), or meaningless on another hop.
_NOT_RESENT = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding",
     "te", "upgrade", "proxy-connection", "expect", "x-replay-of"}
)


def resend_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The captured headers minus hop-by-hop ones and values that were redacted."""
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in _NOT_RESENT and value != REDACTED
    }


def had_authorization(headers: Mapping[str, str]) -> bool:
    return any(name.lower() == "authorization" for name in headers)


def base_url(capture: Capture, default: str = "http://127.0.0.1:3456") -> str:
    """Where the request went: its Host header, else `default`."""
    host = header_value(capture.request_headers, "host")
    return f"http://{host}" if host else default.rstrip("/")


def body_text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")
