"""A scripted engine and a fixed scene of exchanges.

Used by the snapshot tests and `scripts/screenshots.py` (same scene, so README images
match what the tests pin), and handy to try the console without a CLI. The engine
here has the shape of `tui_proxy.engine.Engine` as the console uses it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from typing import Callable

from ..capture.model import CaptureState, CaptureSummary
from ..capture.redact import REDACTED
from ..replay.diff import ReplayDiff, diff
from ..events import (
    CliExited,
    CliSpawned,
    CliStderr,
    CliStdout,
    ErrorInfo,
    Event,
    EventBus,
    ExchangeFinished,
    QuotaReported,
    RequestReceived,
    ResponseChunk,
    ResponseStarted,
    TokenDelta,
    ToolCallsRequested,
    UpstreamRetry,
    Usage,
)
from ..quota.windows import QuotaReport, QuotaWindow

#: 2026-11-25 14:02:03 UTC: scene times are offsets from here.
T0 = 1_795_960_923.0


#: The CLI version the project pins (scripts/install-claude-cli.sh, CLAUDE_CLI_VERSION);
#: a test keeps the two equal.
PINNED_CLI_VERSION = "2.1.328"


@dataclass
class DemoCliStatus:
    path: str | None = "/usr/local/bin/claude"
    found: bool = True
    version: str | None = PINNED_CLI_VERSION
    logged_in: bool | None = True
    auth_method: str | None = "claude.ai max"
    error: str | None = None
    hint: str | None = None


class DemoEngine:
    """Publishes nothing by itself; `play_scene` feeds its bus. kill() ends a run."""

    def __init__(
        self,
        *,
        bus: EventBus | None = None,
        clock: Callable[[], float] = lambda: T0 + 30,
        cli_status: DemoCliStatus | None = None,
        start_error: OSError | None = None,
        url: str = "http://127.0.0.1:3456",
    ) -> None:
        self.bus = bus or EventBus()
        self.clock = clock
        self.cli_status = cli_status or DemoCliStatus()
        self.start_error = start_error
        self.url: str | None = None
        self.port: int | None = None
        self.store = None
        self.started = False
        self.stopped = False
        self.killed: list[str] = []
        self._url = url
        self._running: set[str] = set()
        self.bus.subscribe(self._track)

    def _track(self, event: Event) -> None:
        # A run, as the engine counts them: a CLI answering (queued requests have none yet).
        if isinstance(event, CliSpawned):
            self._running.add(event.exchange_id)
        elif isinstance(event, ExchangeFinished):
            self._running.discard(event.exchange_id)

    @property
    def active_runs(self) -> int:
        return len(self._running)

    async def start(self) -> None:
        if self.start_error is not None:
            raise self.start_error
        self.url = self._url
        self.port = int(self._url.rsplit(":", 1)[-1])
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def kill(self, exchange_id: str) -> bool:
        if exchange_id not in self._running:
            return False
        self.killed.append(exchange_id)
        at = self.clock()
        publish = self.bus.publish
        publish(CliExited(exchange_id, at, returncode=-15, killed_because="killed"))
        error = ErrorInfo(499, "request_cancelled", "Cancelled from the console", code="killed", source="killed")
        publish(ExchangeFinished(exchange_id, at, status=499, error=error, complete=False, duration_ms=0.0))
        return True


def _chat_body(model: str, prompt: str, *, stream: bool, system: str | None = None) -> bytes:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    body: dict = {"model": model, "messages": messages, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body).encode()


def _headers(client: str, *, key: bool = True) -> dict[str, str]:
    headers = {"host": "127.0.0.1:3456", "user-agent": client, "content-type": "application/json", "accept": "*/*"}
    if key:
        headers["authorization"] = REDACTED
    return headers


def _stream_events(exchange_id: str, at: float, words: list[str], step: float, kind: str = "text") -> list[Event]:
    return [TokenDelta(exchange_id, at + i * step, kind=kind, text=w) for i, w in enumerate(words)]  # type: ignore[arg-type]


def _cli_lines(exchange_id: str, at: float, session: str, text: str) -> list[Event]:
    lines = [
        {"type": "system", "subtype": "init", "session_id": session, "model": "claude-sonnet-4-5", "tools": []},
        {"type": "stream_event", "event": {"type": "message_start"}},
        {"type": "stream_event", "event": {"type": "content_block_delta", "delta": {"type": "text_delta", "text": text[:24]}}},
        {"type": "result", "subtype": "success", "is_error": False, "duration_ms": 2310, "result": text, "usage": {"input_tokens": 1830, "output_tokens": 96}},
    ]
    return [CliStdout(exchange_id, at + i * 0.4, lines=(json.dumps(line),)) for i, line in enumerate(lines)]


#: When the scene's windows reset: the 5-hour one 1 h 12 m after the scene's clock, the weekly ones in 3 days 4 h.
FIVE_HOUR_RESET = T0 + 30 + 72 * 60 + 30
WEEK_RESET = T0 + 30 + (3 * 24 + 4) * 3600 + 600


def _quota(exchange_id: str, at: float, five_hour: float, *, overage: bool | None = False, week: float = 0.41) -> QuotaReported:
    """A request's `rate_limit_event` as the engine publishes it (past 90 %: a warning)."""
    warning = five_hour >= 0.9
    status = "allowed_warning" if warning else "allowed"
    windows = (
        QuotaWindow("five_hour", five_hour, FIVE_HOUR_RESET, status, 0.9 if warning else None),
        QuotaWindow("seven_day", week, WEEK_RESET, "allowed"),
    )
    report = QuotaReport(status=status, limit_type="five_hour", windows=windows, using_overage=overage, overage_status="allowed")
    return QuotaReported(exchange_id, at, report)


