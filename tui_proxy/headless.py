"""Headless mode: the same engine, no UI; one line per finished request on stdout."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from typing import TextIO

from . import __version__
from .config import Config
from .engine import Engine
from .events import Event, ExchangeFinished, HistorySent, Notice, QuotaReported, RequestReceived, UpstreamRetry
from .line_output import LineOutput
from .quota.text import brief
from .quota.windows import QuotaReport


class HeadlessLog:
    """A bus subscriber that prints finished requests and engine notices."""

    #: What it reads (subscribe with `only=HeadlessLog.EVENTS`).
    EVENTS = (RequestReceived, HistorySent, QuotaReported, UpstreamRetry, ExchangeFinished, Notice)

    def __init__(self, out: LineOutput) -> None:
        self.out = out
        self._stream_flags: dict[str, bool] = {}
        #: How each exchange's run got its conversation, until it finishes (only the notable ones).
        self._histories: dict[str, HistorySent] = {}
        #: Each exchange's last quota report and its upstream retries, until it finishes.
        self._quotas: dict[str, QuotaReport] = {}
        self._retries: dict[str, list[UpstreamRetry]] = {}

    def __call__(self, event: Event) -> None:
        kind = type(event)
        if kind is RequestReceived:
            self._stream_flags[event.exchange_id] = event.stream  # type: ignore[attr-defined]
        elif kind is HistorySent:
            if event.mode == "transcript" or event.fallback:  # type: ignore[attr-defined]
                self._histories[event.exchange_id] = event  # type: ignore[assignment]
        elif kind is QuotaReported:
            if event.exchange_id:  # a poll's report belongs to no request
                self._quotas[event.exchange_id] = event.report  # type: ignore[attr-defined]
        elif kind is UpstreamRetry:
            self._retries.setdefault(event.exchange_id, []).append(event)  # type: ignore[arg-type]
        elif kind is ExchangeFinished:
            xid = event.exchange_id
            history = self._histories.pop(xid, None)
            quota, retries = self._quotas.pop(xid, None), self._retries.pop(xid, ())
            self._write(format_finished(event, self._stream_flags.pop(xid, False), history, quota, retries))  # type: ignore[arg-type]
        elif kind is Notice:
            self._write(f"{_clock(event.at)}  {event.level.upper():7}  {event.message}")  # type: ignore[attr-defined]

    def _write(self, line: str) -> None:
        self.out.line(line)


def format_finished(
    event: ExchangeFinished,
    stream: bool,
    history: HistorySent | None = None,
    quota: QuotaReport | None = None,
    retries: "tuple[UpstreamRetry, ...] | list[UpstreamRetry]" = (),
) -> str:
    usage = event.usage
    tokens = f"in {usage.prompt_tokens} out {usage.completion_tokens}" if usage else "in - out -"
    if usage and usage.prompt_tokens:
        # The share of the prompt read from the cache: what the plan's limit was spared.
        tokens += f" cache {usage.cached_tokens / usage.prompt_tokens:.0%}"
    if history is not None:
        # Not sent as real messages: the prompt cache cannot read this conversation back.
        tokens += f"  history {'FALLBACK ' if history.fallback else ''}{history.mode}: {history.reason}"
    if retries:
        # The CLI retried upstream (the request waited on Anthropic, not in the proxy's queue).
        statuses = sorted({str(r.error_status or r.error or "network") for r in retries})
        tokens += f"  retried {len(retries)}x ({', '.join(statuses)})"
    said = brief(quota) if quota is not None else ""
    if said:
        # What the request's own run said of the plan.
        tokens += f"  quota {said}"
    ttft = f"ttft {event.ttft_ms / 1000:.2f}s" if event.ttft_ms is not None else "ttft -"
    status = str(event.status)
    if event.error is not None:
        status += f" {event.error.code or event.error.type}"
    elif event.finish_reason:
        status += f" {event.finish_reason}"
    return (
        f"{_clock(event.at)}  {event.exchange_id}  {event.model or '-'}  {'stream' if stream else 'json'}  "
        f"{status}  {ttft}  {event.duration_ms / 1000:.2f}s  {tokens}"
    )


def _clock(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


async def serve(config: Config, *, out: TextIO = sys.stdout) -> int:
    lines = LineOutput(out)
    try:
        return await _serve(config, lines)
    finally:
        lines.close()


async def _serve(config: Config, out: LineOutput) -> int:
    engine = Engine(config)
    engine.bus.subscribe(HeadlessLog(out), only=HeadlessLog.EVENTS)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if stopping.is_set():
            # Already stopping (bounded: grace + kill). Dying now would orphan children.
            out.line(f"claude-max-tui: {sig.name} again; still reaping children, exiting in a few seconds")
        stopping.set()

    # Before the engine starts: it starts children (the pool) and announces "listening on"
    # from a thread of its own, so a SIGTERM sent on that line must find our handler, not
    # the default one that would leave the children and the captures behind.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        try:
            await engine.start()
        except (OSError, PermissionError) as exc:
            out.line(f"claude-max-tui: cannot start: {exc}")
            return 1
        try:
            status = engine.cli_status
            out.line(f"claude-max-tui {__version__} headless, listening on {engine.url}/v1")
            if status is not None:
                out.line(f"claude CLI: {status.path or config.claude} version {status.version or 'unknown'}; logged in: {_yes_no(status.logged_in)}")
            if engine.store is not None:
                out.line(f"captures: {engine.store.path}")
            await stopping.wait()
            out.line("claude-max-tui: shutting down")
        finally:
            await engine.stop()
    finally:
        # Handlers stay installed until the engine has stopped: see on_signal.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    out.line("claude-max-tui: stopped")
    return 0


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def run_headless(config: Config) -> int:
    return asyncio.run(serve(config))
