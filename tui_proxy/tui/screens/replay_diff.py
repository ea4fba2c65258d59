"""A finished replay next to its original: status, finish reason, figures and the text diff."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ...ids import short_id
from ...replay_diff import ReplayDiff, render_diff
from .boxed_modal import BoxedModal


def diff_text(d: ReplayDiff) -> Text:
    """`render_diff`'s lines, coloured: changed figures, added and removed text."""
    text = Text()
    for line in render_diff(d).splitlines():
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
            yield Static(diff_text(self.diff), id="replay-diff")
