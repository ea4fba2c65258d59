"""Who may talk to the proxy: Host and Origin checks (DNS rebinding, web pages), the API key."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from ..config import Config
from ..errors import ProxyError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


class Guard:
    def __init__(self, config: Config) -> None:
        self.api_key_digest = _digest(config.api_key) if config.api_key else None
        #: Bound to every interface: clients may use any of the machine's addresses.
        self.any_address = config.host in ("0.0.0.0", "::", "")
        self.allowed_hosts = {h.lower() for h in (*LOOPBACK_NAMES, config.host, *config.allowed_hosts)}

    def check(self, request: web.Request) -> None:
        host = _hostname(request.host)
        if not self._host_allowed(host):
            # DNS rebinding: a page on evil.example that re-resolves to 127.0.0.1 reaches
            # us with `Host: evil.example`. Only names we were told about pass.
            raise ProxyError(403, f"Host {request.host!r} is not allowed (DNS rebinding protection). Add it with --allowed-host.", kind="permission", code="host_not_allowed", retryable=False)
        origin = request.headers.get("Origin")
        if origin is not None and not self._origin_allowed(origin, request.host):
            raise ProxyError(403, f"Requests from web pages ({origin}) are not allowed.", kind="permission", code="origin_not_allowed", retryable=False)
        if self.api_key_digest is not None:
            self._check_key(request.headers.get("Authorization", ""), request.headers.get("x-api-key"))

    def _host_allowed(self, host: str) -> bool:
        if host in self.allowed_hosts or is_loopback(host):
            return True
        # A rebinding attack needs a domain name; an address typed as such is never one.
        return self.any_address and is_ip_literal(host)

    def _origin_allowed(self, origin: str, host_header: str | None) -> bool:
        """Only the proxy's own origin (the scheme-host-port the request was sent to): a page
        on another localhost port is another web application, as foreign as any site."""
        if origin == "null":
            return False
        try:
            parts = urlsplit(origin)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not (host in self.allowed_hosts or is_loopback(host)):
            return False
        own_host, own_port = _host_and_port(host_header)
        return host == own_host and port == (own_port or 80)

    def _check_key(self, authorization: str, x_api_key: str | None) -> None:
        scheme, _, token = authorization.partition(" ")
        absent = bytes(32)  # a missing credential: same length as a digest, matches no key
        bearer = _digest(token.strip()) if scheme.lower() == "bearer" else absent
        # Anthropic's clients send the key as `x-api-key` (ANTHROPIC_API_KEY), OpenAI's as a
        # bearer token (so do ANTHROPIC_AUTH_TOKEN setups): either one carrying the key will do.
        header = _digest(x_api_key.strip()) if x_api_key is not None else absent
        # Constant time: digests of equal length, compared with compare_digest (both, always),
        # give no hint of how much of the key (or its length) matched.
        expected = self.api_key_digest or b""
        if not (hmac.compare_digest(bearer, expected) | hmac.compare_digest(header, expected)):
            raise ProxyError(401, "Incorrect API key provided. Send `Authorization: Bearer <key>` (or `x-api-key: <key>`) with the key given to claude-max-tui.", code="invalid_api_key", retryable=False)


def _digest(key: str) -> bytes:
    # surrogateescape: header bytes that are not UTF-8 arrive as lone surrogates.
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def _host_and_port(host_header: str | None) -> tuple[str, int | None]:
    """(hostname, port) of a Host header, the hostname as `urlsplit` gives it."""
    try:
        parts = urlsplit("//" + (host_header or ""))
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def _hostname(host_header: str | None) -> str:
    host = (host_header or "").lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
