"""The aiohttp application: routes, and the middlewares every request passes."""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web

from ..openai.errors import ApiError
from .admission import check_prompt_size
from .chat_completions import chat_completions
from .exchanges import begin_exchange, finish, peek_model_and_stream, send_error
from .guard import Guard
from .keys import ENGINE, EXCHANGE
from .routes_info import health, list_models, retrieve_model

log = logging.getLogger(__name__)


def make_web_app(engine) -> web.Application:
    guard = Guard(engine.config)
    max_prompt_chars = engine.config.max_prompt_chars

    @web.middleware
    async def errors(request: web.Request, handler) -> web.StreamResponse:
        """Every failure is an OpenAI-shaped JSON error, and an exchange the user can see."""
        try:
            guard.check(request)
            if request.method == "POST" and request.path in MODEL_ROUTES and request.match_info.http_exception is None:
                await _check_body(request, max_prompt_chars)
            return await handler(request)
        except ApiError as error:
            return await _reject(request, error)
        except asyncio.CancelledError:
            # The client left (aiohttp cancels the handler), e.g. while queued for a run
            # slot: close its exchange so that no capture or console row stays open.
            exchange = request.get(EXCHANGE)
            if exchange is not None and not exchange.finished:
                cut = ApiError(499, "The client closed the connection before the answer was complete.", type="server_error", code="client_disconnected", source="disconnect")
                finish(exchange, status=499, error=cut, complete=False)
            raise
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return await _reject(request, _http_error(exc))
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            error = ApiError(500, "Internal error in claude-max-tui; see its console or log.", type="server_error", code="internal_error", source="internal")
            return await _reject(request, error)

    app = web.Application(middlewares=[errors], client_max_size=engine.config.max_body_bytes)
    app[ENGINE] = engine
    app.router.add_get("/health", health)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get(r"/v1/models/{model_id:.+}", retrieve_model)
    app.router.add_post("/v1/chat/completions", chat_completions)
    return app


#: A `\uD800`-`\uDFFF` escape: surrogate pairs (emoji from ensure_ascii encoders) are
#: fine, so a match only means the decoded strings need a closer look.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_lone_surrogate(data: object) -> bool:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


#: Routes whose body becomes a CLI prompt.
MODEL_ROUTES = frozenset({"/v1/chat/completions", "/v1/responses"})


async def _check_body(request: web.Request, max_prompt_chars: int) -> None:
    """Limits decided from the body before the handler runs (and so before any spawn):
    the size cap (aiohttp raises 413 while reading), then the prompt-size bound."""
    body = await request.read()  # cached: the handler's read() gets the same bytes
    try:
        data = json.loads(body)
    except ValueError:
        return  # the handler answers the 400 with its own wording
    except RecursionError:
        # Nested deeper than the JSON decoder goes: never valid input, and not a 500.
        begin_exchange(request, body)
        raise ApiError(400, "The request body is not valid JSON (nested too deeply).", code="invalid_json", retryable=False) from None
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(data):
        # `"\ud800"` is valid JSON but not Unicode: it could be neither echoed, nor
        # captured, nor sent to the CLI as UTF-8. OpenAI refuses it too.
        begin_exchange(request, body)  # no model: it may be the string at fault
        raise ApiError(400, "The request body contains a lone UTF-16 surrogate escape (e.g. \\ud800): not valid Unicode text.", code="invalid_json", retryable=False)
    try:
        check_prompt_size(data, max_prompt_chars)
    except ApiError:
        model, stream = peek_model_and_stream(data)
        begin_exchange(request, body, model=model, stream=stream)
        raise


async def _reject(request: web.Request, error: ApiError) -> web.StreamResponse:
    exchange = request.get(EXCHANGE) or begin_exchange(request, b"")
    return await send_error(request, exchange, error)


def _http_error(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return ApiError(404, "Not found. This server answers /v1/chat/completions, /v1/models and /health.", code="not_found", retryable=False)
    if exc.status == 405:
        return ApiError(405, "Method not allowed here.", code="method_not_allowed", retryable=False)
    if exc.status == 413:
        return ApiError(413, f"The request body is too large ({exc.text or 'over the limit'}).", code="request_too_large", retryable=False)
    return ApiError(exc.status, exc.reason or exc.text or "HTTP error", code=f"http_{exc.status}", retryable=False)

