"""A long document drawn with the line API: only the lines on screen are ever rendered.

A Static holding a 600-message conversation or a 5 MB body measured, wrapped and
highlighted all of it on the event loop (2.5 s and 16 s, every client stalled). Here a
document is a list of lines (built off the loop by `fill`, in slices); drawing a line
crops it to the visible columns first, so even a 5 MB single line costs one screen
width. Long lines scroll sideways (`←` `→`) or wrap (`w`); `/` `n` `N` search.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from itertools import accumulate
from typing import Iterable, NamedTuple, Union

from rich.cells import cell_len
from rich.highlighter import JSONHighlighter
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .. import turns


class JsonLine(str):
    """A line of (pretty) JSON: highlighted when drawn, and only then."""

    __slots__ = ()


#: A line of a document: a styled Text (short lines the view builds) or a plain string.
Line = Union[Text, str]


class StripKey(NamedTuple):
    """What a drawn line depends on: drawn lines are kept by it."""

    index: int
    #: Which screen row of a wrapped line (0 unwrapped).
    piece: int
    width: int
    scroll_x: int
    wrap: bool
    #: It holds the current search match.
    current: bool

#: Seconds of loop time a slice of building or searching may take before yielding.
SLICE_SECONDS = 0.004
#: Drawn lines kept for scrolling back (a few screens): each is a dozen objects the
#: garbage collector walks at every full collection, so not thousands.
MAX_STRIPS = 400
#: Lines shorter than this are measured in cells exactly; longer ones by characters.
EXACT_MEASURE = 4096

_JSON = JSONHighlighter()
_MATCH = Style(bgcolor="yellow", color="black")
_CURRENT_MATCH = Style(bgcolor="dark_orange", color="black", bold=True)


def _plain(line: Line) -> str:
    return line.plain if isinstance(line, Text) else line


def _same_line(lines: list[Line], old: list[Line], index: int) -> bool:
    """The line at `index` is the same in both documents (a drawing of it still holds)."""
    return index < len(lines) and index < len(old) and lines[index] == old[index]


def _width(line: Line) -> int:
    plain = _plain(line)
    return cell_len(plain) if len(plain) < EXACT_MEASURE and not plain.isascii() else len(plain)


async def collect(lines: Iterable[Line | None]) -> tuple[list[Line], int]:
    """Run a line generator in slices of the loop; the lines and the widest one's width.

    The generator may yield None: a point to pause at that adds no line.
    """
    out: list[Line] = []
    widest = 0
    await turns.turn()
    deadline = time.perf_counter() + SLICE_SECONDS
    for count, line in enumerate(lines, 1):
        if line is not None:
            out.append(line)
            widest = max(widest, _width(line))
        # A pause point comes after a costly step (64 KB of a long string escaped): look at
        # the clock there too, not only every 64 lines.
        if (line is None or not count % 64) and time.perf_counter() > deadline:
            await turns.turn()
            deadline = time.perf_counter() + SLICE_SECONDS
    return out, widest


class TextLines(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    TextLines { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; scrollbar-size-horizontal: 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Line] = []
        self.wrap = False
        #: Lines that contain the search text, and which one is current.
        self.matches: list[int] = []
        self.current_match = -1
        self.needle = ""
        self._widest = 0
        #: Wrapped mode: rows before the end of each line (cumulative), at `_rows_width`.
        self._rows: list[int] = []
        self._rows_width = 0
        self._strips: dict[StripKey, Strip] = {}
        self._strips_width = 0
        #: The width lines were drawn ahead for (see `set_lines`), until drawn at it.
        self._ahead_width: int | None = None
        #: (text width, base style) while a drawing pass runs.
        self._pass: tuple[int, Style] | None = None

    # -- content ------------------------------------------------------------------------

    async def fill(self, lines: Iterable[Line | None], *, keep_position: bool = False) -> None:
        """Replace the document with `lines` (a generator is run in slices of the loop).

        The lines it will show are drawn ahead, in slices too: shown at once, a screen of
        new lines was drawn in one go by the paint (10-15 ms at 200 columns)."""
        built, widest = await collect(lines)
        await turns.turn()  # collect's last slice had a turn: draw in another
        drawn = await self._draw_ahead(built, keep_position)
        self.set_lines(built, widest, keep_position=keep_position, drawn=drawn)

    def set_lines(self, lines: list[Line], widest: int | None = None, *, keep_position: bool = False, drawn: tuple[int, dict[StripKey, Strip]] | None = None) -> None:
        """Show these lines from the top; or, with keep_position, where the reader was (following the end if there).

        Lines drawn before that are the same at the same place are kept (a live document grows
        at its end), and so are those drawn ahead (`drawn`, see `_draw_ahead`)."""
        at_end = self._following_end
        old = self.lines
        kept = {key: strip for key, strip in self._strips.items() if _same_line(lines, old, key.index)} if keep_position else {}
        self.lines = lines
        self._widest = widest if widest is not None else max((_width(line) for line in lines), default=0)
        self._strips.clear()
        self._ahead_width = None
        self._rows_width = 0
        self.matches, self.current_match = [], -1
        if self.needle:
            self.run_worker(self.search(self.needle, jump=False), group="search", exclusive=True)
        self._relayout()
        if not keep_position:
            self.scroll_to(0, 0, animate=False, immediate=True)
        elif at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        if not self.needle:
            self._strips.update(kept)
            if drawn is not None:
                width, strips = drawn
                self._strips.update(strips)
                # Kept until drawn at that width: when the scroll bar comes with them, a
                # paint at the old width may come before the layout that brings it.
                self._ahead_width = width

    async def _draw_ahead(self, lines: list[Line], keep_position: bool) -> tuple[int, dict[StripKey, Strip]] | None:
        """Draw, in slices of the loop, the lines that `set_lines(lines, keep_position=...)` will
        show first: their text width and strips, by the keys `render_line` looks them up by."""
        if self.wrap or self.needle or not self.is_mounted or self.size.width <= 1:
            return None  # (not laid out yet, as a tab never shown: the paint draws them)
        height = self.scrollable_content_region.height
        width = self._text_width_for(len(lines))
        if not keep_position:
            top, scroll_x = 0, 0
        elif self._following_end:
            top, scroll_x = max(0, len(lines) - height), int(self.scroll_x)
        else:
            top, scroll_x = int(self.scroll_y), int(self.scroll_x)
        old, style = self.lines, self.rich_style
        drawn: dict[StripKey, Strip] = {}
        deadline = time.perf_counter() + SLICE_SECONDS
        for index in range(top, min(len(lines), top + height)):
            key = StripKey(index, 0, width, scroll_x, False, False)
            if keep_position and _same_line(lines, old, index) and key in self._strips:
                continue  # kept by set_lines
            drawn[key] = self._render(lines[index], 0, width, scroll_x, False, style)
            if time.perf_counter() > deadline:
                await turns.turn()
                if self.wrap or self.needle:
                    return None  # changed meanwhile: the paint draws them
                deadline = time.perf_counter() + SLICE_SECONDS
        return width, drawn

    @property
    def _following_end(self) -> bool:
        """The last row is shown: a growing document keeps it in view."""
        return self.scroll_y >= self.max_scroll_y - 1

    def _text_width_for(self, rows: int) -> int:
        """The text width once a document of `rows` lines is shown: more rows than fit bring
        the vertical scrollbar, which takes its columns."""
        styles = self.styles
        bar = styles.scrollbar_size_vertical if rows > self.scrollable_content_region.height and styles.overflow_y == "auto" else 0
        return max(1, self.region.shrink(styles.gutter).width - bar)

    def reset(self) -> None:
        """Empty, unwrapped, no search: as a new document (the detail view shows another exchange)."""
        self.workers.cancel_group(self, "search")
        self.needle = ""
        self.wrap = False
        self.set_lines([])

    @property
    def plain(self) -> str:
        """The document as text (tests read it)."""
        return "\n".join(_plain(line) for line in self.lines)

    # -- layout -------------------------------------------------------------------------

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _relayout(self) -> None:
        if self.wrap:
            width = self._text_width()
            if width != self._rows_width:
                self._rows = list(accumulate(max(1, -(-len(_plain(line)) // width)) for line in self.lines))
                self._rows_width = width
            size = Size(width, self._rows[-1] if self._rows else 0)
        else:
            size = Size(self._widest, len(self.lines))
        if size != self.virtual_size:
            self.virtual_size = size
        # Drawn lines stay: their keys carry the width, scroll and wrap they were drawn at
        # (a resize to the same width, as when a tab is first shown, drew them all again).
        self.refresh()

    def on_resize(self) -> None:
        self._relayout()

    def action_toggle_wrap(self) -> None:
        top = self._line_at_row(int(self.scroll_y))[0]
        self.wrap = not self.wrap
        self._relayout()
        self._scroll_to_line(top, at_top=True)
        self.notify("Long lines wrap." if self.wrap else "Long lines scroll sideways (← →).", timeout=2)

    def _line_at_row(self, row: int) -> tuple[int, int]:
        """(line index, piece of it) shown at virtual row `row`."""
        if not self.wrap:
            return row, 0
        index = bisect_right(self._rows, row)
        start = self._rows[index - 1] if index else 0
        return index, row - start

    def _row_of_line(self, index: int) -> int:
        if not self.wrap or not index:
            return index
        return self._rows[index - 1]

    def _scroll_to_line(self, index: int, *, at_top: bool = False, column: int = 0) -> None:
        row = self._row_of_line(index)
        height = self.scrollable_content_region.height
        top = row if at_top else max(0, row - height // 3)
        x = 0 if self.wrap or column < self._text_width() - 4 else max(0, column - self._text_width() // 3)
        self.scroll_to(x, top, animate=False, immediate=True)

    # -- search -------------------------------------------------------------------------

    async def search(self, needle: str, *, jump: bool = True) -> int:
        """Find the lines holding `needle` (any case), in slices; jump to the first below the top."""
        self.needle = needle
        found: list[int] = []
        lowered = needle.lower()
        if lowered:
            deadline = time.perf_counter() + SLICE_SECONDS
            for index, line in enumerate(self.lines):
                if lowered in _plain(line).lower():
                    found.append(index)
                if not index % 256 and time.perf_counter() > deadline:
                    await turns.turn()
                    deadline = time.perf_counter() + SLICE_SECONDS
        self.matches = found
        self.current_match = -1
        self._strips.clear()
        if jump and found:
            top = self._line_at_row(int(self.scroll_y))[0]
            self._go_to_match(bisect_right(found, top - 1) % len(found))
        self.refresh()
        return len(found)

    def _go_to_match(self, which: int) -> None:
        self.current_match = which
        index = self.matches[which]
        column = _plain(self.lines[index]).lower().find(self.needle.lower())
        self._strips.clear()
        self._scroll_to_line(index, column=max(0, column))
        self.refresh()

    def _step_match(self, step: int) -> None:
        if not self.needle:
            self.notify("Search first: /", timeout=2)
            return
        if not self.matches:
            self.notify(f"No match for {self.needle!r}.", severity="warning", timeout=2)
            return
        self._go_to_match((self.current_match + step) % len(self.matches))

    def action_next_match(self) -> None:
        self._step_match(1)

    def action_previous_match(self) -> None:
        self._step_match(-1 if self.current_match >= 0 else 0)

    # -- drawing ------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Once per drawing pass rather than per line: both walk the widget's styles
        # (they were a third of the cost of drawing a screen of lines).
        self._pass = (width := self._text_width(), self.rich_style)
        if width != self._strips_width:  # lines drawn at another width are of no more use…
            ahead = self._ahead_width  # …but those drawn ahead for the width to come
            self._strips = {key: strip for key, strip in self._strips.items() if key.width == ahead} if ahead is not None else {}
            self._strips_width = width
        if width == self._ahead_width:
            self._ahead_width = None
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # they carry the old colours

    def render_line(self, y: int) -> Strip:
        width, style = self._pass or (self._text_width(), self.rich_style)
        index, piece = self._line_at_row(int(self.scroll_y) + y)
        if index >= len(self.lines):
            return Strip.blank(width, style)
        scroll_x = 0 if self.wrap else int(self.scroll_x)
        current = self.current_match >= 0 and self.matches[self.current_match] == index
        key = StripKey(index, piece, width, scroll_x, self.wrap, current)
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) > MAX_STRIPS:
                self._strips.clear()
            strip = self._strips[key] = self._render(self.lines[index], piece, width, scroll_x, current, style)
        return strip

    def _render(self, line: Line, piece: int, width: int, scroll_x: int, current: bool, style: Style) -> Strip:
        start = piece * width if self.wrap else scroll_x
        plain = _plain(line)
        if type(line) is str and plain.isascii():
            # Plain ASCII (isascii is O(1)): one cell per character, nothing to highlight
            # but a search match; the visible slice is the strip.
            visible = line[start : start + width]
            if not (self.needle and self.needle.lower() in visible.lower()):
                return Strip([Segment(visible.ljust(width), style)], width)
        exact = len(plain) < EXACT_MEASURE and not plain.isascii()
        # Crop first: only the visible part of a line is ever turned into segments.
        if exact and not self.wrap:
            text = line.copy() if isinstance(line, Text) else Text(line)
        else:
            text = line[start : start + width] if isinstance(line, Text) else Text(line[start : start + width])
            start = 0
        if isinstance(line, JsonLine):
            _JSON.highlight(text)
        if self.needle and self.needle.lower() in text.plain.lower():
            text.highlight_words([self.needle], _CURRENT_MATCH if current else _MATCH, case_sensitive=False)
        text.no_wrap = True
        text.end = ""
        strip = Strip(text.render(self.app.console), text.cell_len)
        if start:
            strip = strip.crop(start, start + width)
        return strip.crop(0, width).extend_cell_length(width).apply_style(style)
