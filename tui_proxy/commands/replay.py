"""`claude-max-tui replay ID [--to URL] [--edit]`: send a captured request again and diff.

It goes where `captures export --format curl` points (`replay.target_url`): `--to`, else
the port the proxy runs on now if given (`--port`, `$CLAUDE_MAX_TUI_PORT`), else the
captured Host when it is a loopback address, else http://127.0.0.1:3456.

The running proxy records the replay as a new capture in the same data dir; this waits
for it and diffs it against the original. If it never shows up (another data dir, no
capture), the answer as received here is diffed instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys

import aiohttp

from ..capture.export_json import to_plain
from ..config import env_value
from ..capture import Capture, CaptureStore
from ..replay.send import ReplayRefused, ReplayResult, await_capture, configured_url, edit_in_editor, replay, target_url
from ..replay.diff import diff, render_diff
from .captures import add_data_dir_argument, find_capture, open_store


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("replay", help="send a captured request again and diff the answers")
    parser.add_argument("id", help="exchange id, a unique prefix of one, or its short id")
    parser.add_argument(
        "--to",
        metavar="URL",
        help="base URL of the proxy (default: --port or $CLAUDE_MAX_TUI_PORT when set, else the captured"
        " Host if it is a loopback address, else http://127.0.0.1:3456)",
    )
    parser.add_argument(
        "--port", type=int, default=argparse.SUPPRESS, help="port of the local proxy, when --to is not given"
    )
    parser.add_argument("--edit", action="store_true", help="edit the request body in $EDITOR first")
    parser.add_argument("--api-key", help="the proxy's key (default: $CLAUDE_MAX_TUI_API_KEY or $OPENAI_API_KEY)")
    parser.add_argument("--wait", type=float, default=30.0, metavar="SECONDS", help="how long to wait for the new capture")
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    add_data_dir_argument(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    store = open_store(args)
    if store is None:
        return 1
    with store:
        original = find_capture(store, args.id)
        if original is None:
            return 1
        body = None
        if args.edit:
            try:
                body = edit_in_editor(original.request_body)
            except (OSError, subprocess.CalledProcessError) as exc:
                print(f"editor failed: {exc}", file=sys.stderr)
                return 1
        api_key = args.api_key or env_value("api_key") or os.environ.get("OPENAI_API_KEY")
        to_url, why = target_url(original, to=args.to, configured=configured_url(getattr(args, "port", None)))
        print(f"replaying {original.id} to {to_url} ({why})", file=sys.stderr)
        try:
            result, new = asyncio.run(_replay_and_wait(store, original, to_url, body, api_key, args.wait))
        except ReplayRefused as exc:
            print(f"cannot replay: {exc}", file=sys.stderr)
            return 1
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            print(f"replay to {to_url} failed: {exc or type(exc).__name__}", file=sys.stderr)
            if why != "--to":
                print("is the proxy running there? Point the replay at it with --to URL or --port N", file=sys.stderr)
            return 1
        if new is None:
            print(
                f"note: the new capture did not appear in {store.path} (is the proxy using the same"
                " --data-dir?); diffing against the answer as received",
                file=sys.stderr,
            )
            new = result.as_capture(original)
        outcome = diff(original, new)
        if args.json:
            print(json.dumps({**to_plain(outcome), "same_text": outcome.same_text}, indent=2))
        else:
            print(render_diff(outcome))
        return 0


async def _replay_and_wait(
    store: CaptureStore, original: Capture, to_url: str, body: bytes | None, api_key: str | None, wait: float
) -> tuple[ReplayResult, Capture | None]:
    # One session for the request and the wait, closed once the new capture is in.
    async with aiohttp.ClientSession() as session:
        result = await replay(original, to_url=to_url, body_override=body, api_key=api_key, session=session)
        new = await await_capture(store, result.new_id, timeout=wait) if result.new_id else None
    return result, new
