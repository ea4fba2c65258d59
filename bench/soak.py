"""Soak: many mixed requests through a real headless proxy over the fake CLI; nothing may leak.

    python bench/soak.py [--requests 1000] [--concurrency 16] [--seed 7] [--json FILE]
    python bench/soak.py --minutes 2 --capture-max-mb 20 --concurrency 12   # issue 16's soak (10 min: --minutes 10)

Starts `claude-max-tui --headless` (its own process, a fresh data dir, loopback, the
project's fake CLI) with short timeouts and small limits, then sends `--requests`
requests, `--concurrency` at a time, drawn from a fixed mix: normal answers (stream and
JSON), clients that disconnect mid-stream or while waiting, CLI crashes, hangs ended by
the first-output and idle timeouts, garbage lines, 3 MB lines, and limit errors (413 body,
400 prompt too long, 429 from the CLI, 400 bad JSON). Each answer is checked against what
its class must give. At the end the proxy gets SIGTERM and must exit within 10 s.

Printed: requests, outcomes by class, unexpected outcomes (must be 0), children leaked
(fake CLI runs still alive once their requests are over, found through the pid each
run records, plus live children of the proxy: must be 0), captures missing (requests
without a finished capture row once the proxy has stopped: must be 0), server restarts
(the proxy process died and had to be started again: must be 0), memory growth (RSS
after the first 10% of requests vs at the end), open fds before/after, shutdown time.
Exit status 1 if any must-be-zero figure is not.

With `--minutes N` it sends requests for N minutes instead of a count; with
`--capture-max-mb M` the proxy's store is capped (retention prunes while the soak runs), so
rows go by design: then "captures missing" compares the exchanges the writer committed
(`/health` capture.exchanges_written) with the requests sent, and the newest 50 answered
requests must all be in the store. Also printed: RSS growth per 1,000 requests, the
store's size (file + WAL, largest seen and at the end) against its cap, events dropped.

The helpers (`leaked_children`, `proxy_children`, `capture_rows`, `Headless`) are also
what the reliability tests use to count leaks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE_CLAUDE = str(ROOT / "tests" / "bin" / "claude")


# -- counting what is left behind --------------------------------------------------------


def recorded_runs(record_dir: str | Path) -> list[dict]:
    """Every fake CLI run's record (`$FAKE_CLAUDE_RECORD_DIR/<pid>.json`)."""
    runs = []
    for path in Path(record_dir).glob("*.json"):
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # being rewritten right now: the next look sees it
    return runs


def processes_working_in(folder: str | Path) -> list[int]:
    """Processes whose working directory is `folder` (Linux /proc): the CLIs of an engine on
    that data dir, whoever started them."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd") == str(folder):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def is_live_fake(pid: int) -> bool:
    """Alive (not a zombie) and still the fake CLI, not a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(") ", 1)[1].startswith("Z"):
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return FAKE_CLAUDE.encode() in f.read()
    except (OSError, IndexError):
        return False


def leaked_children(record_dir: str | Path) -> list[int]:
    """Fake CLI runs recorded in `record_dir` that are still alive."""
    return [run["pid"] for run in recorded_runs(record_dir) if is_live_fake(run["pid"])]


def proxy_children(pid: int) -> list[int]:
    """Live, non-zombie children of `pid`. The CLI launcher's helper (tui_proxy/claude/
    launcher.py) lives as long as the proxy and is not counted; the CLIs it started are."""
    helpers = launcher_helpers(pid)
    kids = [kid for kid in child_pids(pid) if kid not in helpers]
    kids += [kid for helper in helpers for kid in child_pids(helper)]
    return [kid for kid in kids if pid_alive(kid)]


