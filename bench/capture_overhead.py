"""Does capture slow the proxy? Requests per second with capture on versus off, one run.

    python bench/capture_overhead.py [--requests 200] [--concurrency 16] [--tokens 200] [--rounds 3]

Two engines over the project's fake CLI run in this process, one with capture on, one
off, each on its own data dir; rounds alternate between them so drift hits both alike.
Each request streams `[[fake:tokens n=N]]` (no delay: the CLI prints as fast as it can,
so the proxy is the bottleneck) through one pooled client session; every stdout line and
SSE chunk is a capture write. Reported: the median requests per second of each mode,
and the median of the per-round ratios on/off (each round runs both modes back to back,
which cancels most of the drift of a shared machine; target >= 0.95). Also the store's
size after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_proxy.config import Config  # noqa: E402
from tui_proxy.engine import Engine  # noqa: E402

FAKE_CLAUDE = str(ROOT / "tests" / "bin" / "claude")


async def one_round(url: str, session: aiohttp.ClientSession, requests: int, concurrency: int, tokens: int) -> float:
    """Requests per second for `requests` streamed chat completions, `concurrency` at a time."""
    body = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": f"[[fake:tokens n={tokens}]] go"}]}
    gate = asyncio.Semaphore(concurrency)

    async def request() -> None:
        async with gate:
            async with session.post(url + "/v1/chat/completions", json=body) as response:
                answer = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}: {answer[:300]!r}")

    start = time.perf_counter()
    await asyncio.gather(*(request() for _ in range(requests)))
    return requests / (time.perf_counter() - start)


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        engines = {}
        for mode, capture in (("on", True), ("off", False)):
            config = Config(
                port=0, claude=FAKE_CLAUDE, data_dir=Path(tmp) / mode, capture=capture,
                max_concurrency=args.concurrency, max_queue=args.requests, usage_poll_seconds=0,
            )
            engines[mode] = Engine(config)
            await engines[mode].start()
        rates: dict[str, list[float]] = {"on": [], "off": []}
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency * 2)) as session:
                for mode, engine in engines.items():  # warm up: imports, caches, first spawns
                    await one_round(engine.url, session, args.concurrency, args.concurrency, args.tokens)
                for round_number in range(args.rounds):
                    order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
                    for mode in order:
                        rate = await one_round(engines[mode].url, session, args.requests, args.concurrency, args.tokens)
                        rates[mode].append(rate)
                        print(f"round {round_number + 1} capture {mode:<3} {rate:7.1f} req/s", flush=True)
            store = engines["on"].store
            await asyncio.to_thread(store.flush)
            captured = len(await store.alist(limit=1_000_000))
            db_bytes = sum(
                p.stat().st_size for p in store.path.parent.iterdir() if p.name.startswith(store.path.name)
            )
        finally:
            for engine in engines.values():
                await engine.stop()
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    ratio = statistics.median(a / b for a, b in zip(rates["on"], rates["off"]))
    print()
    print(f"cpus {os.cpu_count()}, {args.requests} requests x {args.rounds} rounds, concurrency {args.concurrency}, "
          f"{args.tokens} streamed tokens each")
    print(f"capture on   {on:7.1f} req/s (median)")
    print(f"capture off  {off:7.1f} req/s (median)")
    print(f"ratio on/off {ratio:7.3f} (median of the rounds' ratios; target >= 0.95)")
    print(f"store: {captured} exchanges, {db_bytes / 1e6:.1f} MB with WAL ({db_bytes / captured / 1e3:.1f} kB each)")
    return 0 if ratio >= 0.95 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    sys.exit(asyncio.run(main(parser.parse_args())))
