"""What the proxy adds to a CLI run: time to first token, total time, and its own CPU.

One interleaved run: each round spawns the project's fake CLI directly (the same argv and
stdin the proxy would use) and then sends the same request through a headless proxy
started as its own process, so both see the same machine state. The proxy's CPU is read
from /proc/<pid>/task/*/schedstat (all its threads, and its CLI launcher's; the CLIs' time
is not counted).

    python bench/overhead.py [--rounds 60] [--tokens 200] [--delay-ms 0]

Two interleaved series: streams of `--tokens` deltas (TTFT and total ratios), then streams of
one delta. The proxy's CPU per request is that of the one-delta series; its CPU per delta is
the difference between the two series divided by the extra deltas. At the fake's full speed
the proxy reads a few lines per wake-up, so "per delta" includes a share of the cost of each
wake-up (pipe read, socket write); `--delay-ms 1` gives every delta a wake-up of its own.

Targets (issue 13): TTFT ratio (proxy/direct, medians) <= 1.05; proxy CPU under 1.5 ms per
request plus under 5 µs per delta, capture on.
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
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak import launcher_helpers  # noqa: E402
from tui_proxy.claude.argv import RunOptions, build_argv, build_env  # noqa: E402
from tui_proxy.claude.prompt import render_prompt  # noqa: E402
from tui_proxy.conversation import Conversation, TextPart, Turn  # noqa: E402

FAKE = str(ROOT / "tests" / "bin" / "claude")


def proc_cpu_seconds(pid: int) -> float:
    """CPU time of every thread of `pid` and of its CLI launcher's helper (it spawns the CLIs
    for the proxy: tui_proxy/claude/launcher.py), ns precision from schedstat; the CLIs'
    own time is not counted."""
    total = 0
    for process in [pid, *launcher_helpers(pid)]:
        try:
            tasks = os.listdir(f"/proc/{process}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{process}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass  # a thread that just ended
    return total / 1e9


async def direct_run(prompt_text: str, workdir: str) -> tuple[float, float]:
    """Spawn the fake as the proxy would; TTFT = first text delta line, total = result line."""
    prompt = render_prompt(Conversation(None, (Turn("user", (TextPart(prompt_text),)),)))
    argv = build_argv(FAKE, RunOptions(model="sonnet"))
    env = build_env(os.environ, tmpdir=workdir)
    start = time.perf_counter()
    # Its own session, as the proxy starts its children: this kernel gives each session its own
    # CPU share, and a baseline in the bench's session would be slowed on a loaded machine.
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=workdir, env=env, start_new_session=True)
    proc.stdin.write(prompt.stdin_line().encode())
    proc.stdin.close()
    ttft = None
    buffer = b""
    while True:
        chunk = await proc.stdout.read(262144)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if ttft is None and b'"text_delta"' in line:
                ttft = time.perf_counter() - start
            if b'"type":"result"' in line:
                total = time.perf_counter() - start
                await proc.wait()
                return ttft or total, total
    await proc.wait()
    raise RuntimeError("the fake ended without a result")


async def proxy_run(session: aiohttp.ClientSession, url: str, prompt_text: str) -> tuple[float, float]:
    body = {"model": "sonnet", "stream": True, "messages": [{"role": "user", "content": prompt_text}]}
    start = time.perf_counter()
    ttft = None
    async with session.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        async for line in response.content:
            if ttft is None and line.startswith(b"data: ") and b'"content":"' in line and b'"content":""' not in line:
                ttft = time.perf_counter() - start
            if line.startswith(b"data: [DONE]"):
                return ttft or 0.0, time.perf_counter() - start
    raise RuntimeError("the stream ended without [DONE]")


async def start_proxy(data_dir: str, *extra: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui_proxy", "--headless", "--port", "0", "--claude", FAKE, "--data-dir", data_dir, "--max-concurrency", "4", *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=str(ROOT),
    )  # fmt: skip
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("the proxy did not start")
        if "listening on " in line and line.rstrip().endswith("/v1"):
            return proc, line.rsplit("listening on ", 1)[1].strip()


async def interleaved(session: aiohttp.ClientSession, url: str, prompt_text: str, workdir: str, rounds: int, direct_ttft: list, direct_total: list, proxy_ttft: list, proxy_total: list) -> None:
    for i in range(rounds):
        order = (0, 1) if i % 2 == 0 else (1, 0)  # interleave, alternating who goes first
        for which in order:
            if which == 0:
                t, total = await direct_run(prompt_text, workdir)
                direct_ttft.append(t)
                direct_total.append(total)
            else:
                t, total = await proxy_run(session, url, prompt_text)
                proxy_ttft.append(t)
                proxy_total.append(total)


def summary(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"p50 {statistics.median(ms):7.2f} ms  mean {statistics.fmean(ms):7.2f} ms  p90 {ms[int(len(ms) * 0.9) - 1]:7.2f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--no-capture", action="store_true", help="run the proxy without its capture store")
    parser.add_argument("--pool-size", type=int, default=0, help="CLIs the proxy starts ahead (default 0: every request spawns, like the direct runs)")
    parser.add_argument("--no-launcher", action="store_true", help="the proxy starts each CLI directly, in a session of its own")
    args = parser.parse_args()
    prompt_text = f"[[fake:tokens n={args.tokens} delay_ms={args.delay_ms}]] bench"
    one_delta = f"[[fake:tokens n=1 delay_ms={args.delay_ms}]] bench"

    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--pool-size", str(args.pool_size), "--warm-conversations", "0", *(["--no-capture"] if args.no_capture else []), *(["--no-launcher"] if args.no_launcher else [])]
        proxy, base = await start_proxy(os.path.join(tmp, "data"), *extra)
        try:
            url = base + "/chat/completions"
            direct_ttft, direct_total, proxy_ttft, proxy_total = [], [], [], []
            async with aiohttp.ClientSession() as session:
                for _ in range(3):  # warm-up: imports, page cache, first spawn
                    await direct_run(prompt_text, tmp)
                    await proxy_run(session, url, prompt_text)
                cpu_before = proc_cpu_seconds(proxy.pid)
                await interleaved(session, url, prompt_text, tmp, args.rounds, direct_ttft, direct_total, proxy_ttft, proxy_total)
                cpu_per_request_ms = (proc_cpu_seconds(proxy.pid) - cpu_before) / args.rounds * 1000
                cpu_before = proc_cpu_seconds(proxy.pid)
                await interleaved(session, url, one_delta, tmp, args.rounds, [], [], [], [])
                cpu_one_delta_ms = (proc_cpu_seconds(proxy.pid) - cpu_before) / args.rounds * 1000
        finally:
            proxy.terminate()
            await proxy.wait()

    ttft_ratio = statistics.median(proxy_ttft) / statistics.median(direct_ttft)
    total_ratio = statistics.median(proxy_total) / statistics.median(direct_total)
    capture = "off" if args.no_capture else "on"
    print(f"rounds: {args.rounds}, stream of {args.tokens} deltas, delay {args.delay_ms} ms, capture {capture}, pool {args.pool_size}, {os.cpu_count()} cores")
    print(f"direct TTFT  {summary(direct_ttft)}")
    print(f"proxy  TTFT  {summary(proxy_ttft)}")
    print(f"direct total {summary(direct_total)}")
    print(f"proxy  total {summary(proxy_total)}")
    print(f"TTFT ratio (p50 proxy / p50 direct): {ttft_ratio:.3f}   (target <= 1.05)")
    print(f"total ratio (p50 proxy / p50 direct): {total_ratio:.3f}")
    per_delta_us = (cpu_per_request_ms - cpu_one_delta_ms) / max(1, args.tokens - 1) * 1000
    print(f"proxy CPU per request of {args.tokens} deltas: {cpu_per_request_ms:.2f} ms (all its threads, capture {capture})")
    print(f"proxy CPU per request (1 delta): {cpu_one_delta_ms:.2f} ms   (target < 1.5 ms)")
    print(f"proxy CPU per delta: {per_delta_us:.1f} us   (target < 5 us)")
    print(json.dumps({"ttft_ratio": round(ttft_ratio, 3), "total_ratio": round(total_ratio, 3), "proxy_cpu_ms_per_request": round(cpu_per_request_ms, 3), "proxy_cpu_ms_one_delta": round(cpu_one_delta_ms, 3), "proxy_cpu_us_per_delta": round(per_delta_us, 2)}))


if __name__ == "__main__":
    asyncio.run(main())
