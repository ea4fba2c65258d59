"""A yes/no question before something that spends or destroys (replay spends quota).

Keys typed before the question was on screen (a paste, a laggy SSH burst, tmux
send-keys) never answer it: only a key pressed after it opened counts.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual._time import time as textual_time


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Do nothing"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen Static { width: 1fr; height: auto; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto;
        border: round $warning; border-title-style: bold; background: $surface; padding: 0 2;
    }
    """

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        #: When the question was put (Textual's event clock): earlier keys are type-ahead.
        self.opened_at = textual_time()

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = self.title_text
        with box:
            yield Static(Text.assemble(self.question, "\n\n", ("y", "bold"), "/", ("enter", "bold"), " yes   ", ("n", "bold"), "/", ("esc", "bold"), " no"))

    def typed_before_asked(self, event: events.Key) -> bool:
        """A key typed before the question was on screen (the app drops it)."""
        return event.time < self.opened_at

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
