"""A bar line over time, scaled from a fixed floor (0 %, 0 requests), not from its smallest
value as Textual's Sparkline is: there, one request or a flat 41 % draws as a full or an
empty bar, which reads as a figure it is not.

One column per value while they fit (left to right, oldest first); past the width,
neighbouring values share a column (their mean, or their largest for `summary="max"`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

BARS = "▁▂▃▄▅▆▇█"


def columns(values: Sequence[float], width: int, summary: str = "mean") -> list[tuple[float, int]]:
    """`values` squeezed into at most `width` columns: (value, index of the value whose
    style the column takes: the largest for "max", the newest for "mean")."""
    if width <= 0 or not values:
        return []
    if len(values) <= width:
        return [(v, i) for i, v in enumerate(values)]
    count = len(values)
    out = []
    for column in range(width):
        start, end = column * count // width, (column + 1) * count // width
        end = max(end, start + 1)
        part = values[start:end]
        if summary == "max":
            top = max(range(len(part)), key=part.__getitem__)
            out.append((part[top], start + top))
        else:
            out.append((sum(part) / len(part), end - 1))
    return out


def bar_rows(values: Sequence[float], height: int, floor: float, ceiling: float) -> list[list[str]]:
    """The characters of each row, top row first."""
    rows = [[" "] * len(values) for _ in range(height)]
    extent = ceiling - floor
    for x, value in enumerate(values):
        ratio = 0.0 if extent <= 0 else min(max((value - floor) / extent, 0.0), 1.0)
        eighths = round(ratio * height * 8)
        if value > floor and eighths == 0:
            eighths = 1  # a value above the floor always shows
        for level in range(height):
            filled = min(max(eighths - level * 8, 0), 8)
            if filled:
                rows[height - 1 - level][x] = BARS[filled - 1]
    return rows


class BarChart(Widget):
    """Drawn with the line API: each row one Strip, cached until the data or the size
    changes (a Text per chart went through Textual's content pipeline at every repaint)."""

    DEFAULT_CSS = """
    BarChart { height: 2; color: $primary; }
    """

    def __init__(
        self,
        data: Sequence[float] = (),
        *,
        floor: float = 0.0,
        ceiling: float | None = None,
        summary: str = "mean",
        styles: Sequence[str] = (),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.floor = floor
        #: The top of the scale; None: the largest value shown.
        self.ceiling = ceiling
        self.summary = summary
        self.data: tuple[float, ...] = tuple(data)
        #: Each value's own style (yellow past a threshold...), else the widget's colour.
        self.value_styles: tuple[str, ...] = tuple(styles)
        self._drawn: tuple[tuple, list[Strip]] | None = None

    def show(self, data: Sequence[float], styles: Sequence[str] = ()) -> None:
        self.value_styles = tuple(styles)
        self.data = tuple(data)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        base = self.rich_style  # (it walks the widget's styles: once per line, of two)
        key = (self.size, self.data, self.value_styles, base)
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = (key, self._draw(base))
        strips = self._drawn[1]
        return strips[y] if 0 <= y < len(strips) else Strip.blank(self.size.width, base)

    def _draw(self, base: Style) -> list[Strip]:
        width, height = self.size.width, max(1, self.size.height)
        shown = columns(self.data, width, self.summary)
        if not shown:
            return [Strip([Segment("(nothing yet)", base + _parsed("dim"))]).extend_cell_length(width, base)] + [Strip.blank(width, base)] * (height - 1)
        values = [v for v, _ in shown]
        ceiling = self.ceiling if self.ceiling is not None else max(max(values), self.floor + 1e-9)
        rows = bar_rows(values, height, self.floor, ceiling)
        styles = self.value_styles
        strips = []
        for row in rows:
            segments: list[Segment] = []
            run, run_style = "", base
            for (_, index), char in zip(shown, row):
                style = base + _parsed(styles[index]) if styles and index < len(styles) and char != " " else base
                if style is not run_style and style != run_style:
                    if run:
                        segments.append(Segment(run, run_style))
                    run, run_style = "", style
                run += char
            if run:
                segments.append(Segment(run, run_style))
            strips.append(Strip(segments).extend_cell_length(width, base))
        return strips


@lru_cache(maxsize=64)
def _parsed(style: str) -> Style:
    return Style.parse(style)
