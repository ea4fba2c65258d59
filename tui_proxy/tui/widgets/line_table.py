"""A plain table drawn line by line: fixed column widths, a row cursor, enter to choose.

For lists rebuilt while the proxy runs (the statistics screen's reports): replacing every
row costs a list assignment, and only the visible lines are ever rendered. Textual's
DataTable re-measured its rows after each batch of `add_row` (100+ ms for 200 rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text


@dataclass(frozen=True, slots=True)
class LineColumn:
    label: str
    width: int
    right: bool = False


@lru_cache(maxsize=256)
def _parsed(style: str) -> Style:
    return Style.parse(style)


class LineTable(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down", tooltip="Next row"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up", tooltip="Previous row"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down", tooltip="A page further down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up", tooltip="A page further up"),
        Binding("home,g", "home", "First", show=False, id="table.first", tooltip="The first row"),
        Binding("end,G", "end", "Last", show=False, id="table.last", tooltip="The last row"),
        Binding("enter", "choose", "Open", id="table.choose", tooltip="Open the row's request"),
    ]

    COMPONENT_CLASSES = {"line-table--header", "line-table--cursor", "line-table--even"}

    DEFAULT_CSS = """
    LineTable {
        height: auto;
        max-height: 16;
        background: $surface;
        & > .line-table--header { text-style: bold; background: $panel; }
        & > .line-table--even { background: $surface-lighten-1 50%; }
        & > .line-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .line-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    }
    """

    class Chosen(Message):
        """Enter (or a click on the cursor row) on row `index`."""

        def __init__(self, table: "LineTable", index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> "LineTable":
            return self.table

    def __init__(self, columns: Sequence[LineColumn], *, cursor: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns = tuple(columns)
        self.show_cursor = cursor
        self.rows: list[tuple[Cell, ...]] = []
        self.cursor_row = 0
        #: (text width, base, header, even and cursor styles) while a drawing pass runs.
        self._pass: tuple[int, Style, Style, Style, Style] | None = None

    # -- content -----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def get_row_at(self, index: int) -> list[str]:
        return [cell.plain if isinstance(cell, Text) else cell for cell in self.rows[index]]

    def set_rows(self, rows: list[tuple[Cell, ...]], cursor: int | None = None) -> None:
        """Replace every row (cheap: nothing is rendered until seen)."""
        self.rows = rows
        self.cursor_row = max(0, min(self.cursor_row if cursor is None else cursor, len(rows) - 1))
        size = Size(sum(c.width + 2 for c in self.columns), len(rows) + 1)
        if size != self.virtual_size:  # a new size lays the screen out again: only when it changes
            self.virtual_size = size
        self.refresh()
        self._scroll_to_cursor()

    # -- cursor ---------------------------------------------------------------------------------

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = max(0, min(row, len(self.rows) - 1))
        self.refresh()
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step * max(1, self.scrollable_content_region.height - 2))

    def action_home(self) -> None:
        self.move_cursor(row=0)

    def action_end(self) -> None:
        self.move_cursor(row=len(self.rows) - 1)

    def action_choose(self) -> None:
        if self.rows:
            self.post_message(self.Chosen(self, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        row = int(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self.rows):
            chosen = row == self.cursor_row or event.chain >= 2
            self.move_cursor(row=row)
            if chosen:
                self.action_choose()

    # -- drawing --------------------------------------------------------------------------------

    def render_lines(self, crop):
        # The styles once per drawing pass, not per line: each walks the widget's styles
        # (three per row made most of a statistics screen's paint).
        self._pass = self._look_up_styles()
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def _look_up_styles(self) -> tuple[int, Style, Style, Style, Style]:
        """(text width, base, header, even and cursor styles)."""
        component = self.get_component_rich_style
        base = self.rich_style
        return self.scrollable_content_region.width, base, base + component("line-table--header"), component("line-table--even"), component("line-table--cursor")

    def _line(self, cells: Sequence[Cell], base: Style, width: int) -> Strip:
        segments: list[Segment] = []
        for column, cell in zip(self.columns, cells):
            plain, style = (cell.plain, base + _parsed(str(cell.style))) if isinstance(cell, Text) and cell.style else (str(cell), base)
            if cell_len(plain) > column.width:
                plain = set_cell_size(plain, column.width - 1) + "…"
            pad = " " * (column.width - cell_len(plain))
            segments.append(Segment(" ", base))
            segments += [Segment(pad, base), Segment(plain, style)] if column.right else [Segment(plain, style), Segment(pad, base)]
            segments.append(Segment(" ", base))
        return Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width).extend_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        width, base, header, even, cursor = self._pass or self._look_up_styles()
        if y == 0:
            return self._line([Text(c.label) for c in self.columns], header, width)
        row = int(self.scroll_y) + y - 1
        if row >= len(self.rows):
            return Strip.blank(width, base)
        if row % 2:
            base = base + even
        if self.show_cursor and row == self.cursor_row:
            base = base + cursor
        return self._line(self.rows[row], base, width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
