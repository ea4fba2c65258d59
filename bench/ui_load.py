"""Does the console slow the proxy? 20 concurrent streams of 500 tokens, console vs headless.

    python bench/ui_load.py [--streams 20] [--tokens 500] [--delay-ms 5] [--rounds 3] [--no-details] [--no-launcher]

Both modes run in one process, interleaved round by round, over the real engine and
the project's fake CLI (`[[fake:tokens n=500 delay_ms=5]]`: 200 tokens/s per stream,
faster than any real model; `--delay-ms 0` prints flat out, which on a small machine
measures how the CLIs and the proxy share the CPU more than anything else).
"headless" is the engine alone; "console" is the same engine inside the Textual app
(headless driver, 200x50: it composes and renders every frame, it just does not write
them to a terminal).

Reported per mode (median of the rounds): wall time, tokens per second delivered to
the clients, the worst gap between two chunks seen by one client, and the worst
event-loop lag (a 5 ms ticker's largest overshoot), over the whole round and over the
streaming phase only (after every stream's first token: the 20 CLI spawns at the
start block the loop in both modes alike). Targets: ratio >= 0.95, lag < 50 ms.

The lag is wall time: on a machine busy with other work the process waits for a CPU
and the lag grows whatever the code does (the load average is printed). So the CPU
time of the longest single loop callback is printed too ("longest callback, CPU"):
how long the code itself held the loop (garbage collections included), which other
processes do not change much.

While the console's streams run, a user opens heavy detail views (unless --no-details):
the detail of a 600-message, ~62 KB request (as agent clients send), its response tab,
then the response tab of a 5 MB answer and `f` (load all), then the statistics screen
over 1 000 earlier exchanges in the list and 5 000 in the capture history. Both
exchanges are sent before the round starts. How long each took to show is printed too.

Meanwhile, in both modes alike, quota reports and upstream retries are published on the
engine's bus (`--quota-rate` of each per second, default 20: far more than the CLI
sends, one report per request): the header's gauges, the rows' windows and the
retrying rows' countdowns update with every flush.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from textual.events import Key

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_proxy.config import Config  # noqa: E402
from tui_proxy.engine import Engine  # noqa: E402
from tui_proxy.events import ExchangeFinished, QuotaReported, RequestReceived, UpstreamRetry  # noqa: E402
from tui_proxy.quota.windows import QuotaReport, QuotaWindow  # noqa: E402
from tui_proxy.tui.app import make_app  # noqa: E402
from tui_proxy.tui.demo import DemoStore, history_summaries  # noqa: E402
from tui_proxy.tui.history import view_from_summary  # noqa: E402
from tui_proxy.tui.screens.detail import DetailScreen  # noqa: E402
from tui_proxy.tui.screens.stats import StatsScreen  # noqa: E402

FAKE_CLAUDE = str(ROOT / "tests" / "bin" / "claude")


@dataclass
class Round:
    seconds: float
    tokens: int
    worst_chunk_gap_ms: float
    worst_loop_lag_ms: float
    #: The same, once every stream is flowing.
    streaming_loop_lag_ms: float
    #: CPU time of this process (engine, console, and the test clients) during the round.
    cpu_seconds: float
    #: CPU time of the longest loop callback, once every stream is flowing (ms).
    streaming_callback_ms: float = 0.0
    #: Each heavy detail view (console rounds with details), by name: seconds it took
    #: to show, the worst loop lag meanwhile and the longest loop callback's CPU time (ms).
    opened: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    #: The CPU time of each of the console's flushes (ms; the loop's thread only, so other
    #: work on the machine does not count), console rounds only.
    flushes_ms: list[float] = field(default_factory=list)
    #: Share of the machine's CPU time its host took (a VM's steal) during the round.
    steal: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds


def cpu_times() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot (Linux; zeros elsewhere)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


class LagMonitor:
    """Sleeps 5 ms in a loop and remembers the largest overshoot: the loop's responsiveness."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        #: (when the tick ended, how late it was), perf_counter seconds.
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.period)
            after = time.perf_counter()
            self.samples.append((after, after - before - self.period))

    def worst(self, since: float = 0.0, until: float = float("inf")) -> float:
        return max((lag for at, lag in self.samples if since <= at <= until), default=0.0)

    def __enter__(self) -> "LagMonitor":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()


