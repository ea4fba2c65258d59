"""OpenAI-shaped errors. Every failure the proxy answers is one of these."""

from __future__ import annotations

import json
from typing import Any

from ..events import ErrorInfo


class ApiError(Exception):
    """An error to send to the client: `{"error": {"message", "type", "param", "code"}}`.

    `retryable=False` adds `x-should-retry: false`, which the OpenAI SDKs obey before any
    other rule: without it they send every 429/5xx three times, starting the CLI each time.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        retryable: bool | None = None,
        retry_after: int | None = None,
        source: str = "request",
        stderr_tail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.retryable = retryable
        self.retry_after = retry_after
        self.source = source
        self.stderr_tail = stderr_tail

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def body_bytes(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False).encode()

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.retryable is not None:
            headers["x-should-retry"] = "true" if self.retryable else "false"
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return headers

    def info(self) -> ErrorInfo:
        return ErrorInfo(
            status=self.status,
            type=self.type,
            message=self.message,
            code=self.code,
            param=self.param,
            source=self.source,
            stderr_tail=self.stderr_tail,
            retry_after=self.retry_after,
        )

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code or self.type}: {self.message!r})"


def invalid(param: str | None, message: str, code: str = "invalid_value") -> ApiError:
    """A 400 naming the parameter at fault."""
    return ApiError(400, message, param=param, code=code, retryable=False)


def unsupported(param: str, message: str, code: str = "unsupported_value") -> ApiError:
    return ApiError(400, message, param=param, code=code, retryable=False)
