"""Earlier responses read back from the capture store: `previous_response_id` and
`GET /v1/responses/{id}`.

A response id is `resp_` + the exchange id, so the exchange is found by its exact id (never a
prefix). Its response object is the JSON body (not streamed) or the `response` of the stream's
last `response.completed`/`.incomplete`/`.failed` event. Reads run off the event loop, after a
flush: the client may ask for a response before its capture was committed.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from ..errors import ProxyError
from .responses_request import History, parse_input
from .responses_response import exchange_id_of

if TYPE_CHECKING:
    from ..capture.model import Capture
    from ..capture.store import CaptureStore

#: How many `previous_response_id` links a conversation may chain back through.
MAX_CHAIN = 256
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")
_FLUSH_SECONDS = 5.0


async def stored_response(store: CaptureStore, response_id: str) -> tuple[Capture, dict] | None:
    """The capture of a `/v1/responses` exchange and its response object, or None."""
    exchange_id = exchange_id_of(response_id)
    if exchange_id is None:
        return None
    return await asyncio.to_thread(_read, store, exchange_id)


def _read(store: CaptureStore, exchange_id: str) -> tuple[Capture, dict] | None:
    store.flush(_FLUSH_SECONDS)
    try:
        capture = store.get(exchange_id)
    except LookupError:  # an ambiguous prefix: not an id of ours
        return None
    if capture is None or capture.id != exchange_id or not capture.path.startswith("/v1/responses"):
        return None
    response = response_of(capture)
    return None if response is None else (capture, response)


def response_of(capture: Capture) -> dict | None:
    """The response object the client received in this exchange, if it got one."""
    if capture.response_streaming:
        for chunk in reversed(capture.chunks):
            data = _json(chunk.text)
            if isinstance(data, dict) and data.get("type") in _TERMINAL:
                return data.get("response")
        return None
    data = _json("".join(chunk.text for chunk in capture.chunks))
    return data if isinstance(data, dict) and data.get("object") == "response" else None


async def history(store: CaptureStore | None, response_id: str) -> History:
    """The conversation up to and including the response `response_id`: each earlier request's
    input (its own `previous_response_id` first), then that response's output items.
    Instructions are not carried over, as OpenAI does."""
    if store is None:
        raise ProxyError(400, "'previous_response_id' needs the capture store, which is off (--no-capture): send the whole conversation in 'input' instead.",
                         param="previous_response_id", code="previous_response_unavailable", retryable=False)
    chain: list[tuple[dict, dict]] = []
    next_id: str | None = response_id
    while next_id is not None:
        if len(chain) == MAX_CHAIN:
            raise ProxyError(400, f"The 'previous_response_id' chain is longer than {MAX_CHAIN} responses: send the conversation in 'input'.", param="previous_response_id", retryable=False)
        found = await stored_response(store, next_id)
        if found is None:
            which = "" if next_id == response_id else f" (reached from {response_id!r})"
            raise ProxyError(404, f"Previous response with id {next_id!r} not found{which}.", param="previous_response_id", code="previous_response_not_found", retryable=False)
        capture, response = found
        if response.get("status") not in ("completed", "incomplete"):
            raise ProxyError(400, f"Previous response {next_id!r} did not complete ({response.get('status')}): it cannot be continued.", param="previous_response_id", retryable=False)
        body = _json(capture.request_body.decode("utf-8", "replace"))
        chain.append((body if isinstance(body, dict) else {}, response))
        previous = chain[-1][0].get("previous_response_id")
        next_id = previous if isinstance(previous, str) else None
    system: list[str] = []
    turns = []
    try:
        for body, response in reversed(chain):
            earlier_input = body.get("input")
            if isinstance(earlier_input, list):
                earlier_input = await resolve_references(store, earlier_input)
            for items in (earlier_input, response.get("output") or []):
                more_system, more_turns = parse_input(items, "previous_response_id")
                system += more_system
                turns += more_turns
    except ProxyError as error:  # a stored body we cannot read back (an older version's?)
        raise ProxyError(400, f"The previous response's conversation cannot be read back: {error.message}", param="previous_response_id", retryable=False) from None
    return History(tuple(system), tuple(turns))


async def resolve_references(store: CaptureStore | None, items: list) -> list:
    """`input` with each `item_reference` replaced by the output item it names (clients that
    leave `store` on, like the AI SDK, send earlier output items by id). Item ids hold their
    exchange id and output index (`fc_<exchange>_<n>`), so each is one capture read."""
    resolved = []
    for i, item in enumerate(items):
        if not (isinstance(item, dict) and item.get("type") == "item_reference"):
            resolved.append(item)
            continue
        where = f"input[{i}].id"
        if store is None:
            raise ProxyError(400, "Item references need the capture store, which is off (--no-capture): send the items themselves.", param=where, code="item_reference_unavailable", retryable=False)
        resolved.append(await _referenced_item(store, item.get("id"), where))
    return resolved


async def _referenced_item(store: CaptureStore, reference: object, where: str) -> dict:
    exchange_id, _, index = reference.partition("_")[2].rpartition("_") if isinstance(reference, str) else ("", "", "")
    found = await stored_response(store, "resp_" + exchange_id) if exchange_id and index.isdigit() else None
    for item in (found[1].get("output") or []) if found else []:
        if isinstance(item, dict) and item.get("id") == reference:
            return item
    raise ProxyError(404, f"Item with id {reference!r} not found.", param=where, code="item_not_found", retryable=False)


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
