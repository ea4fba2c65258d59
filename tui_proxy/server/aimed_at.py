"""Which API face a request was aimed at, from its path and headers alone (also for requests
that never reach a face: unknown routes, refused bodies), so errors and headers match it."""

from __future__ import annotations

from aiohttp import web


def wants_anthropic(request: web.Request) -> bool:
    """Aimed at the Anthropic face: a path under /v1/messages, or an `anthropic-version` header."""
    return request.path == "/v1/messages" or request.path.startswith("/v1/messages/") or "anthropic-version" in request.headers
