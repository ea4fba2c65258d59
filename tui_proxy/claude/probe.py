"""Is the Claude Code CLI there, which version, and is it logged in?

Runs `<cli> --version` and `<cli> auth status` (both offline, ~0.2 s; see
docs/claude-cli.md §9). Used by `claude-max-tui doctor` and the engine's
startup health check. Standard library only, so it stays cheap to import.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
from dataclasses import dataclass

INSTALL_HINT = "Install it with `npm install -g @anthropic-ai/claude-code`, or pass its location with --claude PATH."
LOGIN_HINT = (
    "Run `claude` once and type /login (or run `claude auth login`). "
    "On a headless server, run `claude setup-token` on a machine with a browser "
    "and set CLAUDE_CODE_OAUTH_TOKEN=<token> in this server's environment."
)
API_KEY_HINT = "ANTHROPIC_API_KEY is set, so the CLI bills that API key instead of your subscription; unset it to use the subscription."

# Variables an outer Claude Code session sets; a nested CLI must not inherit them.
INHERITED_SESSION_VARIABLES = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT")

_VERSION = re.compile(r"\d+\.\d+\.\d+\S*")


@dataclass(frozen=True, slots=True)
class CliStatus:
    path: str | None  # absolute path resolved (shutil.which if not absolute), None if not found
    requested: str  # what the user configured
    found: bool
    version: str | None  # e.g. "2.1.328"
    logged_in: bool | None  # None = unknown (probe failed)
    auth_method: str | None  # from `claude auth status`: "claude.ai", "oauth_token", "api_key", "none", ...
    error: str | None  # human text when something is wrong
    hint: str | None  # what to do about it

    @property
    def usable(self) -> bool:
        return self.found and self.logged_in is True


def resolve_cli(requested: str) -> str | None:
    """The absolute path of the CLI to run, or None when there is none.

    A bare name is looked up on PATH; anything with a directory part is taken
    as a path (with ~ expanded) and must be an executable file.
    """
    expanded = os.path.expanduser(requested.strip())
    if not expanded:
        return None
    if os.path.dirname(expanded):
        path = os.path.abspath(expanded)
        found = path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    else:
        found = shutil.which(expanded)
    return _native_binary(os.path.abspath(found)) if found else None


def _native_binary(path: str) -> str:
    """On Windows, the native claude.exe behind npm's .cmd/.ps1 shim (shims fail without a shell)."""
    if not path.lower().endswith((".cmd", ".ps1")):
        return path
    native = os.path.join(os.path.dirname(path), "node_modules", "@anthropic-ai", "claude-code", "bin", "claude.exe")
    return native if os.path.isfile(native) else path


def default_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in INHERITED_SESSION_VARIABLES}


async def probe_cli(requested: str, env: dict[str, str] | None = None, timeout: float = 10.0) -> CliStatus:
    path = resolve_cli(requested)
    if path is None:
        return CliStatus(
            path=None,
            requested=requested,
            found=False,
            version=None,
            logged_in=None,
            auth_method=None,
            error=f"Claude Code CLI not found: {requested!r} is not {'an executable file' if os.path.dirname(requested) else 'on PATH'}.",
            hint=INSTALL_HINT,
        )

    def status(**fields: object) -> CliStatus:
        values: dict[str, object] = {"version": None, "logged_in": None, "auth_method": None, "error": None, "hint": None}
        values.update(fields)
        return CliStatus(path=path, requested=requested, found=True, **values)  # type: ignore[arg-type]

    child_env = default_env() if env is None else env
    try:
        version_run = await _run([path, "--version"], child_env, timeout)
        auth_run = await _run([path, "auth", "status"], child_env, timeout)
    except TimeoutError:
        return status(error=f"{path} did not answer within {timeout:g} s.", hint="Check that the CLI starts when run by hand.")
    except OSError as exc:
        return status(error=f"Cannot run {path}: {exc.strerror or exc}.", hint=INSTALL_HINT)

    version = _parse_version(version_run)
    if version is None:
        return status(
            error=f"`{path} --version` printed no version (exit {version_run.exit_code}): {version_run.first_line()}",
            hint="Reinstall the CLI: `npm install -g @anthropic-ai/claude-code`.",
        )
    auth = _parse_auth_status(auth_run)
    if auth is None:
        return status(
            version=version,
            error=f"`{path} auth status` gave no login state (exit {auth_run.exit_code}): {auth_run.first_line()}",
            hint="Update the CLI (`npm install -g @anthropic-ai/claude-code`); `auth status` exists since 2.x.",
        )
    logged_in, auth_method, api_key_source = auth
    if not logged_in:
        return status(version=version, logged_in=False, auth_method=auth_method, error="The Claude Code CLI is not logged in.", hint=LOGIN_HINT)
    return status(
        version=version,
        logged_in=True,
        auth_method=auth_method,
        hint=API_KEY_HINT if api_key_source == "ANTHROPIC_API_KEY" else None,
    )


@dataclass(frozen=True, slots=True)
class _Completed:
    exit_code: int
    stdout: str
    stderr: str

    def first_line(self, limit: int = 200) -> str:
        """The first line of stderr (else stdout): where CLIs put the reason they failed."""
        text = self.stderr.strip() or self.stdout.strip() or "no output"
        return text.splitlines()[0][:limit]


async def _run(argv: list[str], env: dict[str, str], timeout: float) -> _Completed:
    """Run argv (no shell, stdin closed), killing it on timeout or cancellation and always reaping it."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=sys.platform != "win32",  # its own process group, so a kill takes its children too
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            _kill(process)
            await process.wait()
    assert process.returncode is not None
    return _Completed(process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"))


def _kill(process: asyncio.subprocess.Process) -> None:
    try:
        if sys.platform == "win32":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _parse_version(run: _Completed) -> str | None:
    # `claude --version` prints "2.1.328 (Claude Code)".
    match = _VERSION.search(run.stdout) if run.exit_code == 0 else None
    return match.group(0) if match else None


def _parse_auth_status(run: _Completed) -> tuple[bool, str | None, str | None] | None:
    """(logged in, authMethod, apiKeySource) from `claude auth status` JSON, or None if unreadable.

    The exit code alone is not enough (it is 1 both for "not logged in" and for
    an unknown command), so the JSON decides.
    """
    try:
        data = json.loads(run.stdout)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("loggedIn"), bool):
        return None
    return data["loggedIn"], data.get("authMethod"), data.get("apiKeySource")
