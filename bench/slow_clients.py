"""Slow clients: hundreds of idle and trickling connections against a proxy at a low fd limit.

    python bench/slow_clients.py [--connections 600] [--nofile 512] [--seconds 30]

Starts a headless proxy over the fake CLI with its open-file limit at `--nofile` (like
`prlimit --nofile=512`), `--header-timeout 5 --body-timeout 10`, then opens
`--connections` connections at once, a third each: idle (send nothing), headers trickled
one byte per second, a body trickled one byte per second. Meanwhile `/health` and a chat
request are sent every half second on fresh connections. Printed: for each slow kind how
the server ended them (closed / 408 / 503 over the cap) and when (p50/max seconds), the
/health and chat successes and p50/max latency, and the proxy's log size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.soak import Headless, open_fds  # noqa: E402

HEADERS = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Padding: " + b"p" * 200 + b"\r\n"


async def slow_client(host: str, port: int, kind: str, give_up: float) -> tuple[str, float]:
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return f"connect_failed:{exc.errno}", time.monotonic() - started
    closed = asyncio.ensure_future(reader.read(4096))
    try:
        if kind == "body":
            writer.write(HEADERS + b"Content-Length: 100000\r\n\r\n")
        data = HEADERS if kind == "headers" else b"x" * 100000
        position = 0
        while time.monotonic() - started < give_up:
            if kind != "idle" and position < len(data):
                writer.write(data[position : position + 1])
                position += 1
            done, _ = await asyncio.wait((closed,), timeout=1.0)
            if done:
                break
    except (ConnectionError, OSError):
        pass
    elapsed = time.monotonic() - started
    outcome = "still_open"
    if closed.done() and not closed.cancelled():
        try:
            head = closed.result()
        except (ConnectionError, OSError):
            head = b""
        status = head.split(b"\r\n", 1)[0].split(b" ")[1:2]
        outcome = f"http_{status[0].decode()}" if status else "closed"
    else:
        closed.cancel()
    writer.close()
    return outcome, elapsed


async def probes(url: str, stop: asyncio.Event) -> dict:
    import aiohttp

    results: dict[str, list] = {"health": [], "chat": []}
    body = {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] still here?"}]}
    while not stop.is_set():
        for name in ("health", "chat"):
            started = time.monotonic()
            ok = False
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
                    if name == "health":
                        async with session.get(url + "/health") as response:
                            ok = response.status == 200
                    else:
                        async with session.post(url + "/v1/chat/completions", json=body) as response:
                            ok = response.status == 200 and "still here" in json.dumps(await response.json())
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                ok = False
            results[name].append((ok, time.monotonic() - started))
        await asyncio.sleep(0.5)
    return results


async def run(args) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections * 2 + 256)), hard))
    with tempfile.TemporaryDirectory(prefix="claude-max-tui-slow-") as tmp:
        # The child inherits this limit (like prlimit --nofile): lowered only around the spawn.
        ours = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, ours[1]))
        try:
            extra = ("--max-connections", str(args.max_connections)) if args.max_connections else ()
            proxy = Headless(Path(tmp), "--header-timeout", "5", "--body-timeout", "10", *extra).start()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, ours)
        try:
            host, port = "127.0.0.1", int(proxy.url.rsplit(":", 1)[1])
            stop = asyncio.Event()
            probing = asyncio.ensure_future(probes(proxy.url, stop))
            kinds = ["idle", "headers", "body"] * (args.connections // 3)
            started = time.monotonic()
            clients = await asyncio.gather(*(slow_client(host, port, kind, args.seconds) for kind in kinds))
            wall = time.monotonic() - started
            fds_after = open_fds(proxy.pid)
            stop.set()
            results = await probing
        finally:
            proxy.stop()
        log_bytes = proxy.log_path.stat().st_size
        accept_lines = sum("accept()" in line for line in proxy.output().splitlines())
    print(f"proxy nofile={args.nofile}, {len(kinds)} slow connections opened at once, {wall:.1f} s; proxy fds after: {fds_after}")
    for kind in ("idle", "headers", "body"):
        rows = [(o, t) for k, (o, t) in zip(kinds, clients) if k == kind]
        outcomes = Counter(o for o, _ in rows)
        times = sorted(t for o, t in rows if o != "still_open")
        spread = f"ended after p50 {statistics.median(times):.1f} s, max {max(times):.1f} s" if times else "none ended"
        print(f"  {kind:8} {dict(outcomes)}  {spread}")
    for name, rows in results.items():
        oks = [t for ok, t in rows if ok]
        lat = f"p50 {statistics.median(oks) * 1000:.0f} ms, max {max(oks) * 1000:.0f} ms" if oks else "-"
        print(f"  {name:8} {len(oks)}/{len(rows)} answered ({lat})")
    print(f"  proxy log {log_bytes:,} bytes, {accept_lines} lines about accept()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=600)
    parser.add_argument("--nofile", type=int, default=512)
    parser.add_argument("--seconds", type=float, default=30, help="how long a slow client keeps at it before giving up")
    parser.add_argument("--max-connections", type=int, default=0, help="the proxy's cap (default: its own, from the fd limit); above --nofile to see accept() fail")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
