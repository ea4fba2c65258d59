"""Settings: one dataclass, filled from flags, then `CLAUDE_MAX_TUI_<NAME>` variables, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "CLAUDE_MAX_TUI_"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "claude-max-tui"


@dataclass(slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 3456
    #: Path or name of the `claude` executable; resolved to an absolute path at start.
    claude: str = "claude"
    data_dir: Path = field(default_factory=default_data_dir)
    #: When set, clients must send `Authorization: Bearer <api_key>`.
    api_key: str | None = None
    #: CLI runs at once; more requests wait in a bounded queue, then get 429.
    max_concurrency: int = 8
    #: Requests that may wait for a free slot before 429.
    max_queue: int = 32
    #: Longest a request may wait in the queue (seconds).
    queue_timeout: float = 30.0
    #: Total time a run may take (seconds).
    timeout: float = 600.0
    #: Time allowed until the CLI's first stdout line.
    first_output_timeout: float = 60.0
    #: Longest silence from the CLI once it has started talking.
    idle_timeout: float = 300.0
    #: Largest request body accepted (bytes); more gets 413.
    max_body_bytes: int = 32 * 1024 * 1024
    #: Most characters of text one request may carry; more gets 400 context_length_exceeded
    #: before anything is spawned. The largest Claude context is 1M tokens and real text
    #: runs 1-5 characters per token, so 8M is beyond any model; the CLI itself has no cap
    #: on stream-json stdin (it would try to compact, an API call, and fail after seconds).
    max_prompt_chars: int = 8_000_000
    #: A connection must send a whole request's headers within this many seconds of
    #: opening or of its last response; idle keep-alive connections are closed then.
    header_timeout: float = 15.0
    #: A request's body must arrive within this many seconds of its headers (else 408).
    body_timeout: float = 60.0
    #: Open connections at most (more get a 503 and are closed); 0: from the open-file limit.
    max_connections: int = 0
    #: Seconds of silence on a committed stream before a keep-alive comment.
    keepalive_interval: float = 10.0
    #: A streaming response holds its headers this long waiting for the model's first
    #: output, so early failures reach the client as real HTTP statuses.
    stream_hold: float = 15.0
    #: Recent exchanges kept in memory by the console.
    history: int = 1000
    #: Allow binding a non-loopback address without an API key.
    allow_remote: bool = False
    #: Extra Host header values accepted (besides loopback names and the bind address).
    allowed_hosts: tuple[str, ...] = ()
    #: Keep captures on disk.
    capture: bool = True
    #: Retention of the capture store: the oldest exchanges go first past any of these.
    capture_max_count: int = 10_000
    capture_max_mb: int = 1024
    capture_max_days: float = 30.0
    headless: bool = False

    @property
    def capture_path(self) -> Path:
        return Path(self.data_dir) / "captures.sqlite3"


def env_value(name: str, environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return env.get(ENV_PREFIX + name.upper().replace("-", "_"))
