"""What a capture reads back as: plain dataclasses, no SQLite, no UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping

from ..events import ErrorInfo, Usage
from ..quota.windows import QuotaReport


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case."""
    name = name.lower()
    return next((value for key, value in headers.items() if key.lower() == name), None)


class CaptureState(StrEnum):
    #: Still running (or the process is running it right now).
    OPEN = "open"
    #: Finished with a proper end.
    COMPLETE = "complete"
    #: Finished, but cut: the client went away or the run was ended early.
    INCOMPLETE = "incomplete"
    #: The process died (crash, `kill -9`) before the exchange finished.
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class TimedLine:
    """A stdout line, a stderr piece or a response chunk, with its wall-clock time."""

    at: float
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureSummary:
    """What one row of a list needs."""

    id: str
    started_at: float
    method: str
    path: str
    #: The client's user agent.
    client: str
    model: str | None
    stream: bool
    #: HTTP status sent to the client; None while in progress.
    status: int | None
    ttft_ms: float | None
    duration_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None
    error_type: str | None
    error_message: str | None
    replay_of: str | None
    state: CaptureState
    #: The subscription's windows as the exchange's run last reported them (None: no report,
    #: e.g. an API key, or no run).
    quota: QuotaReport | None = None
    #: How many times the CLI retried its upstream call (`api_retry` lines).
    upstream_retries: int = 0
    #: Cache reads and cost from the exchange's usage (None when it had none).
    cached_tokens: int | None = None
    cost_usd: float | None = None

    @property
    def complete(self) -> bool:
        return self.state is CaptureState.COMPLETE

    @property
    def incomplete(self) -> bool:
        return self.state in (CaptureState.INCOMPLETE, CaptureState.INTERRUPTED)

    @property
    def in_progress(self) -> bool:
        return self.state is CaptureState.OPEN


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture(CaptureSummary):
    """One whole exchange: request, CLI transcript, response, outcome."""

    remote: str = ""
    ended_at: float | None = None
    #: Request headers, secrets redacted.
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes = b""
    cli_argv: tuple[str, ...] = ()
    cli_pid: int | None = None
    cli_stdin: str | None = None
    cli_cwd: str | None = None
    system_prompt: str | None = None
    stdout: tuple[TimedLine, ...] = ()
    stderr: tuple[TimedLine, ...] = ()
    exit_code: int | None = None
    killed_because: str | None = None
    response_started_at: float | None = None
    #: Status of the response as started (`status` is the final word, errors included).
    response_status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_streaming: bool | None = None
    #: SSE `data:` payloads (streaming) or the one JSON body (not streaming), as sent.
    chunks: tuple[TimedLine, ...] = ()
    #: The model's answer text and thinking, as the engine assembled them.
    text: str = ""
    thinking: str = ""
    usage: Usage | None = None
    error: ErrorInfo | None = None
    #: Client tools the model called: (call id, function name, arguments as JSON text).
    tool_calls: tuple[tuple[str, str, str], ...] = ()
    #: How the run got the conversation (events.HistorySent as a dict), when a run was made.
    history: dict | None = None

    @property
    def stderr_text(self) -> str:
        return "".join(piece.text for piece in self.stderr)

    @property
    def response_body(self) -> str:
        """The body as the client received it (SSE framing rebuilt for streams)."""
        if self.response_streaming:
            return "".join(f"data: {chunk.text}\n\n" for chunk in self.chunks)
        return "".join(chunk.text for chunk in self.chunks)
