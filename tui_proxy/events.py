"""Typed events: everything the engine does is published on one bus.

The engine knows nothing of its audience. The console, the headless logger and the
capture store are all subscribers. Subscribers are called synchronously on the event
loop, so they must be cheap (append to a buffer, never touch a widget or the disk).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from .quota.windows import QuotaReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts in OpenAI terms (prompt includes cache reads and writes)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An error as sent to the client, in the OpenAI shape, plus why it happened."""

    status: int
    type: str
    message: str
    code: str | None = None
    param: str | None = None
    #: Where it came from: "request" (validation), "cli" (the CLI said so), "timeout",
    #: "disconnect", "killed", "shutdown", "internal".
    source: str = "request"
    #: Tail of the CLI's stderr, when the CLI is to blame.
    stderr_tail: str | None = None
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class Event:
    exchange_id: str
    #: Wall-clock time (epoch seconds) from the engine's clock.
    at: float


@dataclass(frozen=True, slots=True)
class RequestReceived(Event):
    method: str
    path: str
    #: Headers with secrets redacted.
    headers: dict[str, str]
    body: bytes
    client: str
    remote: str
    model: str | None = None
    stream: bool = False
    replay_of: str | None = None


@dataclass(frozen=True, slots=True)
class CliSpawned(Event):
    """A CLI run starts answering this exchange (published when the run is attached to it,
    which may be after it was spawned)."""

    argv: tuple[str, ...]
    pid: int
    #: The exact stdin sent to the CLI (one stream-json line).
    stdin: str
    cwd: str
    system_prompt: str | None = None
    #: The run (one CLI child): a run may answer several exchanges (tool rounds).
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class HistorySent(Event):
    """How a run got the conversation (published right after its `CliSpawned`).

    `mode`: "session" (native messages in a session file the CLI resumed: the prompt cache
    can read the conversation back), "single" (one message on stdin, as is), "transcript"
    (earlier turns flattened into one stdin message: every turn writes the whole history to
    the cache again). `reason` says why a run is not "session": "single_message", a history
    the session file cannot express (e.g. "starts_with_assistant"), or, with `fallback`, why
    resuming failed ("resume_failed: No conversation found with session ID: ...").
    """

    mode: Literal["session", "single", "transcript"]
    messages: int
    reason: str = ""
    #: True when a session run failed to resume and the request is answered by a transcript
    #: run instead (costlier: shown as a warning).
    fallback: bool = False
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class CliContinued(Event):
    """A run that already answered an earlier exchange goes on for this one (no new spawn):
    the client's tool results were handed to the CLI that waited for them, or the CLI kept
    after its answer got the conversation's next user message."""

    run_id: str
    pid: int
    #: The exchange the run answered before.
    previous_exchange_id: str
    #: What was written to the CLI's stdin for this exchange ("" for tool results, which go
    #: over MCP).
    stdin: str = ""


@dataclass(frozen=True, slots=True)
class CliStdout(Event):
    """Stdout lines of the CLI, raw (JSON or not), in order: the lines read together (one event
    per read of the pipe, not per line: a fast stream has several lines per read). `at` is when
    they were read."""

    lines: tuple[str, ...]
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class CliStderr(Event):
    text: str
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class CliExited(Event):
    returncode: int | None
    #: Why the engine ended it, if it did: "timeout", "disconnect", "killed", "shutdown".
    killed_because: str | None = None
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class TokenDelta(Event):
    """Model output as it streams: the text of `count` deltas of one kind that the CLI wrote
    together (one event per read of its stdout, not per delta). Subscribers batch."""

    kind: Literal["text", "thinking"]
    text: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class ToolCallsRequested(Event):
    """The model called client tools: the answer ends with these `tool_calls`."""

    #: (call id, function name, arguments as JSON text), in the order the model made them.
    calls: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class ResponseStarted(Event):
    status: int
    headers: dict[str, str]
    streaming: bool


@dataclass(frozen=True, slots=True)
class ResponseChunk(Event):
    """One SSE event's data as sent (streaming), or the whole JSON body (not streaming). SSE
    events written together (the CLI's deltas read together: one chunk each, one write) are one
    `ResponseChunk`: `data` first, then `more`."""

    data: str
    #: The SSE event name of `data`, for faces that name their events (Responses, Messages).
    event: str | None = None
    #: The data of the SSE events sent in the same write, after `data`, in order.
    more: tuple[str, ...] = ()

    @property
    def chunks(self) -> tuple[str, ...]:
        """Every SSE event's data, in order."""
        return (self.data, *self.more) if self.more else (self.data,)


@dataclass(frozen=True, slots=True)
class ExchangeFinished(Event):
    """The last event of every exchange, successful or not."""

    status: int
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    error: ErrorInfo | None = None
    text: str = ""
    thinking: str = ""
    ttft_ms: float | None = None
    duration_ms: float = 0.0
    #: False when the client went away or the run was cut before a proper end.
    complete: bool = True


@dataclass(frozen=True, slots=True)
class QuotaReported(Event):
    """The subscription's limit windows as the CLI reported them: after a request's run
    (its `rate_limit_event`, exchange_id set) or from a poll (`get_usage`, exchange_id "")."""

    report: QuotaReport
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class UpstreamRetry(Event):
    """The CLI is retrying its upstream call (an `api_retry` line): the request waits on
    Anthropic, not in the proxy's queue."""

    attempt: int | None
    max_retries: int | None
    #: The upstream HTTP status (529, 429, 500...) and error name ("overloaded", ...).
    error_status: int | None
    error: str | None
    #: How long the CLI waits before the next attempt.
    retry_delay_ms: float | None = None
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """Engine-wide news (server up, CLI missing...). exchange_id is "" for these."""

    level: Literal["info", "warning", "error"]
    message: str
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out. A failing subscriber is logged, never breaks the engine.

    A subscriber that needs only some event types says so (`only`): it is not called for the
    others (a stream publishes a few events per read of the CLI's output)."""

    __slots__ = ("_subscribers", "_routes")

    def __init__(self) -> None:
        self._subscribers: tuple[tuple[Subscriber, tuple[type[Event], ...] | None], ...] = ()
        #: Event type → its subscribers, in subscription order (rebuilt on (un)subscribe).
        self._routes: dict[type, tuple[Subscriber, ...]] = {}

    def subscribe(self, subscriber: Subscriber, *, only: tuple[type[Event], ...] | None = None) -> Callable[[], None]:
        entry = (subscriber, only)
        self._subscribers = (*self._subscribers, entry)
        self._routes = {}

        def unsubscribe() -> None:
            self._subscribers = tuple(e for e in self._subscribers if e is not entry)
            self._routes = {}

        return unsubscribe

    def publish(self, event: Event) -> None:
        kind = type(event)
        subscribers = self._routes.get(kind)
        if subscribers is None:
            subscribers = self._routes[kind] = tuple(s for s, only in self._subscribers if only is None or issubclass(kind, only))
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # a broken viewer must not break a request
                log.exception("event subscriber %r failed on %s", subscriber, type(event).__name__)