def child_pids(pid: int) -> list[int]:
    """Every child of `pid` (zombies too), from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def launcher_helpers(pid: int) -> list[int]:
    """The children of `pid` that are a CLI launcher's helper."""
    helpers = []
    for kid in child_pids(pid):
        try:
            with open(f"/proc/{kid}/cmdline", "rb") as f:
                if b"launcher_helper.py" in f.read():
                    helpers.append(kid)
        except OSError:
            pass
    return helpers


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return not f.read().rsplit(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


async def settle_leaks(record_dir: str | Path, pid: int | None = None, timeout: float = 5.0) -> list[int]:
    """What is still alive once children had `timeout` seconds to be reaped."""
    deadline = time.monotonic() + timeout
    while True:
        left = leaked_children(record_dir) + (proxy_children(pid) if pid else [])
        if not left or time.monotonic() > deadline:
            return sorted(set(left))
        await asyncio.sleep(0.05)


def capture_rows(data_dir: str | Path) -> list[sqlite3.Row]:
    """(id, state, status) of every exchange in the capture store, read-only."""
    path = Path(data_dir) / "captures.sqlite3"
    conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute("SELECT id, state, status FROM exchanges"))
    finally:
        conn.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


# -- the proxy under test ----------------------------------------------------------------


class Headless:
    """`python -m tui_proxy --headless` on a free loopback port over the fake CLI.

    Its stdout (one line per request) goes to a file: a pipe nobody reads would fill up
    and block the proxy's event loop."""

    def __init__(self, workdir: str | Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "headless.log"
        self.args = args
        self.env = env
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 20.0) -> "Headless":
        argv = [sys.executable, "-m", "tui_proxy", "--headless", "--port", "0", "--claude", FAKE_CLAUDE, "--data-dir", str(self.data_dir), *self.args]
        self.log = open(self.log_path, "ab")
        start_at = self.log.tell()
        self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(start_at)
                match = re.search(rb"listening on (http://\S+)/v1", f.read())
            if match:
                self.url = match.group(1).decode()
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"headless proxy did not start: {self.output()[-2000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> tuple[int | None, float]:
        """Signal it; (exit code, seconds until it exited). Killed if it overstays `timeout`."""
        assert self.process is not None
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None, time.monotonic() - started
        self.log.close()
        return self.process.returncode, time.monotonic() - started


# -- the mix -------------------------------------------------------------------------------

#: Proxy settings for the soak: short timeouts so hangs end quickly (long enough that a
#: 3 MB line on a busy 2-core machine is not mistaken for silence), small limits so that
#: limit errors are cheap to provoke. 8 runs + 16 waiting: the queue is used, and
#: overflows only while handlers of clients that just left are still reaping; a client
#: shed so (429 concurrency_limit) retries like the SDKs do, and is counted.
PROXY_ARGS = (
    "--first-output-timeout", "3",
    "--idle-timeout", "3",
    "--timeout", "30",
    "--max-concurrency", "8",
    "--max-queue", "16",
    "--queue-timeout", "20",
    "--max-body-bytes", str(1024 * 1024),
    "--max-prompt-chars", "200000",
)  # fmt: skip
#: A stream answers its first bytes at once (no 15 s hold) only after model output; the
#: hang classes rely on the timeouts above being shorter than the hold.

SHED = "http_429:concurrency_limit"  # the proxy's own queue was full: allowed for any class


@dataclass(frozen=True)
class Kind:
    name: str
    weight: int
    prompt: str
    stream: bool
    #: Outcomes this class may end in (besides SHED).
    expect: frozenset[str]
    body: str = "chat"  # chat | too_large | prompt_too_long | bad_json
    disconnect_after: float | None = None  # seconds; for streams: after the first data event


def _kind(name, weight, prompt, stream, *expect, **kw) -> Kind:
    return Kind(name, weight, prompt, stream, frozenset(expect), **kw)


