"""Realistic synthetic exchanges as bus events, for tests and the store-size bench.

They follow what the engine publishes for a streamed chat completion: the request, the
CLI spawn with its stream-json stdin, one stdout line per CLI event, token deltas, the
SSE chunks sent, the exit and the finish, plus failure variants.
"""

from __future__ import annotations

import json
import time
from typing import Literal

from ..events import (
    CliExited,
    CliSpawned,
    CliStderr,
    CliStdout,
    ErrorInfo,
    Event,
    ExchangeFinished,
    RequestReceived,
    ResponseChunk,
    ResponseStarted,
    TokenDelta,
    Usage,
)
from ..ids import new_exchange_id

Outcome = Literal["ok", "cli_error", "rejected", "disconnect"]

ARGV = (
    "/usr/local/bin/claude", "-p", "--output-format", "stream-json", "--verbose",
    "--include-partial-messages", "--input-format", "stream-json", "--model", "sonnet",
    "--tools=", "--strict-mcp-config", "--setting-sources=", "--no-session-persistence",
)
REQUEST_HEADERS = {
    "Host": "127.0.0.1:3456",
    "Content-Type": "application/json",
    "Authorization": "Bearer sk-live-secret-key",
    "User-Agent": "OpenAI/Python 1.60.0",
    "X-Stainless-Lang": "python",
    "Cookie": "session=abc123",
}


def exchange_events(
    exchange_id: str | None = None,
    *,
    start: float | None = None,
    stream: bool = True,
    words: int = 40,
    prompt: str = "Summarise the plot of Hamlet in a few sentences.",
    outcome: Outcome = "ok",
    replay_of: str | None = None,
) -> list[Event]:
    """Every event of one exchange, in order, timed from `start` (default: now)."""
    start = time.time() if start is None else start
    xid = exchange_id or new_exchange_id(start)
    clock = _Clock(start)
    body = json.dumps(
        {
            "model": "claude-sonnet-4-5",
            "stream": stream,
            "messages": [
                {"role": "system", "content": "You are a concise literary assistant."},
                {"role": "user", "content": prompt},
            ],
        }
    ).encode()
    events: list[Event] = [
        RequestReceived(
            xid, clock(), method="POST", path="/v1/chat/completions", headers=dict(REQUEST_HEADERS),
            body=body, client="OpenAI/Python 1.60.0", remote="127.0.0.1", model="claude-sonnet-4-5",
            stream=stream, replay_of=replay_of,
        )
    ]
    if outcome == "rejected":
        error = ErrorInfo(400, "invalid_request_error", "messages must not be empty", param="messages")
        events += _error_response(xid, clock, error)
        return events

    stdin = json.dumps(
        {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": prompt}]},
         "parent_tool_use_id": None, "session_id": ""}
    )
    events.append(CliSpawned(xid, clock(), argv=ARGV, pid=4242, stdin=stdin, cwd="/tmp/run", system_prompt="You are a concise literary assistant."))
    events.append(CliStdout(xid, clock(40), (json.dumps({"type": "system", "subtype": "init", "session_id": "s-1", "model": "claude-sonnet-4-5", "tools": []}),)))
    if outcome == "cli_error":
        events.append(CliStderr(xid, clock(), "Error: API Error: 529 overloaded_error\n"))
        events.append(CliExited(xid, clock(), returncode=1))
        error = ErrorInfo(503, "server_error", "The model is overloaded", source="cli", stderr_tail="Error: API Error: 529 overloaded_error")
        events += _error_response(xid, clock, error)
        return events

    events.append(ResponseStarted(xid, clock(), status=200, headers={"Content-Type": "text/event-stream" if stream else "application/json", "X-Request-Id": xid}, streaming=stream))
    first_token_at = None
    pieces = [f"word{i} " for i in range(words)]
    if outcome == "disconnect":
        pieces = pieces[: words // 2]
    for i, piece in enumerate(pieces):
        at = clock(25)
        first_token_at = first_token_at or at
        events.append(CliStdout(xid, at, (json.dumps({"type": "stream_event", "event": {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}, "session_id": "s-1", "parent_tool_use_id": None, "uuid": f"u-{i}"}),)))
        events.append(TokenDelta(xid, at, kind="text", text=piece))
        if stream:
            events.append(ResponseChunk(xid, at, _chunk(xid, {"content": piece})))
    text = "".join(pieces)
    usage = Usage(prompt_tokens=25, completion_tokens=len(pieces), cached_tokens=0)
    if outcome == "disconnect":
        events.append(CliExited(xid, clock(), returncode=-15, killed_because="disconnect"))
        error = ErrorInfo(499, "client_disconnected", "the client went away", source="disconnect")
        events.append(ExchangeFinished(xid, clock(), status=200, model="claude-sonnet-4-5", error=error, text=text, ttft_ms=(first_token_at - start) * 1000, duration_ms=clock.elapsed_ms(), complete=False))
        return events
    events.append(CliStdout(xid, clock(), (json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": text, "usage": {"input_tokens": 25, "output_tokens": len(pieces)}, "total_cost_usd": 0.0012}),)))
    if stream:
        events.append(ResponseChunk(xid, clock(), _chunk(xid, {}, finish_reason="stop")))
        events.append(ResponseChunk(xid, clock(), "[DONE]"))
    else:
        events.append(ResponseChunk(xid, clock(), json.dumps({"id": f"chatcmpl-{xid}", "object": "chat.completion", "model": "claude-sonnet-4-5", "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 25, "completion_tokens": len(pieces), "total_tokens": 25 + len(pieces)}})))
    events.append(CliExited(xid, clock(), returncode=0))
    events.append(ExchangeFinished(xid, clock(), status=200, model="claude-sonnet-4-5", finish_reason="stop", usage=usage, text=text, ttft_ms=(first_token_at - start) * 1000, duration_ms=clock.elapsed_ms()))
    return events


def _error_response(xid: str, clock: _Clock, error: ErrorInfo) -> list[Event]:
    body = json.dumps({"error": {"message": error.message, "type": error.type, "param": error.param, "code": error.code}})
    return [
        ResponseStarted(xid, clock(), status=error.status, headers={"Content-Type": "application/json", "X-Request-Id": xid}, streaming=False),
        ResponseChunk(xid, clock(), body),
        ExchangeFinished(xid, clock(), status=error.status, error=error, duration_ms=clock.elapsed_ms()),
    ]


def _chunk(xid: str, delta: dict[str, str], finish_reason: str | None = None) -> str:
    return json.dumps({"id": f"chatcmpl-{xid}", "object": "chat.completion.chunk", "model": "claude-sonnet-4-5", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})


class _Clock:
    """Each call moves time on by `step_ms` and returns it."""

    def __init__(self, start: float) -> None:
        self.start = self.now = start

    def __call__(self, step_ms: float = 1.0) -> float:
        self.now += step_ms / 1000
        return self.now

    def elapsed_ms(self) -> float:
        return (self.now - self.start) * 1000
