"""A failure as the proxy decides it, with no wire shape: each API face renders it its own way.

The status is the one the proxy means (a face may answer another where its API has its own,
e.g. Anthropic's 529 for an overloaded upstream); `kind` says what sort of failure it is, in
words of our own, which each face maps to its `type` strings; `code` is ours and stable
(`cli_not_authenticated`, `timeout`...): the console, captures and logs key on it.
"""

from __future__ import annotations

from typing import Literal

from .events import ErrorInfo

Kind = Literal[
    "invalid_request",  # the request itself is wrong (400, 405)
    "not_found",  # no such route or model (404)
    "too_large",  # the body is over the limit (413)
    "authentication",  # the proxy's key is wrong, or the CLI is not logged in (401)
    "permission",  # the host, origin or account may not do this (403)
    "billing",  # credit, budget (402)
    "rate_limit",  # a usage limit or our own concurrency limit (429)
    "overloaded",  # the upstream is overloaded (503; Anthropic says 529)
    "timeout",  # the CLI took too long (504)
    "server",  # anything else that is not the client's fault (5xx, 499)
]

_KIND_BY_STATUS: dict[int, Kind] = {401: "authentication", 402: "billing", 403: "permission", 404: "not_found", 413: "too_large", 429: "rate_limit", 504: "timeout"}


class ProxyError(Exception):
    """An error to answer. `retryable=False` becomes `x-should-retry: false`, which the
    OpenAI and Anthropic SDKs obey before any other rule: without it they send every
    429/5xx three times, starting the CLI each time."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: Kind | None = None,
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
        self.kind: Kind = kind or _KIND_BY_STATUS.get(status) or ("server" if status >= 500 or status == 499 else "invalid_request")
        self.code = code
        self.param = param
        self.retryable = retryable
        self.retry_after = retry_after
        self.source = source
        self.stderr_tail = stderr_tail

    def headers(self) -> dict[str, str]:
        """Retry advice, the same on every face."""
        headers: dict[str, str] = {}
        if self.retryable is not None:
            headers["x-should-retry"] = "true" if self.retryable else "false"
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return headers

    def info(self, wire_type: str, status: int | None = None) -> ErrorInfo:
        """The record of this error as one face sent it (`wire_type` is that face's `type`)."""
        return ErrorInfo(
            status=self.status if status is None else status,
            type=wire_type,
            message=self.message,
            code=self.code,
            param=self.param,
            source=self.source,
            stderr_tail=self.stderr_tail,
            retry_after=self.retry_after,
        )

    def __repr__(self) -> str:
        return f"ProxyError({self.status}, {self.code or self.kind}: {self.message!r})"


def invalid(param: str | None, message: str, code: str = "invalid_value") -> ProxyError:
    """A 400 naming the parameter at fault."""
    return ProxyError(400, message, param=param, code=code, retryable=False)


def unsupported(param: str, message: str, code: str = "unsupported_value") -> ProxyError:
    return ProxyError(400, message, param=param, code=code, retryable=False)
