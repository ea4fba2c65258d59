"""Secrets never reach the disk, whatever the engine did before publishing."""

from __future__ import annotations

import dataclasses

import pytest

from tui_proxy.capture import CaptureStore
from tui_proxy.capture.redact import REDACTED, is_secret_header, redact_headers
from tui_proxy.capture.synthetic import exchange_events
from tui_proxy.events import EventBus, RequestReceived, ResponseStarted


@pytest.mark.parametrize(
    "name",
    ["Authorization", "authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "x-api-key",
     "api-key", "X-Goog-Api-Key", "anthropic-api-key", "x-auth-token", "X-Amz-Security-Token",
     "openai_api_key", "X-Client-Secret", "x-apikey"],
)
def test_secret_headers(name):
    assert is_secret_header(name)


@pytest.mark.parametrize(
    "name",
    ["Content-Type", "User-Agent", "Keep-Alive", "x-ratelimit-remaining-tokens", "X-Stainless-Lang",
     "session-id", "X-Request-Id", "Accept"],
)
def test_plain_headers(name):
    assert not is_secret_header(name)


def test_redact_keeps_names_and_order():
    assert redact_headers({"A": "1", "Authorization": "Bearer x"}) == {"A": "1", "Authorization": REDACTED}


def test_stored_request_and_response_headers_are_redacted(tmp_path):
    events = exchange_events()
    request = events[0]
    assert isinstance(request, RequestReceived)
    headers = dict(request.headers, **{"x-api-key": "k-123", "X-Custom-Token": "t-456"})
    events[0] = dataclasses.replace(request, headers=headers)
    index = next(i for i, e in enumerate(events) if isinstance(e, ResponseStarted))
    events[index] = dataclasses.replace(events[index], headers={"Set-Cookie": "s=1", "X-Request-Id": "r"})
    with CaptureStore.open(tmp_path / "c.sqlite3") as store:
        bus = EventBus()
        store.record(bus)
        for event in events:
            bus.publish(event)
        store.flush()
        capture = store.get(request.exchange_id)
    assert capture.request_headers["Authorization"] == REDACTED
    assert capture.request_headers["Cookie"] == REDACTED
    assert capture.request_headers["x-api-key"] == REDACTED
    assert capture.request_headers["X-Custom-Token"] == REDACTED
    assert capture.request_headers["User-Agent"] == "OpenAI/Python 1.60.0"
    assert capture.response_headers == {"Set-Cookie": REDACTED, "X-Request-Id": "r"}
    raw = (tmp_path / "c.sqlite3").read_bytes() + (tmp_path / "c.sqlite3-wal").read_bytes()
    for secret in (b"sk-live-secret-key", b"k-123", b"t-456", b"abc123"):
        assert secret not in raw
