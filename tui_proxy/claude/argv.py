"""The CLI's command line and environment: the safety of every run is decided here.

No shell, argv a list, the prompt never in argv (it goes on stdin or in a private session
file), built-in tools, user and project settings and MCP servers off, no session files of
the CLI's own making. See docs/claude-cli.md §2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ProxyError

#: Inherited `CLAUDE_CODE_*` variables that configure how the CLI logs in or retries,
#: which a user sets on purpose; every other one may leak from an outer agent.
KEPT_CLAUDE_CODE_VARS = frozenset(
    {
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CODE_MAX_RETRIES",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
        "CLAUDE_CODE_API_KEY_HELPER_TTL_MS",
    }
)
#: Our own settings (the proxy's API key among them) never reach the child.
OWN_PREFIX = "CLAUDE_MAX_TUI_"


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What varies between runs. Everything else in argv is fixed."""

    model: str
    system_prompt_file: str | None = None
    effort: str | None = None
    json_schema: str | None = None
    mcp_config: str | None = None
    allowed_tools: tuple[str, ...] = ()


def build_argv(cli_path: str, options: RunOptions, *, resume: str | None = None, persist_session: bool = False) -> list[str]:
    """`resume`: the id of a session file the proxy wrote (the history, see session_file.py).
    `persist_session`: let the CLI append to it (to learn its attachments); never otherwise."""
    argv = [
        cli_path,
        "-p",
        "--output-format", "stream-json",
        "--verbose",
        "--include-partial-messages",
        "--input-format", "stream-json",
        *(("--model", options.model) if options.model else ()),  # none: a pooled CLI gets set_model
        "--tools=",
        "--strict-mcp-config",
        "--setting-sources=",
    ]  # fmt: skip
    if not persist_session:
        argv.append("--no-session-persistence")
    if resume:
        argv += ["--resume", resume]
    if options.system_prompt_file:
        argv += ["--system-prompt-file", options.system_prompt_file]
    if options.effort:
        argv += ["--effort", options.effort]
    if options.json_schema:
        argv.append(f"--json-schema={options.json_schema}")
    if options.mcp_config:
        argv.append(f"--mcp-config={options.mcp_config}")
    if options.allowed_tools:
        # Equals form: these flags are variadic and would swallow a following word.
        argv.append("--allowedTools=" + ",".join(options.allowed_tools))
    return argv


#: Linux refuses (E2BIG) any single argument of 128 KiB or more (MAX_ARG_STRLEN, with its NUL).
MAX_ARG_BYTES = 128 * 1024 - 1
#: Room kept for the environment within the kernel's total for argv and environment.
_ENV_ROOM = 256 * 1024


def check_argv_size(argv: list[str]) -> None:
    """Refuse (400) a command line the kernel would refuse to exec (E2BIG): thousands of
    client tools make `--allowedTools` too long. A client mistake, not a missing CLI."""
    total_limit = max((os.sysconf("SC_ARG_MAX") if hasattr(os, "sysconf") else 2 * 1024 * 1024) - _ENV_ROOM, 64 * 1024)
    total = 0
    for arg in argv:
        size = len(arg.encode("utf-8", "surrogateescape"))
        total += size + 1 + 8  # its NUL and its pointer
        if size > MAX_ARG_BYTES:
            raise argv_too_long(arg)
    if total > total_limit:
        raise argv_too_long(max(argv, key=len))


def argv_too_long(arg: str = "--allowedTools=") -> ProxyError:
    if arg.startswith("--json-schema="):
        what, param = "The response_format JSON schema is", "response_format"
    else:
        what, param = "The list of tools is", "tools"
    return ProxyError(
        400,
        f"{what} too long for the Claude CLI's command line (the system limits one argument to "
        f"{MAX_ARG_BYTES + 1:,} bytes). Send fewer or shorter-named tools.",
        code="argv_too_long" if param == "tools" else "schema_too_long",
        param=param,
        retryable=False,
    )


def build_env(inherited: Mapping[str, str], *, tmpdir: str, mcp_tool_timeout: float | None = None, resume: bool = False) -> dict[str, str]:
    # Every dropped name starts with CLAUDE: most names need no closer look (a spawn's hot path).
    env = {key: value for key, value in inherited.items() if not key.startswith("CLAUDE") or not _dropped(key)}
    env["TMPDIR"] = tmpdir
    env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    if resume:
        # The session file ends with the message to answer: with this (and stdin closed
        # without a line) the CLI sends it as written instead of adding a fake reply to it.
        env["CLAUDE_CODE_RESUME_INTERRUPTED_TURN"] = "1"
    if mcp_tool_timeout is not None:
        # The CLI gives up on an MCP call after 60 s by default (measured on 2.1.328) and
        # tells the model "The operation timed out.": client tools may take longer.
        env["MCP_TOOL_TIMEOUT"] = str(int(mcp_tool_timeout * 1000))
    return env


def _dropped(key: str) -> bool:
    if key == "CLAUDECODE" or key.startswith(OWN_PREFIX):
        return True
    return key.startswith("CLAUDE_CODE_") and key not in KEPT_CLAUDE_CODE_VARS


def default_inherited_env() -> dict[str, str]:
    return dict(os.environ)
