"""`claude-max-tui`: the console by default, `--headless` for a service, and subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

from . import __version__
from .config import Config, env_value

#: Serve options: flag name → (Config field, type). Each is also `CLAUDE_MAX_TUI_<NAME>`.
SERVE_OPTIONS = {
    "host": str,
    "port": int,
    "claude": str,
    "data_dir": Path,
    "api_key": str,
    "max_concurrency": int,
    "max_queue": int,
    "queue_timeout": float,
    "timeout": float,
    "first_output_timeout": float,
    "idle_timeout": float,
    "max_body_bytes": int,
    "max_prompt_chars": int,
    "header_timeout": float,
    "body_timeout": float,
    "max_connections": int,
    "history": int,
    "capture_max_count": int,
    "capture_max_mb": int,
    "capture_max_days": float,
}
BOOLEAN_OPTIONS = ("headless", "allow_remote")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claude-max-tui",
        description="An OpenAI-compatible API for your Claude subscription, through the Claude Code CLI, with a live console.",
        epilog="Every option can also be set as CLAUDE_MAX_TUI_<NAME>, e.g. CLAUDE_MAX_TUI_PORT=3456.",
    )
    parser.add_argument("--version", action="version", version=f"claude-max-tui {__version__}")
    parser.add_argument("--headless", action="store_true", default=None, help="run the proxy without the console, logging one line per request")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 3456; 0 picks a free one)")
    parser.add_argument("--claude", metavar="PATH", help="the claude executable (default: claude on PATH)")
    parser.add_argument("--data-dir", metavar="DIR", type=Path, help="where captures are kept (default ~/.local/share/claude-max-tui)")
    parser.add_argument("--api-key", metavar="KEY", help="require clients to send Authorization: Bearer KEY; prefer CLAUDE_MAX_TUI_API_KEY, which other users cannot read in ps")
    parser.add_argument("--max-concurrency", type=int, metavar="N", help="CLI runs at once (default 8)")
    parser.add_argument("--max-queue", type=int, metavar="N", help="requests that may wait for a run slot before 429 (default 32)")
    parser.add_argument("--queue-timeout", type=float, metavar="SECONDS", help="longest wait for a run slot before 429 (default 30)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="total time a run may take (default 600)")
    parser.add_argument("--first-output-timeout", type=float, metavar="SECONDS", help="time until the CLI's first output (default 60)")
    parser.add_argument("--idle-timeout", type=float, metavar="SECONDS", help="longest silence of a running CLI (default 300)")
    parser.add_argument("--max-body-bytes", type=int, metavar="N", help="largest request body (default 32 MiB)")
    parser.add_argument("--max-prompt-chars", type=int, metavar="N", help="most characters of text in one request; more is refused before spawning (default 8000000)")
    parser.add_argument("--header-timeout", type=float, metavar="SECONDS", help="a connection must send a request's headers within this long of opening or of its last response; idle connections are closed then (default 15)")
    parser.add_argument("--body-timeout", type=float, metavar="SECONDS", help="a request's body must arrive within this long, else 408 (default 60)")
    parser.add_argument("--max-connections", type=int, metavar="N", help="open connections at most; more get 503 (default: from the open-file limit)")
    parser.add_argument("--history", type=int, metavar="N", help="requests the console keeps in memory (default 1000)")
    parser.add_argument("--allow-remote", action="store_true", default=None, help="allow a non-loopback --host without --api-key")
    parser.add_argument("--allowed-host", action="append", default=None, metavar="NAME", help="extra Host header value to accept (repeatable)")
    parser.add_argument("--no-capture", action="store_true", help="do not keep exchanges on disk")
    parser.add_argument("--capture-max-count", type=int, metavar="N", help="captured exchanges kept at most (default 10000)")
    parser.add_argument("--capture-max-mb", type=int, metavar="MB", help="size of the capture store at most (default 1024)")
    parser.add_argument("--capture-max-days", type=float, metavar="DAYS", help="age of a capture at most (default 30)")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        before = set(commands.choices)
        module.add_parser(commands)
        for name in set(commands.choices) - before:
            commands.choices[name].set_defaults(run=module.run)
    return parser


def _command_modules() -> list:
    from .commands import captures, doctor, replay

    return [doctor, captures, replay]


def config_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Config:
    """Flags first, then CLAUDE_MAX_TUI_* variables, then defaults."""
    env = os.environ if environ is None else environ
    values: dict = {}
    for name, kind in SERVE_OPTIONS.items():
        given = getattr(args, name, None)
        if given is None:
            raw = env_value(name, env)
            if raw is not None and raw != "":
                try:
                    given = kind(raw)
                except ValueError:
                    raise SystemExit(f"claude-max-tui: CLAUDE_MAX_TUI_{name.upper()}={raw!r} is not a valid {kind.__name__}")
        if given is not None:
            values[name] = given
    for name in BOOLEAN_OPTIONS:
        given = getattr(args, name, None)
        if given is None:
            given = (env_value(name, env) or "").lower() in ("1", "true", "yes", "on")
        values[name] = given
    hosts = getattr(args, "allowed_host", None) or [h for h in (env_value("allowed_hosts", env) or "").split(",") if h]
    values["allowed_hosts"] = tuple(hosts)
    if getattr(args, "no_capture", False) or (env_value("no_capture", env) or "").lower() in ("1", "true", "yes"):
        values["capture"] = False
    key = values.get("api_key")
    if key is not None and not key.strip():
        # Not a key at all: it would make the proxy look protected (and let it bind a
        # network address) while no client could ever send it.
        raise SystemExit("claude-max-tui: the API key (--api-key or CLAUDE_MAX_TUI_API_KEY) is empty or only whitespace; give a real key or none.")
    known = {f.name for f in fields(Config)}
    return Config(**{k: v for k, v in values.items() if k in known})


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command:
        return args.run(args)
    config = config_from_args(args)
    if config.headless:
        from .headless import run_headless

        return run_headless(config)
    if not sys.stdout.isatty():
        print("claude-max-tui: no terminal, starting headless (use --headless to say so).", file=sys.stderr)
        from .headless import run_headless

        return run_headless(config)
    from .tui.app import run_console

    return run_console(config)


if __name__ == "__main__":
    sys.exit(main())
