"""The Responses API (`/v1/responses`) end to end: the real `openai` SDK (strict) → the proxy → the fake CLI."""

from __future__ import annotations

import json

import aiohttp
import openai
import pytest

from conftest import strict_client, wait_until
from tui_proxy.events import ExchangeFinished

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather of a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}
ASK = "Weather in Paris? [[fake:tool_call]]"


async def test_create_has_the_full_response_shape(openai_client):
    raw = await openai_client.responses.with_raw_response.create(model="claude-sonnet-4", input="hello there", instructions="Be brief.", temperature=0.2, top_p=0.9, metadata={"a": "b"}, store=True, user="alice", prompt_cache_key="k1", truncation="auto")
    response = raw.parse()
    assert response.id == "resp_" + raw.headers["x-request-id"]
    assert response.object == "response" and response.status == "completed"
    assert response.model == "claude-sonnet-4"
    assert response.output_text == "You said: hello there"
    (message,) = response.output
    assert message.type == "message" and message.role == "assistant" and message.status == "completed"
    assert response.instructions == "Be brief." and response.metadata == {"a": "b"} and response.temperature == 0.2
    assert response.prompt_cache_key == "k1" and response.truncation == "auto" and response.user == "alice"
    usage = response.usage
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens > 0  # cache reads are input tokens too
    assert usage.input_tokens > usage.input_tokens_details.cached_tokens
