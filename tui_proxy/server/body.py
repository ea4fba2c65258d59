"""A model request's JSON body, decoded once, with the limits decided before any spawn.

Decoding must never hold up the event loop (every client and `/health` share it): a big
body is decoded in a worker thread, and one whose decoding alone would be pathological
(millions of tiny values: `[[],[],...]` costs ~20x its size in Python objects, and the C
decoder holds the GIL throughout) is refused from a cheap count before it is decoded.
"""

from __future__ import annotations

import asyncio
import json
import re

from ..errors import ProxyError
from .admission import check_prompt_size

#: A `\uD800`-`\uDFFF` escape: surrogate pairs (emoji from ensure_ascii encoders) are
#: fine, so a match only means the decoded strings need a closer look.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

#: JSON containers and separators (`[`, `{`, `,` outside strings) a body may hold: about
#: its number of values. Generous for real requests (25,000 short messages take ~125,000),
#: and small enough that decoding stays well under a tenth of a second of GIL.
MAX_JSON_VALUES = 500_000

#: Messages in one request: the work per message after decoding (parsing, rendering) runs
#: on the event loop, so it is bounded.
MAX_MESSAGES = 25_000

#: Bodies above this are decoded in a worker thread.
_THREAD_THRESHOLD = 256 * 1024


async def decode_body(body: bytes, max_prompt_chars: int) -> tuple[object | None, ProxyError | None]:
    """The decoded body, or why it is refused. Never raises: the caller opens the exchange
    with what could be read (model, stream flag) before it answers the error."""
    if len(body) <= _THREAD_THRESHOLD:
        return _decode(body, max_prompt_chars)
    return await asyncio.to_thread(_decode, body, max_prompt_chars)


def _decode(body: bytes, max_prompt_chars: int) -> tuple[object | None, ProxyError | None]:
    values = json_value_count(body, stop_above=MAX_JSON_VALUES)
    if values > MAX_JSON_VALUES:
        return None, ProxyError(
            400,
            f"The request body holds more than {MAX_JSON_VALUES:,} JSON values; claude-max-tui refuses it before decoding.",
            code="too_many_values",
            retryable=False,
        )
    try:
        data = json.loads(body)
    except ValueError:
        return None, ProxyError(400, "The request body is not valid JSON.", code="invalid_json", retryable=False)
    except RecursionError:
        # Nested deeper than the JSON decoder goes: never valid input, and not a 500.
        return None, ProxyError(400, "The request body is not valid JSON (nested too deeply).", code="invalid_json", retryable=False)
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(data):
        # `"\ud800"` is valid JSON but not Unicode: it could be neither echoed, nor captured,
        # nor sent to the CLI as UTF-8 (so not even the model name is kept). OpenAI refuses it too.
        return None, ProxyError(400, "The request body contains a lone UTF-16 surrogate escape (e.g. \\ud800): not valid Unicode text.", code="invalid_json", retryable=False)
    messages = data.get("messages") if isinstance(data, dict) else None
    if isinstance(messages, list) and len(messages) > MAX_MESSAGES:
        return data, ProxyError(
            400,
            f"Invalid 'messages': array too long. Expected an array with maximum length {MAX_MESSAGES:,}, but got an array with length {len(messages):,} instead.",
            code="array_above_max_length",
            param="messages",
            retryable=False,
        )
    try:
        check_prompt_size(data, max_prompt_chars)
    except ProxyError as error:
        return data, error
    return data, None


def json_value_count(body: bytes, stop_above: int) -> int:
    """How many `[`, `{` and `,` a JSON text holds outside its strings (about its number of
    values), counting no further than just past `stop_above`.

    The plain byte counts (C speed) are an upper bound and settle almost every body; only
    one with that much punctuation is walked string by string, skipping string contents."""
    plain = _plain_count(body)
    if plain <= stop_above:
        return plain
    if b"\\" in body:
        # Escaped backslashes first, then escaped quotes: what remains of `"` are delimiters.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    count = 0
    position = 0
    end = len(body)
    while position < end:
        quote = body.find(b'"', position)
        stop = end if quote < 0 else quote
        count += body.count(b"[", position, stop) + body.count(b"{", position, stop) + body.count(b",", position, stop)
        if count > stop_above or quote < 0:
            return count
        closing = body.find(b'"', quote + 1)
        if closing < 0:
            return count
        position = closing + 1
    return count


def _plain_count(body: bytes) -> int:
    return body.count(b"[") + body.count(b"{") + body.count(b",")


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
