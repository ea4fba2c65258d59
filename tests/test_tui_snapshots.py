"""Snapshot tests of the console (pytest-textual-snapshot): the demo scene, a fixed
clock and fixed ids, so every SVG is stable. Plain `def`: snap_compare runs its own loop.

Update after a deliberate change: pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import time

import pytest

from tui_proxy.tui import demo
from tui_proxy.tui.demo import DemoCliStatus, make_demo_app, press_and_draw, scene_replay_diff, stage
from tui_proxy.tui.screens.replay_diff import ReplayDiffScreen
from tests.tui_fixtures import utc_clock  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _utc(utc_clock):
    """Every test here reads times in UTC."""


def staged(select=None, panel=None, scene=True, keys=()):
    async def run_before(pilot) -> None:
        await stage(pilot, select=select, panel=panel, scene=scene)
        await press_and_draw(pilot, *keys)

    return run_before


def test_main_screen(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(150, 40), run_before=staged(demo.DONE_WITH_THINKING, "tokens"))


def test_main_screen_streaming_row(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(150, 40), run_before=staged(demo.STREAMING, "tokens"))


def test_cli_panel(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(150, 40), run_before=staged(demo.DONE_WITH_THINKING, "cli"))


def test_errors_panel(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(150, 40), run_before=staged(demo.RATE_LIMITED, "errors"))


def test_tool_calls_in_the_tokens_panel(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(150, 40), run_before=staged(demo.TOOL_CALLS, "tokens"))


def test_replay_diff_screen(snap_compare):
    async def run_before(pilot) -> None:
        await stage(pilot, select=demo.DONE_WITH_THINKING)
        await pilot.app.push_screen(ReplayDiffScreen(scene_replay_diff(pilot.app)))
        await pilot.pause()

    assert snap_compare(make_demo_app(), terminal_size=(130, 40), run_before=run_before)


def test_terminal_80x24(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(80, 24), run_before=staged(demo.STREAMING, "tokens"))


@pytest.mark.parametrize(
    "tab, key, exchange",
    [
        ("request", "1", demo.NOT_STREAMING),
        ("response", "2", demo.DONE_WITH_THINKING),
        ("stream", "3", demo.DONE_WITH_THINKING),
        ("cli", "4", demo.DONE_WITH_THINKING),
        ("timings", "5", demo.DONE_WITH_THINKING),
        ("error", "6", demo.RATE_LIMITED),
        ("response-tool-calls", "2", demo.TOOL_CALLS),
    ],
)
def test_detail_tab(snap_compare, tab, key, exchange):
    assert snap_compare(make_demo_app(), terminal_size=(130, 40), run_before=staged(exchange, keys=("enter", key)))


def test_error_state_port_in_use_and_logged_out(snap_compare):
    app = make_demo_app(start_error=OSError(98, "Address already in use"), cli_status=DemoCliStatus(logged_in=False))
    assert snap_compare(app, terminal_size=(100, 24), run_before=staged(scene=False))


def test_help_screen(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(130, 40), run_before=staged(), press=["question_mark"])


def test_filtered_list(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(120, 30), run_before=staged(), press=["slash", *"status>=400", "enter"])


def test_quota_header_and_retrying_row_wide(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(160, 45), run_before=staged(demo.RETRYING, "tokens"))


def test_quota_header_and_retrying_row_80x24(snap_compare):
    assert snap_compare(make_demo_app(), terminal_size=(80, 24), run_before=staged(demo.RETRYING, "tokens"))


def test_statistics_screen(snap_compare):
    assert snap_compare(make_demo_app(history=True), terminal_size=(150, 50), run_before=staged(keys=("s",)))
