"""What the proxy adds to a CLI run: time to first token, total time, and its own CPU.

One interleaved run: each round spawns the project's fake CLI directly, as the proxy would run
the same request (the same argv and environment, the message in a session file it resumes:
the proxy sends every conversation so, see README "Conversations"), then sends that request
through a headless proxy started as its own process, then (for reference) runs the fake the
plain way, `claude -p` with the prompt on stdin, so all three see the same machine state. The
children of the direct runs and the proxy each get a session of their own, as a user's CLI and
a proxy started from their own terminals would. The proxy's CPU is read from
/proc/<pid>/task/*/schedstat (all its threads, and its CLI launcher's; the CLIs' time is not
counted).

    python bench/overhead.py [--rounds 60] [--tokens 200] [--delay-ms 0]

Two interleaved series: streams of `--tokens` deltas (TTFT and total ratios), then streams of
one delta. The proxy's CPU per request is that of the one-delta series; its CPU per delta is
the difference between the two series divided by the extra deltas. At the fake's full speed
the proxy reads a few lines per wake-up, so "per delta" includes a share of the cost of each
wake-up (pipe read, socket write); `--delay-ms 1` gives every delta a wake-up of its own.

Targets (issue 13): TTFT ratio (proxy / the direct run of the same argv, medians) <= 1.05;
proxy CPU under 1.5 ms per request plus under 5 µs per delta, capture on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak import launcher_helpers  # noqa: E402
from tui_proxy.claude.argv import RunOptions, build_argv, build_env  # noqa: E402
from tui_proxy.claude.history import native_messages  # noqa: E402
from tui_proxy.claude.prompt import render_prompt  # noqa: E402
from tui_proxy.claude.session_file import project_dir, remove_session_file, session_records, write_session_file  # noqa: E402
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


async def direct_run(prompt_text: str, workdir: str, *, as_proxy: bool = True) -> tuple[float, float]:
    """Spawn the fake; TTFT = first text delta line, total = result line.

    `as_proxy`: as the proxy runs a request (claude/run.py): the message in a new session file
    that the CLI resumes (`--resume`, stdin closed without a line). Else `claude -p` with the
    prompt on stdin."""
    conversation = Conversation(None, (Turn("user", (TextPart(prompt_text),)),))
    cwd = os.path.join(workdir, "cwd")
    os.makedirs(cwd, exist_ok=True)
    session = None
    if as_proxy:
        session_id = str(uuid.uuid4())
        records = session_records(native_messages(conversation), session_id=session_id, cwd=cwd, model_name="sonnet", attachments=[])
        session = write_session_file(project_dir(os.path.expanduser("~"), cwd, os.environ.get("CLAUDE_CONFIG_DIR")), session_id, records)
        stdin = b""
    else:
        stdin = render_prompt(conversation).stdin_line().encode()
    argv = build_argv(FAKE, RunOptions(model="sonnet"), resume=session.session_id if session else None)
    env = build_env(os.environ, tmpdir=workdir, resume=as_proxy)
    start = time.perf_counter()
    try:
        # Its own session, as the proxy starts its children: this kernel gives each session its own
        # CPU share, and a baseline in the bench's session would be slowed on a loaded machine.
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=cwd, env=env, start_new_session=True)
        proc.stdin.write(stdin)
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
    finally:
        if session is not None:
            remove_session_file(session)


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
    return await start_server(sys.executable, "-m", "tui_proxy", "--headless", "--port", "0", "--claude", FAKE, "--data-dir", data_dir, "--max-concurrency", "4", *extra)


async def start_server(*argv: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start a server that prints "listening on <url ending in /v1>": the process and the URL."""
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=str(ROOT), start_new_session=True)
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError(f"{argv[1]} did not start")
        if "listening on " in line and line.rstrip().endswith("/v1"):
            return proc, line.rsplit("listening on ", 1)[1].strip()


#: The runs of a round: the proxy, and the fake run directly as the proxy runs it (the baseline)
#: and the plain way (for reference).
RUNS = ("direct", "proxy", "plain")


