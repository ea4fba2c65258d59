"""`claude-max-tui`: the console by default, `--headless` for a service, and subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import MISSING, Field
from pathlib import Path

from . import __version__
from .config import ENV_PREFIX, Config, env_value, settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claude-max-tui",
        description="An OpenAI-compatible API for your Claude subscription, through the Claude Code CLI, with a live console.",
        epilog="Every option can also be set as CLAUDE_MAX_TUI_<NAME>, e.g. CLAUDE_MAX_TUI_PORT=3456.",
    )
    parser.add_argument("--version", action="version", version=f"claude-max-tui {__version__}")
    for setting in settings():
        _add_flag(parser, setting)

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        before = set(commands.choices)
        module.add_parser(commands)
        for name in set(commands.choices) - before:
            commands.choices[name].set_defaults(run=module.run)
    return parser


def _add_flag(parser: argparse.ArgumentParser, setting: Field) -> None:
    """One flag from a `Config` field's declaration (config.option)."""
    meta = setting.metadata
    flag = meta["flag"] or "--" + setting.name.replace("_", "-")
    kind = _kind(setting)
    if kind is bool:
        # A switch: `--headless` sets True, `--no-capture` sets the field False.
        parser.add_argument(flag, dest=setting.name, action="store_const", const=not flag.startswith("--no-"), default=None, help=meta["help"])
        return
    shown = meta["shown"] or (None if setting.default in (None, (), MISSING) else f"{setting.default:g}" if isinstance(setting.default, float) else setting.default)
    help_text = meta["help"] + (f" (default {shown})" if shown is not None else "")
    if kind is tuple:
        parser.add_argument(flag, dest=setting.name, action="append", default=None, metavar=meta["metavar"], help=help_text)
    else:
        parser.add_argument(flag, dest=setting.name, type=kind, default=None, metavar=meta["metavar"], help=help_text)


def _kind(setting: Field) -> type:
    """The value type of a setting, from its annotation (a string: `from __future__ import annotations`)."""
    annotation = str(setting.type)
    for name, kind in (("bool", bool), ("int", int), ("float", float), ("Path", Path), ("tuple", tuple)):
        if annotation.startswith(name):
            return kind
    return str


def _env_name(setting: Field) -> str:
    flag = setting.metadata["flag"]
    return flag[2:].replace("-", "_") if flag and flag.startswith("--no-") else setting.name


def _command_modules() -> list:
    from .commands import captures, doctor, replay

    return [doctor, captures, replay]


def config_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Config:
    """Flags first, then CLAUDE_MAX_TUI_* variables, then defaults."""
    env = os.environ if environ is None else environ
    values: dict = {}
    for setting in settings():
        given = getattr(args, setting.name, None)
        if given is None:
            given = _from_env(setting, env_value(_env_name(setting), env))
        if given is not None:
            values[setting.name] = tuple(given) if _kind(setting) is tuple else given
    key = values.get("api_key")
    if key is not None and not key.strip():
        # Not a key at all: it would make the proxy look protected (and let it bind a
        # network address) while no client could ever send it.
        raise SystemExit("claude-max-tui: the API key (--api-key or CLAUDE_MAX_TUI_API_KEY) is empty or only whitespace; give a real key or none.")
    return Config(**values)


def _from_env(setting: Field, raw: str | None):
    if raw is None or raw == "":
        return None
    kind = _kind(setting)
    if kind is bool:
        on = raw.lower() in ("1", "true", "yes", "on")
        inverted = bool(setting.metadata["flag"] and setting.metadata["flag"].startswith("--no-"))
        return (not on) if inverted else on
    if kind is tuple:
        return tuple(item for item in raw.split(",") if item)
    try:
        return kind(raw)
    except ValueError:
        raise SystemExit(f"claude-max-tui: {ENV_PREFIX}{_env_name(setting).upper()}={raw!r} is not a valid {kind.__name__}") from None


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
