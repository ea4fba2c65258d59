"""A finished replay next to its original: status, finish reason, figures and the text diff."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...ids import short_id
from ...replay_diff import ReplayDiff, render_diff


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


class ReplayDiffScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="replay_diff.close", tooltip="Close the replay diff")]

    DEFAULT_CSS = """
    ReplayDiffScreen { align: center middle; }
    ReplayDiffScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; border-title-style: bold; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, d: ReplayDiff) -> None:
        super().__init__()
        self.diff = d

    def compose(self) -> ComposeResult:
        body = VerticalScroll()
        verdict = "outcome changed" if self.diff.outcome_changed else "same outcome"
        body.border_title = f"Replay diff · {short_id(self.diff.original_id)} → {short_id(self.diff.new_id)} · {verdict} · esc to close"
        with body:
            yield Static(diff_text(self.diff), id="replay-diff")
