"""A model request's JSON body, decoded once, with the limits decided before any spawn."""

from __future__ import annotations

import json
import re

from ..errors import ProxyError
from .admission import check_prompt_size

#: A `\uD800`-`\uDFFF` escape: surrogate pairs (emoji from ensure_ascii encoders) are
#: fine, so a match only means the decoded strings need a closer look.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def decode_body(body: bytes, max_prompt_chars: int) -> tuple[object | None, ProxyError | None]:
    """The decoded body, or why it is refused. Never raises: the caller opens the exchange
    with what could be read (model, stream flag) before it answers the error."""
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
    try:
        check_prompt_size(data, max_prompt_chars)
    except ProxyError as error:
        return data, error
    return data, None


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
