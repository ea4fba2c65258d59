"""Wrapped, styled text drawn with the line API: the body of the tokens panel.

A Static that grows re-lays out the whole screen each time it gains a line (a full
compositor reflow, ~30 ms at 200x50). This view only changes its virtual size, and
re-wraps only paragraphs it has not seen at this width (a streaming answer only ever
changes its last one).
"""

from __future__ import annotations

from functools import lru_cache

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

#: (text, rich style): a run of the view; each run starts on a new line.
Run = tuple[str, str]


@lru_cache(maxsize=2048)
def _wrap(paragraph: str, style: str, width: int, console: Console) -> tuple[Strip, ...]:
    """One paragraph wrapped at `width`, cached: a growing answer re-wraps only its tail."""
    if not paragraph:
        return (Strip.blank(0),)
    base = console.get_style(style) if style else Style.null()
    strips = []
    for line in Text(paragraph).wrap(console, width):
        segments = [Segment(s.text, base + s.style if s.style else base) for s in line.render(console)]
        strips.append(Strip(segments, line.cell_len))
    return tuple(strips)


#: Lines by which the virtual height grows (see _rewrap).
GROWTH = 40


class StreamText(ScrollView):
    DEFAULT_CSS = """
    StreamText { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._runs: tuple[Run, ...] = ()
        self._lines: list[Strip] = []
        self._wrapped_for: tuple | None = None

    def set_runs(self, runs: tuple[Run, ...], *, follow: bool | None = None) -> None:
        """Show these runs; follow the end if asked, or if the reader is already there."""
        if runs == self._runs:
            return
        at_end = self.scroll_y >= self._last_top() - 1
        self._runs = runs
        self._rewrap()
        if follow if follow is not None else at_end:
            self.scroll_to(y=self._last_top(), animate=False, immediate=True)

    def _last_top(self) -> int:
        """The scroll position that shows the last line at the bottom."""
        return max(0, len(self._lines) - self.scrollable_content_region.height)

    def _rewrap(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        key = (self._runs, width, self.scrollable_content_region.height)
        if key == self._wrapped_for:
            return
        self._wrapped_for = key
        console = self.app.console
        lines: list[Strip] = []
        for text, style in self._runs:
            for paragraph in text.split("\n"):
                lines.extend(_wrap(paragraph, style, width, console))
        old, self._lines = self._lines, lines
        # Wrapped paragraphs come from a cache, so unchanged lines are the same objects:
        # repaint from the first line that differs (a growing answer: its last lines).
        first = next((i for i, (a, b) in enumerate(zip(old, lines)) if a is not b), min(len(old), len(lines)))
        # virtual_size is a layout reactive: every change reflows the whole screen. Grown
        # in steps of GROWTH lines, a streaming answer causes one reflow per GROWTH lines.
        visible = self.scrollable_content_region.height
        if len(lines) <= visible:
            height = visible  # fits: no scrollbar, and no change until it overflows
        else:
            height = -(-(len(lines) + 1) // GROWTH) * GROWTH
        if self.virtual_size != (size := Size(width, height)):
            self.virtual_size = size
            self.refresh()
        else:
            self.refresh_lines(first, max(len(old), len(lines)) - first + 1)

    def on_resize(self) -> None:
        self._rewrap()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[index].extend_cell_length(width).apply_style(self.rich_style)

    @property
    def plain(self) -> str:
        """The text as shown (tests read it)."""
        return "\n".join(text for text, _ in self._runs)
