"""The CLI panel: the selected run's argv, stdin, timed stdout/stderr lines, exit.

A `Log` (lazy rendering, bounded) fed with `write_lines` in one batch per flush; when
the same run grows only its new lines are written. `p` switches raw lines to pretty
JSON.
"""

from __future__ import annotations

import json
import shlex

from textual.widgets import Log

from .. import formatting as fmt
from ..exchange_view import CliLine, ExchangeView


def transcript_head(view: ExchangeView) -> list[str]:
    if view.continued_from is not None:
        # No spawn: the CLI that answered an earlier exchange goes on (runs/parked.py, warm.py).
        given = ["stdin (the new messages):", *("  " + line for line in fmt.pretty_json(view.stdin.strip()).splitlines())] if view.stdin else ["(the client's tool results were handed to the waiting CLI)"]
        return [f"── {view.id} · pid {view.pid} · the CLI run {view.run_id} that answered {view.continued_from} goes on", *given, "── output"]
    if not view.argv:
        state = "waiting for a slot…" if view.in_flight else "no CLI run (answered by the proxy)"
        return [f"── {view.id}: {state}"]
    lines = [
        f"── {view.id} · pid {view.pid} · cwd {view.cwd}",
        "$ " + shlex.join(view.argv),
        "stdin:",
        *("  " + line for line in (fmt.pretty_json(view.stdin.strip()) if view.stdin else "").splitlines()),
    ]
    if view.system_prompt:
        lines += ["system prompt:", *("  " + line for line in view.system_prompt.splitlines())]
    if view.history_mode:
        lines.append("history: " + history_words(view))
    lines.append("── output")
    return lines


def history_words(view: ExchangeView) -> str:
    """How the run got the conversation (a transcript, or a failed resume, is a cache miss)."""
    if view.history_fallback:
        return f"resume failed, answered from a transcript ({view.history_reason}): the prompt cache could not read this conversation back"
    if view.history_mode == "session":
        return "real messages (a session file the CLI resumed)"
    if view.history_mode == "transcript":
        return f"a transcript in one message ({view.history_reason}): the prompt cache cannot read it back"
    return f"{view.history_mode}" + (f" ({view.history_reason})" if view.history_reason else "")


def transcript_line(line: CliLine, pretty: bool) -> list[str]:
    at, stream, text = line
    stamp = fmt.clock_time_ms(at)
    tag = "err" if stream == "err" else "out"
    if pretty and stream == "out":
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, (dict, list)):
            body = json.dumps(parsed, indent=2, ensure_ascii=False).splitlines()
            return [f"{stamp} {tag} {body[0]}", *(" " * 17 + b for b in body[1:])]
    return [f"{stamp} {tag} {text}"]


def transcript_tail(view: ExchangeView) -> list[str]:
    if view.exited_at is None:
        return []
    why = f" (ended by the proxy: {view.killed_because})" if view.killed_because else ""
    return [f"── {fmt.clock_time_ms(view.exited_at)} exit {view.returncode}{why}"]


def full_transcript(view: ExchangeView, pretty: bool = False) -> list[str]:
    lines = transcript_head(view)
    dropped = view.cli_lines_total - len(view.cli_lines)
    if dropped:
        lines.append(f"… {dropped} earlier lines dropped (per-run cap)")
    for line in view.cli_lines:
        lines += transcript_line(line, pretty)
    return lines + transcript_tail(view)


class CliPanel(Log):
    DEFAULT_CSS = """
    CliPanel { height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(highlight=True, max_lines=10_000, auto_scroll=True, **kwargs)
        self.pretty = False
        self.exchange_id: str | None = None
        self._written_total = 0
        self._head_for: tuple | None = None
        self._exit_written = False
        self._version = -1

    def toggle_pretty(self, view: ExchangeView | None) -> None:
        self.pretty = not self.pretty
        self.exchange_id = None  # forces a full redraw
        self.show(view)

    def show(self, view: ExchangeView | None) -> None:
        if view is None:
            if self.exchange_id is not None:
                self.clear()
                self.exchange_id = None
            return
        if view.id == self.exchange_id and view.version == self._version:
            return
        head_key = (view.argv, view.pid)
        if view.id != self.exchange_id or head_key != self._head_for:
            self.clear()
            self.exchange_id = view.id
            self._head_for = head_key
            self._written_total = view.cli_lines_total
            self._exit_written = view.exited_at is not None
            self._version = view.version
            # A finished transcript opens at its argv; a live one follows its tail.
            self.auto_scroll = view.in_flight
            self.write_lines(full_transcript(view, self.pretty))
            self.auto_scroll = True
            if not view.in_flight:
                self.scroll_home(animate=False, immediate=True)
            return
        self._version = view.version
        new = view.cli_lines_total - self._written_total
        batch: list[str] = []
        if new > 0:
            fresh = list(view.cli_lines)[-new:] if new <= len(view.cli_lines) else list(view.cli_lines)
            for line in fresh:
                batch += transcript_line(line, self.pretty)
            self._written_total = view.cli_lines_total
        if view.exited_at is not None and not self._exit_written:
            batch += transcript_tail(view)
            self._exit_written = True
        if batch:
            self.write_lines(batch)
