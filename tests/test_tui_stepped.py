"""Screens drawn in steps (tui/screens/stepped.py): a big update is painted in parts over
several turns of the loop, and what it shows is the same."""

from __future__ import annotations

import asyncio

from textual.geometry import Region, Size
from textual.widget import Widget

from tui_proxy.tui import demo
from tui_proxy.tui.demo import make_demo_app, stage
from tui_proxy.tui.screens import stepped


def paint_all(screen) -> None:
    """Mark the whole screen as changed and paint: its top rows now, the rest later."""
    screen._compositor._dirty_regions.add(screen._compositor.size.region)
    screen._compositor_refresh()


async def test_a_whole_screen_is_painted_in_bands_one_turn_each():
    app = make_demo_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await stage(pilot, select=demo.STREAMING, panel="tokens")
        screen = app.screen
        band = stepped.TURN_CELLS // 160
        paint_all(screen)
        # The top rows are painted; the rest waits for the next turns of the loop.
        assert not screen._compositor._dirty_regions
        assert min(r.y for r in screen._unpainted) == band and max(r.bottom for r in screen._unpainted) == 48
        tops = []
        while screen._unpainted and len(tops) < 100:  # each turn paints the next rows
            tops.append(min(r.y for r in screen._unpainted))
            screen._paint_next_turn()
        assert tops == list(range(band, 48, band))
        await pilot.pause()
        assert not screen._unpainted and not screen._compositor._dirty_regions


async def test_a_part_renders_only_its_own_rows_of_each_widget(monkeypatch):
    """Seen in bench/ui_load.py: a part two rows high across the requests table made Textual
    draw every changed row of the table (10 ms), so a paint in parts cost the whole paint in
    its first part. The rows left out are drawn by the parts that cover them."""
    app = make_demo_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await stage(pilot, select=demo.STREAMING, panel="tokens")
        screen = app.screen
        visible = dict(screen._compositor.visible_widgets)
        for widget in visible:
            widget._styles_cache.clear()  # every line of every widget to draw again
        drawn: dict[Widget, list[int]] = {}  # screen rows each widget drew

        def render_lines(widget, crop):
            region, _ = visible[widget]
            drawn.setdefault(widget, []).extend(region.y + crop.y + row for row in range(crop.height))
            return original(widget, crop)

        original = Widget.render_lines
        monkeypatch.setattr(Widget, "render_lines", render_lines)
        band = stepped.TURN_CELLS // 160
        paint_all(screen)
        assert drawn and all(row < band for rows in drawn.values() for row in rows)
        for _ in range(100):  # bounded: the rest, a part per turn
            if not screen._unpainted:
                break
            screen._paint_next_turn()
        for widget, (region, clip) in visible.items():
            shown = region.intersection(clip)
            if shown.area and not widget.BLANK:
                assert sorted(drawn[widget]) == list(shown.line_range), widget  # each row once


async def test_one_part_is_painted_per_turn_even_when_the_update_timer_paints_meanwhile():
    """Seen in bench/ui_load.py: three parts painted in one turn of the loop (21 ms) when
    the update timer painted while a part was queued, each paint queueing its own turn."""
    app = make_demo_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await stage(pilot, select=demo.STREAMING, panel="tokens")
        screen = app.screen
        turns = []
        paint_next_turn = screen._paint_next_turn
        screen._paint_next_turn = lambda: (turns.append(1), paint_next_turn())
        paint_all(screen)  # a part now, a turn queued for the next
        paint_all(screen)  # the update timer paints meanwhile: its part now, the rest in that same turn
        await asyncio.sleep(0)  # one turn of the loop
        assert len(turns) == 1
        assert screen._unpainted  # the rest still waits, one part per turn


def test_changes_far_apart_are_painted_apart_not_as_the_box_around_them():
    """Textual renders every widget across the box around all the changed regions: a header
    cell, a row and a status line changed together made it render most of the screen."""
    header, row, status = Region(150, 0, 10, 1), Region(0, 20, 200, 1), Region(0, 49, 200, 1)
    now, later = stepped.plan_paint([status, header, row], 200)
    assert now == [[header], [row], [status]] and not later  # three boxes of 810 cells in all


def test_parts_are_painted_from_the_top_within_a_budget_per_turn():
    rows = [Region(0, y, 200, 1) for y in range(0, 50, 5)]  # ten rows apart, 2,000 cells
    now, later = stepped.plan_paint(rows, 200, budget=1_000)
    assert now == [[region] for region in rows[:5]] and later == rows[5:]
    touching = [Region(0, 10, 200, 3), Region(40, 12, 20, 4), Region(0, 30, 200, 1)]
    now, later = stepped.plan_paint(touching, 200, budget=1_300)
    assert now == [touching[:2]] and later == touching[2:]  # rows 10-15 make one box of 1,200 cells


def test_one_change_bigger_than_the_budget_is_cut_to_its_top_rows():
    whole = Region(0, 0, 200, 50)
    now, later = stepped.plan_paint([whole], 200, budget=1_000)
    assert now == [[Region(0, 0, 200, 5)]] and later == [Region(0, 5, 200, 45)]
    narrow = Region(10, 8, 3, 900)  # a box narrower than the budget: at least one row each turn
    now, later = stepped.plan_paint([narrow], 200, budget=1_000)
    assert now == [[Region(10, 8, 3, 333)]] and later == [Region(10, 341, 3, 567)]


async def test_a_resize_between_two_bands_paints_the_rest_within_the_new_size():
    """Seen in tmux: the stats screen closed at 200x50, the window shrunk to 80x24 before the
    console's bottom bands were painted, and the paint failed (rows past the new edge)."""
    app = make_demo_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await stage(pilot, select=demo.STREAMING, panel="tokens")
        screen = app.screen
        paint_all(screen)
        assert any(region.bottom > 24 for region in screen._unpainted)
        screen._compositor.reflow(screen, Size(80, 24))  # what the resize does first
        screen._paint_next_turn()  # raised IndexError before
        assert all(region.bottom <= 24 for region in screen._compositor._dirty_regions)


async def test_bands_left_when_another_screen_covers_this_one_wait_for_it_and_fit_a_new_size():
    app = make_demo_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await stage(pilot, select=demo.STREAMING, panel="tokens")
        console = app.screen
        paint_all(console)
        app.action_stats()  # the statistics cover it before its next band
        console._paint_next_turn()
        assert console._unpainted  # not merged into a covered screen's paint
        await pilot.pause()
        assert console._unpainted
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("escape")
        for _ in range(100):  # bounded: shown again, it paints what was left, within 80x24
            if not console._unpainted and app.screen is console:
                break
            await pilot.pause(0.01)
        assert app.screen is console and not console._unpainted
        assert all(region.bottom <= 24 and region.right <= 80 for region in console._compositor._dirty_regions)
