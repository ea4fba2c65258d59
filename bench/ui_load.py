"""Does the console slow the proxy? 20 concurrent streams of 500 tokens, console vs headless.

    python bench/ui_load.py [--streams 20] [--tokens 500] [--rounds 3]

Both modes run in one process, one after the other, over the real engine and the
project's fake CLI (`[[fake:tokens n=500]]`, no delay: the CLI prints as fast as it can,
so the proxy, not the model, is the bottleneck). "headless" is the engine alone;
"console" is the same engine inside the Textual app (headless driver, 200x50: it
composes and renders every frame, it just does not write them to a terminal).

Reported per mode (median of the rounds): wall time, tokens per second delivered to
the clients, the worst gap between two chunks seen by one client, and the worst
event-loop lag (a 5 ms ticker's largest overshoot). Targets: ratio >= 0.95, lag < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_proxy.config import Config  # noqa: E402
from tui_proxy.engine import Engine  # noqa: E402
from tui_proxy.tui.app import make_app  # noqa: E402

FAKE_CLAUDE = str(ROOT / "tests" / "bin" / "claude")


@dataclass
class Round:
    seconds: float
    tokens: int
    worst_chunk_gap_ms: float
    worst_loop_lag_ms: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds


class LagMonitor:
    """Sleeps 5 ms in a loop and remembers the largest overshoot: the loop's responsiveness."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.period)
            self.worst = max(self.worst, loop.time() - before - self.period)

    def __enter__(self) -> "LagMonitor":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()


async def one_stream(session: aiohttp.ClientSession, url: str, tokens: int) -> tuple[int, float]:
    """Tokens received and the worst pause between two chunks of this stream."""
    body = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": f"[[fake:tokens n={tokens}]] go"}]}
    received = 0
    worst_gap = 0.0
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
    return received, worst_gap


async def load(url: str, streams: int, tokens: int) -> Round:
    connector = aiohttp.TCPConnector(limit=streams)
    async with aiohttp.ClientSession(connector=connector) as session:
        with LagMonitor() as monitor:
            started = time.perf_counter()
            results = await asyncio.gather(*(one_stream(session, url, tokens) for _ in range(streams)))
            seconds = time.perf_counter() - started
    received = sum(r[0] for r in results)
    if received < streams * tokens:
        raise SystemExit(f"only {received} of {streams * tokens} tokens arrived: the run is not valid")
    return Round(seconds, received, max(r[1] for r in results) * 1000, monitor.worst * 1000)


def bench_config(data_dir: Path, streams: int) -> Config:
    return Config(port=0, claude=FAKE_CLAUDE, data_dir=data_dir, capture=False, max_concurrency=streams, max_queue=streams)


async def headless_round(data_dir: Path, streams: int, tokens: int) -> Round:
    engine = Engine(bench_config(data_dir, streams))
    await engine.start()
    try:
        return await load(engine.url, streams, tokens)
    finally:
        await engine.stop()


async def console_round(data_dir: Path, streams: int, tokens: int) -> tuple[Round, int]:
    app = make_app(bench_config(data_dir, streams))
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        result = await load(app.engine.url, streams, tokens)
        app.flush()
        await pilot.pause()
        rows = app.table.row_count
    return result, rows


def median(rounds: list[Round], attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in rounds)


async def main(streams: int, tokens: int, rounds: int) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="ui-load-"))
    await headless_round(data_dir, streams, tokens)  # warm-up: imports, page cache for the fake CLI
    headless: list[Round] = []
    console: list[Round] = []
    for _ in range(rounds):  # interleaved, so drift on the machine hits both modes alike
        headless.append(await headless_round(data_dir, streams, tokens))
        result, rows = await console_round(data_dir, streams, tokens)
        console.append(result)
        assert rows >= streams, f"the console showed {rows} rows for {streams} streams"
    print(f"{streams} concurrent streams x {tokens} tokens, {rounds} rounds each (median)")
    print(f"{'mode':10} {'wall s':>8} {'tok/s':>9} {'worst chunk gap ms':>19} {'worst loop lag ms':>18}")
    for name, runs in (("headless", headless), ("console", console)):
        print(
            f"{name:10} {median(runs, 'seconds'):8.2f} {median(runs, 'tokens_per_second'):9.0f} "
            f"{median(runs, 'worst_chunk_gap_ms'):19.1f} {median(runs, 'worst_loop_lag_ms'):18.1f}"
        )
    ratio = median(console, "tokens_per_second") / median(headless, "tokens_per_second")
    worst_lag = max(r.worst_loop_lag_ms for r in console)
    print(f"throughput ratio console/headless: {ratio:.3f} (target >= 0.95)")
    print(f"worst event-loop lag with the console, all rounds: {worst_lag:.1f} ms (target < 50 ms)")
    return 0 if ratio >= 0.95 and worst_lag < 50 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.streams, args.tokens, args.rounds)))
