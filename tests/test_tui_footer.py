"""The footer is rebuilt only when the keys it shows change (each rebuild styled, laid out
and drew ten new widgets on the loop: 20-40 ms while the proxy streams)."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from tui_proxy.tui.screens.detail import DetailScreen
from tui_proxy.tui.screens.stats import StatsScreen

from tests.tui_fixtures import console_app, post_chat, settle

pytestmark = pytest.mark.usefixtures("fake_claude_env")

SIZE = (150, 40)


def footer_keys(screen) -> list[FooterKey]:
    return list(screen.query(FooterKey))


async def test_switching_tabs_and_screens_keeps_the_footer_keys(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await post_chat(app, "[[fake:text]] fine")
        await settle(pilot, lambda: app.table.row_count == 1)
        console = app.screen
        console_keys = footer_keys(console)
        assert [key.description for key in console_keys][:3] == ["Filter", "Clear", "Sort"]

        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.ready)
        detail = app.screen
        await settle(pilot, lambda: footer_keys(detail))
        detail_keys = footer_keys(detail)
        for key in ("2", "4", "5", "1"):  # each moves the focus: a bindings update
            await pilot.press(key)
            await settle(pilot, lambda: detail.ready)
        assert footer_keys(detail) == detail_keys  # the same widgets, not rebuilt

        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is console)
        assert footer_keys(console) == console_keys


async def test_opening_the_statistics_builds_its_footer_keys_once(tmp_path, monkeypatch):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await post_chat(app, "[[fake:text]] fine")
        await settle(pilot, lambda: app.table.row_count == 1)
        made: list[FooterKey] = []
        init = FooterKey.__init__

        def counting_init(key, *args, **kwargs):
            made.append(key)
            init(key, *args, **kwargs)

        monkeypatch.setattr(FooterKey, "__init__", counting_init)
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, StatsScreen) and app.screen.ready and footer_keys(app.screen))
        for _ in range(5):  # the bindings updates that follow a screen's opening
            await pilot.pause()
        shown = footer_keys(app.screen)
        assert [key.description for key in shown][:1] == ["Back"]
        assert made == shown  # built with the screen, not again at each bindings update


async def test_the_footer_follows_keys_that_do_change(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await post_chat(app, "[[fake:text]] fine")
        await settle(pilot, lambda: app.table.row_count == 1)
        console = app.screen

        def shown() -> dict[str, str]:
            return {key.description: key.key_display for key in footer_keys(console)}

        assert shown()["Filter"] == "/"
        app.set_keymap({"console.filter": "f2"})
        await settle(pilot, lambda: shown().get("Filter") == "f2")
        app.set_keymap({})
        await settle(pilot, lambda: shown().get("Filter") == "/")