def _quota_poll(at: float) -> QuotaReported:
    """A background `get_usage` poll: every window, no request."""
    windows = (
        QuotaWindow("five_hour", 0.91, FIVE_HOUR_RESET),
        QuotaWindow("seven_day", 0.41, WEEK_RESET),
        QuotaWindow("seven_day_opus", 0.12, WEEK_RESET),
        QuotaWindow("seven_day_sonnet", 0.38, WEEK_RESET),
    )
    return QuotaReported("", at, QuotaReport(windows=windows, source="get_usage"))


def _api_retry(exchange_id: str, at: float, attempt: int, delay_ms: float) -> list[Event]:
    """The CLI's `api_retry` line for an overloaded upstream, and the event it becomes."""
    line = {"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": 10, "retry_delay_ms": delay_ms, "error_status": 529, "error": "overloaded", "session_id": "5e7a"}
    return [
        CliStdout(exchange_id, at, lines=(json.dumps(line),)),
        UpstreamRetry(exchange_id, at, attempt=attempt, max_retries=10, error_status=529, error="overloaded", retry_delay_ms=delay_ms),
    ]


def scene_events() -> list[Event]:
    """Ten exchanges in every state the console draws: done, thinking, error, killed, tool
    calls, retrying upstream, live, waiting, queued; the plan's windows reported along."""
    events: list[Event] = []
    add = events.extend

    # 1. A finished streaming request with thinking, from curl.
    a = "0199f1a00001-5e1f09aa"
    answer = "Paris is the capital of France. It has been the seat of government since the 10th century."
    add([
        RequestReceived(a, T0, "POST", "/v1/chat/completions", _headers("curl/8.5.0"), _chat_body("sonnet", "What is the capital of France? Think first.", stream=True), "curl/8.5.0", "127.0.0.1", model="sonnet", stream=True),
        CliSpawned(a, T0 + 0.02, argv=("claude", "-p", "--output-format", "stream-json", "--verbose", "--input-format", "stream-json", "--model", "sonnet", "--include-partial-messages"), pid=41812, stdin='{"type":"user","message":{"role":"user","content":"What is the capital of France? Think first."}}', cwd="/tmp/claude-max-tui"),
        *_cli_lines(a, T0 + 0.9, "7c1e", answer),
        _quota(a, T0 + 0.95, 0.88),
        *_stream_events(a, T0 + 1.1, ["The user asks ", "about France. ", "Simple fact: Paris."], 0.1, "thinking"),
        ResponseStarted(a, T0 + 1.4, 200, {"content-type": "text/event-stream", "x-request-id": a}, True),
        *_stream_events(a, T0 + 1.4, [w + " " for w in answer.split()], 0.05),
        ResponseChunk(a, T0 + 1.5, '{"id":"chatcmpl-' + a + '","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Paris "}}]}'),
        CliExited(a, T0 + 2.4, returncode=0),
        ExchangeFinished(a, T0 + 2.41, 200, model="claude-sonnet-4-5", finish_reason="stop", usage=Usage(1830, 96, cached_tokens=1650, reasoning_tokens=12, cost_usd=0.0041), text=answer, ttft_ms=1100.0, duration_ms=2410.0),
    ])

    # 2. A non-streaming request from the OpenAI Python SDK.
    b = "0199f1a00002-a83c11f0"
    b_text = "def add(a, b):\n    return a + b"
    add([
        RequestReceived(b, T0 + 4, "POST", "/v1/chat/completions", _headers("OpenAI/Python 1.82.0"), _chat_body("opus", "Write add() in Python.", stream=False, system="You are terse."), "OpenAI/Python 1.82.0", "127.0.0.1", model="opus", stream=False),
        CliSpawned(b, T0 + 4.01, argv=("claude", "-p", "--output-format", "stream-json", "--model", "opus"), pid=41840, stdin='{"type":"user","message":{"role":"user","content":"Write add() in Python."}}', cwd="/tmp/claude-max-tui", system_prompt="You are terse."),
        *_cli_lines(b, T0 + 5.2, "9a0b", b_text),
        _quota(b, T0 + 5.25, 0.91),
        *_stream_events(b, T0 + 5.9, ["def add(a, b):\n", "    return a + b"], 0.2),
        CliExited(b, T0 + 7.0, returncode=0),
        ResponseStarted(b, T0 + 7.0, 200, {"content-type": "application/json", "x-request-id": b}, False),
        ResponseChunk(b, T0 + 7.0, json.dumps({"id": "chatcmpl-" + b, "object": "chat.completion", "model": "claude-opus-4-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": b_text}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 2210, "completion_tokens": 18, "total_tokens": 2228}})),
        ExchangeFinished(b, T0 + 7.01, 200, model="claude-opus-4-1", finish_reason="stop", usage=Usage(2210, 18, cached_tokens=0, cost_usd=0.0346), text=b_text, ttft_ms=1900.0, duration_ms=3010.0),
    ])

    # 3. Rate limited by the CLI: a 429 with the CLI's stderr.
    c = "0199f1a00003-c0ffee01"
    add([
        RequestReceived(c, T0 + 9, "POST", "/v1/chat/completions", _headers("litellm/1.74.0"), _chat_body("sonnet", "Summarise this repo.", stream=True), "litellm/1.74.0", "127.0.0.1", model="sonnet", stream=True),
        CliSpawned(c, T0 + 9.01, argv=("claude", "-p", "--output-format", "stream-json", "--model", "sonnet"), pid=41877, stdin='{"type":"user","message":{"role":"user","content":"Summarise this repo."}}', cwd="/tmp/claude-max-tui"),
        CliStdout(c, T0 + 9.8, lines=('{"type":"result","subtype":"error_during_execution","is_error":true,"result":"Claude AI usage limit reached|1795964400"}',)),
        CliStderr(c, T0 + 9.85, text="Error: usage limit reached, resets at 15:00"),
        CliExited(c, T0 + 9.9, returncode=1),
        ExchangeFinished(c, T0 + 9.91, 429, error=ErrorInfo(429, "rate_limit_error", "Claude usage limit reached; resets at 15:00 UTC", code="usage_limit", source="cli", stderr_tail="Error: usage limit reached, resets at 15:00", retry_after=3540), duration_ms=910.0),
    ])

    # A background poll of the plan's windows (every window, no request).
    add([_quota_poll(T0 + 10.5)])

    # 4. Refused before any run: missing API key.
    d = "0199f1a00004-d15ea5e0"
    add([
        RequestReceived(d, T0 + 12, "POST", "/v1/chat/completions", _headers("python-requests/2.32", key=False), _chat_body("haiku", "ping", stream=False), "python-requests/2.32", "127.0.0.1", model="haiku", stream=False),
        ResponseStarted(d, T0 + 12.001, 401, {"content-type": "application/json"}, False),
        ExchangeFinished(d, T0 + 12.002, 401, error=ErrorInfo(401, "invalid_request_error", "Missing bearer token in Authorization header", code="invalid_api_key", source="request"), duration_ms=2.0),
    ])

    # 5. Killed from the console mid-stream.
    e = "0199f1a00005-e7a11b0b"
    add([
        RequestReceived(e, T0 + 14, "POST", "/v1/chat/completions", _headers("aider/0.86"), _chat_body("sonnet", "Refactor the parser.", stream=True), "aider/0.86", "127.0.0.1", model="sonnet", stream=True),
        CliSpawned(e, T0 + 14.01, argv=("claude", "-p", "--output-format", "stream-json", "--model", "sonnet"), pid=41903, stdin='{"type":"user","message":{"role":"user","content":"Refactor the parser."}}', cwd="/tmp/claude-max-tui"),
        CliStdout(e, T0 + 14.9, lines=('{"type":"system","subtype":"init","session_id":"e7a1"}',)),
        _quota(e, T0 + 15.0, 0.92),
        *_stream_events(e, T0 + 15.2, ["I'll start ", "by splitting ", "the tokenizer"], 0.3),
        CliExited(e, T0 + 17.5, returncode=-15, killed_because="killed"),
        ExchangeFinished(e, T0 + 17.51, 499, error=ErrorInfo(499, "request_cancelled", "Cancelled from the console", code="killed", source="killed"), text="I'll start by splitting the tokenizer", ttft_ms=1200.0, duration_ms=3510.0, complete=False),
    ])

    # 6. The upstream is overloaded: the CLI retries (529), the request waits on Anthropic.
    h = RETRYING
    add([
        RequestReceived(h, T0 + 18, "POST", "/v1/chat/completions", _headers("opencode/0.15.2"), _chat_body("opus", "Plan the migration.", stream=True), "opencode/0.15.2", "127.0.0.1", model="opus", stream=True),
        CliSpawned(h, T0 + 18.01, argv=("claude", "-p", "--output-format", "stream-json", "--model", "opus"), pid=41915, stdin='{"type":"user","message":{"role":"user","content":"Plan the migration."}}', cwd="/tmp/claude-max-tui"),
        CliStdout(h, T0 + 18.6, lines=('{"type":"system","subtype":"init","session_id":"5e7a"}',)),
        *_api_retry(h, T0 + 18.9, 1, 550.0),
        *_api_retry(h, T0 + 19.6, 2, 1100.0),
        *_api_retry(h, T0 + 20.9, 3, 2100.0),
        *_api_retry(h, T0 + 23.2, 4, 4800.0),
        *_api_retry(h, T0 + 28.2, 5, 11500.0),
    ])

    # 7. The model calls the client's tools: the answer ends with tool_calls.
    t = "0199f1a00008-7001ca11"
    t_body = json.loads(_chat_body("sonnet", "Weather in Paris and Tokyo?", stream=True))
    t_body["tools"] = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}}}}]
    calls = (("call_0a1b2c", "get_weather", '{"city":"Paris","unit":"celsius"}'), ("call_3d4e5f", "get_weather", '{"city":"Tokyo","unit":"celsius"}'))
    add([
        RequestReceived(t, T0 + 19, "POST", "/v1/chat/completions", _headers("OpenAI/Python 1.82.0"), json.dumps(t_body).encode(), "OpenAI/Python 1.82.0", "127.0.0.1", model="sonnet", stream=True),
        CliSpawned(t, T0 + 19.01, argv=("claude", "-p", "--output-format", "stream-json", "--model", "sonnet", "--mcp-config", "{…}"), pid=41921, stdin='{"type":"user","message":{"role":"user","content":"Weather in Paris and Tokyo?"}}', cwd="/tmp/claude-max-tui"),
        _quota(t, T0 + 20.1, 0.94, overage=True),
        ResponseStarted(t, T0 + 20.2, 200, {"content-type": "text/event-stream", "x-request-id": t}, True),
        *_stream_events(t, T0 + 20.2, ["Let me check ", "both cities."], 0.1),
        ResponseChunk(t, T0 + 20.9, json.dumps({"id": "chatcmpl-" + t, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": calls[0][0], "type": "function", "function": {"name": "get_weather", "arguments": calls[0][2]}}]}}]})),
        ToolCallsRequested(t, T0 + 20.9, calls=calls),
        ExchangeFinished(t, T0 + 20.91, 200, model="claude-sonnet-4-5", finish_reason="tool_calls", usage=Usage(1620, 64, cached_tokens=1210, cost_usd=0.0089), text="Let me check both cities.", ttft_ms=1200.0, duration_ms=1910.0),
    ])

    # 8. Streaming right now (no usage yet): the live row.
    f = "0199f1a00006-f1f1f1f1"
    live = "Here is a haiku about event loops:\n\nOne thread, many waits —\ncallbacks bloom when sockets wake,\nthe loop never sleeps."
    add([
        RequestReceived(f, T0 + 22, "POST", "/v1/chat/completions", _headers("open-webui/0.6.5"), _chat_body("sonnet", "Write a haiku about event loops.", stream=True), "open-webui/0.6.5", "127.0.0.1", model="sonnet", stream=True),
        CliSpawned(f, T0 + 22.01, argv=("claude", "-p", "--output-format", "stream-json", "--model", "sonnet", "--include-partial-messages"), pid=41950, stdin='{"type":"user","message":{"role":"user","content":"Write a haiku about event loops."}}', cwd="/tmp/claude-max-tui"),
        *_cli_lines(f, T0 + 22.7, "f1f1", live)[:1],
        _quota(f, T0 + 22.9, 0.95),
        *_cli_lines(f, T0 + 22.7, "f1f1", live)[1:3],
        ResponseStarted(f, T0 + 23.1, 200, {"content-type": "text/event-stream", "x-request-id": f}, True),
        *_stream_events(f, T0 + 23.1, [w + " " for w in live.split(" ")], 0.25),
    ])

    # 9. Just arrived: waiting for the CLI's first line.
    g = "0199f1a00007-0a0b0c0d"
    add([
        RequestReceived(g, T0 + 29, "POST", "/v1/chat/completions", _headers("curl/8.5.0"), _chat_body("opus", "Explain asyncio.TaskGroup.", stream=True), "curl/8.5.0", "127.0.0.1", model="opus", stream=True),
        CliSpawned(g, T0 + 29.02, argv=("claude", "-p", "--output-format", "stream-json", "--model", "opus"), pid=41977, stdin='{"type":"user","message":{"role":"user","content":"Explain asyncio.TaskGroup."}}', cwd="/tmp/claude-max-tui"),
    ])

    # 10. Queued: every slot is busy, no CLI yet.
    add([
        RequestReceived(QUEUED, T0 + 29.6, "POST", "/v1/chat/completions", _headers("Continue/1.2.3"), _chat_body("sonnet", "Add type hints.", stream=True), "Continue/1.2.3", "127.0.0.1", model="sonnet", stream=True),
    ])
    return events


SCENE_CLOCK = T0 + 30.0


def history_summaries(count: int = 240, hours: float = 3.0) -> list[CaptureSummary]:
    """Earlier runs for the statistics screen, newest first (as the store lists them): a
    fixed pseudo-random afternoon of three models, slower answers and a burst of 529s in
    the middle."""
    rng = random.Random(15)
    models = ("claude-sonnet-4-5", "claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")
    start = T0 - hours * 3600
    out = []
    for i in range(count):
        at = start + (i + rng.random()) * hours * 3600 / count
        model = rng.choice(models)
        busy = 0.4 < i / count < 0.55  # the upstream was overloaded for a while
        failed = busy and rng.random() < 0.35
        ttft = (rng.uniform(600, 1400) if model != "claude-opus-4-1" else rng.uniform(1200, 2600)) * (1.8 if busy else 1.0)
        out_tokens = rng.randint(40, 900)
        speed = {"claude-haiku-4-5": 140.0, "claude-sonnet-4-5": 75.0}.get(model, 45.0) * rng.uniform(0.7, 1.2)
        duration = ttft + out_tokens / speed * 1000
        out.append(CaptureSummary(
            id=f"{int(at * 1000):012x}-{rng.getrandbits(32):08x}", started_at=at, method="POST", path="/v1/chat/completions",
            client="OpenAI/Python 1.82.0", model=model, stream=True,
            status=503 if failed else 200, ttft_ms=None if failed else ttft, duration_ms=rng.uniform(900, 3000) if failed else duration,
            prompt_tokens=None if failed else rng.randint(800, 24_000), completion_tokens=None if failed else out_tokens,
            finish_reason=None if failed else "stop", error_type="upstream_overloaded" if failed else None,
            error_message="Anthropic is overloaded (529)" if failed else None, replay_of=None,
            state=CaptureState.COMPLETE,
        ))
    return out[::-1]


class DemoStore:
    """The capture store's read side over `history_summaries` (the statistics screenshot)."""

    def __init__(self, summaries: list[CaptureSummary]) -> None:
        self.summaries = summaries

    def list(self, limit: int = 100, before: str | None = None, filter_text: str | None = None) -> list[CaptureSummary]:
        return self.summaries[:limit]

    async def alist(self, limit: int = 100, before: str | None = None, filter_text: str | None = None) -> list[CaptureSummary]:
        return self.list(limit)

    async def aget(self, exchange_id: str):
        return None


def play_scene(bus: EventBus) -> None:
    for event in scene_events():
        bus.publish(event)


def make_demo_app(*, start_error: OSError | None = None, cli_status: DemoCliStatus | None = None, history: bool = False):
    """The console on a DemoEngine with the scene's fixed clock (for snapshots, screenshots);
    `history`: with earlier runs in a capture store (the statistics screen)."""
    from ..config import Config
    from .app import make_app

    engine = DemoEngine(start_error=start_error, cli_status=cli_status)
    if history:
        engine.store = DemoStore(history_summaries())
    return make_app(Config(port=3456), engine=engine, clock=lambda: SCENE_CLOCK)


async def stage(pilot, select: str | None = None, panel: str | None = None, scene: bool = True) -> None:
    """Play the scene into a running demo app, select a row, show a panel, settle."""
    app = pilot.app
    if scene:
        play_scene(app.engine.bus)
    app.flush()
    await pilot.pause()
    if select is not None:
        table = app.table
        table.move_cursor(row=table.get_row_index(select), animate=False)
    if panel is not None:
        app.action_panel(panel)
    await pilot.pause()
    app.flush()
    await pilot.pause()


async def press_and_draw(pilot, *keys: str, timeout: float = 10.0) -> None:
    """Press keys, then wait until what they opened is drawn (detail tabs build in slices)."""
    import asyncio

    app = pilot.app
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not getattr(app.screen, "ready", True) and loop.time() < deadline:
        await asyncio.sleep(0.01)
    app.flush()
    await pilot.pause()


def scene_replay_diff(app) -> ReplayDiff:
    """The scene's first answer against a replay that put it differently: the diff screen's picture."""
    from .view_capture import capture_from_view

    original = capture_from_view(app.state.get(DONE_WITH_THINKING))
    text = "Paris is the capital of France. It has been the seat of government for most of the last thousand years."
    usage = replace(original.usage, completion_tokens=104)
    again = replace(original, id=REPLAYED, replay_of=original.id, text=text, usage=usage, completion_tokens=104, ttft_ms=980.0, duration_ms=2250.0)
    return diff(original, again)


#: Exchange ids of the scene, by what they show.
DONE_WITH_THINKING = "0199f1a00001-5e1f09aa"
NOT_STREAMING = "0199f1a00002-a83c11f0"
RATE_LIMITED = "0199f1a00003-c0ffee01"
REFUSED = "0199f1a00004-d15ea5e0"
KILLED = "0199f1a00005-e7a11b0b"
STREAMING = "0199f1a00006-f1f1f1f1"
WAITING = "0199f1a00007-0a0b0c0d"
TOOL_CALLS = "0199f1a00008-7001ca11"
RETRYING = "0199f1a0000a-529b0a7d"
QUEUED = "0199f1a0000b-9e0e0e0d"
#: The replay `scene_replay_diff` compares with DONE_WITH_THINKING (not in the list).
REPLAYED = "0199f1a00009-9e9a7a11"
