"""The requests list: one row per exchange, live rows refreshed by the flush.

A DataTable re-renders every visible row after any mutation, so this widget is only
touched from the flush (a few times a second), column widths are fixed (no
re-measuring), and a cell is updated only when its text changed.

Follow mode: while the cursor sits on the last row, new rows pull it along. Move it
up and the list stays put, counting the rows that arrived below ("▼ 3 new").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from .. import formatting as fmt
from ..filters import MATCH_ALL, Filter
from ..state import ConsoleState, ExchangeView


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    narrow_width: int | None  # None: hidden when the terminal is narrow


COLUMNS = (
    Column("time", "time", 8, 8),
    Column("id", "id", 6, 6),
    Column("client", "client", 14, 7),
    Column("model", "model", 18, 9),
    Column("stream", "mode", 4, 1),
    Column("status", "stat", 4, 4),
    Column("ttft", "ttft", 6, 5),
    Column("dur", "dur", 6, 5),
    Column("in", "in", 6, None),
    Column("out", "out", 6, 5),
    Column("tps", "tok/s", 6, 5),
)

#: Below this width the table switches to its narrow columns.
NARROW_BELOW = 110


def _right(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


def row_cells(view: ExchangeView, now: float, narrow: bool) -> tuple[Text | str, ...]:
    """The row of one exchange, as plain values, so rows compare cheaply."""
    cells: dict[str, Text | str] = {
        "time": fmt.clock_time(view.received_at),
        "id": view.id.rsplit("-", 1)[-1][:6],
        "client": fmt.client_name(view.client),
        "model": view.model or "-",
        "stream": ("~" if view.stream else "-") if narrow else ("sse" if view.stream else "json"),
        "status": fmt.status_text(view),
        "ttft": _right(fmt.duration(view.ttft_ms())),
        "dur": _right(fmt.duration(view.duration_ms(now)), "cyan" if view.in_flight else ""),
        "in": _right(fmt.count(view.tokens_in)),
        "out": _right(("~" if view.tokens_estimated and view.tokens_out else "") + fmt.count(view.tokens_out)),
        "tps": _right(fmt.rate(view.tokens_per_second(now))),
    }
    return tuple(cells[c.key] for c in COLUMNS if not narrow or c.narrow_width is not None)


class RequestsTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="requests.down", tooltip="Select the next request"),
        Binding("k", "cursor_up", "Up", show=False, id="requests.up", tooltip="Select the previous request"),
        Binding("g", "scroll_top", "Top", show=False, id="requests.top", tooltip="Select the oldest request"),
        Binding("G,end", "follow", "Newest", show=False, id="requests.newest", tooltip="Select the newest request and follow"),
    ]

    class Selected(Message):
        """The highlighted exchange changed (None: the list is empty)."""

        def __init__(self, exchange_id: str | None) -> None:
            super().__init__()
            self.exchange_id = exchange_id

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=1, **kwargs)
        self.filter: Filter = MATCH_ALL
        self.narrow = False
        self.new_below = 0
        self._cells: dict[str, tuple] = {}
        self._columns_ready = False
        self._selected: str | None = None

    # -- columns ----------------------------------------------------------------------

    def _build_columns(self) -> None:
        self.clear(columns=True)
        for column in COLUMNS:
            width = column.narrow_width if self.narrow else column.width
            if width is None:
                continue
            label = column.label if not self.narrow or len(column.label) <= width else column.label[:width]
            justify = "right" if column.key in ("ttft", "dur", "in", "out", "tps") else "left"
            self.add_column(Text(label, justify=justify), width=width, key=column.key)
        self._cells.clear()
        self._columns_ready = True

    def set_narrow(self, narrow: bool, state: ConsoleState) -> None:
        if narrow != self.narrow or not self._columns_ready:
            self.narrow = narrow
            self.rebuild(state)

    # -- rows -------------------------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

    @property
    def following(self) -> bool:
        return self.row_count == 0 or self.cursor_row >= self.row_count - 1

    def rebuild(self, state: ConsoleState) -> None:
        """Redraw every row (filter changed, columns changed, list cleared)."""
        keep = self.selected_id
        follow = self.following
        self._build_columns()
        now = state.clock()
        for view in state:
            if self.filter(view):
                self._add(view, now)
        self.new_below = 0
        if follow or keep is None:
            self._go_last()
        else:
            self._go_to(keep)
        self._update_subtitle()

    def sync(self, state: ConsoleState, added: Iterable[str], updated: set[str], removed: Iterable[str]) -> None:
        """Apply one flush worth of changes; every in-flight row is refreshed (its clock runs)."""
        if not self._columns_ready:
            self._build_columns()
        follow = self.following
        keep = self.selected_id
        now = state.clock()
        removed = [r for r in removed if r in self._cells]
        for exchange_id in removed:
            self._remove(exchange_id)
        needs_rebuild = False
        added = list(added)
        new = set(added)
        for exchange_id in updated - new:
            view = state.get(exchange_id)
            if view is None:
                continue
            shown = exchange_id in self._cells
            if shown and not self.filter(view):
                self._remove(exchange_id)
                removed.append(exchange_id)
            elif not shown and self.filter(view):
                needs_rebuild = True  # it belongs somewhere in the middle: DataTable only appends
        if needs_rebuild:
            self.rebuild(state)
            return
        for exchange_id in self._cells:
            view = state.get(exchange_id)
            if view is not None and (view.in_flight or exchange_id in updated):
                self._refresh_row(view, now)
        appended = 0
        for exchange_id in added:
            view = state.get(exchange_id)
            if view is not None and exchange_id not in self._cells and self.filter(view):
                self._add(view, now)
                appended += 1
        if follow:
            self._go_last()
        else:
            self.new_below += appended
            if removed and keep is not None:
                self._go_to(keep)
        self._update_subtitle()

    def _add(self, view: ExchangeView, now: float) -> None:
        cells = row_cells(view, now, self.narrow)
        self._cells[view.id] = cells
        self.add_row(*cells, key=view.id)

    def _remove(self, exchange_id: str) -> None:
        self._cells.pop(exchange_id, None)
        try:
            self.remove_row(exchange_id)
        except RowDoesNotExist:
            pass

    def _refresh_row(self, view: ExchangeView, now: float) -> None:
        cells = row_cells(view, now, self.narrow)
        old = self._cells.get(view.id)
        if old == cells:
            return
        self._cells[view.id] = cells
        keys = [c.key for c in COLUMNS if not self.narrow or c.narrow_width is not None]
        for key, before, after in zip(keys, old or (), cells):
            if before != after:
                self.update_cell(view.id, key, after)

    # -- cursor -----------------------------------------------------------------------

    def _go_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)
        self.new_below = 0

    def _go_to(self, exchange_id: str) -> None:
        try:
            self.move_cursor(row=self.get_row_index(exchange_id), animate=False, scroll=False)
        except RowDoesNotExist:
            pass

    def action_follow(self) -> None:
        self._go_last()
        self._update_subtitle()

    def action_scroll_top(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, animate=False)

    def _update_subtitle(self) -> None:
        parts = []
        if self.new_below:
            parts.append(f"▼ {self.new_below} new · G follow")
        if self.filter:
            parts.append(f"filter: {self.filter.text}")
        self.border_subtitle = " · ".join(parts)
        self.border_title = f"Requests {self.row_count}" if not self.filter else f"Requests {self.row_count} shown"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self.following and self.new_below:
            self.new_below = 0
            self._update_subtitle()
        selected = event.row_key.value if event.row_key is not None else None
        if selected != self._selected:
            self._selected = selected
            self.post_message(self.Selected(selected))
