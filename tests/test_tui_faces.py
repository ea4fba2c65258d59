"""The console reads a request's conversation whatever face it came in by."""

from __future__ import annotations

import json

from tui_proxy.tui.documents import conversation_lines


def shown(body: dict, path: str) -> str:
    return "\n".join(str(line) for line in conversation_lines(json.dumps(body).encode(), None, path))


def test_chat_messages_responses_input_and_anthropic_messages_are_all_shown():
    chat = shown({"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi chat"}]}, "/v1/chat/completions")
    assert "▌ system" in chat and "hi chat" in chat
    responses = shown({"instructions": "Be terse.", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi responses"}]}, {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"}]}, "/v1/responses")
    assert "▌ system" in responses and "hi responses" in responses and "get_weather" in responses
    messages = shown({"system": "Be terse.", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi anthropic"}]}]}, "/v1/messages")
    assert "▌ system" in messages and "hi anthropic" in messages
    assert "no messages" in shown({"input": "x"}, "/v1/chat/completions")  # a chat body has messages
