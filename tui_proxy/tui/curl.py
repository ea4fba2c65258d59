"""An exchange the console holds in memory as a curl command (the capture export's rules)."""

from __future__ import annotations

from ..capture.export_curl import curl_command
from .exchange_view import ExchangeView


def as_curl(view: ExchangeView, base_url: str) -> str:
    url = base_url.rstrip("/") + (view.path or "/")
    return curl_command(view.method, url, view.headers, view.body, stream=view.stream)
