"""Who may talk to the proxy: Host and Origin checks (DNS rebinding, web pages), the API key."""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from ..config import Config
from ..openai.errors import ApiError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Guard:
    def __init__(self, config: Config) -> None:
        self.api_key = config.api_key.encode() if config.api_key else None
        self.any_host = config.host in ("0.0.0.0", "::", "")
        self.allowed_hosts = {h.lower() for h in (*LOOPBACK_NAMES, config.host, *config.allowed_hosts)}

    def check(self, request: web.Request) -> None:
        host = _hostname(request.host)
        if not self.any_host and host not in self.allowed_hosts and not is_loopback(host):
            # A page on evil.example resolving to 127.0.0.1 sends `Host: evil.example`.
            raise ApiError(403, f"Host {request.host!r} is not allowed (DNS rebinding protection). Add it with --allowed-host.", type="permission_error", code="host_not_allowed", retryable=False)
        origin = request.headers.get("Origin")
        if origin is not None and not self._origin_allowed(origin):
            raise ApiError(403, f"Requests from web pages ({origin}) are not allowed.", type="permission_error", code="origin_not_allowed", retryable=False)
        if self.api_key is not None:
            self._check_key(request.headers.get("Authorization", ""))

    def _origin_allowed(self, origin: str) -> bool:
        if origin == "null":
            return False
        host = (urlsplit(origin).hostname or "").lower()
        return host in self.allowed_hosts or is_loopback(host)

    def _check_key(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        given = token.strip().encode() if scheme.lower() == "bearer" else b""
        # compare_digest: no timing hint about how much of the key matched.
        if not hmac.compare_digest(given, self.api_key or b""):
            raise ApiError(401, "Incorrect API key provided. Send `Authorization: Bearer <key>` with the key given to claude-max-tui.", type="invalid_request_error", code="invalid_api_key", retryable=False)


def _hostname(host_header: str | None) -> str:
    host = (host_header or "").lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
