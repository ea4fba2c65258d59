"""Time to first token with the REAL pinned CLI: a new conversation through the proxy (a CLI
started ahead, runs/pool.py) and a follow-up turn (the CLI kept warm, runs/warm.py), each
against a direct cold `claude -p` of the same argv and the same request.

One interleaved run against the loopback mock of the Messages API (instant answers), so only
process start, the CLI's own work and the proxy show. The direct baseline's children start in
their own session, as the proxy's do (this kernel gives each session its own CPU share: see
docs/warm-start.md, "Benchmarking note"). Each proxy round first waits until the pool has a
ready slot again (steady state for a user sending a request now and then).

    python bench/warm_start.py [--rounds 15] [--pool-size 2]

Targets (issue 13): median TTFT ratio proxy/direct <= 0.40 for a new conversation, <= 0.25
for a follow-up turn.
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

from tests.mock_anthropic import MockAnthropic  # noqa: E402
from tests.real_cli import FAKE_OAUTH_TOKEN, find_real_cli  # noqa: E402
from tui_proxy.claude.argv import RunOptions, build_argv, build_env  # noqa: E402
from tui_proxy.claude.prompt import render_prompt  # noqa: E402
from tui_proxy.conversation import Conversation, TextPart, Turn  # noqa: E402

SYSTEM = "You are the warm-start bench. Be terse."
PROMPT = "Please answer. [[mock:text]]"


FOLLOW_UP = "And once more. [[mock:text]]"
ANSWER = "Hello from the mock Anthropic API."


def turns(follow_up: bool) -> tuple[Turn, ...]:
    first = (Turn("user", (TextPart(PROMPT),)),)
    if not follow_up:
        return first
    return (*first, Turn("assistant", (TextPart(ANSWER),)), Turn("user", (TextPart(FOLLOW_UP),)))


async def direct_run(cli: str, env: dict, workdir: str, follow_up: bool = False) -> float:
    """A cold run as the proxy would spawn it, in its own session; TTFT = the first text delta."""
    prompt_file = os.path.join(workdir, "system-prompt.txt")
    Path(prompt_file).write_text(SYSTEM)
    argv = build_argv(cli, RunOptions(model="sonnet", system_prompt_file=prompt_file))
    stdin = render_prompt(Conversation(None, turns(follow_up))).stdin_line()
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=workdir, env=build_env(env, tmpdir=workdir), start_new_session=True,
    )  # fmt: skip
    proc.stdin.write(stdin.encode())
    proc.stdin.close()
    ttft = None
    async for line in proc.stdout:
        if ttft is None and b'"text_delta"' in line:
            ttft = time.perf_counter() - start
    await proc.wait()
    if ttft is None:
        raise RuntimeError("the direct run produced no text")
    return ttft


async def proxy_run(session: aiohttp.ClientSession, base: str, follow_up: bool = False) -> float:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
    if follow_up:
        messages += [{"role": "assistant", "content": ANSWER}, {"role": "user", "content": FOLLOW_UP}]
    body = {"model": "sonnet", "stream": True, "messages": messages}
    start = time.perf_counter()
    ttft = None
    async with session.post(base + "/chat/completions", json=body) as response:
        assert response.status == 200, await response.text()
        async for line in response.content:
            if ttft is None and line.startswith(b"data: ") and b'"content":"' in line and b'"content":""' not in line:
                ttft = time.perf_counter() - start
    if ttft is None:
        raise RuntimeError("the proxy answered no text")
    return ttft


async def pool_ready(session: aiohttp.ClientSession, base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with session.get(base.removesuffix("/v1") + "/health") as response:
            health = await response.json()
        if health["runs"]["pool"]["ready"] >= 1:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the pool never refilled")


async def start_proxy(cli: str, env: dict, data_dir: str, pool_size: int) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui_proxy", "--headless", "--port", "0", "--claude", cli, "--data-dir", data_dir, "--pool-size", str(pool_size), "--warm-conversations", "4",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=str(ROOT), env=env,
    )  # fmt: skip
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("the proxy did not start")
        if "listening on " in line and line.rstrip().endswith("/v1"):
            asyncio.ensure_future(_drain(proc.stdout))
            return proc, line.rsplit("listening on ", 1)[1].strip()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--pool-size", type=int, default=2)
    args = parser.parse_args()
    cli = find_real_cli()
    if cli is None:
        raise SystemExit("the real CLI is not installed: scripts/install-claude-cli.sh")
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        async with MockAnthropic() as mock:
            env = {**os.environ, "HOME": home, "ANTHROPIC_BASE_URL": mock.base_url, "CLAUDE_CODE_OAUTH_TOKEN": FAKE_OAUTH_TOKEN, "CLAUDE_CODE_MAX_RETRIES": "0"}
            env.pop("ANTHROPIC_API_KEY", None)
            proxy, base = await start_proxy(cli, env, os.path.join(tmp, "data"), args.pool_size)
            direct, through, direct_next, through_next = [], [], [], []
            try:
                async with aiohttp.ClientSession() as session:
                    await pool_ready(session, base)
                    await direct_run(cli, env, tmp)  # warm-up: page cache
                    await proxy_run(session, base)
                    await proxy_run(session, base, follow_up=True)
                    for i in range(args.rounds):
                        await pool_ready(session, base)
                        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                            if which == 0:
                                direct.append(await direct_run(cli, env, tmp))
                                direct_next.append(await direct_run(cli, env, tmp, follow_up=True))
                            else:
                                through.append(await proxy_run(session, base))
                                through_next.append(await proxy_run(session, base, follow_up=True))
            finally:
                proxy.terminate()
                await proxy.wait()
    d, p = statistics.median(direct), statistics.median(through)
    dn, pn = statistics.median(direct_next), statistics.median(through_next)
    print(f"rounds: {args.rounds}, pool size {args.pool_size}, real CLI {cli}, {os.cpu_count()} cores")
    print(f"new conversation:  direct cold p50 {d * 1000:7.1f} ms   proxy (pooled CLI) p50 {p * 1000:7.1f} ms   ratio {p / d:.3f}  (target <= 0.40)")
    print(f"follow-up turn:    direct cold p50 {dn * 1000:7.1f} ms   proxy (warm CLI)   p50 {pn * 1000:7.1f} ms   ratio {pn / dn:.3f}  (target <= 0.25)")
    print(json.dumps({"new_conversation_ttft_ratio": round(p / d, 3), "follow_up_ttft_ratio": round(pn / dn, 3), "direct_ms": round(d * 1000, 1), "proxy_ms": round(p * 1000, 1), "direct_follow_up_ms": round(dn * 1000, 1), "proxy_follow_up_ms": round(pn * 1000, 1)}))


if __name__ == "__main__":
    asyncio.run(main())