MIX = (
    _kind("normal_stream", 24, "[[fake:text]] hello", True, "ok"),
    _kind("normal_json", 20, "[[fake:echo]] hello", False, "ok"),
    _kind("disconnect_stream", 8, "[[fake:slow n=30 delay_ms=100]]", True, "disconnected", disconnect_after=0.0),
    _kind("disconnect_json", 6, "[[fake:hang]]", False, "disconnected", disconnect_after=0.3),
    _kind("crash_stream", 5, "[[fake:crash_midstream]]", True, "error_event:cli_crashed"),
    _kind("crash_json", 4, "[[fake:crash_midstream]]", False, "http_502:cli_crashed"),
    _kind("hang_first_output", 4, "[[fake:hang]]", False, "http_504:timeout"),
    _kind("hang_idle_stream", 4, "[[fake:hang_after_start]]", True, "error_event:timeout"),
    _kind("garbage", 6, "[[fake:garbage]]", True, "ok"),
    _kind("bigline_3mb", 4, "[[fake:bigline size=3000000]]", False, "ok"),
    _kind("limit_413_body", 3, "", False, "http_413:request_too_large", body="too_large"),
    _kind("limit_400_prompt", 3, "", False, "http_400:context_length_exceeded", body="prompt_too_long"),
    _kind("limit_429_cli", 3, "[[fake:rate_limit_subscription]]", False, "http_429:rate_limit_exceeded"),
    _kind("bad_json", 2, "", False, "http_400:invalid_json", body="bad_json"),
)


@dataclass
class Outcome:
    kind: str
    outcome: str
    seconds: float
    request_id: str | None = None
    detail: str = ""


def _body(kind: Kind) -> bytes:
    if kind.body == "too_large":
        return json.dumps({"model": "sonnet", "messages": [{"role": "user", "content": "x" * (1024 * 1024 + 10)}]}).encode()
    if kind.body == "prompt_too_long":
        return json.dumps({"model": "sonnet", "messages": [{"role": "user", "content": "y" * 300_000}]}).encode()
    if kind.body == "bad_json":
        return b'{"model": "sonnet", "messages": [{"role": '
    return json.dumps({"model": "sonnet", "stream": kind.stream, "messages": [{"role": "user", "content": kind.prompt}]}).encode()


async def one_request(session, url: str, kind: Kind) -> Outcome:
    import aiohttp

    started = time.monotonic()
    request_id = None
    try:
        async with session.post(url + "/v1/chat/completions", data=_body(kind), headers={"Content-Type": "application/json"}) as response:
            request_id = response.headers.get("x-request-id")
            if kind.stream and response.status == 200:
                outcome = await _read_stream(response, kind)
            elif kind.disconnect_after is not None and response.status == 200:
                outcome = "ok"  # answered before we could leave
            else:
                outcome = await _read_json(response, kind)
    except _Disconnect:
        outcome = "disconnected"
    except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
        outcome = f"transport_error:{type(exc).__name__}"
    return Outcome(kind.name, outcome, time.monotonic() - started, request_id)


class _Disconnect(Exception):
    pass


async def _read_json(response, kind: Kind) -> str:
    body = await response.read()
    try:
        data = json.loads(body)
    except ValueError:
        return f"http_{response.status}:not_json"
    if response.status == 200:
        content = data["choices"][0]["message"]["content"]
        if kind.name == "bigline_3mb" and len(content) != 3_000_000:
            return f"short_answer:{len(content)}"
        return "ok" if content else "empty_answer"
    return f"http_{response.status}:{data.get('error', {}).get('code')}"


async def _read_stream(response, kind: Kind) -> str:
    events: list[dict] = []
    done = False
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            if not event.startswith(b"data: "):
                continue  # a keep-alive comment
            payload = event[6:]
            if payload == b"[DONE]":
                done = True
                continue
            events.append(json.loads(payload))
            if kind.disconnect_after is not None and len(events) >= 2:
                await asyncio.sleep(kind.disconnect_after)
                response.connection.transport.abort()  # leave mid-stream, as a killed client does
                raise _Disconnect()
    errors = [e["error"] for e in events if "error" in e]
    if errors:
        return f"error_event:{errors[-1].get('code')}" + ("" if done else "+no_done")
    finishes = [c["choices"][0]["finish_reason"] for c in events if c.get("choices") and c["choices"][0].get("finish_reason")]
    if not done or finishes != ["stop"]:
        return f"bad_stream:done={done},finish={finishes}"
    return "ok"


async def _disconnecting(session, url: str, kind: Kind) -> Outcome:
    """A JSON client that gives up after `disconnect_after` seconds."""
    started = time.monotonic()
    try:
        return await asyncio.wait_for(one_request(session, url, kind), kind.disconnect_after)
    except asyncio.TimeoutError:
        return Outcome(kind.name, "disconnected", time.monotonic() - started)


