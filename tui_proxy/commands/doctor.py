"""`claude-max-tui doctor`: can the proxy run the Claude Code CLI, and if not, why?"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from dataclasses import asdict

from ..claude.argv import build_env, default_inherited_env
from ..claude.probe import CliStatus, probe_cli

# What `claude auth status` calls each way of being logged in.
AUTH_METHODS = {
    "claude.ai": "Claude subscription (claude.ai login)",
    "oauth_token": "Claude subscription (token in CLAUDE_CODE_OAUTH_TOKEN)",
    "api_key": "Anthropic API key (billed per token, not the subscription)",
}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "doctor",
        help="check that the claude CLI is installed and logged in",
        description="Check that the Claude Code CLI is installed and logged in, and say what to do if not. Exits 0 when usable.",
    )
    # SUPPRESS, not a default: a default here would overwrite the top-level
    # `claude-max-tui --claude PATH doctor`; run() falls back instead.
    parser.add_argument(
        "--claude",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the claude executable (default: $CLAUDE_MAX_TUI_CLAUDE, else claude on PATH)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    requested = getattr(args, "claude", None) or os.environ.get("CLAUDE_MAX_TUI_CLAUDE") or "claude"
    # The same environment the proxy gives the CLI, so the answer holds for real runs.
    env = build_env(default_inherited_env(), tmpdir=tempfile.gettempdir())
    status = asyncio.run(probe_cli(requested, env=env))
    if getattr(args, "json", False):
        print(json.dumps({**asdict(status), "usable": status.usable}, indent=2))
    else:
        print(format_report(status))
    return 0 if status.usable else 1


def format_report(status: CliStatus) -> str:
    rows = [("Claude Code CLI", status.path if status.found else f"not found (looked for {status.requested!r})")]
    if status.found:
        rows.append(("version", status.version or "unknown"))
        rows.append(("logged in", _login_text(status)))
    width = max(len(label) for label, _ in rows)
    lines = ["claude-max-tui doctor", ""]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    lines.append("")
    if status.usable:
        lines.append("OK: the proxy can run requests with this CLI.")
    else:
        lines.append(f"Problem: {status.error or 'the CLI is not usable.'}")
    if status.hint:
        lines.append(f"{'Note' if status.usable else 'Fix'}: {status.hint}")
    return "\n".join(lines)


def _login_text(status: CliStatus) -> str:
    if status.logged_in is None:
        return "unknown"
    if not status.logged_in:
        return "no"
    method = status.auth_method or "unknown method"
    return f"yes, {AUTH_METHODS.get(method, method)}"
