"""Replay from the console: send an exchange's request again through this proxy.

The new exchange arrives on the bus like any other (a new row, live), marked
`replay_of` the original through the proxy's X-Replay-Of header. Captured secrets
were redacted, so the proxy's own key (if it has one) stands in for them.
"""

from __future__ import annotations

import aiohttp

from ..capture.resend import resend_headers
from ..replay import REPLAY_HEADER
from .state import ExchangeView


class ReplayRefused(ValueError):
    pass


def replay_headers(view: ExchangeView, api_key: str | None) -> dict[str, str]:
    headers = {k: v for k, v in resend_headers(view.headers).items() if "redacted" not in v.lower()}
    headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "host", "content-length")}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    headers[REPLAY_HEADER] = view.id
    return headers


async def resend(view: ExchangeView, base_url: str, api_key: str | None, on_started) -> int:
    """Send it; call `on_started(new_id)` once the headers are back; read to the end. The status."""
    if view.in_flight:
        raise ReplayRefused(f"{view.id} is still running: replay it once it has finished")
    if not view.path:
        raise ReplayRefused(f"{view.id} has no request to replay")
    if view.body_cut:
        raise ReplayRefused(f"{view.id}'s body was cut in memory: replay it from the capture store (claude-max-tui replay)")
    async with aiohttp.ClientSession() as session:
        async with session.request(view.method, base_url.rstrip("/") + view.path, data=view.body or None, headers=replay_headers(view, api_key)) as response:
            on_started(response.headers.get("x-request-id"))
            # Read like a client would: the stream flows and the row fills in live.
            async for _ in response.content.iter_any():
                pass
            return response.status
