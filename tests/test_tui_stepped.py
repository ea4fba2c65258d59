"""Screens drawn in steps (tui/screens/stepped.py): a screen that is mostly new is painted
in bands over several turns of the loop, and what it shows is the same."""

from __future__ import annotations

from textual.geometry import Size

from tui_proxy.tui import demo
from tui_proxy.tui.demo import make_demo_app, stage
from tui_proxy.tui.screens import stepped


def paint_all(screen) -> None:
    """Mark the whole screen as changed and paint: its first band now, the rest later."""
    screen._compositor._dirty_regions.add(screen._compositor.size.region)
    screen._compositor_refresh()


async def test_a_whole_screen_is_painted_in_bands_one_turn_each():
    app = make_demo_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await stage(pilot, select=demo.STREAMING, panel="tokens")
        screen = app.screen
        band = 48 // stepped.BANDS
        paint_all(screen)
        # The top band is painted; the rest waits for the next turns of the loop.
        assert not screen._compositor._dirty_regions
        assert min(r.y for r in screen._unpainted) == band and max(r.bottom for r in screen._unpainted) == 48
        turns = 0
        while screen._unpainted and turns < 100:
            await pilot.pause(0)
            turns += 1
        assert not screen._unpainted and turns >= 1


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