class QuotaChurn:
    """Publishes a quota report and an upstream retry `rate` times a second each, on one
    in-flight exchange (round robin) or, every fourth report, as a background poll."""

    def __init__(self, bus, rate: float) -> None:
        self.bus = bus
        self.rate = rate
        self.live: list[str] = []
        self.published = 0
        self._unsubscribe = bus.subscribe(self._track)

    def _track(self, event) -> None:
        if isinstance(event, RequestReceived):
            self.live.append(event.exchange_id)
        elif isinstance(event, ExchangeFinished) and event.exchange_id in self.live:
            self.live.remove(event.exchange_id)

    async def run(self) -> None:
        if self.rate <= 0:
            return
        n = 0
        while True:
            await asyncio.sleep(1 / self.rate)
            n += 1
            now = time.time()
            target = self.live[n % len(self.live)] if self.live else ""
            used = 0.5 + (n % 50) / 100
            windows = (
                QuotaWindow("five_hour", used, now + 4000, "allowed_warning" if used >= 0.9 else "allowed", 0.9 if used >= 0.9 else None),
                QuotaWindow("seven_day", 0.41, now + 300_000, "allowed"),
            )
            report = QuotaReport(status=windows[0].status, limit_type="five_hour", windows=windows, using_overage=n % 7 == 0)
            self.bus.publish(QuotaReported("" if n % 4 == 0 else target, now, report))
            if target:
                self.bus.publish(UpstreamRetry(target, now, attempt=1 + n % 10, max_retries=10, error_status=529, error="overloaded", retry_delay_ms=2000.0))
            self.published += 2

    def close(self) -> None:
        self._unsubscribe()


class CallbackMeter:
    """The CPU time of each loop callback over 1 ms: what held the loop, whatever else the machine runs."""

    def __init__(self) -> None:
        #: (when the callback ended, its CPU time), perf_counter and thread-time seconds.
        self.samples: list[tuple[float, float]] = []
        self._run = asyncio.events.Handle._run

    def worst(self, since: float = 0.0, until: float = float("inf")) -> float:
        return max((cpu for at, cpu in self.samples if since <= at <= until), default=0.0)

    def __enter__(self) -> "CallbackMeter":
        run, samples = self._run, self.samples

        def timed(handle) -> None:
            started = time.thread_time()
            try:
                run(handle)
            finally:
                cpu = time.thread_time() - started
                if cpu > 0.001:
                    samples.append((time.perf_counter(), cpu))

        asyncio.events.Handle._run = timed  # TimerHandle runs through it too
        return self

    def __exit__(self, *exc) -> None:
        asyncio.events.Handle._run = self._run


