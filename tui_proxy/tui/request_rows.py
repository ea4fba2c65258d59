"""What each line of the requests list says: its columns, how each sorts, and one
exchange's cells as plain values (strings and (text, style) pairs), which compare cheaply
and which the garbage collector does not track. widgets/requests_table.py draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from ..ids import short_id
from . import formatting as fmt
from .exchange_view import ExchangeView
from .quota_state import representative


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    narrow_width: int | None  # None: hidden when the terminal is narrow
    right: bool = False
    #: The label when narrow, if the wide one does not fit.
    narrow_label: str | None = None


COLUMNS = (
    Column("time", "time", 8, 8),
    Column("id", "id", 7, 7),
    Column("client", "client", 13, 7),
    Column("model", "model", 17, 9),
    Column("stream", "mode", 4, 1),
    Column("status", "status", 8, 5, narrow_label="stat"),
    Column("ttft", "ttft", 5, 5, right=True),
    Column("dur", "dur", 5, 5, right=True),
    Column("in", "in", 5, None, right=True),
    Column("cache", "cache", 5, None, right=True),
    Column("out", "out", 5, 5, right=True),
    Column("tps", "tok/s", 5, 5, right=True),
    Column("cost", "cost", 6, None, right=True),
    Column("quota", "quota", 8, None),
    Column("note", "code / loop", 15, None),
)

#: How each column sorts (None sorts last); "time" is arrival order.
SORT_KEYS: dict[str, Callable[[ExchangeView], object]] = {
    "time": lambda v: v.received_at,
    "id": lambda v: v.id.rsplit("-", 1)[-1],
    "client": lambda v: fmt.client_name(v.client),
    "model": lambda v: v.model,
    "stream": lambda v: v.stream,
    "status": lambda v: v.status,
    "ttft": lambda v: v.ttft_ms(),
    "dur": lambda v: v.final_duration_ms,
    "in": lambda v: v.tokens_in,
    "cache": lambda v: v.cache_share,
    "out": lambda v: v.tokens_out,
    "tps": lambda v: v.tokens_per_second(v.finished_at or v.received_at),
    "cost": lambda v: v.cost_usd,
    "quota": lambda v: (v.extra_usage is True, _utilization(v)),
    "note": lambda v: cell_text(note(v)),
}

@dataclass(frozen=True, slots=True)
class SpanCell:
    """A cell drawn over its column and every one after it (a retrying request's story):
    the first of `texts` that fits that room is drawn."""

    texts: tuple[str, ...]
    style: str = ""

    def __str__(self) -> str:
        return self.texts[0]


def _utilization(view: ExchangeView) -> float:
    window = representative(view.quota) if view.quota is not None else None
    return window.utilization if window is not None and window.utilization is not None else -1.0


#: A cell in one style: (text, Rich style definition). A tuple of strings, which the
#: garbage collector stops tracking: a Text per cell made 45 000 tracked objects for the
#: 1 000 rows of history, walked by every full collection (a 55 ms stall).
Styled = tuple[str, str]
Cell = Union[str, Styled, SpanCell]


def styled(text: str, style: str) -> str | Styled:
    """A cell of one text in one style (a plain string when it has none)."""
    return (text, style) if style else text


def cell_text(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell[0] if isinstance(cell, tuple) else str(cell)


def row_cells(view: ExchangeView, now: float, narrow: bool) -> tuple[Cell, ...]:
    """The row of one exchange as plain values, so rows compare cheaply. A request whose
    CLI waits to retry upstream tells that from its status cell to the end of the row; so
    does a failed one when the list is narrow (no room for the code column): `429
    rate_limited · 1.2s`."""
    head = (
        fmt.clock_time(view.received_at),
        short_id(view.id) + ("⟲" if view.replay_of else ""),
        fmt.client_name(view.client),
        view.model or "-",
        ("~" if view.stream else "-") if narrow else ("sse" if view.stream else "json"),
    )
    if view.retrying:
        return (*head, SpanCell(fmt.retry_texts(view, now), fmt.status_style(view)))
    error = view.error
    # (kill, gone and cut say it in their status already, and keep their figures)
    if narrow and error is not None and not view.in_flight and error.source not in ("killed", "disconnect", "interrupted"):
        label, code = fmt.status_label(view, narrow=True), error.code or error.type
        took = fmt.duration(view.duration_ms(now))
        style = fmt.status_style(view) + (" dim" if view.from_history else "")
        return (*head, SpanCell((f"{label} {code} · {took}", f"{label} {code}", label), style))
    cells: dict[str, str | Styled] = {
        **dict(zip(("time", "id", "client", "model", "stream"), head)),
        "status": styled(fmt.status_label(view, narrow=narrow), fmt.status_style(view)),
        "ttft": fmt.duration(view.ttft_ms()),
        "dur": styled(fmt.duration(view.duration_ms(now)), "cyan" if view.in_flight else ""),
        "in": fmt.count(view.tokens_in),
        "cache": cache_cell(view),
        "out": ("~" if view.tokens_estimated and view.tokens_out else "") + fmt.count(view.tokens_out),
        "tps": fmt.rate(view.tokens_per_second(now)),
        "cost": fmt.cost(view.cost_usd),
        "quota": quota_cell(view),
        "note": note(view),
    }
    if view.from_history:
        # Earlier runs, read back from the capture store: dimmed, so live traffic stands out.
        cells = {k: (cell_text(v), "dim") for k, v in cells.items()}
        cells["status"] = (fmt.status_label(view, narrow=narrow), fmt.status_style(view) + " dim")
    return tuple(cells[c.key] for c in COLUMNS if not narrow or c.narrow_width is not None)


def cache_cell(view: ExchangeView) -> str | Styled:
    """The share of the prompt read from the cache; yellow when the history went as a
    transcript, red when a resume failed (the cache could not read the conversation back)."""
    share = "-" if view.cache_share is None else f"{view.cache_share:.0%}"
    if view.history_fallback:
        return (share, "red")
    if view.history_mode == "transcript":
        return (share, "yellow")
    return share


def quota_cell(view: ExchangeView) -> str | Styled:
    """The window this request's run reported on, after it (`5h 93%`, yellow past the
    threshold, red when refused), or `extra` (magenta) when it drew from extra usage."""
    report = view.quota
    if report is None:
        return "-"
    if report.using_overage:
        return ("extra", "bold magenta")
    window = representative(report)
    style = fmt.quota_style(window.status, window.warning) if window is not None else ""
    return styled(fmt.quota_window_text(view), style)


def note(view: ExchangeView) -> str | Styled:
    """The error code of a failed exchange; else its place in an agent loop: `↳a83c11`
    (answers that exchange's tool calls), `→5e1f09` (its tool calls were answered there)."""
    error = view.error
    if error is not None:
        return (error.code or error.type, "red")
    parts = []
    if view.continues:
        parts.append(f"↳{short_id(view.continues)}")
    if view.continued_by:
        parts.append(f"→{short_id(view.continued_by)}")
    return (" ".join(parts), "magenta") if parts else ""
