"""The console's model: exchanges rebuilt from bus events, with no UI in sight.

`ConsoleState.apply` is the bus subscriber. It runs on the event loop for every
event, tokens included, so it only appends to bounded containers and notes what
changed. The app's flush timer calls `take_changes()` a few times a second and
redraws just that. Memory stays bounded: `history` exchanges, and caps per exchange
on text, CLI lines and chunks.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..events import (
    CliContinued,
    CliExited,
    HistorySent,
    CliSpawned,
    CliStderr,
    CliStdout,
    Event,
    ExchangeFinished,
    Notice,
    QuotaReported,
    RequestReceived,
    ResponseChunk,
    ResponseStarted,
    TokenDelta,
    ToolCallsRequested,
    UpstreamRetry,
)
from .quota_state import QuotaState
from .exchange_view import MAX_BODY_BYTES, ExchangeView

MAX_ERRORS = 500
MAX_NOTICES = 200
#: Tool call ids remembered to link a request to the one whose calls it answers.
MAX_TOOL_CALL_OWNERS = 4096
_TOOL_CALL_ID = re.compile(rb'"tool_call_id"\s*:\s*"([^"]{1,200})"')


@dataclass(slots=True, frozen=True)
class ErrorRow:
    """One line of the errors panel: an exchange that failed, or an engine notice."""

    at: float
    exchange_id: str
    status: int | None
    source: str
    type: str
    message: str
    #: The error code the client got (`cli_crashed`, `max_turns`...), when there is one.
    code: str | None = None


@dataclass(slots=True)
class Totals:
    requests: int = 0
    errors: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


@dataclass(slots=True)
class Changes:
    """What happened since the last flush, for the widgets to redraw."""

    added: list[str] = field(default_factory=list)
    updated: set[str] = field(default_factory=set)
    removed: list[str] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    cleared: bool = False
    #: A quota report arrived (the header's gauges, the statistics).
    quota: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.errors or self.notices or self.cleared or self.quota)


@dataclass(slots=True, frozen=True)
class LiveCounts:
    """In-flight requests by what they wait on: a slot (queued), Anthropic (retrying), or running."""

    in_flight: int = 0
    queued: int = 0
    retrying: int = 0


class ConsoleState:
    """A bounded, ordered map of ExchangeView records fed by the engine's bus."""

    def __init__(self, history: int = 1000, clock: Callable[[], float] = time.time) -> None:
        self.history = max(1, history)
        self.clock = clock
        self.exchanges: OrderedDict[str, ExchangeView] = OrderedDict()
        self.errors: deque[ErrorRow] = deque(maxlen=MAX_ERRORS)
        self.notices: deque[Notice] = deque(maxlen=MAX_NOTICES)
        self.totals = Totals()
        #: The plan's windows: latest state and the timeline of reports.
        self.quota = QuotaState()
        #: Arrival times within the last minute, for requests per minute.
        self._arrivals: deque[float] = deque()
        self._changes = Changes()
        #: Tool call id → the exchange that made the call (bounded, oldest dropped).
        self._tool_call_owners: OrderedDict[str, str] = OrderedDict()
        #: What the last `clear` forgot, until it is undone (or the next clear).
        self._cleared: tuple[list[ExchangeView], list[ErrorRow]] | None = None
        self._handlers: dict[type, Callable[[ExchangeView, Event], None]] = {
            CliSpawned: self._on_spawned,
            CliContinued: self._on_continued,
            HistorySent: self._on_history,
            CliStdout: self._on_stdout,
            CliStderr: self._on_stderr,
            CliExited: self._on_exited,
            TokenDelta: self._on_token,
            ToolCallsRequested: self._on_tool_calls,
            ResponseStarted: self._on_response_started,
            ResponseChunk: self._on_chunk,
            ExchangeFinished: self._on_finished,
            UpstreamRetry: self._on_retry,
        }

    # -- the bus subscriber ---------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event in. Called per token: no formatting, no widgets."""
        if isinstance(event, RequestReceived):
            self._on_received(event)
            return
        if isinstance(event, Notice):
            self._on_notice(event)
            return
        if isinstance(event, QuotaReported):
            self._on_quota(event)
            return
        view = self.exchanges.get(event.exchange_id)
        handler = self._handlers.get(type(event))
        if view is None or handler is None:
            return  # evicted or cleared already, or an event this console ignores
        handler(view, event)
        view.version += 1
        self._changes.updated.add(view.id)

    def _on_received(self, e: RequestReceived) -> None:
        view = ExchangeView(
            id=e.exchange_id,
            received_at=e.at,
            method=e.method,
            path=e.path,
            headers=dict(e.headers),
            body=e.body[:MAX_BODY_BYTES],
            body_size=len(e.body),
            client=e.client,
            remote=e.remote,
            model=e.model,
            stream=e.stream,
            replay_of=e.replay_of,
        )
        self._link_tool_results(view)
        self.exchanges[view.id] = view
        self.totals.requests += 1
        self._arrivals.append(e.at)
        self._changes.added.append(view.id)
        while len(self.exchanges) > self.history:
            self._evict_oldest()

    def _link_tool_results(self, view: ExchangeView) -> None:
        """A request carrying results of tool calls continues the exchange that made them."""
        if b'"tool_call_id"' not in view.body:  # a bytes search: no JSON parse per request
            return
        for call_id in _TOOL_CALL_ID.findall(view.body):
            owner = self.exchanges.get(self._tool_call_owners.get(call_id.decode("utf-8", "replace"), ""))
            if owner is not None and owner.id != view.id:
                view.continues = owner.id
                owner.continued_by = view.id
                owner.version += 1
                self._changes.updated.add(owner.id)
                return

    def _evict_oldest(self) -> None:
        # Finished exchanges go first; only a flood of in-flight ones evicts a live one.
        victim = next((v.id for v in self.exchanges.values() if not v.in_flight), None)
        if victim is None:
            victim = next(iter(self.exchanges))
        self._drop(victim)

    def _drop(self, exchange_id: str) -> None:
        del self.exchanges[exchange_id]
        changes = self._changes
        if exchange_id in changes.added:
            changes.added.remove(exchange_id)  # never shown: nothing to remove on screen
        else:
            changes.removed.append(exchange_id)
        changes.updated.discard(exchange_id)

    @staticmethod
    def _on_spawned(view: ExchangeView, e: CliSpawned) -> None:  # type: ignore[override]
        view.argv = e.argv
        view.pid = e.pid
        view.stdin = e.stdin
        view.cwd = e.cwd
        view.system_prompt = e.system_prompt
        view.spawned_at = e.at
        view.run_id = e.run_id

    @staticmethod
    def _on_continued(view: ExchangeView, e: CliContinued) -> None:  # type: ignore[override]
        view.pid = e.pid
        view.stdin = e.stdin
        view.run_id = e.run_id
        view.continued_from = e.previous_exchange_id
        view.spawned_at = e.at

    @staticmethod
    def _on_history(view: ExchangeView, e: HistorySent) -> None:  # type: ignore[override]
        view.history_mode, view.history_reason, view.history_fallback = e.mode, e.reason, e.fallback

    def _on_quota(self, e: QuotaReported) -> None:
        # Kept even when the exchange is gone (evicted, cleared): the header and the timeline
        # are about the plan, not the row.
        self.quota.apply(e)
        self._changes.quota = True
        view = self.exchanges.get(e.exchange_id) if e.exchange_id else None
        if view is not None:
            view.quota = e.report
            view.version += 1
            self._changes.updated.add(view.id)

    @staticmethod
    def _on_retry(view: ExchangeView, e: UpstreamRetry) -> None:  # type: ignore[override]
        view.retries.append(e)
        view.retries_total += 1
        view.retry_pending = True

    @staticmethod
    def _on_stdout(view: ExchangeView, e: CliStdout) -> None:
        if view.first_cli_line_at is None:
            view.first_cli_line_at = e.at
        at = e.at
        if view.retry_pending and any('"stream_event"' in line or '"assistant"' in line for line in e.lines):
            view.retry_pending = False  # the model answers again: the retry went through
        view.cli_lines.extend((at, "out", line) for line in e.lines)
        view.cli_lines_total += len(e.lines)

    @staticmethod
    def _on_stderr(view: ExchangeView, e: CliStderr) -> None:
        view.stderr.append(e.text)
        for line in e.text.splitlines() or [""]:
            view.cli_lines.append((e.at, "err", line))
            view.cli_lines_total += 1

    @staticmethod
    def _on_exited(view: ExchangeView, e: CliExited) -> None:
        view.returncode = e.returncode
        view.killed_because = e.killed_because
        view.exited_at = e.at

    @staticmethod
    def _on_token(view: ExchangeView, e: TokenDelta) -> None:
        if view.first_token_at is None:
            view.first_token_at = e.at
        view.last_token_at = e.at
        if view.retry_pending:
            view.retry_pending = False
        if e.kind == "thinking":
            view.thinking.append(e.text)
        else:
            view.text.append(e.text)
            view.deltas += e.count

    def _on_tool_calls(self, view: ExchangeView, e: ToolCallsRequested) -> None:  # type: ignore[override]
        view.tool_calls = e.calls
        owners = self._tool_call_owners
        for call_id, _, _ in e.calls:
            owners[call_id] = view.id
        while len(owners) > MAX_TOOL_CALL_OWNERS:
            owners.popitem(last=False)

    @staticmethod
    def _on_response_started(view: ExchangeView, e: ResponseStarted) -> None:
        view.response_status = e.status
        view.response_headers = dict(e.headers)
        view.response_started_at = e.at

    @staticmethod
    def _on_chunk(view: ExchangeView, e: ResponseChunk) -> None:
        if e.more:
            view.chunks.extend(e.chunks)
            view.chunks_total += 1 + len(e.more)
        else:
            view.chunks.append(e.data)
            view.chunks_total += 1

    def _on_finished(self, view: ExchangeView, e: ExchangeFinished) -> None:  # type: ignore[override]
        view.finished_at = e.at
        view.status = e.status
        if e.model:
            view.model = e.model
        view.finish_reason = e.finish_reason
        view.usage = e.usage
        view.error = e.error
        view.complete = e.complete
        view.final_ttft_ms = e.ttft_ms
        view.final_duration_ms = e.duration_ms
        # The streamed text is the one shown live; the final text wins if they differ
        # (a non-streaming run publishes no deltas at all).
        if e.text and len(view.text) == 0:
            view.text.append(e.text)
        if e.thinking and len(view.thinking) == 0:
            view.thinking.append(e.thinking)
        if e.usage is not None:
            self.totals.tokens_in += e.usage.prompt_tokens
            self.totals.tokens_out += e.usage.completion_tokens
        if e.error is not None or e.status >= 400:
            self.totals.errors += 1
            error = e.error
            row = ErrorRow(
                at=e.at,
                exchange_id=view.id,
                status=e.status,
                source=error.source if error else "http",
                type=error.type if error else "http_error",
                message=error.message if error else f"status {e.status}",
                code=error.code if error else None,
            )
            self.errors.append(row)
            self._changes.errors.append(row)

    def _on_notice(self, e: Notice) -> None:
        self.notices.append(e)
        self._changes.notices.append(e)
        if e.level == "error":
            row = ErrorRow(at=e.at, exchange_id=e.exchange_id, status=None, source="engine", type=e.level, message=e.message)
            self.errors.append(row)
            self._changes.errors.append(row)

    # -- what the flush reads -------------------------------------------------------

    def take_changes(self) -> Changes:
        changes, self._changes = self._changes, Changes()
        return changes

    def get(self, exchange_id: str | None) -> ExchangeView | None:
        return self.exchanges.get(exchange_id) if exchange_id else None

    def __iter__(self) -> Iterator[ExchangeView]:
        return iter(self.exchanges.values())

    def __len__(self) -> int:
        return len(self.exchanges)

    @property
    def newest(self) -> ExchangeView | None:
        if not self.exchanges:
            return None
        return self.exchanges[next(reversed(self.exchanges))]

    @property
    def in_flight(self) -> int:
        return sum(1 for v in self.exchanges.values() if v.in_flight)

    def live_counts(self) -> LiveCounts:
        """One pass over the exchanges (the header reads it at every flush)."""
        in_flight = queued = retrying = 0
        for view in self.exchanges.values():
            if view.finished_at is None:
                in_flight += 1
                if view.retry_pending:
                    retrying += 1
                elif view.spawned_at is None and view.response_status is None:
                    queued += 1
        return LiveCounts(in_flight, queued, retrying)

    def requests_per_minute(self, now: float | None = None) -> float:
        now = self.clock() if now is None else now
        arrivals = self._arrivals
        while arrivals and arrivals[0] < now - 60:
            arrivals.popleft()
        return float(sum(1 for t in arrivals if t <= now))

    def add_history(self, views: list[ExchangeView]) -> int:
        """Put exchanges of earlier runs before the live ones, within the history bound."""
        room = self.history - len(self.exchanges)
        fresh = [v for v in views if v.id not in self.exchanges][-room:] if room > 0 else []
        if not fresh:
            return 0
        merged = OrderedDict((v.id, v) for v in sorted(fresh, key=lambda v: v.received_at))
        merged.update(self.exchanges)
        self.exchanges = merged
        self._changes.cleared = True  # a full redraw: rows were added before the others
        return len(fresh)

    def touch(self, exchange_id: str) -> None:
        """Something outside the bus changed this exchange (details loaded): redraw it."""
        view = self.exchanges.get(exchange_id)
        if view is not None:
            view.version += 1
            self._changes.updated.add(exchange_id)

    def clear(self) -> int:
        """Forget finished exchanges and errors (in-flight ones stay); `undo_clear` brings them back."""
        finished = [v for v in self.exchanges.values() if not v.in_flight]
        for view in finished:
            self._drop(view.id)
        self._cleared = (finished, list(self.errors))
        self.errors.clear()
        self._changes.cleared = True
        return len(finished)

    def undo_clear(self) -> int:
        """Put back what the last clear forgot (within the history bound); how many rows."""
        if self._cleared is None:
            return 0
        views, errors = self._cleared
        self._cleared = None
        restored = self.add_history(views)
        self.errors = deque([*errors, *self.errors], maxlen=MAX_ERRORS)
        self._changes.cleared = True
        return restored
