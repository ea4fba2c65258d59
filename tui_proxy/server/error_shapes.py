"""Error shapes of the faces: how each writes a `ProxyError` (see `face.ErrorShape`)."""

from __future__ import annotations

from ..errors import ProxyError
from ..anthropic import errors as anthropic_errors
from ..openai import errors as openai_errors


class OpenAIErrors:
    """`{"error": {"message", "type", "param", "code"}}` with the proxy's status."""

    def status(self, error: ProxyError) -> int:
        return error.status

    def type(self, error: ProxyError) -> str:
        return openai_errors.error_type(error)

    def body(self, error: ProxyError) -> bytes:
        return openai_errors.error_bytes(error)


OPENAI = OpenAIErrors()


class AnthropicErrors:
    """`{"type": "error", "error": {"type", "message"}}` with Anthropic's statuses (529 overloaded)."""

    def status(self, error: ProxyError) -> int:
        return anthropic_errors.error_status(error)

    def type(self, error: ProxyError) -> str:
        return anthropic_errors.error_type(error)

    def body(self, error: ProxyError) -> bytes:
        return anthropic_errors.error_bytes(error)


ANTHROPIC = AnthropicErrors()