# -- the run -------------------------------------------------------------------------------


@dataclass
class Report:
    requests: int = 0
    by_class: dict = field(default_factory=lambda: defaultdict(Counter))
    unexpected: list = field(default_factory=list)
    children_leaked: int = 0
    captures_missing: int = 0
    captures_open: int = 0
    server_restarts: int = 0
    shed_retries: int = 0
    rss_warm_kib: int = 0
    rss_half_kib: int = 0
    rss_end_kib: int = 0
    fds_start: int = 0
    fds_end: int = 0
    shutdown_seconds: float = 0.0
    shutdown_code: int | None = None
    wall_seconds: float = 0.0
    capture_cap_mb: int | None = None
    store_mb_max: float = 0.0
    store_mb_end: float = 0.0
    exchanges_written: int | None = None
    dropped_events: int = 0
    newest_missing: int = 0
    warm_requests: int = 0
    latency_p50: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.unexpected and self.children_leaked == 0 and self.captures_missing == 0
            and self.captures_open == 0 and self.server_restarts == 0 and self.shutdown_code == 0
            and self.newest_missing == 0 and self.dropped_events == 0
        )  # fmt: skip

    @property
    def growth_per_1000_kib(self) -> float:
        measured = self.requests - self.warm_requests
        return (self.rss_end_kib - self.rss_warm_kib) * 1000 / max(measured, 1)

    def to_json(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "by_class"}
        data["by_class"] = {k: dict(v) for k, v in self.by_class.items()}
        data["memory_growth_kib"] = self.rss_end_kib - self.rss_warm_kib
        data["ok"] = self.ok
        return data


def store_mb(data_dir: Path) -> float:
    path = Path(data_dir) / "captures.sqlite3"
    return sum(p.stat().st_size for p in (path, Path(str(path) + "-wal")) if p.exists()) / 1048576


