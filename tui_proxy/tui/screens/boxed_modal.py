"""A modal screen drawn as one titled, scrollable box over the console (help, replay diff)."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.screen import ModalScreen


class BoxedModal(ModalScreen[None]):
    DEFAULT_CSS = """
    BoxedModal { align: center middle; }
    BoxedModal > VerticalScroll {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; border-title-style: bold; background: $surface; padding: 0 1;
    }
    """

    @staticmethod
    def box(title: str) -> VerticalScroll:
        """The box to compose the screen's content in."""
        body = VerticalScroll()
        body.border_title = title
        return body
