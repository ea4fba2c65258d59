"""Replay: send a captured request again, optionally with an edited body.

The proxy records the replay as a new capture linked to the original (it reads the
`X-Replay-Of` header) and names it in `x-request-id`. What the client saw is kept too,
so a diff is possible even when the new capture cannot be read from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from urllib.parse import urlsplit

import aiohttp

from ..capture.model import Capture, CaptureState, TimedLine, header_value
from ..capture.resend import resend_headers
from ..capture.store import CaptureStore
from ..config import Config, env_value
from ..events import ErrorInfo, Usage
from ..server.guard import is_loopback

REPLAY_HEADER = "X-Replay-Of"


def configured_url(port: int | None = None) -> str | None:
    """The proxy's address as set for this shell (`port`, else `$CLAUDE_MAX_TUI_PORT` and
    `$CLAUDE_MAX_TUI_HOST`), or None when nothing says where it runs."""
    host, env_port = env_value("host"), env_value("port")
    if port is None and env_port is None and host is None:
        return None
    defaults = Config()
    host = host or defaults.host
    if host in ("0.0.0.0", "::", ""):  # a wildcard bind is reached on loopback
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port or int(env_port or defaults.port)}"


def target_url(capture: Capture, *, to: str | None = None, configured: str | None = None) -> tuple[str, str]:
    """Where a replay or an exported curl command sends `capture`'s request, and why.

    `to` if given; else `configured` (the port the proxy runs on now, when the user said
    so); else the captured Host, where the original went, if it is a loopback address (a
    Host naming another machine is whatever the client wrote, perhaps a request the guard
    refused: never followed on its own with a key); else the default local address.
    """
    if to:
        return to.rstrip("/"), "--to"
    if configured:
        return configured, "the configured port"
    host = header_value(capture.request_headers, "host") or ""
    try:
        parts = urlsplit("http://" + host)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is not None and parts.hostname and is_loopback(parts.hostname) and "@" not in host:
        shown = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"http://{shown}" + (f":{port}" if port else ""), "the captured Host"
    return f"http://127.0.0.1:{Config().port}", "the default address"


class ReplayRefused(ValueError):
    """The capture cannot be replayed (it is still in progress)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a response said, read from its OpenAI-shaped body or SSE chunks."""

    text: str = ""
    finish_reason: str | None = None
    model: str | None = None
    usage: Usage | None = None
    error: ErrorInfo | None = None
    #: Client tools the model called: (call id, function name, arguments as JSON text).
    tool_calls: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ReplayResult:
    original_id: str
    #: The new capture's id, from the response's `x-request-id` (None if absent).
    new_id: str | None
    url: str
    request_body: bytes
    status: int
    headers: dict[str, str]
    streaming: bool
    #: The raw body (non-streaming) or the SSE text as received (streaming).
    body: bytes
    #: SSE `data:` payloads with the time each arrived.
    chunks: tuple[TimedLine, ...]
    started_at: float
    ttft_ms: float | None
    duration_ms: float
    answer: Answer

    def as_capture(self, original: Capture) -> Capture:
        """The exchange as the client saw it, shaped like a capture, to diff against."""
        return Capture(
            id=self.new_id or f"{original.id}-replay",
            started_at=self.started_at,
            method=original.method,
            path=original.path,
            client="claude-max-tui replay",
            model=self.answer.model,
            stream=self.streaming,
            status=self.status,
            ttft_ms=self.ttft_ms,
            duration_ms=self.duration_ms,
            prompt_tokens=None if self.answer.usage is None else self.answer.usage.prompt_tokens,
            completion_tokens=None if self.answer.usage is None else self.answer.usage.completion_tokens,
            finish_reason=self.answer.finish_reason,
            error_type=None if self.answer.error is None else self.answer.error.type,
            error_message=None if self.answer.error is None else self.answer.error.message,
            replay_of=original.id,
            state=CaptureState.COMPLETE,
            request_headers=dict(original.request_headers),
            request_body=self.request_body,
            response_status=self.status,
            response_headers=self.headers,
            response_streaming=self.streaming,
            chunks=self.chunks if self.streaming else (TimedLine(self.started_at, self.body.decode("utf-8", "replace")),),
            text=self.answer.text,
            usage=self.answer.usage,
            error=self.answer.error,
            tool_calls=self.answer.tool_calls,
        )


async def replay(
    capture: Capture,
    *,
    to_url: str,
    body_override: bytes | None = None,
    api_key: str | None = None,
    timeout: float = 900.0,
    session: aiohttp.ClientSession | None = None,
) -> ReplayResult:
    """Send `capture`'s request to `to_url` + its path; read the answer (SSE if streamed).

    Pass a `session` to reuse its connections (and keep them open after the answer, as
    pooled clients such as the openai SDK do); otherwise one is made for this call.
    """
    if capture.in_progress:
        raise ReplayRefused(f"{capture.id} is still in progress")
    url = to_url.rstrip("/") + capture.path
    headers = resend_headers(capture.request_headers)
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    headers[REPLAY_HEADER] = capture.id
    body = capture.request_body if body_override is None else body_override
    started_at = time.time()
    clock = time.perf_counter
    t0 = clock()
    async with contextlib.AsyncExitStack() as stack:
        if session is None:
            session = await stack.enter_async_context(aiohttp.ClientSession())
        request = session.request(
            capture.method, url, data=body or None, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        )
        async with request as response:
            streaming = (response.content_type or "") == "text/event-stream"
            chunks: list[TimedLine] = []
            ttft_ms: float | None = None
            if streaming:
                raw = bytearray()
                async for data in _sse_data(response, raw):
                    chunks.append(TimedLine(time.time(), data))
                    if ttft_ms is None and _chunk_has_output(data):
                        ttft_ms = (clock() - t0) * 1000
                payload = bytes(raw)
            else:
                payload = await response.read()
            duration_ms = (clock() - t0) * 1000
            answer = read_answer(chunks, payload, streaming)
            return ReplayResult(
                original_id=capture.id,
                new_id=response.headers.get("x-request-id"),
                url=url,
                request_body=body,
                status=response.status,
                headers=dict(response.headers),
                streaming=streaming,
                body=payload,
                chunks=tuple(chunks),
                started_at=started_at,
                ttft_ms=ttft_ms,
                duration_ms=duration_ms,
                answer=answer,
            )


async def await_capture(store: CaptureStore, exchange_id: str, *, timeout: float = 30.0) -> Capture | None:
    """Wait until the proxy has finished writing `exchange_id`; None if it never shows up."""
    deadline = time.monotonic() + timeout
    while True:
        capture = await store.aget(exchange_id)
        if capture is not None and not capture.in_progress:
            return capture
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.1)


def edit_in_editor(body: bytes, *, editor: str | None = None) -> bytes:
    """Open `$VISUAL`/`$EDITOR` (else vi) on a private copy of `body`; return what was saved.

    Blocking and takes over the terminal: a console suspends itself around it.
    """
    command = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="claude-max-tui-") as directory:  # 0700
        path = os.path.join(directory, "request.json")
        with open(path, "wb") as file:
            file.write(_pretty_json(body))
        subprocess.run([*shlex.split(command), path], check=True)
        with open(path, "rb") as file:
            return file.read()


def read_answer(chunks: list[TimedLine] | tuple[TimedLine, ...], body: bytes, streaming: bool) -> Answer:
    """Answer text, finish reason, model, usage and error from chat completions,
    legacy completions, responses or Anthropic messages bodies (or their SSE chunks)."""
    if streaming:
        objects = [obj for obj in (_json(c.text) for c in chunks) if isinstance(obj, dict)]
    else:
        obj = _json(body.decode("utf-8", "replace"))
        objects = [obj] if isinstance(obj, dict) else []
    text: list[str] = []
    finish_reason = model = None
    usage: Usage | None = None
    error: ErrorInfo | None = None
    calls = _ToolCalls()
    for obj in objects:
        if obj.get("type") == "response.output_text.delta":  # responses API stream
            text.append(obj.get("delta") or "")
            continue
        anthropic = _anthropic_piece(obj, calls)
        if anthropic is not None:  # an Anthropic message or one of its stream events
            piece, stop, model, piece_usage = anthropic.text, anthropic.stop or finish_reason, anthropic.model or model, anthropic.usage
            text.append(piece)
            finish_reason = stop
            if piece_usage is not None:  # message_start has the prompt, message_delta the output
                usage = piece_usage if usage is None else Usage(max(usage.prompt_tokens, piece_usage.prompt_tokens), piece_usage.completion_tokens, max(usage.cached_tokens, piece_usage.cached_tokens))
            if anthropic.error is not None:
                error = anthropic.error
            continue
        # Responses API stream events wrap the response object; its output repeats the deltas.
        wrapped = isinstance(obj.get("response"), dict)
        if wrapped:
            obj = obj["response"]
        model = obj.get("model") or model
        if isinstance(obj.get("error"), dict):
            e = obj["error"]
            error = ErrorInfo(status=0, type=str(e.get("type") or ""), message=str(e.get("message") or ""), code=e.get("code"), param=e.get("param"))
        for choice in obj.get("choices") or ():  # chat completions (chunks), legacy completions
            message = choice.get("delta") or choice.get("message") or {}
            text.append(message.get("content") or choice.get("text") or "")
            finish_reason = choice.get("finish_reason") or finish_reason
            for position, call in enumerate(message.get("tool_calls") or ()):
                calls.add_chat(call, position)
        if obj.get("object") == "response":
            finish_reason = obj.get("status") or finish_reason
            calls.set_response_output(obj.get("output") or ())
            if not wrapped:
                text += [
                    part.get("text") or ""
                    for item in obj.get("output") or ()
                    for part in item.get("content") or ()
                    if part.get("type") == "output_text"
                ]
        if isinstance(obj.get("usage"), dict):
            usage = _usage(obj["usage"])
    return Answer("".join(text), finish_reason, model, usage, error, calls.result())


@dataclass(slots=True)
class _AnthropicPiece:
    text: str = ""
    stop: str | None = None
    model: str | None = None
    usage: Usage | None = None
    error: ErrorInfo | None = None


def _anthropic_piece(obj: dict[str, Any], calls: "_ToolCalls") -> _AnthropicPiece | None:
    """What an Anthropic `message` (or a stream event of one) says of the answer; None for
    anything else."""
    kind = obj.get("type")
    if kind == "message" and obj.get("role") == "assistant":
        for position, block in enumerate(obj.get("content") or ()):
            if isinstance(block, dict) and block.get("type") == "tool_use":
                calls.add_chat({"index": position, "id": block.get("id"), "function": {"name": block.get("name"), "arguments": json.dumps(block.get("input"))}}, position)
        text = "".join(b.get("text") or "" for b in obj.get("content") or () if isinstance(b, dict) and b.get("type") == "text")
        return _AnthropicPiece(text, obj.get("stop_reason"), obj.get("model"), _anthropic_usage(obj.get("usage")))
    if kind == "message_start":
        message = obj.get("message") or {}
        return _AnthropicPiece(model=message.get("model"), usage=_anthropic_usage(message.get("usage")))
    if kind == "content_block_start":
        block = obj.get("content_block") or {}
        if block.get("type") == "tool_use":
            calls.add_chat({"index": obj.get("index"), "id": block.get("id"), "function": {"name": block.get("name")}}, 0)
        return _AnthropicPiece()
    if kind == "content_block_delta":
        delta = obj.get("delta") or {}
        if delta.get("type") == "input_json_delta":
            calls.add_chat({"index": obj.get("index"), "function": {"arguments": delta.get("partial_json") or ""}}, 0)
        return _AnthropicPiece(text=delta.get("text") or "" if delta.get("type") == "text_delta" else "")
    if kind == "message_delta":
        return _AnthropicPiece(stop=(obj.get("delta") or {}).get("stop_reason"), usage=_anthropic_usage(obj.get("usage")))
    if kind == "error" and isinstance(obj.get("error"), dict):
        e = obj["error"]
        return _AnthropicPiece(error=ErrorInfo(status=0, type=str(e.get("type") or ""), message=str(e.get("message") or "")))
    if kind in ("content_block_stop", "message_stop", "ping"):
        return _AnthropicPiece()
    return None


def _anthropic_usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict) or "output_tokens" not in usage:
        return None
    prompt = sum(int(usage.get(k) or 0) for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"))
    return Usage(prompt_tokens=prompt, completion_tokens=int(usage.get("output_tokens") or 0), cached_tokens=int(usage.get("cache_read_input_tokens") or 0))


class _ToolCalls:
    """Tool calls from chat message/delta `tool_calls` (streamed ones come in pieces, by
    index), Anthropic tool_use blocks, or a responses object's `function_call` items (the
    last object has them all)."""

    def __init__(self) -> None:
        self._chat: dict[int, list[str]] = {}
        self._response: tuple[tuple[str, str, str], ...] = ()

    def add_chat(self, call: dict[str, Any], position: int) -> None:
        index = call.get("index", position)
        function = call.get("function") or {}
        entry = self._chat.setdefault(index, ["", "", ""])
        entry[0] = call.get("id") or entry[0]
        entry[1] = function.get("name") or entry[1]
        entry[2] += function.get("arguments") or ""

    def set_response_output(self, output: Any) -> None:
        self._response = tuple(
            (str(item.get("call_id") or item.get("id") or ""), str(item.get("name") or ""), str(item.get("arguments") or ""))
            for item in output
            if isinstance(item, dict) and item.get("type") == "function_call"
        )

    def result(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(tuple(self._chat[i]) for i in sorted(self._chat)) + self._response  # type: ignore[misc]


def _usage(data: dict[str, Any]) -> Usage:
    prompt_details = data.get("prompt_tokens_details") or data.get("input_tokens_details") or {}
    completion_details = data.get("completion_tokens_details") or data.get("output_tokens_details") or {}
    return Usage(
        prompt_tokens=int(data.get("prompt_tokens", data.get("input_tokens", 0)) or 0),
        completion_tokens=int(data.get("completion_tokens", data.get("output_tokens", 0)) or 0),
        cached_tokens=int(prompt_details.get("cached_tokens", 0) or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens", 0) or 0),
    )


async def _sse_data(response: aiohttp.ClientResponse, raw: bytearray):
    """Yield each SSE event's data (multi-line data joined), keeping the raw text in `raw`."""
    data_lines: list[str] = []
    async for line_bytes in response.content:
        raw += line_bytes
        line = line_bytes.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data_lines:
                yield "\n".join(data_lines)
                data_lines = []
        elif line.startswith("data:"):
            data_lines.append(line[5:].removeprefix(" "))
    if data_lines:
        yield "\n".join(data_lines)


def _chunk_has_output(data: str) -> bool:
    obj = _json(data)
    if not isinstance(obj, dict):
        return False
    if obj.get("type") == "response.output_text.delta":
        return bool(obj.get("delta"))
    return any((c.get("delta") or {}).get("content") or c.get("text") for c in obj.get("choices") or ())


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _pretty_json(body: bytes) -> bytes:
    """Indented for editing when it is JSON; as is otherwise."""
    try:
        return (json.dumps(json.loads(body), indent=2, ensure_ascii=False) + "\n").encode()
    except ValueError:
        return body
