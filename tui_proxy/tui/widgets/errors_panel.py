"""The errors panel: every failed exchange (and engine error) with what the client got.

Rows only ever arrive at the end, in one batch per flush; enter on a row opens the
exchange's detail view.
"""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ...ids import short_id
from .. import formatting as fmt
from ..state import ErrorRow

COLUMNS = (("time", 8), ("id", 6), ("sent", 4), ("source", 10), ("type", 22), ("code", 20))


class ErrorsPanel(DataTable):
    class Open(Message):
        def __init__(self, exchange_id: str) -> None:
            super().__init__()
            self.exchange_id = exchange_id

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._count = 0

    def on_mount(self) -> None:
        for key, width in COLUMNS:
            self.add_column(key, width=width, key=key)
        # The message takes what is left; it is the one column worth reading in full.
        self.add_column("why", key="why")

    def append(self, rows: Iterable[ErrorRow]) -> None:
        follow = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        added = False
        for row in rows:
            self._count += 1
            status = Text(str(row.status) if row.status is not None else "-", style="bold red" if (row.status or 500) >= 500 else "bold yellow")
            self.add_row(
                fmt.clock_time(row.at),
                short_id(row.exchange_id) if row.exchange_id else "engine",
                status,
                row.source,
                row.type,
                row.code or "-",
                row.message.replace("\n", " ⏎ "),
                key=f"{self._count}:{row.exchange_id}",
            )
            added = True
        if added and follow:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def reset(self, rows: Iterable[ErrorRow] = ()) -> None:
        self.clear()
        self.append(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        exchange_id = (event.row_key.value or "").split(":", 1)[-1]
        if exchange_id:
            self.post_message(self.Open(exchange_id))
