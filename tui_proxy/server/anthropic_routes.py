"""The Anthropic face's routes besides `/v1/messages`: `count_tokens` (an estimate, no CLI)
and the model list in Anthropic's shape (for requests that carry `anthropic-version`)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ..anthropic import models as anthropic_models
from ..anthropic.count_tokens import estimate_input_tokens
from ..anthropic.messages_request import invalid, parse_messages_request
from ..models import resolve
from ..errors import ProxyError
from .aimed_at import wants_anthropic
from .body import decode_body
from .exchanges import begin_exchange, peek_model_and_stream
from .keys import ENGINE
from .routes_info import list_models, retrieve_model

#: The answer is an estimate: Anthropic's API has no such header; ours says so.
ESTIMATE_HEADER = "x-claude-max-tui-estimate"
#: Bodies larger than this are counted off the event loop.
INLINE_COUNT_BYTES = 256 * 1024


async def count_tokens(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    body = await request.read()
    data, refused = await decode_body(body, engine.config.max_prompt_chars)
    try:
        if refused is not None:
            raise refused
        parsed = parse_messages_request(data, count_only=True)
    except ProxyError:
        # A refused count is an exchange the user can see, with its body (a good count is not,
        # like a model list: it runs nothing).
        begin_exchange(request, body, model=peek_model_and_stream(data)[0])
        raise
    if len(body) > INLINE_COUNT_BYTES:
        tokens = await asyncio.to_thread(estimate_input_tokens, parsed.request)
    else:
        tokens = estimate_input_tokens(parsed.request)
    return web.json_response({"input_tokens": tokens}, headers={ESTIMATE_HEADER: "true"})


async def models(request: web.Request) -> web.Response:
    if not wants_anthropic(request):
        return await list_models(request)
    query = request.query
    limit = query.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise invalid("limit", "Input should be an integer from 1 to 1000")
    page = anthropic_models.model_list(int(limit), after_id=query.get("after_id"), before_id=query.get("before_id"))
    return web.json_response(page)


async def model(request: web.Request) -> web.Response:
    if not wants_anthropic(request):
        return await retrieve_model(request)
    entry = resolve(request.match_info["model_id"])  # raises the 404 for unknown ids
    return web.json_response(anthropic_models.model_object(entry))
