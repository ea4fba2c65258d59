"""Big requests: `/health` latency while one pathological request is read, decoded and rendered.

    python bench/big_requests.py [--messages 60000] [--tiny-mib 30] [--rounds 1]

Starts a headless proxy over the fake CLI (its own process) and, for each request kind,
polls `GET /health` every 20 ms from a separate connection while the request is sent and
answered: a quiet baseline, a conversation of `--messages` short messages (over the
message limit: refused 400 `array_above_max_length`), the same under the limit (answered),
and `--tiny-mib` MiB of tiny JSON values (`"metadata": [[],[],...]`, refused 400
`too_many_values`). Printed per kind: the request's status and time, /health p50/max
latency while it ran, and the proxy's peak RSS (VmHWM) afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.soak import Headless  # noqa: E402
from tui_proxy.server.body import MAX_MESSAGES  # noqa: E402


def conversation(n: int) -> bytes:
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"} for i in range(n)]
    msgs.append({"role": "user", "content": "[[fake:echo]] ok"})
    return json.dumps({"model": "sonnet", "messages": msgs}).encode()


def tiny_values(mib: float) -> bytes:
    count = int(mib * 1024 * 1024 / 3)
    return b'{"model":"sonnet","messages":[{"role":"user","content":"[[fake:echo]] ok"}],"metadata":[' + b",".join([b"[]"] * count) + b"]}"


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def measure(url: str, body: bytes | None) -> dict:
    import aiohttp

    latencies: list[float] = []
    async with aiohttp.ClientSession() as health_session, aiohttp.ClientSession() as session:
        stop = asyncio.Event()

        async def poll() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                async with health_session.get(url + "/health") as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)

        poller = asyncio.ensure_future(poll())
        started = time.perf_counter()
        status = None
        if body is None:
            await asyncio.sleep(1.0)
        else:
            async with session.post(url + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"}) as response:
                await response.read()
                status = response.status
        elapsed = time.perf_counter() - started
        stop.set()
        await poller
    return {"status": status, "seconds": elapsed, "health_n": len(latencies), "health_p50_ms": statistics.median(latencies) * 1000, "health_max_ms": max(latencies) * 1000}


async def run(args) -> None:
    with tempfile.TemporaryDirectory(prefix="claude-max-tui-big-") as tmp:
        proxy = Headless(Path(tmp), "--max-body-bytes", str(64 * 1024 * 1024)).start()
        try:
            kinds = [
                ("quiet (no request)", None),
                (f"{args.messages:,} messages", conversation(args.messages)),
                (f"{MAX_MESSAGES - 1:,} messages (under the limit)", conversation(MAX_MESSAGES - 2)),
                (f"{args.tiny_mib:g} MiB of tiny values", tiny_values(args.tiny_mib)),
            ]
            print(f"{'request':36} {'size':>9} {'status':>6} {'time':>8} {'/health p50':>12} {'/health max':>12} {'n':>4} {'peak RSS':>9}")
            for _ in range(args.rounds):
                for name, body in kinds:
                    r = await measure(proxy.url, body)
                    size = f"{len(body) / 1048576:.1f} MiB" if body else "-"
                    print(f"{name:36} {size:>9} {str(r['status'] or '-'):>6} {r['seconds']:7.2f}s {r['health_p50_ms']:10.1f}ms {r['health_max_ms']:10.1f}ms {r['health_n']:>4} {peak_rss_mib(proxy.pid):7.0f}MiB", flush=True)
        finally:
            proxy.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--tiny-mib", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
