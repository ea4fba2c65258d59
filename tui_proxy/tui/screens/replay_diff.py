"""A finished replay next to its original: status, finish reason, figures and the text diff."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ...ids import short_id
from ...replay.diff import ReplayDiff
from .boxed_modal import BoxedModal


def diff_renderable(d: ReplayDiff) -> Group:
    """The figures side by side in a table whose value columns fold long values (an
    error message, tool calls) inside their own column; then the answer's text diff."""
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("", width=1, no_wrap=True)
    table.add_column("", width=18, no_wrap=True)
    table.add_column("original", ratio=1, overflow="fold")
    table.add_column("replay", ratio=1, overflow="fold")
    for row in d.rows:
        style = "bold yellow" if row.changed else ""
        delta = f"  ({row.delta})" if row.delta else ""
        table.add_row("*" if row.changed else "", Text(row.name, style=style), Text(row.original, style=style), Text(row.new + delta, style=style))
    lines = ["answer text: identical"] if d.same_text else ["answer text:", *d.text_diff]
    return Group(Text(f"replay {d.new_id} of {d.original_id}\n"), table, Text(""), diff_text(lines))


def diff_text(lines: list[str]) -> Text:
    """The answer's text diff, coloured: added and removed lines."""
    text = Text()
    for line in lines:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("*"):
            style = "bold yellow"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = ""
        text.append(line + "\n", style=style)
    return text


class ReplayDiffScreen(BoxedModal):
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="replay_diff.close", tooltip="Close the replay diff")]

    def __init__(self, d: ReplayDiff) -> None:
        super().__init__()
        self.diff = d

    def compose(self) -> ComposeResult:
        verdict = "outcome changed" if self.diff.outcome_changed else "same outcome"
        with self.box(f"Replay diff · {short_id(self.diff.original_id)} → {short_id(self.diff.new_id)} · {verdict} · esc to close"):
            yield Static(diff_renderable(self.diff), id="replay-diff")
