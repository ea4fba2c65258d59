"""The statistics screen: time to first token and tokens per second over time, requests and
errors per minute, tokens and cache reads per model, and the plan's windows over time
with the requests that moved them (enter on one opens it).

Built without holding the loop: the session's exchanges are copied as plain values in
slices, the capture history is read in a thread (once per opening, bounded), and the
figures are computed in a thread. While it is open it is rebuilt when something finished,
at most every REFRESH_SECONDS.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from .. import formatting as fmt, turns
from ...ids import short_id
from ...quota.windows import WINDOW_LABELS
from ..widgets.bar_chart import BarChart
from ..widgets.line_table import LineColumn, LineTable
from ..widgets.quiet_footer import QuietFooter
from ..quota_state import QuotaPoint
from ..stats import Sample, Series, Stats, build_stats, merge, merge_points, points_from_summaries, sample_from_summary, sample_from_view
from .stepped import SteppedScreen

#: Exchanges read back from the capture store for the statistics, at most (the newest).
STATS_HISTORY = 5_000
#: Seconds between two rebuilds while the screen is open and requests finish.
REFRESH_SECONDS = 2.0
#: Exchanges copied from the console's model per slice of the loop.
SLICE = 250

#: The lines over time: (id, title).
LINES = (
    ("ttft", "time to first token"),
    ("tps", "tokens per second"),
    ("requests", "requests"),
    ("errors", "errors"),
)


#: The per-model table and the quota reports.
MODEL_COLUMNS = (
    LineColumn("model", 20), LineColumn("requests", 8, True), LineColumn("errors", 6, True), LineColumn("in", 6, True),
    LineColumn("cache read", 16, True), LineColumn("cache %", 7, True), LineColumn("out", 6, True), LineColumn("cost", 7, True),
    LineColumn("ttft p50", 8, True), LineColumn("tok/s p50", 9, True),
)
POINT_COLUMNS = (
    LineColumn("time", 8), LineColumn("window", 14), LineColumn("used", 5, True), LineColumn("change", 6, True),
    LineColumn("status", 15), LineColumn("request", 28), LineColumn("billed", 11),
)


def _series_label(title: str, series: Series) -> Text:
    out = Text()
    out.append(title, style="bold")
    if series.bucket_seconds is not None:
        per = "minute" if series.bucket_seconds == 60 else f"{series.bucket_seconds // 60} min"
        out.append(f" per {per}", style="bold")
    out.append(f"   {series.summary}", style="dim")
    return out


class StatsScreen(SteppedScreen):
    BINDINGS = [
        Binding("escape,q,s", "close", "Back", id="stats.close", tooltip="Back to the requests list"),
    ]

    DEFAULT_CSS = """
    StatsScreen #stats-title { height: 1; background: $panel; }
    StatsScreen #stats-body { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    StatsScreen .stats-label { height: 1; }
    StatsScreen .stats-section { height: 1; text-style: bold underline; }
    StatsScreen #quota-section { margin-top: 1; }
    StatsScreen BarChart { height: 2; margin-bottom: 1; }
    StatsScreen BarChart.errors { color: $error; }
    StatsScreen BarChart.tps { color: $success; }
    StatsScreen BarChart.quota { height: 1; margin-bottom: 0; }
    StatsScreen #stats-models { height: auto; max-height: 9; }
    StatsScreen #quota-lines { height: auto; }
    StatsScreen #quota-points { height: 14; max-height: 14; margin-top: 1; border: round $primary 50%; }
    StatsScreen #quota-points:focus { border: round $accent; }
    """

    def __init__(self, store: Any = None) -> None:
        super().__init__()
        #: Where the capture history is read from (default: the engine's capture store).
        self._store = store
        #: The capture history's samples, read once per opening.
        self._history: list[Sample] | None = None
        self._history_points: list[QuotaPoint] = []
        self._stats: Stats | None = None
        #: What the model looked like at the last build (rebuild when it changes).
        self._signature: tuple | None = None
        self._built_at = float("-inf")
        self._building = False
        #: The quota points listed, in table order (enter opens the one under the cursor).
        self._point_ids: list[str] = []
        self._shown_points: int | None = None
        #: Window name → the id prefix of its label and line.
        self._window_keys: dict[str, str] = {}
        self._widgets_live = False

    @property
    def console(self) -> Any:
        """The ConsoleApp (named, not imported: the app imports this screen)."""
        return self.app

    def compose(self) -> ComposeResult:
        yield Static(" Statistics · building…", id="stats-title")
        with VerticalScroll(id="stats-body"):
            for key, _ in LINES:
                yield Static(classes="stats-label", id=f"{key}-label")
                yield BarChart(id=f"{key}-line", classes=key, summary="max" if key == "errors" else "mean")
            yield Static("tokens and cache reads per model", classes="stats-section")
            models = LineTable(MODEL_COLUMNS, cursor=False, id="stats-models")
            models.can_focus = False
            yield models
            yield Static(id="models-note", classes="stats-label")
            yield Static("the plan's windows over time (this session's reports and each captured request's last one)", classes="stats-section", id="quota-section")
            yield Vertical(id="quota-lines")
            points = LineTable(POINT_COLUMNS, id="quota-points")
            points.border_title = "reports, newest first · tab: pick one · enter: open its request"
            yield points
        yield QuietFooter()

    def on_mount(self) -> None:
        self._widgets_live = True
        self.query_one("#stats-body").focus()
        self.rebuild(with_history=True)

    def on_unmount(self) -> None:
        self._widgets_live = False

    @property
    def ready(self) -> bool:
        """True once the figures are on screen (tests and screenshots wait for it)."""
        return self._widgets_live and self._stats is not None and not self._building

    @property
    def stats(self) -> Stats | None:
        return self._stats

    # -- building ---------------------------------------------------------------------------

    def _model_signature(self) -> tuple:
        state = self.console.state
        totals = state.totals
        return (len(state), totals.requests, totals.errors, totals.tokens, state.quota.points_total, sum(1 for v in state if v.in_flight))

    def refresh_live(self, now: float) -> None:
        """From the app's flush: rebuild when something finished, at most every REFRESH_SECONDS."""
        if self._building or not self._widgets_live:
            return
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self._built_at < REFRESH_SECONDS:
            return
        if self._model_signature() != self._signature:
            self.rebuild(with_history=False)

    def rebuild(self, *, with_history: bool) -> None:
        self._building = True
        self.run_worker(self._build(with_history), group="stats", exclusive=True)

    async def _build(self, with_history: bool) -> None:
        try:
            app = self.console
            state = app.state
            self._signature = self._model_signature()
            views = list(state.exchanges.values())
            session: list[Sample] = []
            for start in range(0, len(views), SLICE):  # a few ms per slice at most
                session += [s for v in views[start : start + SLICE] if (s := sample_from_view(v)) is not None]
                await turns.turn()
            points = list(state.quota.points)
            if with_history or self._history is None:
                self._history, self._history_points = await self._read_history()
            history, history_points = self._history, self._history_points
            # Older points than the session's come from the captures (each run's last report).
            points_total = state.quota.points_total + len(history_points)

            def figures() -> Stats:
                return build_stats(merge(session, history), merge_points(history_points, points), points_total)

            stats = await asyncio.to_thread(figures)
            if self._widgets_live:
                self._show(stats)
        finally:
            self._built_at = asyncio.get_running_loop().time()
            self._building = False

    async def _read_history(self) -> tuple[list[Sample], list[QuotaPoint]]:
        store = self._store if self._store is not None else getattr(self.console.engine, "store", None)
        if store is None:
            return [], []

        def read() -> tuple[list[Sample], list[QuotaPoint]]:
            summaries = store.list(limit=STATS_HISTORY)
            return [s for summary in summaries if (s := sample_from_summary(summary)) is not None], points_from_summaries(summaries)

        try:
            return await asyncio.to_thread(read)
        except Exception as error:  # statistics are a bonus: never break the console for them
            self.notify(f"Could not read the capture history: {error}", severity="warning")
            return [], []

    # -- drawing --------------------------------------------------------------------------------

    def _show(self, stats: Stats) -> None:
        self._stats = stats
        title = Text(" Statistics", style="bold")
        title.append(f" · {stats.session} finished request{'' if stats.session == 1 else 's'} this session, {stats.history} from the capture history")
        if stats.first_at is not None and stats.last_at is not None:
            title.append(f" · {fmt.clock_time(stats.first_at)} → {fmt.clock_time(stats.last_at)}", style="dim")
        # Fixed heights everywhere: updates repaint their widget, never lay out the screen.
        self.query_one("#stats-title", Static).update(title, layout=False)
        with self.app.batch_update():
            for key, name in LINES:
                series: Series = getattr(stats, key)
                self.query_one(f"#{key}-label", Static).update(_series_label(name, series), layout=False)
                self.query_one(f"#{key}-line", BarChart).show(series.values)
            self._show_models(stats)
            self._show_quota_lines(stats)
            self._show_points(stats)

    def _show_models(self, stats: Stats) -> None:
        rows: list[tuple] = []
        for row in stats.models:
            cache = "-" if row.cached is None else fmt.count(row.cached) + ("" if row.cache_known == row.with_usage else f" ({row.cache_known} of {row.with_usage})")
            rows.append((
                row.model,
                str(row.requests),
                Text(str(row.errors), style="bold red" if row.errors else ""),
                fmt.count(row.tokens_in),
                cache,
                "-" if row.cache_share is None else f"{row.cache_share:.0%}",
                fmt.count(row.tokens_out),
                fmt.cost(row.cost_usd),
                fmt.duration(row.ttft_median_ms),
                fmt.rate(row.tps_median),
            ))
        if not rows:
            rows.append(("no finished request yet",) + ("",) * 9)
        self.query_one("#stats-models", LineTable).set_rows(rows)
        partial = any(row.cache_known < row.with_usage for row in stats.models)
        note = self.query_one("#models-note", Static)
        note.update(Text("cache reads and cost (n of m): known for the requests whose usage said them (captures older than this version do not carry them)", style="dim") if partial else "", layout=False)
        if note.display != partial:
            note.display = partial

    def _show_quota_lines(self, stats: Stats) -> None:
        """One line per window; a window first reported now gets its line mounted."""
        box = self.query_one("#quota-lines", Vertical)
        if not stats.quota_lines:
            if not box.children:
                box.mount(Static("No report yet: the CLI reports the plan's windows with each answer (with a subscription login).", classes="stats-label", id="quota-none"))
            return
        box.query("#quota-none").remove()
        for window, series in stats.quota_lines.items():
            label = _series_label(f"{WINDOW_LABELS.get(window, window)} used (%)", series)
            key = self._window_keys.get(window)
            if key is not None:
                box.query_one(f"#{key}-line", BarChart).show(series.values, _quota_styles(series))
                box.query_one(f"#{key}-label", Static).update(label, layout=False)
            else:
                # Ids by number: a window's name is whatever the CLI says.
                key = self._window_keys[window] = f"quota-{len(self._window_keys)}"
                box.mount(
                    Static(label, classes="stats-label", id=f"{key}-label"),
                    BarChart(series.values, id=f"{key}-line", classes="quota", ceiling=100.0, summary="max", styles=_quota_styles(series)),
                )

    def _show_points(self, stats: Stats) -> None:
        """The reports, newest first; the cursor stays on the report it was on."""
        if self._shown_points == stats.quota_points_total:
            return
        table = self.query_one("#quota-points", LineTable)
        added = 0 if self._shown_points is None else stats.quota_points_total - self._shown_points
        state = self.console.state
        rows: list[tuple] = []
        ids: list[str] = []
        for point in stats.quota_points:
            style = fmt.quota_style(point.status)
            change = "" if point.delta is None else f"{point.delta * 100:+.0f}%"
            if point.exchange_id:
                view = state.get(point.exchange_id)
                request = Text(short_id(point.exchange_id) + (f" {view.model}" if view is not None and view.model else ""))
            else:
                request = Text("poll", style="dim")
            billed = {True: Text("extra usage", style="bold magenta"), False: Text("plan")}.get(point.using_overage, Text("-", style="dim"))  # type: ignore[arg-type]
            rows.append((
                fmt.clock_time(point.at),
                WINDOW_LABELS.get(point.window, point.window),
                Text(fmt.percent(point.utilization), style=style),
                Text(change, style="bold" if point.delta else "dim"),
                Text(point.status or "-", style=style),
                request,
                billed,
            ))
            ids.append(point.exchange_id)
        cursor = table.cursor_row + added if self._point_ids and added > 0 else None
        self._point_ids = ids
        table.set_rows(rows, cursor)
        self._shown_points = stats.quota_points_total
        dropped = stats.quota_points_total - len(stats.quota_points)
        table.border_subtitle = f"{len(stats.quota_points)} shown" + (f", {dropped} older not listed" if dropped > 0 else "")

    # -- keys -------------------------------------------------------------------------------------

    @on(LineTable.Chosen, "#quota-points")
    def _point_chosen(self, event: LineTable.Chosen) -> None:
        event.stop()
        row = event.index
        if not 0 <= row < len(self._point_ids):
            return
        exchange_id = self._point_ids[row]
        if not exchange_id:
            self.notify("A background poll of the plan's windows: no request behind it.", timeout=3)
            return
        self.console.open_exchange(exchange_id)

    def action_close(self) -> None:
        self.dismiss()


def _quota_styles(series: Series) -> tuple[str, ...]:
    """Green while allowed, yellow past the threshold, red when refused."""
    return tuple(fmt.quota_style(status) or "green" for status in series.statuses)