async def one_stream(session: aiohttp.ClientSession, url: str, tokens: int, delay_ms: int, flowing: asyncio.Event) -> tuple[int, float, float]:
    """Tokens received, the worst pause between two chunks, when the first token came."""
    prompt = f"[[fake:tokens n={tokens} delay_ms={delay_ms}]] go"
    body = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    received = 0
    worst_gap = 0.0
    first = 0.0
    last = None
    async with session.post(url + "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.content:
            if not line.startswith(b"data: {"):
                continue
            now = time.perf_counter()
            if last is not None and received:
                worst_gap = max(worst_gap, now - last)
            last = now
            choices = json.loads(line[6:]).get("choices") or [{}]
            if choices[0].get("delta", {}).get("content"):
                received += 1
                first = first or now
                flowing.set()
    return received, worst_gap, first


async def load(url: str, streams: int, tokens: int, delay_ms: int, meanwhile=None, churn: QuotaChurn | None = None) -> Round:
    """The streams; `meanwhile(flowing)` runs beside them (`flowing` is set at the first token),
    and so does `churn` (quota and retry events)."""
    connector = aiohttp.TCPConnector(limit=streams)
    flowing = asyncio.Event()
    async with aiohttp.ClientSession(connector=connector) as session:
        with LagMonitor() as monitor, CallbackMeter() as callbacks:
            started = time.perf_counter()
            cpu_started = time.process_time()
            steal_started = cpu_times()
            side = asyncio.ensure_future(meanwhile(flowing)) if meanwhile else None
            events = asyncio.ensure_future(churn.run()) if churn else None
            try:
                results = await asyncio.gather(*(one_stream(session, url, tokens, delay_ms, flowing) for _ in range(streams)))
            finally:
                if events is not None:
                    events.cancel()
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            steal, total = (now - before for now, before in zip(cpu_times(), steal_started))
            windows = await side if side else {}
            # A tick that ends after a window ends was delayed by what happened in it.
            opened = {name: (t1 - t0, monitor.worst(t0, t1 + 0.1) * 1000, callbacks.worst(t0, t1 + 0.1) * 1000) for name, (t0, t1) in windows.items()}
    received = sum(r[0] for r in results)
    if received < streams * tokens:
        raise SystemExit(f"only {received} of {streams * tokens} tokens arrived: the run is not valid")
    all_flowing = max(r[2] for r in results)
    return Round(seconds, received, max(r[1] for r in results) * 1000, monitor.worst() * 1000, monitor.worst(all_flowing) * 1000, cpu_seconds, callbacks.worst(all_flowing) * 1000, opened, steal=steal / total if total else 0.0)


#: --no-launcher: each CLI in a session (a CPU share) of its own, as before claude/launcher.py.
LAUNCHER = True


def bench_config(data_dir: Path, streams: int) -> Config:
    return Config(port=0, claude=FAKE_CLAUDE, data_dir=data_dir, capture=False, max_concurrency=streams, max_queue=streams, usage_poll_seconds=0, launcher=LAUNCHER)


async def headless_round(data_dir: Path, streams: int, tokens: int, delay_ms: int, quota_rate: float) -> Round:
    engine = Engine(bench_config(data_dir, streams))
    await engine.start()
    churn = QuotaChurn(engine.bus, quota_rate)
    try:
        return await load(engine.url, streams, tokens, delay_ms, churn=churn)
    finally:
        churn.close()
        await engine.stop()


#: A request as agent clients send it: 600 messages, ~62 KB.
BIG_REQUEST = {
    "model": "sonnet",
    "stream": False,
    "messages": [{"role": ("user", "assistant")[i % 2], "content": f"message {i}: " + "lorem ipsum dolor sit amet " * 3} for i in range(599)]
    + [{"role": "user", "content": "[[fake:text text=ok]] and so?"}],
}
#: A 5 MB answer (not streamed: one JSON body).
HUGE_ANSWER = {"model": "sonnet", "stream": False, "messages": [{"role": "user", "content": "[[fake:bigline size=5000000]] go"}]}


async def send(url: str, body: dict) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/v1/chat/completions", json=body) as response:
            await response.read()
            if response.status != 200:
                raise SystemExit(f"the heavy exchange failed: {response.status}")
            return response.headers["x-request-id"]


async def until(predicate, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise SystemExit("a detail view did not show in time")
        await asyncio.sleep(0.005)


def type_key(app, key: str) -> None:
    app.post_message(Key(key, key))


async def open_heavy_details(app, pilot, big_id: str, huge_id: str, flowing: asyncio.Event) -> dict[str, tuple[float, float]]:
    """What a user does while the streams run: open both heavy exchanges; when each began and showed."""
    await flowing.wait()
    await asyncio.sleep(0.3)  # every stream is flowing by now
    opened: dict[str, tuple[float, float]] = {}

    async def show(name: str, action, taken=lambda screen: True) -> None:
        started = time.perf_counter()
        shown = action()
        if shown is not None and hasattr(shown, "__await__"):
            await shown
        await until(lambda: isinstance(app.screen, DetailScreen) and taken(app.screen) and app.screen.ready)
        await asyncio.sleep(0)  # the next refresh draws it
        opened[name] = (started, time.perf_counter())

    # As enter on a row and the errors panel do: the console's own detail screen.
    await show("600-message request", lambda: app.open_detail(app.state.get(big_id)))
    # Keys as the terminal driver posts them: Pilot's press waits for the app to go idle (up
    # to 2 s), which it never does while 20 streams run.
    await show("  its response tab", lambda: type_key(app, "2"), lambda screen: screen.active_tab == "response")
    await pilot.press("escape")
    await show("5 MB response", lambda: app.open_detail(app.state.get(huge_id), "response"))
    await show("  f (load all)", lambda: type_key(app, "f"), lambda screen: screen.full)
    await pilot.press("escape")
    started = time.perf_counter()
    await app.push_screen(StatsScreen(store=DemoStore(STATS_HISTORY)))
    await until(lambda: isinstance(app.screen, StatsScreen) and app.screen.ready)
    await asyncio.sleep(0)
    opened["statistics screen"] = (started, time.perf_counter())
    await pilot.press("escape")
    return opened


#: The statistics screen's capture history: 5 000 earlier exchanges (its bound).
STATS_HISTORY = history_summaries(5000, hours=60)
#: Earlier exchanges already in the list, as loaded at start-up (the default --history).
LIST_HISTORY = history_summaries(1000, hours=12)


async def console_round(data_dir: Path, streams: int, tokens: int, delay_ms: int, details: bool, quota_rate: float) -> tuple[Round, int]:
    app = make_app(bench_config(data_dir, streams), freeze_gc=True)  # as run_console does
    flushes: list[float] = []
    flush = app.flush

    def timed_flush() -> None:  # the timer is set at mount, on this attribute
        started = time.thread_time()
        flush()
        flushes.append((time.thread_time() - started) * 1000)

    app.flush = timed_flush  # type: ignore[method-assign]
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        app.state.add_history([view_from_summary(s) for s in LIST_HISTORY])
        app.flush()
        await pilot.pause()
        meanwhile = None
        if details:
            big_id = await send(app.engine.url, BIG_REQUEST)
            huge_id = await send(app.engine.url, HUGE_ANSWER)
            await until(lambda: all((v := app.state.get(i)) is not None and not v.in_flight for i in (big_id, huge_id)))

            def meanwhile(flowing):
                return open_heavy_details(app, pilot, big_id, huge_id, flowing)

        churn = QuotaChurn(app.engine.bus, quota_rate)
        flushes.clear()
        try:
            result = await load(app.engine.url, streams, tokens, delay_ms, meanwhile, churn)
        finally:
            churn.close()
        result.flushes_ms = list(flushes)
        app.flush()
        await pilot.pause()
        rows = sum(1 for i in app.table._order if not app.state.exchanges[i].from_history)
        if quota_rate > 0:
            assert app.state.quota.reports > 0, "no quota report reached the console"
    return result, rows


def median(rounds: list[Round], attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in rounds)


async def main(streams: int, tokens: int, delay_ms: int, rounds: int, details: bool, quota_rate: float) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="ui-load-"))
    await headless_round(data_dir, streams, tokens, delay_ms, quota_rate)  # warm-up: imports, page cache for the fake CLI
    headless: list[Round] = []
    console: list[Round] = []
    for _ in range(rounds):  # interleaved, so drift on the machine hits both modes alike
        headless.append(await headless_round(data_dir, streams, tokens, delay_ms, quota_rate))
        result, rows = await console_round(data_dir, streams, tokens, delay_ms, details, quota_rate)
        console.append(result)
        assert rows >= streams, f"the console showed {rows} rows for {streams} streams"
    print(f"{streams} concurrent streams x {tokens} tokens, {delay_ms} ms between tokens, {rounds} rounds each (median); CLIs started {'through the launcher (one session)' if LAUNCHER else 'each in a session of its own'}")
    print(f"quota reports and upstream retries published meanwhile: {quota_rate:g} of each per second (0: none)")
    if details:
        print("console rounds: heavy detail views opened while streaming (worst round):")
        for name in console[0].opened:
            print(
                f"  {name:22} shown in {max(r.opened[name][0] for r in console):5.2f} s, loop lag meanwhile {max(r.opened[name][1] for r in console):6.1f} ms,"
                f" longest callback {max(r.opened[name][2] for r in console):5.1f} ms CPU"
            )
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work on the machine shows up as loop lag)")
    steal = [r.steal for r in headless + console]
    print(f"CPU time taken by the VM's host (steal) during the rounds: {min(steal):.0%}-{max(steal):.0%} (it shows up as loop lag too)")
    print(f"{'mode':10} {'wall s':>7} {'tok/s':>7} {'cpu s':>6} {'worst chunk gap ms':>19} {'worst loop lag ms':>18} {'while streaming':>16}")
    for name, runs in (("headless", headless), ("console", console)):
        print(
            f"{name:10} {median(runs, 'seconds'):7.2f} {median(runs, 'tokens_per_second'):7.0f} {median(runs, 'cpu_seconds'):6.2f} "
            f"{median(runs, 'worst_chunk_gap_ms'):19.1f} {median(runs, 'worst_loop_lag_ms'):18.1f} "
            f"{median(runs, 'streaming_loop_lag_ms'):16.1f}"
        )
    ratio = median(console, "tokens_per_second") / median(headless, "tokens_per_second")
    worst_lag = max(r.streaming_loop_lag_ms for r in console)
    flushes = sorted(ms for r in console for ms in r.flushes_ms)
    if flushes:
        print(f"console flushes while streaming: {len(flushes)}, CPU per flush median {statistics.median(flushes):.1f} ms, p99 {flushes[int(0.99 * (len(flushes) - 1))]:.1f} ms, worst {flushes[-1]:.1f} ms")
    print(f"throughput ratio console/headless: {ratio:.3f} (target >= 0.95)")
    print(f"worst gap between two SSE chunks through the console, all rounds: {max(r.worst_chunk_gap_ms for r in console):.1f} ms")
    print(f"worst event-loop lag while streaming through the console, all rounds: {worst_lag:.1f} ms (target < 50 ms)")
    print(f"  the same for the engine alone, for scale: {max(r.streaming_loop_lag_ms for r in headless):.1f} ms")
    print(
        f"longest loop callback while streaming, CPU time, all rounds: console {max(r.streaming_callback_ms for r in console):.1f} ms,"
        f" engine alone {max(r.streaming_callback_ms for r in headless):.1f} ms"
    )
    return 0 if ratio >= 0.95 and worst_lag < 50 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--delay-ms", type=int, default=5, help="pause before each token in the fake CLI")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-details", dest="details", action="store_false", help="do not open heavy detail views (and the statistics) meanwhile")
    parser.add_argument("--quota-rate", type=float, default=20.0, help="quota reports and upstream retries published per second each (0: none)")
    parser.add_argument("--no-launcher", dest="launcher", action="store_false", help="start each CLI in a session of its own (no launcher), as the proxy did before")
    args = parser.parse_args()
    LAUNCHER = args.launcher
    raise SystemExit(asyncio.run(main(args.streams, args.tokens, args.delay_ms, args.rounds, args.details, args.quota_rate)))