async def interleaved(session: aiohttp.ClientSession, url: str, prompt_text: str, workdir: str, rounds: int, runs: tuple[str, ...] = RUNS, floor_url: str = "") -> dict[str, tuple[list[float], list[float]]]:
    """`rounds` rounds of `runs`, each round in another order; (TTFT, total) times by run."""
    times: dict[str, tuple[list[float], list[float]]] = {run: ([], []) for run in runs}
    for i in range(rounds):
        for run in runs[i % len(runs) :] + runs[: i % len(runs)]:  # who goes first rotates
            if run == "proxy":
                t, total = await proxy_run(session, url, prompt_text)
            elif run == "floor":
                t, total = await proxy_run(session, floor_url, prompt_text)
            else:
                t, total = await direct_run(prompt_text, workdir, as_proxy=run == "direct")
            times[run][0].append(t)
            times[run][1].append(total)
    return times


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
    parser.add_argument("--floor", action="store_true", help="also measure bench/floor_proxy.py (the least a Python proxy on aiohttp does) in each round")
    args = parser.parse_args()
    prompt_text = f"[[fake:tokens n={args.tokens} delay_ms={args.delay_ms}]] bench"
    one_delta = f"[[fake:tokens n=1 delay_ms={args.delay_ms}]] bench"

    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--pool-size", str(args.pool_size), "--warm-conversations", "0", *(["--no-capture"] if args.no_capture else []), *(["--no-launcher"] if args.no_launcher else [])]
        proxy, base = await start_proxy(os.path.join(tmp, "data"), *extra)
        servers = [proxy]
        runs, floor_url = RUNS, ""
        try:
            if args.floor:
                floor, floor_base = await start_server(sys.executable, str(ROOT / "bench" / "floor_proxy.py"), FAKE)
                servers.append(floor)
                runs, floor_url = (*RUNS, "floor"), floor_base + "/chat/completions"
            url = base + "/chat/completions"
            async with aiohttp.ClientSession() as session:
                await interleaved(session, url, prompt_text, tmp, 3, runs, floor_url)  # warm-up: imports, page cache, first spawns
                cpu_before = [proc_cpu_seconds(server.pid) for server in servers]
                times = await interleaved(session, url, prompt_text, tmp, args.rounds, runs, floor_url)
                cpu_stream = [(proc_cpu_seconds(server.pid) - before) / args.rounds * 1000 for server, before in zip(servers, cpu_before)]
                cpu_before = [proc_cpu_seconds(server.pid) for server in servers]
                await interleaved(session, url, one_delta, tmp, args.rounds, tuple(run for run in runs if run != "plain"), floor_url)
                cpu_one = [(proc_cpu_seconds(server.pid) - before) / args.rounds * 1000 for server, before in zip(servers, cpu_before)]
        finally:
            for server in servers:
                server.terminate()
                await server.wait()
            # The direct runs' session files went in the CLI's projects folder for their cwd.
            shutil.rmtree(project_dir(os.path.expanduser("~"), os.path.join(tmp, "cwd"), os.environ.get("CLAUDE_CONFIG_DIR")), ignore_errors=True)

    def per_delta(stream_ms: float, one_ms: float) -> float:
        return (stream_ms - one_ms) / max(1, args.tokens - 1) * 1000

    (direct_ttft, direct_total), (proxy_ttft, proxy_total), (plain_ttft, plain_total) = times["direct"], times["proxy"], times["plain"]
    ttft_ratio = statistics.median(proxy_ttft) / statistics.median(direct_ttft)
    total_ratio = statistics.median(proxy_total) / statistics.median(direct_total)
    plain_ratio = statistics.median(proxy_ttft) / statistics.median(plain_ttft)
    cpu_per_request_ms, cpu_one_delta_ms = cpu_stream[0], cpu_one[0]
    capture = "off" if args.no_capture else "on"
    print(f"rounds: {args.rounds}, stream of {args.tokens} deltas, delay {args.delay_ms} ms, capture {capture}, pool {args.pool_size}, {os.cpu_count()} cores")
    print(f"direct TTFT  {summary(direct_ttft)}   (the fake run as the proxy runs it: session file, --resume)")
    print(f"proxy  TTFT  {summary(proxy_ttft)}")
    print(f"plain  TTFT  {summary(plain_ttft)}   (the fake run as `claude -p` with the prompt on stdin)")
    print(f"direct total {summary(direct_total)}")
    print(f"proxy  total {summary(proxy_total)}")
    print(f"TTFT ratio (p50 proxy / p50 direct): {ttft_ratio:.3f}   (target <= 1.05)")
    print(f"total ratio (p50 proxy / p50 direct): {total_ratio:.3f}")
    print(f"TTFT ratio against the plain run (p50 proxy / p50 plain): {plain_ratio:.3f}")
    per_delta_us = per_delta(cpu_per_request_ms, cpu_one_delta_ms)
    print(f"proxy CPU per request of {args.tokens} deltas: {cpu_per_request_ms:.2f} ms (all its threads, capture {capture})")
    print(f"proxy CPU per request (1 delta): {cpu_one_delta_ms:.2f} ms   (target < 1.5 ms)")
    print(f"proxy CPU per delta: {per_delta_us:.1f} us   (target < 5 us)")
    figures = {"ttft_ratio": round(ttft_ratio, 3), "total_ratio": round(total_ratio, 3), "ttft_ratio_plain": round(plain_ratio, 3), "proxy_cpu_ms_per_request": round(cpu_per_request_ms, 3), "proxy_cpu_ms_one_delta": round(cpu_one_delta_ms, 3), "proxy_cpu_us_per_delta": round(per_delta_us, 2)}
    if args.floor:
        floor_ttft = statistics.median(times["floor"][0]) / statistics.median(plain_ttft)
        floor_delta = per_delta(cpu_stream[1], cpu_one[1])
        print(f"floor  TTFT  {summary(times['floor'][0])}   (bench/floor_proxy.py: the least a Python proxy on aiohttp does)")
        print(f"floor TTFT ratio (p50 floor / p50 plain, its own way of running the CLI): {floor_ttft:.3f}")
        print(f"floor CPU per request (1 delta): {cpu_one[1]:.2f} ms, per delta: {floor_delta:.1f} us")
        print(f"proxy / floor: CPU per request {cpu_one_delta_ms / cpu_one[1]:.2f}x, per delta {per_delta_us / floor_delta:.2f}x")
        figures |= {"floor_ttft_ratio": round(floor_ttft, 3), "floor_cpu_ms_one_delta": round(cpu_one[1], 3), "floor_cpu_us_per_delta": round(floor_delta, 2)}
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
