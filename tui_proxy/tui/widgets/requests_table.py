"""The requests list: one line per exchange, drawn with Textual's line API.

A DataTable re-renders every visible cell after any mutation (its render cache is
keyed on a global update count), which at 20 live rows costs ~100 ms per flush. This
widget caches one rendered Strip per row, keyed on the row's cell values, cursor and
width, so a flush re-renders only the rows whose text changed. Column widths are
fixed: a row never changes width and nothing is ever re-measured.

Follow mode: while the cursor sits on the last row, new rows pull it along. Move it
up and the list stays put, counting the rows that arrived below ("▼ 3 new").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...filters import MATCH_ALL, Filter
from ..request_rows import COLUMNS, SORT_KEYS, Cell, Column, SpanCell, cell_text, row_cells
from ..state import ConsoleState


#: Below this width the table switches to its narrow columns.
NARROW_BELOW = 110


@lru_cache(maxsize=256)
def _style(definition: str | Style) -> Style:
    return definition if isinstance(definition, Style) else Style.parse(definition)


@lru_cache(maxsize=256)
def _on(base: Style, definition: str | Style) -> Style:
    """A cell's style over its row's (the same object each time: runs compare by identity)."""
    return base + _style(definition)


class RequestsTable(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="requests.down", tooltip="Select the next request"),
        Binding("up,k", "cursor_up", "Up", show=False, id="requests.up", tooltip="Select the previous request"),
        Binding("pagedown", "page_down", "Page down", show=False, id="requests.page_down", tooltip="A page further down"),
        Binding("pageup", "page_up", "Page up", show=False, id="requests.page_up", tooltip="A page further up"),
        Binding("home,g", "first", "Oldest", show=False, id="requests.top", tooltip="Select the oldest request"),
        Binding("end,G", "follow", "Newest", show=False, id="requests.newest", tooltip="Select the newest request and follow new ones"),
    ]

    COMPONENT_CLASSES = {"requests--header", "requests--cursor", "requests--even"}

    DEFAULT_CSS = """
    RequestsTable {
        background: $surface;
        & > .requests--header { text-style: bold; background: $panel; color: $foreground; }
        & > .requests--even { background: $surface-lighten-1 50%; }
        & > .requests--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .requests--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    class Selected(Message):
        """The highlighted exchange changed (None: the list is empty)."""

        def __init__(self, exchange_id: str | None) -> None:
            super().__init__()
            self.exchange_id = exchange_id

    class Chosen(Message):
        """Enter (or a double click) on a row: open it."""

        def __init__(self, exchange_id: str) -> None:
            super().__init__()
            self.exchange_id = exchange_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.filter: Filter = MATCH_ALL
        #: The column the rows are sorted by, and whether the largest comes first.
        self.sort_column = "time"
        self.sort_reverse = False
        self.narrow = False
        self.new_below = 0
        self.cursor_row = 0
        #: Exchange ids in display order, and where each one is.
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, tuple] = {}
        #: id → (cache key, rendered strip): only rows whose key changed are re-rendered.
        self._strips: dict[str, tuple[tuple, Strip]] = {}
        self._header: tuple[tuple, Strip] | None = None
        self._selected: str | None = None
        #: Row base styles by (odd, selected, focused): looked up once, not per line.
        self._row_styles: dict[tuple, Style] = {}
        #: The model last drawn from (a resize re-lays the columns from it).
        self._state: ConsoleState | None = None

    # -- what tests and the app read ------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_id(self) -> str | None:
        return self._order[self.cursor_row] if self._order else None

    @property
    def following(self) -> bool:
        return not self._order or self.cursor_row >= len(self._order) - 1

    def get_row_index(self, exchange_id: str) -> int:
        return self._index[exchange_id]

    def get_row_at(self, index: int) -> list[str]:
        return [cell_text(cell) for cell in self._cells[self._order[index]]]

    @property
    def columns(self) -> list[Column]:
        return [c for c in COLUMNS if not self.narrow or c.narrow_width is not None]

    # -- changes from the flush -----------------------------------------------------------

    def set_narrow(self, narrow: bool, state: ConsoleState) -> None:
        if narrow != self.narrow:
            self.narrow = narrow
            self.rebuild(state)

    def rebuild(self, state: ConsoleState) -> None:
        """Redraw every row (filter changed, columns changed, list cleared)."""
        self._state = state
        keep = self.selected_id
        follow = self.following
        now = state.clock()
        shown = [v for v in state if self.filter(v)]
        if self.sort_column != "time" or self.sort_reverse:
            key = SORT_KEYS[self.sort_column]
            known = [v for v in shown if key(v) is not None]
            unknown = [v for v in shown if key(v) is None]  # last, whichever the direction
            shown = sorted(known, key=key, reverse=self.sort_reverse) + unknown
        self._order = [v.id for v in shown]
        self._reindex()
        self._cells = {i: row_cells(state.exchanges[i], now, self.narrow) for i in self._order}
        self._strips.clear()
        self._header = None
        self.new_below = 0
        self._changed()  # the new height first: scrolling to the cursor is clamped to it
        if follow or keep not in self._index:
            self._go_last()
        else:
            self._move(self._index[keep], scroll=True)
        # And again once laid out (rows restored at start-up arrive before the first layout).
        self.call_after_refresh(self._scroll_to_cursor)

    def sync(self, state: ConsoleState, added: Iterable[str], updated: set[str], removed: Iterable[str]) -> None:
        """Apply one flush worth of changes; every in-flight row is refreshed (its clock runs)."""
        self._state = state
        follow = self.following
        keep = self.selected_id
        now = state.clock()
        added = list(added)
        gone = {r for r in removed if r in self._index}
        needs_rebuild = False
        for exchange_id in updated - set(added):
            view = state.get(exchange_id)
            if view is None:
                continue
            shown = exchange_id in self._index
            if shown and not self.filter(view):
                gone.add(exchange_id)
            elif not shown and self.filter(view):
                needs_rebuild = True  # it belongs somewhere in the middle
        if needs_rebuild or (self.sorted and (added or updated)):  # a sorted row may move anywhere
            self.rebuild(state)
            return
        if gone:
            self._order = [i for i in self._order if i not in gone]
            for exchange_id in gone:
                self._cells.pop(exchange_id, None)
                self._strips.pop(exchange_id, None)
            self._reindex()
        changed_rows: list[int] = []
        for row, exchange_id in enumerate(self._order):
            view = state.exchanges.get(exchange_id)
            if view is not None and (view.in_flight or exchange_id in updated):
                cells = row_cells(view, now, self.narrow)
                if cells != self._cells.get(exchange_id):
                    self._cells[exchange_id] = cells
                    changed_rows.append(row)
        appended = 0
        for exchange_id in added:
            view = state.get(exchange_id)
            if view is not None and exchange_id not in self._index and self.filter(view):
                self._index[exchange_id] = len(self._order)
                self._order.append(exchange_id)
                self._cells[exchange_id] = row_cells(view, now, self.narrow)
                appended += 1
        if not (gone or appended):
            # Only cells changed: repaint just those lines (a full refresh pushes every
            # visible line through Textual's style pipeline again).
            for row in changed_rows:
                self.refresh_line(row + 1)  # line 0 is the header
            return
        if follow:
            self._go_last()
        else:
            self.new_below += appended
            if keep in self._index:
                self._move(self._index[keep], scroll=False)
            else:
                self._move(min(self.cursor_row, max(0, len(self._order) - 1)), scroll=False)
        self._changed()

    @property
    def sorted(self) -> bool:
        """Sorted by anything but arrival order."""
        return self.sort_column != "time" or self.sort_reverse

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by `column` (again on the same column: the other way round)."""
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else column != "time"
        self.sort_column, self.sort_reverse = column, reverse
        if self._state is not None:
            self.rebuild(self._state)

    def _reindex(self) -> None:
        self._index = {exchange_id: i for i, exchange_id in enumerate(self._order)}

    def _changed(self) -> None:
        size = Size(self._line_width(), len(self._order) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self._update_titles()
        self.refresh()

    def _update_titles(self) -> None:
        parts = []
        if self.new_below:
            parts.append(f"▼ {self.new_below} new · G follow")
        if self.filter:
            parts.append(f"filter: {self.filter.text}")
        subtitle = " · ".join(parts)
        title = f"Requests {self.row_count}" + (" shown" if self.filter else "")
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle
        if title != self.border_title:
            self.border_title = title

    # -- cursor ---------------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        self._move(row, scroll=scroll)

    def _move(self, row: int, *, scroll: bool = True) -> None:
        row = max(0, min(row, len(self._order) - 1)) if self._order else 0
        if row != self.cursor_row:
            self.cursor_row = row
            self.refresh()
        if scroll:
            self._scroll_to_cursor()
        if self.following and self.new_below:
            self.new_below = 0
            self._update_titles()
        selected = self.selected_id
        if selected != self._selected:
            self._selected = selected
            self.post_message(self.Selected(selected))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # minus the header line
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _go_last(self) -> None:
        self.new_below = 0
        self._move(len(self._order) - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self._move(self.cursor_row + max(1, self.scrollable_content_region.height - 2))

    def action_page_up(self) -> None:
        self._move(self.cursor_row - max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        self._move(0)

    def action_follow(self) -> None:
        self._go_last()
        self._update_titles()

    def action_choose(self) -> None:
        if self.selected_id is not None:
            self.post_message(self.Chosen(self.selected_id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # event.y counts the border line
        if offset is None:
            return
        if offset.y == 0:  # the header line: sort by the clicked column
            column = self.column_at(offset.x)
            if column is not None:
                self.sort_by(column)
            return
        row = int(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self._order):
            self._move(row)
            if event.chain >= 2:
                self.action_choose()

    def on_resize(self, event: events.Resize) -> None:
        self._header = None
        self._strips.clear()
        self._row_styles.clear()
        # The columns follow the NEW width (the terminal's, borders included).
        narrow = self.outer_size.width < NARROW_BELOW
        if self._state is not None:
            self.set_narrow(narrow, self._state)
        else:
            self.narrow = narrow
        self._scroll_to_cursor()

    # -- rendering --------------------------------------------------------------------------

    def _line_width(self) -> int:
        return sum((c.narrow_width if self.narrow else c.width) + 2 for c in self.columns)  # type: ignore[operator]

    def _compose_line(self, cells: Iterable[Cell], base: Style) -> Strip:
        """One row: every cell is a single-style string. Neighbours in the same style go
        out as one Segment (most of a row is in the row's style): Textual's drawing works
        segment by segment, and a row of 60 cost ~1 ms to draw cold."""
        segments: list[Segment] = []
        run: list[str] = []
        run_style = base

        def put(text: str, style: Style) -> None:
            nonlocal run_style
            if style is not run_style and style != run_style:
                if run:
                    segments.append(Segment("".join(run), run_style))
                    run.clear()
                run_style = style
            run.append(text)

        columns = self.columns
        total = 0
        for index, (column, cell) in enumerate(zip(columns, cells)):
            width = column.narrow_width if self.narrow else column.width
            assert width is not None
            right = column.right
            if isinstance(cell, SpanCell):
                # Its column and every one after it, with the gaps between them.
                width += sum(((c.narrow_width if self.narrow else c.width) or 0) + 2 for c in columns[index + 1 :])
                cell = (next((t for t in cell.texts if cell_len(t) <= width), cell.texts[-1]), cell.style)
                right = False
            if isinstance(cell, tuple):
                plain, style = cell[0], (_on(base, cell[1]) if cell[1] else base)
            else:
                plain, style = cell, base
            length = cell_len(plain)
            if length > width:
                plain = set_cell_size(plain, width - 1) + "…"
                length = width
            pad = " " * (width - length)
            if right:
                put(" " + pad, base)
                put(plain, style)
                put(" ", base)
            else:
                put(" ", base)
                put(plain, style)
                put(pad + " ", base)
            total += width + 2
        if run:
            segments.append(Segment("".join(run), run_style))
        width = self.scrollable_content_region.width
        if total < width:
            segments.append(Segment(" " * (width - total), base))
            total = width
        strip = Strip(segments, total)
        return strip.crop(0, width) if total > width else strip

    def _label(self, column: Column) -> str:
        width = (column.narrow_width if self.narrow else column.width) or 0
        label = (column.narrow_label or column.label) if self.narrow else column.label
        if self.sorted and column.key == self.sort_column:
            return label[: width - 1] + ("▼" if self.sort_reverse else "▲")
        return label[:width]

    def column_at(self, x: int) -> str | None:
        """The column under content offset `x` (a click on the header sorts by it)."""
        at = int(self.scroll_x)
        for column in self.columns:
            at += ((column.narrow_width if self.narrow else column.width) or 0) + 2
            if x < at:
                return column.key
        return None

    def _row_style(self, odd: bool, selected: bool) -> Style:
        key = (odd, selected, self.has_focus)
        style = self._row_styles.get(key)
        if style is None:
            style = self.rich_style
            if odd:
                style = style + self.get_component_rich_style("requests--even")
            if selected:
                style = style + self.get_component_rich_style("requests--cursor")
            self._row_styles[key] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            key = (width, self.narrow, self.has_focus, self.sort_column, self.sort_reverse)
            if self._header is None or self._header[0] != key:
                style = self.get_component_rich_style("requests--header")
                labels = [self._label(c) for c in self.columns]
                self._header = (key, self._compose_line(labels, style))
            return self._header[1]
        row = int(self.scroll_y) + y - 1
        if row >= len(self._order):
            return Strip.blank(width, self.rich_style)
        exchange_id = self._order[row]
        cells = self._cells[exchange_id]
        selected = row == self.cursor_row
        key = (cells, selected, row % 2, width, self.has_focus)
        cached = self._strips.get(exchange_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = self._compose_line(cells, self._row_style(bool(row % 2), selected))
        self._strips[exchange_id] = (key, strip)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._row_styles.clear()
        self._strips.clear()
        self._header = None

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
