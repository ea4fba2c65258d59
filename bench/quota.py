"""What a conversation costs: through the proxy vs on one kept-alive Claude Code process.

Both run the REAL pinned CLI against the loopback mock of the Messages API, which logs every
upstream body. The same conversation (a long system prompt, user turns of ~200 words, answers of
~150 words) is held (1) through a headless-style engine, one request per turn carrying the whole
history (what every OpenAI client does), and (2) on one CLI process kept alive (stream-json
input, one user line per turn, stdin left open: what Claude Code itself does).

The logged bodies are then priced with Anthropic's documented prompt-caching rules (how
subscription windows weigh them is not published; the API's weights are used): tokens ~
characters/4 of each block's JSON; tools, then system blocks, then message blocks, in order; a
block with `cache_control` writes the prefix up to it (1-hour: 2x, 5-minute: 1.25x); a request
reads the longest previously written prefix of itself (0.1x); the rest is uncached (1x).

    python bench/quota.py                 # 6 and 40 turns
    python bench/quota.py --turns 12
    python bench/quota.py --turns 6 --cold   # the conversation is the engine's very first

The proxy's engine answers one warm-up request first: an engine learns the CLI's own
environment and model records from its first run (see tui_proxy/claude/session_file.py).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.contract_env import Profile, Rig  # noqa: E402
from tests.real_cli import FAKE_OAUTH_TOKEN, find_real_cli  # noqa: E402
from tui_proxy.claude.argv import RunOptions, build_argv, build_env  # noqa: E402

SYSTEM = " ".join(f"Guideline {i}: be exact, be brief, and prefer plain words." for i in range(2000 // 10))
READ, WRITE_1H, WRITE_5M = 0.1, 2.0, 1.25


def user_text(turn: int) -> str:
    marker = "[[mock:words n=150]] " if turn == 0 else ""
    return marker + f"Turn {turn}: " + " ".join(f"topic{(turn * 31 + i) % 500}" for i in range(200))


# -- pricing --------------------------------------------------------------------------------


@dataclass
class Cost:
    read: int = 0
    write: int = 0
    uncached: int = 0
    weighted: float = 0.0


def _blocks(body: dict) -> list[tuple[str, str | None]]:
    """(block JSON without cache_control, its ttl if it is a breakpoint), in cache order."""
    out: list[tuple[str, str | None]] = []

    def add(block: dict, prefix: str) -> None:
        control = block.get("cache_control") if isinstance(block, dict) else None
        plain = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        out.append((prefix + json.dumps(plain, sort_keys=True, ensure_ascii=False), (control or {}).get("ttl", "5m") if control else None))

    for tool in body.get("tools") or []:
        add(tool, "tool:")
    for block in body.get("system") or []:
        add(block, "system:")
    for message in body.get("messages") or []:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks:
            add(block, message["role"] + ":")
    return out


def price(bodies: list[dict]) -> list[Cost]:
    written: set[str] = set()
    costs = []
    for body in bodies:
        blocks = _blocks(body)
        digest = hashlib.sha256()
        prefixes, tokens = [], []
        for text, _ in blocks:
            digest.update(text.encode())
            prefixes.append(digest.copy().hexdigest())
            tokens.append(max(1, len(text) // 4))
        read_upto = max((i + 1 for i, p in enumerate(prefixes) if p in written), default=0)
        cost = Cost(read=sum(tokens[:read_upto]))
        done = read_upto
        for i, (_, ttl) in enumerate(blocks):
            if ttl and i + 1 > done:
                chunk = sum(tokens[done : i + 1])
                cost.write += chunk
                cost.weighted += chunk * (WRITE_1H if ttl == "1h" else WRITE_5M)
                done = i + 1
            if ttl:
                written.add(prefixes[i])
        cost.uncached = sum(tokens[done:])
        cost.weighted += cost.read * READ + cost.uncached
        costs.append(cost)
    return costs


# -- the two ways ----------------------------------------------------------------------------


async def through_proxy(rig: Rig, turns: int, cold: bool) -> list[dict]:
    client = rig.clients["oauth"]
    if not cold:
        await client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "warm up"}])
    messages: list[dict] = [{"role": "system", "content": SYSTEM}]
    bodies = []
    for turn in range(turns):
        messages.append({"role": "user", "content": user_text(turn)})
        before = len(rig.mock.message_requests())
        reply = await client.chat.completions.create(model="sonnet", messages=messages)  # type: ignore[arg-type]
        bodies += [r.body for r in rig.mock.message_requests()[before:]]
        messages.append({"role": "assistant", "content": reply.choices[0].message.content})
    return bodies


async def kept_alive(cli: str, rig: Rig, root: Path, turns: int) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="kept-alive-", dir=root))
    (work / "cwd").mkdir()
    (work / "tmp").mkdir()
    prompt = work / "system-prompt.txt"
    prompt.write_text(SYSTEM)
    argv = build_argv(cli, RunOptions(model="sonnet", system_prompt_file=str(prompt)))
    env = build_env({"PATH": os.environ.get("PATH", ""), "HOME": str(root / "home-oauth"), "ANTHROPIC_BASE_URL": rig.mock.base_url,
                     "CLAUDE_CODE_OAUTH_TOKEN": FAKE_OAUTH_TOKEN, "CLAUDE_CODE_MAX_RETRIES": "0"}, tmpdir=str(work / "tmp"))
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=str(work / "cwd"), env=env, start_new_session=True, limit=2**24,
    )
    assert process.stdin and process.stdout
    bodies = []
    try:
        for turn in range(turns):
            before = len(rig.mock.message_requests())
            line = {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": user_text(turn)}]}, "parent_tool_use_id": None, "session_id": ""}
            process.stdin.write((json.dumps(line) + "\n").encode())
            await process.stdin.drain()
            while True:
                raw = await process.stdout.readline()
                if not raw:
                    raise RuntimeError("the kept-alive CLI ended early")
                if b'"type":"result"' in raw and json.loads(raw).get("type") == "result":
                    break
            bodies += [r.body for r in rig.mock.message_requests()[before:]]
    finally:
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
    return bodies


def table(title: str, costs: list[Cost]) -> float:
    print(f"\n{title}")
    print(f"{'turn':>4} {'cache read':>11} {'cache write':>12} {'uncached':>9} {'weighted':>10}")
    for i, c in enumerate(costs, 1):
        print(f"{i:>4} {c.read:>11,} {c.write:>12,} {c.uncached:>9,} {c.weighted:>10,.0f}")
    total = sum(c.weighted for c in costs)
    print(f"{'all':>4} {sum(c.read for c in costs):>11,} {sum(c.write for c in costs):>12,} {sum(c.uncached for c in costs):>9,} {total:>10,.0f}")
    return total


async def main(turn_counts: list[int], cold: bool) -> None:
    cli = find_real_cli()
    if not cli:
        sys.exit("the pinned real CLI is not installed (scripts/install-claude-cli.sh, or CLAUDE_REAL_CLI)")
    for turns in turn_counts:
        with tempfile.TemporaryDirectory(prefix="bench-quota-") as scratch:
            root = Path(scratch)
            rig = await Rig(cli, root, [Profile("oauth")]).start()
            try:
                proxy = await through_proxy(rig, turns, cold)
                alive = await kept_alive(cli, rig, root, turns)
            finally:
                await rig.close()
        assert len(proxy) == len(alive) == turns, (len(proxy), len(alive))
        print(f"\n=== {turns} turns{', cold engine' if cold else ''} (uncached-token equivalents: read 0.1x, 1h write 2x, 5m write 1.25x, uncached 1x)")
        a = table("through the proxy (one request per turn, the whole history each time)", price(proxy))
        b = table("one kept-alive CLI process (one stream-json user line per turn)", price(alive))
        print(f"\nratio proxy / kept-alive over {turns} turns: {a / b:.3f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, action="append", help="conversation length (repeatable; default 6 and 40)")
    parser.add_argument("--cold", action="store_true", help="no warm-up request: the conversation is the engine's first (it learns the CLI's records)")
    args = parser.parse_args()
    asyncio.run(main(args.turns or [6, 40], args.cold))
