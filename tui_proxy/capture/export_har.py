"""Captures as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), for HAR viewers.

Fields HAR has no place for (the CLI transcript, state, replay link, usage) go in
`_`-prefixed custom fields, which the spec allows.
"""

from __future__ import annotations

from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlsplit

from .. import __version__
from .export_json import to_plain
from .model import Capture, header_value
from .resend import base_url, body_text

HTTP_VERSION = "HTTP/1.1"


def to_har(captures: Iterable[Capture], *, url: str | None = None) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "claude-max-tui", "version": __version__},
            "entries": [_entry(capture, url) for capture in captures],
        }
    }


def _entry(capture: Capture, url: str | None) -> dict[str, Any]:
    target = (url.rstrip("/") if url else base_url(capture)) + capture.path
    send, wait, receive = _timings(capture)
    return {
        "startedDateTime": datetime.fromtimestamp(capture.started_at, timezone.utc).isoformat(timespec="milliseconds"),
        "time": send + wait + receive,
        "request": _request(capture, target),
        "response": _response(capture),
        "cache": {},
        "timings": {"send": send, "wait": wait, "receive": receive},
        "_exchangeId": capture.id,
        "_state": capture.state.value,
        "_replayOf": capture.replay_of,
        "_usage": to_plain(capture.usage),
        "_error": to_plain(capture.error),
        "_cli": {
            "argv": list(capture.cli_argv),
            "stdin": capture.cli_stdin,
            "stdout": [{"at": line.at, "text": line.text} for line in capture.stdout],
            "stderr": capture.stderr_text,
            "exitCode": capture.exit_code,
        },
    }


def _request(capture: Capture, target: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": capture.method,
        "url": target,
        "httpVersion": HTTP_VERSION,
        "cookies": [],  # Cookie headers are redacted before they are stored
        "headers": _headers(capture.request_headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(target).query, keep_blank_values=True)],
        "headersSize": -1,
        "bodySize": len(capture.request_body),
    }
    if capture.request_body:
        request["postData"] = {
            "mimeType": header_value(capture.request_headers, "content-type") or "application/json",
            "text": body_text(capture.request_body),
        }
    return request


def _response(capture: Capture) -> dict[str, Any]:
    body = capture.response_body
    status = capture.status or capture.response_status or 0  # 0: no answer (yet)
    mime = header_value(capture.response_headers, "content-type") or (
        "text/event-stream" if capture.response_streaming else "application/json"
    )
    size = len(body.encode("utf-8"))
    return {
        "status": status,
        "statusText": _status_text(status),
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": _headers(capture.response_headers),
        "content": {"size": size, "mimeType": mime, "text": body},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": size if capture.chunks else -1,
        "_chunks": [{"at": chunk.at, "data": chunk.text} for chunk in capture.chunks],
    }


def _timings(capture: Capture) -> tuple[float, float, float]:
    """send, wait (to the first byte of the answer), receive, in ms; never negative."""
    total = max(capture.duration_ms or 0.0, 0.0)
    if capture.stream and capture.ttft_ms is not None:
        wait = capture.ttft_ms
    elif capture.response_started_at is not None:
        wait = (capture.response_started_at - capture.started_at) * 1000
    else:
        wait = total
    wait = min(max(wait, 0.0), total)
    return 0.0, round(wait, 3), round(total - wait, 3)


def _headers(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
