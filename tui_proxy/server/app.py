"""The aiohttp application: routes, and the middlewares every request passes."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ..claude import outcome
from ..errors import ProxyError
from .aimed_at import wants_anthropic
from .anthropic_routes import count_tokens, model, models
from .chat_completions import chat_completions
from .error_shapes import ANTHROPIC, OPENAI
from .exchanges import begin_exchange, close_exchange, send_error
from .face import ErrorShape
from .connections import read_body_within
from .guard import Guard
from .keys import ENGINE, EXCHANGE, EngineView
from .messages import messages
from .responses import compact_response, responses, retrieve_response
from .routes_info import health, usage

log = logging.getLogger(__name__)


def make_web_app(engine: EngineView) -> web.Application:
    guard = Guard(engine.config)

    @web.middleware
    async def errors(request: web.Request, handler) -> web.StreamResponse:
        """Every failure is an OpenAI-shaped JSON error, and an exchange the user can see."""
        try:
            guard.check(request)
            await read_body_within(request, engine.config.body_timeout)
            return await handler(request)
        except ProxyError as error:
            return await _reject(request, error)
        except asyncio.CancelledError:
            # The client left (aiohttp cancels the handler), e.g. while queued for a run
            # slot: close its exchange so that no capture or console row stays open.
            exchange = request.get(EXCHANGE)
            if exchange is not None and not exchange.finished:
                error = outcome.client_disconnected()
                close_exchange(exchange, status=499, error=error.info(error_shape(request).type(error)), complete=False)
            raise
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return await _reject(request, _http_error(exc))
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            error = ProxyError(500, "Internal error in claude-max-tui; see its console or log.", code="internal_error", source="internal")
            return await _reject(request, error)

    app = web.Application(middlewares=[errors], client_max_size=engine.config.max_body_bytes)
    app[ENGINE] = engine
    app.router.add_get("/health", health)
    app.router.add_get("/v1/usage", usage)
    # The model list in OpenAI's shape, or Anthropic's for requests with `anthropic-version`.
    app.router.add_get("/v1/models", models)
    app.router.add_get(r"/v1/models/{model_id:.+}", model)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/responses", responses)
    app.router.add_post("/v1/responses/compact", compact_response)
    app.router.add_get("/v1/responses/{response_id}", retrieve_response)
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
    return app


def error_shape(request: web.Request) -> ErrorShape:
    """The error shape of the face a request was aimed at (also for unknown routes)."""
    if wants_anthropic(request):
        return ANTHROPIC
    return OPENAI


async def _reject(request: web.Request, error: ProxyError) -> web.StreamResponse:
    exchange = request.get(EXCHANGE) or begin_exchange(request, b"")
    return await send_error(request, exchange, error, error_shape(request))


def _http_error(exc: web.HTTPException) -> ProxyError:
    if exc.status == 404:
        return ProxyError(404, "Not found. This server answers /v1/chat/completions, /v1/responses, /v1/messages, /v1/messages/count_tokens, /v1/models, /v1/usage and /health.", code="not_found", retryable=False)
    if exc.status == 405:
        return ProxyError(405, "Method not allowed here.", code="method_not_allowed", retryable=False)
    if exc.status == 413:
        return ProxyError(413, f"The request body is too large ({exc.text or 'over the limit'}).", code="request_too_large", retryable=False)
    return ProxyError(exc.status, exc.reason or exc.text or "HTTP error", code=f"http_{exc.status}", retryable=False)

