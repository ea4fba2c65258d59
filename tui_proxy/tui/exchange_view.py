"""One exchange as the console sees it: request, CLI run, tokens, response, end.

Filled in by `ConsoleState` from bus events and by the capture store for earlier runs.
Every part that grows while a request runs is bounded, so one exchange stays small
whatever the CLI or the client sends.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..events import ErrorInfo, UpstreamRetry, Usage
from ..quota.windows import QuotaReport

#: Per-exchange caps: enough for any transcript worth reading, small enough that
#: 1 000 exchanges stay well under a few hundred MB even when every one hits them.
MAX_CLI_LINES = 2_000
MAX_CHUNKS = 2_000
MAX_TEXT_CHARS = 200_000
MAX_STDERR_CHARS = 32_000
#: Request bodies kept in memory (the proxy accepts up to 32 MB; the capture store keeps it all).
MAX_BODY_BYTES = 1_000_000
#: Upstream retries remembered per exchange (the CLI stops after 10 by default).
MAX_RETRIES_KEPT = 50


#: One line the CLI wrote: (when, "out" or "err", text). A plain tuple of a float and two
#: strings, which the garbage collector stops tracking: as objects, the lines the console
#: keeps (up to MAX_CLI_LINES for each exchange it lists) were most of what every full
#: collection walked, a stall of every stream that grew with the session.
CliLine = tuple[float, str, str]


@dataclass(slots=True)
class CappedText:
    """Text that grows by appends and stops growing at `limit` characters."""

    limit: int
    parts: list[str] = field(default_factory=list)
    length: int = 0
    truncated: bool = False
    _joined: str | None = None

    def append(self, piece: str) -> None:
        room = self.limit - self.length
        if room <= 0:
            self.truncated = True
            return
        if len(piece) > room:
            piece = piece[:room]
            self.truncated = True
        self.parts.append(piece)
        self.length += len(piece)
        self._joined = None

    def __str__(self) -> str:
        # Joined lazily and cached: the flush reads it a few times a second, the
        # subscriber appends to it per token.
        if self._joined is None:
            self._joined = "".join(self.parts)
            self.parts = [self._joined] if self._joined else []
        return self._joined

    def __len__(self) -> int:
        return self.length


@dataclass(slots=True, eq=False)
class ExchangeView:
    """Everything the console knows about one request, as it happens."""

    id: str
    received_at: float
    method: str = "POST"
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Size of the body as received; more than len(body) when it was cut for memory.
    body_size: int = 0
    client: str = ""
    remote: str = ""
    model: str | None = None
    stream: bool = False
    replay_of: str | None = None
    # The CLI run.
    argv: tuple[str, ...] = ()
    pid: int | None = None
    stdin: str = ""
    cwd: str = ""
    system_prompt: str | None = None
    spawned_at: float | None = None
    first_cli_line_at: float | None = None
    cli_lines: deque[CliLine] = field(default_factory=lambda: deque(maxlen=MAX_CLI_LINES))
    #: Lines ever received; `cli_lines_total - len(cli_lines)` were dropped from the front.
    cli_lines_total: int = 0
    stderr: CappedText = field(default_factory=lambda: CappedText(MAX_STDERR_CHARS))
    returncode: int | None = None
    killed_because: str | None = None
    exited_at: float | None = None
    # Tokens as they stream.
    text: CappedText = field(default_factory=lambda: CappedText(MAX_TEXT_CHARS))
    thinking: CappedText = field(default_factory=lambda: CappedText(MAX_TEXT_CHARS))
    deltas: int = 0
    #: Client tools the model called: (call id, function name, arguments as JSON text).
    tool_calls: tuple[tuple[str, str, str], ...] = ()
    first_token_at: float | None = None
    last_token_at: float | None = None
    # The response as sent.
    response_status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_started_at: float | None = None
    chunks: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_CHUNKS))
    chunks_total: int = 0
    # The end.
    finished_at: float | None = None
    status: int | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    error: ErrorInfo | None = None
    complete: bool = True
    final_ttft_ms: float | None = None
    final_duration_ms: float | None = None
    #: The exchange whose tool calls this request answers (its messages carry their
    #: results), and the one that answered this one's: the agent loop, linked.
    continues: str | None = None
    continued_by: str | None = None
    #: The CLI run answering this exchange, and the exchange it answered before when it was
    #: continued (tool results, or a conversation's next turn) rather than spawned.
    run_id: str = ""
    continued_from: str | None = None
    #: How the run got the conversation (events.HistorySent): "session" (real messages the
    #: prompt cache can read back), "single", or "transcript" (with the reason, and `fallback`
    #: when a resume failed).
    history_mode: str | None = None
    history_reason: str = ""
    history_fallback: bool = False
    #: The subscription's windows as this request's run reported them (its
    #: `rate_limit_event`): the state after the request, and whether it drew from extra usage.
    quota: QuotaReport | None = None
    #: The CLI's retries of its upstream call (`api_retry` lines), oldest first, and whether
    #: the last one is still pending (no model output since).
    retries: deque[UpstreamRetry] = field(default_factory=lambda: deque(maxlen=MAX_RETRIES_KEPT))
    retries_total: int = 0
    retry_pending: bool = False
    #: Bumped on every change: lets views cache what they rendered.
    version: int = 0
    #: Read back from the capture store (an earlier run), not seen live.
    from_history: bool = False
    #: False while only the capture's summary is known (details load on demand).
    details_loaded: bool = True
    #: True while `usage` holds only the summary's token counts (no cache reads, no cost).
    usage_partial: bool = False

    @property
    def in_flight(self) -> bool:
        return self.finished_at is None

    @property
    def retrying(self) -> bool:
        """The CLI is waiting to retry its upstream call: the request waits on Anthropic."""
        return self.retry_pending and self.finished_at is None

    @property
    def queued(self) -> bool:
        """Received, no CLI run yet: waiting for a free slot (or being read)."""
        return self.finished_at is None and self.spawned_at is None and self.response_status is None

    @property
    def last_retry(self) -> UpstreamRetry | None:
        return self.retries[-1] if self.retries else None

    @property
    def extra_usage(self) -> bool | None:
        """True when this request drew from extra usage, False from the plan, None if unsaid."""
        return self.quota.using_overage if self.quota is not None else None

    @property
    def cost_usd(self) -> float | None:
        return self.usage.cost_usd if self.usage is not None else None

    @property
    def body_cut(self) -> bool:
        return self.body_size > len(self.body)

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.status is not None and self.status >= 400)

    def ttft_ms(self) -> float | None:
        if self.final_ttft_ms is not None:
            return self.final_ttft_ms
        if self.first_token_at is None:
            return None
        return (self.first_token_at - self.received_at) * 1000

    def duration_ms(self, now: float) -> float:
        if self.final_duration_ms is not None:
            return self.final_duration_ms
        end = self.finished_at if self.finished_at is not None else now
        return max(0.0, (end - self.received_at) * 1000)

    @property
    def tokens_in(self) -> int | None:
        return self.usage.prompt_tokens if self.usage else None

    @property
    def cache_share(self) -> float | None:
        """The share of the prompt read from the cache (what the plan's limit was spared)."""
        return self.usage.cached_tokens / self.usage.prompt_tokens if self.usage and self.usage.prompt_tokens else None

    @property
    def tokens_out(self) -> int:
        """Reported output tokens, or while streaming an estimate: one per delta."""
        if self.usage is not None:
            return self.usage.completion_tokens
        return self.deltas

    @property
    def tokens_estimated(self) -> bool:
        return self.usage is None

    def tokens_per_second(self, now: float) -> float | None:
        """Output tokens over the time since the first token (the usual TPS)."""
        if self.first_token_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else now
        if self.finished_at is not None and self.last_token_at is not None:
            end = max(self.last_token_at, min(end, self.finished_at))
        span = end - self.first_token_at
        if span <= 0.001:
            return None
        return self.tokens_out / span
