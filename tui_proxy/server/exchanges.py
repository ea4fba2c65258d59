"""Open and close exchanges from the HTTP side: what came in, what went out, and errors."""

from __future__ import annotations

import json

from aiohttp import web

from ..capture.redact import redact_headers, redact_path
from ..events import ErrorInfo, ExchangeFinished, RequestReceived, ResponseChunk, ResponseStarted
from ..exchange import Exchange
from ..errors import ProxyError
from .aimed_at import wants_anthropic
from .face import ErrorShape
from .keys import ENGINE, EXCHANGE
from .quota_headers import quota_headers

REPLAY_HEADER = "X-Replay-Of"


def begin_exchange(request: web.Request, body: bytes, *, model: str | None = None, stream: bool = False) -> Exchange:
    """The exchange of this request, announced with its body. Once per request."""
    existing = request.get(EXCHANGE)
    if existing is not None:
        return existing
    engine = request.app[ENGINE]
    exchange = engine.new_exchange()
    exchange.model = model
    exchange.stream = stream
    request[EXCHANGE] = exchange
    exchange.publish(
        RequestReceived,
        method=request.method,
        path=redact_path(request.path_qs),
        headers={_text(name): _text(value) for name, value in redact_headers(request.headers).items()},
        body=body,
        client=_text(request.headers.get("User-Agent", "")),
        remote=request.remote or "",
        model=model,
        stream=stream,
        replay_of=request.headers.get(REPLAY_HEADER) or None,
    )
    return exchange


def _text(value: str) -> str:
    """Header bytes that are not UTF-8 reach us as lone surrogates (surrogateescape), which
    no UTF-8 consumer (captures, the console) can encode: show them as U+FFFD instead."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def peek_model_and_stream(body: object) -> tuple[str | None, bool]:
    """For the request row: shown even when the body is then rejected."""
    if isinstance(body, dict):
        model = body.get("model")
        return (model if isinstance(model, str) else None), body.get("stream") is True
    return None, False


def response_headers(request: web.Request, exchange: Exchange) -> dict[str, str]:
    """Every model response's own headers: the exchange id as `x-request-id` (and as
    `request-id` too for the Anthropic face: its SDKs read that one), and the plan's windows as
    known now. Part of the headers the exchange records, so captures show them."""
    engine = request.app[ENGINE]
    ids = {"x-request-id": exchange.id, "request-id": exchange.id} if wants_anthropic(request) else {"x-request-id": exchange.id}
    return {**ids, **quota_headers(engine.quota, exchange.clock())}


async def send_error(request: web.Request, exchange: Exchange, error: ProxyError, shape: ErrorShape) -> web.Response:
    """Answer an error in `shape`, record it, close the exchange."""
    status = shape.status(error)
    headers = {**response_headers(request, exchange), **error.headers(), "Content-Type": "application/json"}
    body = shape.body(error)
    response = web.Response(status=status, body=body, headers=headers)
    exchange.publish(ResponseStarted, status=status, headers=headers, streaming=False)
    exchange.publish(ResponseChunk, data=body.decode())
    try:
        await response.prepare(request)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass
    close_exchange(exchange, status=status, error=error.info(shape.type(error), status))
    return response


def close_exchange(exchange: Exchange, *, status: int, error: ErrorInfo | None = None, complete: bool = True, **fields) -> None:
    """The exchange's last event, once."""
    if exchange.finished:
        return
    exchange.finished = True
    exchange.publish(
        ExchangeFinished,
        status=status,
        model=exchange.model,
        error=error,
        ttft_ms=exchange.ttft_ms(),
        duration_ms=exchange.elapsed_ms(),
        complete=complete,
        **fields,
    )


def json_body(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