async def soak(
    requests: int, concurrency: int, seed: int, workdir: Path, log=print, mix: tuple[Kind, ...] = MIX,
    minutes: float | None = None, capture_max_mb: int | None = None,
) -> Report:
    import aiohttp

    record_dir = workdir / "fake-runs"
    record_dir.mkdir()
    env = {**os.environ, "FAKE_CLAUDE_RECORD_DIR": str(record_dir)}
    env.pop("FAKE_CLAUDE_SCENARIO", None)
    env.pop("ANTHROPIC_API_KEY", None)  # subscription auth: rate_limit_event lines as users see them
    proxy_args = PROXY_ARGS + (("--capture-max-mb", str(capture_max_mb)) if capture_max_mb else ())
    proxy = Headless(workdir, *proxy_args, env=env).start()
    report = Report(requests=requests, capture_cap_mb=capture_max_mb)
    report.fds_start = open_fds(proxy.pid)
    rng = random.Random(seed)
    if minutes:
        # Timed: an estimate of the count for the 10% / 50% memory samples, refined as we go.
        requests = report.requests = 10**9
        stop_at = time.monotonic() + minutes * 60
        queue = _TimedQueue(stop_at, lambda: rng.choices(mix, weights=[k.weight for k in mix])[0])
    else:
        kinds = rng.choices(mix, weights=[k.weight for k in mix], k=requests)
        queue = list(enumerate(kinds))
    outcomes: list[Outcome] = []
    shed_ids: set[str | None] = set()
    warm_at = max(1, requests // 10) if not minutes else None
    started = time.monotonic()
    if minutes:

        async def sampler() -> None:
            nonlocal warm_at
            while queue:
                report.store_mb_max = max(report.store_mb_max, store_mb(proxy.data_dir))
                elapsed = time.monotonic() - started
                if report.rss_warm_kib == 0 and elapsed >= minutes * 6:  # 10% of the run
                    report.rss_warm_kib, warm_at = rss_kib(proxy.pid), len(outcomes)
                elif report.rss_half_kib == 0 and elapsed >= minutes * 30:
                    report.rss_half_kib = rss_kib(proxy.pid)
                await asyncio.sleep(1.0)

        sampling = asyncio.ensure_future(sampler())

    async def worker(session) -> None:
        nonlocal proxy
        while queue:
            _, kind = queue.pop()
            if not proxy.alive():
                report.server_restarts += 1
                log(f"proxy died (exit {proxy.process.returncode}); restarting")
                proxy = Headless(workdir, *PROXY_ARGS, env=env).start()
            for attempt in range(4):
                if kind.disconnect_after is not None and not kind.stream:
                    outcome = await _disconnecting(session, proxy.url, kind)
                else:
                    outcome = await one_request(session, proxy.url, kind)
                if outcome.outcome != SHED or attempt == 3:
                    break
                report.shed_retries += 1
                shed_ids.add(outcome.request_id)
                await asyncio.sleep(0.25)  # the SDKs wait Retry-After (2 s); shorter keeps the soak quick
            outcomes.append(outcome)
            if minutes:
                pass  # sampled by time
            elif len(outcomes) == warm_at:
                report.rss_warm_kib = rss_kib(proxy.pid)
            elif len(outcomes) == requests // 2:
                report.rss_half_kib = rss_kib(proxy.pid)
            if len(outcomes) % (1000 if minutes else 100) == 0:
                log(f"  {len(outcomes)}/{'-' if minutes else requests} requests, {time.monotonic() - started:.1f} s, RSS {rss_kib(proxy.pid) / 1024:.0f} MiB, store {store_mb(proxy.data_dir):.0f} MiB")

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    report.wall_seconds = time.monotonic() - started
    report.warm_requests = warm_at or 0
    if minutes:
        await sampling
        report.requests = requests = len(outcomes)
        if not report.rss_warm_kib:
            report.rss_warm_kib = rss_kib(proxy.pid)
        report.warm_requests = warm_at or 0

    for outcome in outcomes:
        kind = next(k for k in MIX if k.name == outcome.kind)
        report.by_class[outcome.kind][outcome.outcome] += 1
        if outcome.outcome not in kind.expect and outcome.outcome != SHED:
            report.unexpected.append((outcome.kind, outcome.outcome))
    for name in {o.kind for o in outcomes}:
        report.latency_p50[name] = round(statistics.median(o.seconds for o in outcomes if o.kind == name), 3)

    # Every request is over: a child still alive a few seconds later was leaked, unless the
    # proxy holds it on purpose (started ahead, or kept warm for a conversation: /health counts
    # them). After SIGTERM below, no child at all may be left.
    leaked = await settle_leaks(record_dir, proxy.pid, timeout=3.0)
    runs = (await _health(proxy.url)).get("runs") or {}
    kept = ((runs.get("pool") or {}).get("ready") or 0) + ((runs.get("warm") or {}).get("count") or 0)
    report.children_leaked = max(0, len(leaked) - kept)
    await asyncio.sleep(3.0)  # idle: the capture writer drains its backlog of big lines
    report.rss_end_kib = rss_kib(proxy.pid)
    report.fds_end = open_fds(proxy.pid)
    capture_health = await _capture_health(proxy.url)
    report.dropped_events = capture_health.get("dropped_events", 0)
    report.store_mb_max = max(report.store_mb_max, store_mb(proxy.data_dir))
    code, seconds = proxy.stop(signal.SIGTERM)
    report.shutdown_code, report.shutdown_seconds = code, round(seconds, 2)
    report.children_leaked = max(report.children_leaked, len(leaked_children(record_dir)))

    rows = capture_rows(proxy.data_dir)
    report.captures_open = sum(1 for row in rows if row["state"] == "open")
    seen = {o.request_id for o in outcomes if o.request_id} | (shed_ids - {None})
    captured = {row["id"] for row in rows}
    # One exchange per HTTP request sent, whatever became of it; and every id a client saw.
    report.store_mb_end = store_mb(proxy.data_dir)
    if capture_max_mb:
        # Retention removed rows by design: count what the writer committed (all but the
        # last moments before SIGTERM, which the store still has), and the newest answers.
        report.exchanges_written = capture_health.get("exchanges_written")
        report.captures_missing = max(requests + report.shed_retries - (report.exchanges_written or 0), 0)
        newest = [o.request_id for o in outcomes[-10:] if o.request_id and o.outcome == "ok"]
        report.newest_missing = len(set(newest) - captured)
    else:
        report.captures_missing = max(requests + report.shed_retries - len(rows), 0) + len(seen - captured)
    return report


class _TimedQueue:
    """Stands for the list of requests in a timed soak: true until the time is up."""

    def __init__(self, stop_at: float, draw) -> None:
        self.stop_at = stop_at
        self.draw = draw

    def __bool__(self) -> bool:
        return time.monotonic() < self.stop_at

    def pop(self):
        return None, self.draw()


async def _capture_health(url: str) -> dict:
    return (await _health(url)).get("capture") or {}


async def _health(url: str) -> dict:
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/health") as response:
                return await response.json()
    except (aiohttp.ClientError, ValueError):
        return {}


def print_report(report: Report, out=sys.stdout) -> None:
    w = out.write
    w(f"\nrequests            {report.requests} in {report.wall_seconds:.1f} s ({report.requests / max(report.wall_seconds, 1e-9):.1f} req/s), "
      f"+{report.shed_retries} retried after a 429 concurrency_limit\n")
    w("outcomes by class:\n")
    for kind in MIX:
        counts = report.by_class.get(kind.name)
        if counts:
            shown = ", ".join(f"{o} {n}" for o, n in sorted(counts.items(), key=lambda kv: -kv[1]))
            w(f"  {kind.name:20} {sum(counts.values()):5}  {shown}  (p50 {report.latency_p50.get(kind.name, 0):.2f} s)\n")
    w(f"unexpected outcomes {len(report.unexpected)}{'  ' + str(Counter(report.unexpected).most_common(5)) if report.unexpected else ''}\n")
    w(f"children leaked     {report.children_leaked}\n")
    w(f"captures missing    {report.captures_missing} (left open: {report.captures_open})\n")
    w(f"server restarts     {report.server_restarts}\n")
    growth = report.rss_end_kib - report.rss_warm_kib
    w(f"memory growth       {growth / 1024:+.1f} MiB from 10% to the end (RSS {report.rss_warm_kib / 1024:.1f} MiB after 10%, "
      f"{report.rss_half_kib / 1024:.1f} MiB after 50%, {report.rss_end_kib / 1024:.1f} MiB at the end, 3 s idle)\n")
    w(f"memory per 1,000    {report.growth_per_1000_kib / 1024:+.2f} MiB of RSS per 1,000 requests after the first 10%\n")
    w(f"open fds            {report.fds_start} at start -> {report.fds_end} at the end\n")
    cap = f"{report.capture_cap_mb} MiB cap" if report.capture_cap_mb else "default cap (1 GiB)"
    w(f"capture store       {report.store_mb_end:.1f} MiB at the end, {report.store_mb_max:.1f} MiB largest seen ({cap}); "
      f"{report.dropped_events} events dropped")
    if report.exchanges_written is not None:
        w(f"; {report.exchanges_written} exchanges written, newest 10 answered missing: {report.newest_missing}")
    w("\n")
    w(f"shutdown            exit {report.shutdown_code} in {report.shutdown_seconds:.2f} s after SIGTERM\n")
    w(f"result              {'PASS' if report.ok else 'FAIL'}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--minutes", type=float, help="send requests for this long instead of --requests")
    parser.add_argument("--capture-max-mb", type=int, help="cap the proxy's capture store (retention prunes during the soak)")
    parser.add_argument("--without", action="append", default=[], metavar="CLASS", help="leave a request class out of the mix (repeatable)")
    args = parser.parse_args(argv)
    mix = tuple(k for k in MIX if k.name not in args.without)
    with tempfile.TemporaryDirectory(prefix="claude-max-tui-soak-") as tmp:
        what = f"{args.minutes:g} minutes" if args.minutes else f"{args.requests} requests"
        print(f"soak: {what} at concurrency {args.concurrency} (seed {args.seed})", flush=True)
        report = asyncio.run(soak(args.requests, args.concurrency, args.seed, Path(tmp), log=lambda m: print(m, flush=True), mix=mix, minutes=args.minutes, capture_max_mb=args.capture_max_mb))
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
