"""The subscription cockpit in the console: quota gauges in the header, per-request window
state, cost and billing bucket, upstream retries in the list, and the statistics screen.

The engine publishes QuotaReported and UpstreamRetry; these tests publish them on the
engine's bus themselves (or feed the model directly), then assert what is shown.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from rich.text import Text

from tui_proxy.config import Config
from tui_proxy.events import (
    CliSpawned,
    CliStdout,
    EventBus,
    ExchangeFinished,
    QuotaReported,
    RequestReceived,
    TokenDelta,
    UpstreamRetry,
    Usage,
)
from tui_proxy.quota.windows import QuotaReport, QuotaWindow
from tui_proxy.tui import demo
from tui_proxy.tui import formatting as fmt
from tui_proxy.tui.app import make_app
from tui_proxy.tui.demo import DemoEngine, DemoStore, history_summaries, make_demo_app, play_scene, press_and_draw, stage
from tui_proxy.tui.screens.detail import DetailScreen
from tui_proxy.tui.screens.stats import StatsScreen
from tui_proxy.tui.state import ConsoleState
from tui_proxy.tui.quota_state import QuotaPoint
from tui_proxy.tui.stats import build_stats, merge, merge_points, sample_from_summary, sample_from_view
from tui_proxy.tui.widgets.bar_chart import bar_rows, columns
from tui_proxy.tui.request_rows import COLUMNS
from tui_proxy.tui.widgets.status_header import HeaderInfo, StatusHeader, render_header
from tui_proxy.tui.widgets.tokens_panel import TokensPanel
from tui_proxy.tui.state import Totals

from tests.tui_fixtures import console_app, post_chat, settle, static_text, utc_clock  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _utc(utc_clock):
    """Every test here reads times in UTC."""


def received(exchange_id: str, at: float = 100.0) -> RequestReceived:
    return RequestReceived(exchange_id, at, "POST", "/v1/chat/completions", {}, b"{}", "curl/8", "127.0.0.1", model="sonnet", stream=True)


def report(five_hour: float | None = None, week: float | None = None, *, status: str = "allowed", overage: bool | None = False, resets: float = 5000.0, threshold: float | None = None) -> QuotaReport:
    windows = []
    if five_hour is not None:
        windows.append(QuotaWindow("five_hour", five_hour, resets, status, threshold))
    if week is not None:
        windows.append(QuotaWindow("seven_day", week, resets * 10, "allowed"))
    return QuotaReport(status=status, limit_type="five_hour" if five_hour is not None else "seven_day", windows=tuple(windows), using_overage=overage)


def retry(exchange_id: str, at: float, attempt: int = 5, delay_ms: float = 10_000.0) -> UpstreamRetry:
    return UpstreamRetry(exchange_id, at, attempt=attempt, max_retries=10, error_status=529, error="overloaded", retry_delay_ms=delay_ms)


# -- the model ---------------------------------------------------------------------------------


def test_quota_reports_merge_per_window_and_keep_a_timeline():
    state = ConsoleState(clock=lambda: 200.0)
    state.apply(received("a"))
    state.apply(QuotaReported("a", 110.0, report(0.50, 0.30)))
    # A later report names only the 5-hour window: the weekly one is kept, not forgotten.
    state.apply(QuotaReported("", 120.0, report(0.62, overage=None)))
    # A late report (older `at`) never overwrites a newer state.
    state.apply(QuotaReported("gone", 115.0, report(0.55, overage=True)))
    snapshot = state.quota.snapshot()
    assert [(w.name, w.utilization) for w in snapshot.windows] == [("five_hour", 0.62), ("seven_day", 0.30)]
    assert snapshot.bucket == "extra usage"  # the latest report that said (the poll did not)
    assert state.get("a").quota.window("five_hour").utilization == 0.50  # the window after that request
    points = list(state.quota.points)
    assert [(p.window, p.exchange_id, p.delta) for p in points] == [
        ("five_hour", "a", None), ("seven_day", "a", None), ("five_hour", "", pytest.approx(0.12)), ("five_hour", "gone", pytest.approx(-0.07)),
    ]
    assert state.take_changes().quota


def test_a_poll_after_a_warning_keeps_the_warning_in_the_header_as_in_health():
    """A `get_usage` poll names every window but no status or threshold: within the same
    period the console keeps what the request's report said, as the engine's /health does."""
    from tui_proxy.quota.latest import LatestQuota

    state, latest = ConsoleState(clock=lambda: 200.0), LatestQuota(clock=lambda: 200.0)
    warned = QuotaReported("a", 110.0, report(0.91, status="allowed_warning", threshold=0.9))
    poll = QuotaReported("", 120.0, QuotaReport(windows=(QuotaWindow("five_hour", 0.93, 5000.0 + 30),), source="get_usage"))
    for event in (warned, poll):
        state.apply(event)
        latest(event)
    shown = state.quota.snapshot().windows[0]
    assert (shown.utilization, shown.status, shown.surpassed_threshold) == (0.93, "allowed_warning", 0.9)
    assert shown == latest.windows["five_hour"].window
    next_period = QuotaReported("", 130.0, QuotaReport(windows=(QuotaWindow("five_hour", 0.02, 5000.0 + 18000),), source="get_usage"))
    state.apply(next_period)
    assert state.quota.snapshot().windows[0].status is None  # a new period: the old warning no longer holds


def test_retry_marks_the_request_until_the_model_answers_again():
    state = ConsoleState(clock=lambda: 200.0)
    state.apply(received("r"))
    state.apply(received("q"))
    state.apply(CliSpawned("r", 101.0, argv=("claude",), pid=1, stdin="", cwd="/"))
    state.apply(retry("r", 102.0))
    view = state.get("r")
    assert view.retrying and fmt.status_label(view) == "retry"
    assert fmt.status_label(state.get("q")) == "queued" and state.get("q").queued
    counts = state.live_counts()
    assert (counts.in_flight, counts.queued, counts.retrying) == (2, 1, 1)
    state.apply(CliStdout("r", 102.1, lines=('{"type":"system","subtype":"api_retry","attempt":6}',)))
    assert view.retrying  # the retry line itself is no answer
    state.apply(CliStdout("r", 104.0, lines=('{"type":"stream_event","event":{"type":"message_start"}}',)))
    assert not view.retrying and view.retries_total == 1
    state.apply(retry("r", 105.0, attempt=1))
    state.apply(TokenDelta("r", 106.0, kind="text", text="hi"))
    assert not view.retrying and fmt.status_label(view) == "live" and view.retries_total == 2


def test_retry_texts_count_down_and_fit_narrow_cells():
    state = ConsoleState()
    state.apply(received("r", at=100.0))
    state.apply(retry("r", 110.0, attempt=5, delay_ms=9_700.0))
    view = state.get("r")
    texts = fmt.retry_texts(view, 110.0)
    assert texts[1] == "retry 5/10 · 529 overloaded · next in 9.7 s"
    assert fmt.retry_texts(view, 112.5)[1] == "retry 5/10 · 529 overloaded · next in 7.2 s"
    assert fmt.retry_texts(view, 120.0)[1] == "retry 5/10 · 529 overloaded · retrying now"
    assert texts[0].endswith("waiting 10.0s")
    assert min(len(t) for t in texts) <= 16  # something always fits a narrow row


def test_counts_costs_and_countdowns_format_in_fixed_widths():
    assert [fmt.count(n) for n in (950, 12_345, 123_456, 4_100_000)] == ["950", "12.3k", "123k", "4.1M"]
    assert [fmt.cost(c) for c in (None, 0.0004, 0.0041, 0.0346, 1.5, 12.34)] == ["-", "<$.001", "$0.004", "$0.035", "$1.50", "$12.3"]
    assert fmt.countdown(72 * 60 + 5) == "1h 12m" and fmt.countdown(72 * 60 + 5, compact=True) == "1h12m"
    assert fmt.countdown(3 * 86400 + 4 * 3600 + 60) == "3d 4h" and fmt.countdown(42) == "42s"


# -- the header ----------------------------------------------------------------------------------


def header(quota_state: ConsoleState, now: float, width: int, **overrides) -> Text:
    values = dict(url="http://127.0.0.1:3456", listen_error=None, cli_version="2.1.328", cli_found=True, cli_logged_in=True, cli_auth="claude.ai max",
                  running=3, totals=Totals(10, 3, 4000, 1800), per_minute=10.0, queued=1, retrying=1, quota=quota_state.quota.snapshot(), now=int(now))
    values.update(overrides)
    return render_header(HeaderInfo(**values), width)


def warning_state() -> ConsoleState:
    state = ConsoleState()
    resets = 1000.0 + 72 * 60 + 30
    state.apply(QuotaReported("", 990.0, report(0.93, 0.41, status="allowed_warning", threshold=0.9, resets=resets)))
    return state


def test_header_gauges_condense_at_80_columns_and_spread_when_wide():
    state = warning_state()
    narrow = header(state, 1000.0, 80)
    status, quota = narrow.plain.split("\n")
    assert len(status) <= 80 and len(quota) <= 80
    # Two windows still fit with words at 80 columns; fewer columns condense them.
    assert quota == " 5h ▇▇▇▇▇▇▇▇▇░ 93% resets in 1h 12m · 7d ▇▇▇▇░░░░░░ 41% resets in 14h 35m · plan"
    assert header(state, 1000.0, 60).plain.split("\n")[1] == " 5h ▇▇▇▇▇▇▇▇▇░ 93% 1h12m · 7d ▇▇▇▇░░░░░░ 41% 14h35m · plan"
    assert header(state, 1000.0, 40).plain.split("\n")[1] == " 5h ▇▇▇▇▇▇▇▇▇░ 93% 1h12m · 7d 41% · plan"
    assert header(state, 1000.0, 30).plain.split("\n")[1] == " 5h 93% 1h12m · 7d 41% · plan"
    assert "1 q'd" in status or "1 queued" in status
    assert "1 retry" in status
    wide = header(state, 1000.0, 200)
    status, quota = wide.plain.split("\n")
    assert "3 running · 1 queued · 1 retrying" in status
    # 20 cells: 93 % fills 18 of them (rounded down: a full bar means used up), 41 % fills 8.
    assert f"5h {'▇' * 18}{'░' * 2} 93% resets in 1h 12m" in quota and "billed to plan" in quota
    assert f"7d {'▇' * 8}{'░' * 12} 41% resets in 14h 35m" in quota


def test_header_colours_warn_past_the_threshold_and_refuse_in_red():
    state = warning_state()
    text = header(state, 1000.0, 200)
    five_hour = text.plain.index("93%")
    styles = {str(span.style) for span in text.spans if span.start <= five_hour < span.end}
    assert "bold yellow" in styles
    week = text.plain.index("41%")
    assert not any("yellow" in str(s.style) or "red" in str(s.style) for s in text.spans if s.start <= week < s.end)
    state.apply(QuotaReported("", 995.0, QuotaReport(status="rejected", limit_type="five_hour", windows=(QuotaWindow("five_hour", 1.0, 1500.0, "rejected"),), using_overage=True)))
    text = header(state, 1000.0, 200)
    at = text.plain.index("100%")
    assert "bold red" in {str(s.style) for s in text.spans if s.start <= at < s.end}
    assert "100% limit" in text.plain and "billed to extra usage" in text.plain
    # A window whose reset passed says so instead of a stale figure.
    assert "5h reset since" in header(state, 2000.0, 200).plain


def test_header_before_any_report_says_so():
    text = header(ConsoleState(), 1000.0, 80, quota=None)
    assert text.plain.split("\n")[1] == " quota  not reported yet: the CLI reports the plan's windows with each answer"
    assert header(ConsoleState(), 1000.0, 40, quota=None).plain.split("\n")[1] == " quota  not reported yet"


# -- the statistics -----------------------------------------------------------------------------


def test_stats_from_the_session_and_the_capture_history():
    state = ConsoleState(clock=lambda: demo.SCENE_CLOCK)
    bus = EventBus()
    bus.subscribe(state.apply)
    play_scene(bus)
    session = [s for v in state if (s := sample_from_view(v)) is not None]
    history = [s for summary in history_summaries() if (s := sample_from_summary(summary)) is not None]
    stats = build_stats(merge(session, history), list(state.quota.points))
    assert stats.session == 6 and stats.history == 240
    by_model = {row.model: row for row in stats.models}
    sonnet = by_model["claude-sonnet-4-5"]
    # The scene's two finished sonnet-4-5 answers said their cache reads (1650 + 1210) and cost.
    assert sonnet.cached == 2860 and sonnet.cache_known == 2 and sonnet.cost_usd == pytest.approx(0.0130)
    assert sonnet.with_usage == 2 + sum(1 for s in history if s.model == "claude-sonnet-4-5" and s.tokens_in is not None)
    assert sonnet.requests == 2 + sum(1 for s in history if s.model == "claude-sonnet-4-5")
    assert stats.requests.bucket_seconds == 60 and sum(stats.requests.values) == 246
    assert sum(stats.errors.values) == sum(1 for s in merge(session, history) if s.failed)
    assert list(stats.quota_lines["five_hour"].values) == [88.0, 91.0, 91.0, 92.0, 94.0, 95.0]
    assert stats.quota_lines["five_hour"].statuses[-1] == "allowed_warning"
    newest = stats.quota_points[0]
    assert (newest.exchange_id, newest.window) == (demo.STREAMING, "seven_day")


def test_history_points_join_the_sessions_on_one_timeline_with_changes_worked_out_again():
    def point(at, exchange_id, utilization, delta=None):
        return QuotaPoint(at, "five_hour", utilization, "allowed", exchange_id, delta)

    history = [point(10, "old-1", 0.50), point(20, "old-2", 0.55), point(30, "live-1", 0.60)]
    session = [point(30, "live-1", 0.60), point(40, "live-2", 0.70, delta=0.10)]
    merged = merge_points(history, session)
    # The session's own point wins for an exchange both know; deltas run over the whole line.
    assert [(p.exchange_id, p.utilization) for p in merged] == [("old-1", 0.50), ("old-2", 0.55), ("live-1", 0.60), ("live-2", 0.70)]
    assert [None if p.delta is None else round(p.delta, 2) for p in merged] == [None, 0.05, 0.05, 0.10]


def test_bar_lines_scale_from_zero_not_from_their_smallest_value():
    # Textual's Sparkline draws one value as a full bar; 41 % of 100 is under half of two rows.
    assert bar_rows([41.0], 2, 0.0, 100.0) == [[" "], ["▇"]]
    assert bar_rows([0.0, 100.0], 1, 0.0, 100.0) == [[" ", "█"]]
    assert bar_rows([0.5], 1, 0.0, 100.0) == [["▁"]]  # above the floor: always visible
    assert columns([1.0, 3.0, 2.0, 8.0], 2) == [(2.0, 1), (5.0, 3)]
    assert columns([1.0, 3.0, 2.0, 8.0], 2, "max") == [(3.0, 1), (8.0, 3)]


# -- the console (Pilot) ------------------------------------------------------------------------------


def row_of(app, exchange_id: str) -> list[str]:
    return app.table.get_row_at(app.table.get_row_index(exchange_id))


def header_text(app) -> str:
    return static_text(app.query_one(StatusHeader))


async def test_demo_rows_show_retry_queue_cost_quota_and_extra_usage():
    app = make_demo_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await stage(pilot, select=demo.RETRYING)
        keys = [c.key for c in COLUMNS]
        done = dict(zip(keys, row_of(app, demo.DONE_WITH_THINKING)))
        assert (done["cost"], done["quota"], done["cache"]) == ("$0.004", "5h 88%", "90%")
        tools = dict(zip(keys, row_of(app, demo.TOOL_CALLS)))
        assert (tools["cost"], tools["quota"]) == ("$0.009", "extra")
        assert dict(zip(keys, row_of(app, demo.QUEUED)))["status"] == "queued"
        retrying = row_of(app, demo.RETRYING)
        assert retrying[5] == "retry 5/10 · 529 overloaded · next in 9.7 s · waiting 12.0s"
        assert len(retrying) == 6  # the story runs over the rest of the row
        text = header_text(app)
        assert "1 queued · 1 retrying" in text
        quota = text.splitlines()[1]
        # 160 columns: the 5-hour window gets the room, the weekly ones short gauges.
        assert f" 5h {'▇' * 15}░ 95% resets in 1h 12m · 7d ▇▇▇░░░░░ 41% 3d4h · 7d opus ▇░░░░░░░ 12% 3d4h" in quota
        assert quota.endswith("7d sonnet ▇▇▇░░░░░ 38% 3d4h · plan")
        panel = app.query_one(TokensPanel).plain
        assert "529b0a · opus · retry 5/10 · 529 overloaded · next in 9.7 s" in panel
        assert "the CLI retries (attempt 5 of 10, next in 9.7 s)" in panel


async def test_the_80x24_header_fits_and_the_retry_cell_condenses():
    app = make_demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await stage(pilot, select=demo.RETRYING)
        status, quota = header_text(app).splitlines()
        assert len(status.rstrip()) <= 80 and len(quota.rstrip()) <= 80
        assert quota.rstrip() == " 5h ▇▇▇▇▇▇▇▇▇░ 95% 1h12m · 7d 41% · 7d opus 12% · 7d sonnet 38% · plan"
        assert "1 retry" in status and "1 q'd" in status
        assert row_of(app, demo.RETRYING)[5] == "retry 5/10 · 529 overloaded · next in 9.7 s · waiting 12.0s"  # the cell's full text
        strip = app.table.render_line(app.table.get_row_index(demo.RETRYING) + 1 - int(app.table.scroll_y))
        assert "retry 5/10 · 529 overloaded 9.7s" in strip.text  # what fits there


async def test_countdowns_tick_with_the_flush_alone():
    now = [demo.SCENE_CLOCK]
    app = make_app(Config(port=3456), engine=DemoEngine(), clock=lambda: now[0])
    async with app.run_test(size=(160, 45)) as pilot:
        await stage(pilot, select=demo.RETRYING)
        assert "next in 9.7 s" in row_of(app, demo.RETRYING)[5]
        assert "resets in 1h 12m" in header_text(app)
        now[0] += 2.5
        app.flush()
        await pilot.pause()
        assert "next in 7.2 s" in row_of(app, demo.RETRYING)[5]
        now[0] += 60
        app.flush()
        await pilot.pause()
        assert "retrying now" in row_of(app, demo.RETRYING)[5] and "resets in 1h 11m" in header_text(app)
        # One timer (the app's flush) drives every countdown: the list and header hold none.
        assert not app.table._timers and not app.query_one(StatusHeader)._timers


async def test_detail_shows_cost_window_bucket_and_retries():
    app = make_demo_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await stage(pilot, select=demo.TOOL_CALLS)
        await press_and_draw(pilot, "enter", "5")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        title = static_text(screen.query_one("#detail-title"))
        assert "$0.009" in title and "5h 94%" in title and "extra usage" in title
        body = static_text(screen.query_one("#timings-body"))
        assert "cache read" in body and "1.2k" in body and "75% of the prompt" in body
        assert "plan windows after this request" in body and "allowed_warning" in body and "passed 90%" in body
        assert "billed to: extra usage" in body
        await pilot.press("escape")
        await stage(pilot, select=demo.RETRYING, scene=False)
        await press_and_draw(pilot, "enter", "5")
        body = static_text(app.screen.query_one("#timings-body"))
        assert "upstream retries by the CLI (5)" in body and "5/10" in body and "11.5s" in body


async def wait_ready(pilot, screen, timeout: float = 15.0) -> None:
    await settle(pilot, lambda: screen.ready, timeout)


async def test_stats_screen_shows_the_figures_and_enter_opens_the_request():
    app = make_demo_app(history=True)
    async with app.run_test(size=(150, 50)) as pilot:
        await stage(pilot)
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await wait_ready(pilot, screen)
        title = static_text(screen.query_one("#stats-title"))
        assert "6 finished requests this session, 240 from the capture history" in title
        assert "time to first token" in static_text(screen.query_one("#ttft-label"))
        assert "requests per minute" in static_text(screen.query_one("#requests-label"))
        models = screen.query_one("#stats-models")
        rows = {str(models.get_row_at(i)[0]): [str(c) for c in models.get_row_at(i)] for i in range(models.row_count)}
        assert rows["claude-sonnet-4-5"][4].startswith("2.9k")  # cache reads of the answers that said
        points = screen.query_one("#quota-points")
        first = [str(c) for c in points.get_row_at(0)]
        assert first[1:4] == ["7d", "41%", "+0%"] and first[5].startswith("f1f1f1")
        # Pick the tool-calls request's 5-hour point (it drew from extra usage) and open it.
        await pilot.press("tab")
        target = next(i for i in range(points.row_count) if str(points.get_row_at(i)[5]).startswith("7001ca") and str(points.get_row_at(i)[1]) == "5h")
        assert str(points.get_row_at(target)[6]) == "extra usage" and str(points.get_row_at(target)[3]) == "+2%"
        points.move_cursor(row=target)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.view.id == demo.TOOL_CALLS
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StatsScreen)  # back where the user was


async def test_stats_screen_is_in_the_palette_and_the_help():
    app = make_demo_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await stage(pilot)
        app.action_help()
        await pilot.pause()
        from tests.tui_fixtures import plain

        assert "console.stats" in plain(app.screen.query_one("Static").content, width=140)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"statistics")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, StatsScreen))


# -- the real engine: events published on its bus while real requests run --------------------------


pytestmark_engine = pytest.mark.usefixtures("fake_claude_env")


@pytestmark_engine
async def test_a_request_retrying_upstream_shows_it_until_tokens_arrive(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        request = asyncio.ensure_future(post_chat(app, "[[fake:text ttft_ms=6000 chunks=3]] hi"))
        await settle(pilot, lambda: (v := app.state.newest) is not None and v.spawned_at is not None)
        exchange_id = app.state.newest.id
        app.engine.bus.publish(retry(exchange_id, app.clock(), attempt=2, delay_ms=8_000.0))
        await settle(pilot)
        cell = row_of(app, exchange_id)[5]
        assert cell.startswith("retry 2/10 · 529 overloaded · next in ") and "waiting" in cell
        assert "1 retrying" in header_text(app)
        left = float(cell.split("next in ")[1].split(" s")[0])
        # The countdown ticks with the flush (bounded wait for the next tenth of a second).
        await settle(pilot, lambda: float(row_of(app, exchange_id)[5].split("next in ")[1].split(" s")[0]) < left, timeout=5)
        status, _, _ = await asyncio.wait_for(request, 30)
        assert status == 200
        await settle(pilot, lambda: not app.state.get(exchange_id).in_flight)
        row = row_of(app, exchange_id)
        assert row[5] == "200" and "retrying" not in header_text(app)
        assert app.state.get(exchange_id).retries_total == 1


@pytestmark_engine
async def test_a_finished_request_shows_its_window_cost_and_bucket(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        status, exchange_id, _ = await post_chat(app, "[[fake:text]] hi")
        assert status == 200
        await settle(pilot, lambda: not app.state.get(exchange_id).in_flight)
        now = app.clock()
        # Later than anything the run itself reported, so it is the state after the request.
        app.engine.bus.publish(QuotaReported(exchange_id, now + 1, report(0.93, 0.41, status="allowed_warning", threshold=0.9, resets=now + 72 * 60 + 30, overage=True)))
        await settle(pilot)
        row = dict(zip([c.key for c in COLUMNS], row_of(app, exchange_id)))
        assert row["quota"] == "extra"
        text = header_text(app)
        assert "93%" in text and "resets in 1h 12m" in text and "billed to extra usage" in text
        view = app.state.get(exchange_id)
        assert view.extra_usage is True and fmt.quota_window_text(view) == "5h 93%"


@pytestmark_engine
async def test_a_report_whose_request_left_the_list_opens_it_from_the_capture_store(tmp_path):
    app = console_app(tmp_path, capture=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        status, exchange_id, _ = await post_chat(app, "[[fake:text]] hi")
        assert status == 200
        await settle(pilot, lambda: not app.state.get(exchange_id).in_flight)
        app.engine.bus.publish(QuotaReported(exchange_id, app.clock() + 1, report(0.5, 0.2)))
        app.state.clear()  # `z`: the row leaves the list, the report stays
        await settle(pilot)
        assert app.state.get(exchange_id) is None
        await pilot.press("s")
        screen = app.screen
        await wait_ready(pilot, screen)
        points = screen.query_one("#quota-points")
        row = next(i for i in range(points.row_count) if str(points.get_row_at(i)[5]).startswith(exchange_id.rsplit("-", 1)[-1][:6]))
        await pilot.press("tab")
        points.move_cursor(row=row)
        # The store commits in batches: wait until the exchange is there to read back.
        await settle(pilot, lambda: app.engine.store.get(exchange_id) is not None)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.view.id == exchange_id and app.screen.view.usage is not None
