"""Settings, declared once: each `Config` field says its help (and flag shape) beside its
default; the command line flags, the `CLAUDE_MAX_TUI_<NAME>` variables and the help text are
all generated from these declarations (`cli.py`). A flag wins over the variable, the variable
over the default."""

from __future__ import annotations

import os
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "CLAUDE_MAX_TUI_"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "claude-max-tui"


def option(default: Any = MISSING, help: str = "", *, metavar: str | None = None, shown: str | None = None, flag: str | None = None, default_factory: Any = MISSING) -> Any:
    """A setting with a flag. `shown` is the default as the help prints it; `flag` overrides
    the flag's name (`--no-capture` for `capture`)."""
    metadata = {"help": help, "metavar": metavar, "shown": shown, "flag": flag}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(slots=True)
class Config:
    headless: bool = option(False, "run the proxy without the console, logging one line per request")
    host: str = option("127.0.0.1", "address to listen on")
    port: int = option(3456, "port to listen on (0 picks a free one)")
    #: Path or name of the `claude` executable; resolved to an absolute path at start.
    claude: str = option("claude", "the claude executable", metavar="PATH", shown="claude on PATH")
    data_dir: Path = option(help="where captures are kept", metavar="DIR", shown="~/.local/share/claude-max-tui", default_factory=default_data_dir)
    #: When set, clients must send `Authorization: Bearer <api_key>`.
    api_key: str | None = option(None, "require clients to send Authorization: Bearer KEY; prefer CLAUDE_MAX_TUI_API_KEY, which other users cannot read in ps", metavar="KEY")
    #: CLI runs at once; more requests wait in a bounded queue, then get 429.
    max_concurrency: int = option(8, "CLI runs at once", metavar="N")
    max_queue: int = option(32, "requests that may wait for a run slot before 429", metavar="N")
    queue_timeout: float = option(30.0, "longest wait for a run slot before 429", metavar="SECONDS")
    timeout: float = option(600.0, "total time a run may take", metavar="SECONDS")
    first_output_timeout: float = option(60.0, "time until the CLI's first output", metavar="SECONDS")
    idle_timeout: float = option(300.0, "longest silence of a running CLI", metavar="SECONDS")
    max_body_bytes: int = option(32 * 1024 * 1024, "largest request body", metavar="N", shown="32 MiB")
    #: The largest Claude context is 1M tokens and real text runs 1-5 characters per token, so
    #: 8M is beyond any model; the CLI itself has no cap on stream-json stdin (it would try to
    #: compact, an API call, and fail after seconds).
    max_prompt_chars: int = option(8_000_000, "most characters of text in one request; more is refused before spawning", metavar="N")
    #: A connection must send a whole request's headers within this many seconds of opening
    #: or of its last response; idle keep-alive connections are closed then.
    header_timeout: float = option(15.0, "a connection must send a request's headers within this long of opening or of its last response; idle connections are closed then", metavar="SECONDS")
    body_timeout: float = option(60.0, "a request's body must arrive within this long, else 408", metavar="SECONDS")
    #: 0: from the open-file limit (server/connections.py).
    max_connections: int = option(0, "open connections at most; more get 503", metavar="N", shown="from the open-file limit")
    history: int = option(1000, "requests the console keeps in memory", metavar="N")
    pool_size: int = option(2, "CLIs kept started ahead of their request, for new conversations (each idle one holds ~150 MB; 0 turns it off)", metavar="N")
    warm_conversations: int = option(4, "CLIs kept open after an answer for the conversation's next turn (0 turns it off)", metavar="N")
    #: launcher.py: all CLIs in one session (one CPU share against the proxy's), or each in its own.
    launcher: bool = option(True, "start each CLI directly, in a session (and CPU share) of its own, not through the helper that gives all CLIs one session", flag="--no-launcher")
    warm_max_mb: int = option(1024, "resident memory of the CLIs kept open at most", metavar="MB")
    #: The CLI's `get_usage` control request reads the plan's windows without a model call;
    #: its upstream endpoint is itself rate-limited, hence minutes (quota/usage_poll.py).
    usage_poll_seconds: float = option(300.0, "how often a CLI kept for it reads the plan's usage windows (get_usage: no model call; 0 turns it off)", metavar="SECONDS")
    allow_remote: bool = option(False, "allow a non-loopback --host without --api-key")
    allowed_hosts: tuple[str, ...] = option((), "extra Host header value to accept (repeatable; the variable takes a comma-separated list)", metavar="NAME", flag="--allowed-host")
    capture: bool = option(True, "do not keep exchanges on disk", flag="--no-capture")
    capture_max_count: int = option(10_000, "captured exchanges kept at most", metavar="N")
    capture_max_mb: int = option(1024, "size of the capture store at most", metavar="MB")
    capture_max_days: float = option(30.0, "age of a capture at most", metavar="DAYS")
    # Tuning without a flag (tests set them):
    #: Seconds of silence on a committed stream before a keep-alive comment.
    keepalive_interval: float = 10.0
    #: A streaming response holds its headers this long waiting for the model's first
    #: output, so early failures reach the client as real HTTP statuses.
    stream_hold: float = 15.0

    @property
    def capture_path(self) -> Path:
        return Path(self.data_dir) / "captures.sqlite3"


def settings() -> list[Field]:
    """The settings that have a flag and a variable, in declaration order."""
    return [f for f in fields(Config) if "help" in f.metadata]


def env_value(name: str, environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return env.get(ENV_PREFIX + name.upper().replace("-", "_"))
