"""Keys: what is typed after `/` goes to the box; keys that spend or destroy never fire
from a burst (a paste, a laggy link, tmux send-keys); replay asks; clear can be undone."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from tui_proxy.tui.screens.confirm import ConfirmScreen
from tui_proxy.tui.screens.detail import DetailScreen
from tui_proxy.tui.screens.replay_diff import ReplayDiffScreen

from tests.tui_fixtures import console_app, post_chat, settle
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("fake_claude_env")

SIZE = (150, 40)
NAMES = {"/": "slash", " ": "space", ">": "greater_than_sign", "=": "equals_sign"}


def burst(app, text: str) -> None:
    """Keys as a paste or tmux send-keys delivers them: all queued before the first is handled."""
    for char in text:
        app.post_message(events.Key(NAMES.get(char, char), char))


def replays_started(app) -> int:
    return sum(1 for worker in app.workers if worker.group == "replay")


async def test_keys_typed_after_slash_in_one_burst_go_to_the_filter(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await post_chat(app, "[[fake:text]] fine")
        await settle(pilot, lambda: app.table.row_count == 1)
        burst(app, "/error")
        field = app.query_one("#filter", Input)
        await settle(pilot, lambda: field.value == "error")
        assert field.has_focus and app.query_one("#inspector").active == "tokens"  # `e` did not switch panels
        assert app.screen is app.screen_stack[0] and replays_started(app) == 0  # no `r` replayed
        assert app.table.row_count == 0  # the filter applies: nothing failed


async def test_keys_typed_while_the_console_starts_reach_the_main_screen_in_order(tmp_path, monkeypatch):
    # At start-up the detail view is pushed out of sight for a moment to be composed
    # (app._prepare_detail). A burst typed just then must reach the list's filter box, not
    # the unseen detail view's search box, and in the order it was typed.
    app = console_app(tmp_path)
    mounted = DetailScreen.on_mount
    typed = []

    def typed_while_composing(screen) -> None:
        mounted(screen)
        if not typed:
            typed.append(app.screen is screen)
            burst(app, "/error")

    pop = app.pop_screen

    async def pop_once_the_keys_are_taken():
        # The app's own task takes the keys while the detail view is still the screen.
        await until(lambda: app._message_queue.empty(), "the app took the typed keys")
        return await pop()

    monkeypatch.setattr(DetailScreen, "on_mount", typed_while_composing)
    monkeypatch.setattr(app, "pop_screen", pop_once_the_keys_are_taken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app._detail_screen is not None)
        field = app.query_one("#filter", Input)
        await settle(pilot, lambda: field.value == "error")
        assert field.has_focus and app.screen is app.screen_stack[0]
        assert app.query_one("#inspector").active == "tokens"  # `e` did not switch panels
        assert typed == [True]  # typed while the detail view was the screen


async def test_search_keys_typed_after_slash_in_the_detail_view_go_to_the_search_box(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await post_chat(app, "[[fake:text]] find me")
        await settle(pilot, lambda: app.table.row_count == 1)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.ready)
        burst(app, "/find")
        box = app.screen.query_one("#detail-search", Input)
        await settle(pilot, lambda: box.value == "find")
        assert app.screen.active_tab == "request" and not app.screen.document().wrap  # `f`, no `w`... went to the box


async def test_replay_keys_in_a_burst_never_spend_and_replay_asks_first(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await post_chat(app, "[[fake:text]] once")
        await settle(pilot, lambda: app.table.row_count == 1)
        burst(app, "rry")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot)
        # The first `r` asks; the second was typed ahead (ignored), and so was the `y`:
        # the question was not on screen when it was typed.
        assert isinstance(app.screen, ConfirmScreen) and len(app.screen_stack) == 2
        assert replays_started(app) == 0 and len(app.state) == 1
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is app.screen_stack[0] and replays_started(app) == 0

        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: isinstance(app.screen, ReplayDiffScreen))
        assert len(app.state) == 2 and app.state.newest.replay_of


async def test_clear_in_a_burst_is_ignored_and_a_clear_can_be_undone(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for n in range(2):
            await post_chat(app, f"[[fake:text]] {n}")
        await settle(pilot, lambda: app.table.row_count == 2)
        burst(app, "jz")
        await settle(pilot)
        assert app.table.row_count == 2  # `z` came right behind `j`: typed ahead, not a decision

        await pilot.press("z")
        await settle(pilot)
        assert app.table.row_count == 0
        await pilot.press("u")
        await settle(pilot)
        assert app.table.row_count == 2


async def test_the_replay_diff_keeps_the_replays_ttft_for_a_non_streamed_request(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await post_chat(app, "[[fake:text]] not streamed", stream=False)
        await settle(pilot, lambda: app.table.row_count == 1)
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: isinstance(app.screen, ReplayDiffScreen))
        [ttft] = [row for row in app.screen.diff.rows if row.name == "ttft ms"]
        replay = app.state.newest
        assert replay.replay_of and replay.ttft_ms() is not None
        assert ttft.original != "-" and ttft.new != "-"  # the client saw no first token: the proxy did


async def test_help_shows_remapped_keys(tmp_path, monkeypatch):
    from tui_proxy.tui.screens.help import HelpScreen
    from tests.tui_fixtures import plain

    monkeypatch.setenv("CLAUDE_MAX_TUI_KEYMAP", "console.kill=ctrl+k")
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = plain(app.screen.query_one("Static").content, width=140)
        [kill] = [line for line in text.splitlines() if line.split()[-1:] == ["console.kill"]]
        assert kill.split()[0] == "^k", kill


async def test_copy_says_where_the_text_also_is_and_copies_answer_and_argv(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await post_chat(app, "[[fake:text]] copy me")
        await settle(pilot, lambda: app.table.row_count == 1)
        await pilot.press("y")
        saved = tmp_path / "data" / "clipboard.txt"
        assert saved.read_text() == app.clipboard and app.clipboard.startswith("curl ")
        assert oct(saved.stat().st_mode & 0o777) == "0o600"
        assert any(str(saved) in n.message for n in app._notifications)

        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("a")
        assert app.clipboard == str(app.state.newest.text) == saved.read_text()
        await pilot.press("v")
        assert app.clipboard.split()[0].endswith("claude") and "stream-json" in app.clipboard
        await pilot.press("J")
        assert app.clipboard.startswith("data: {")


async def test_the_screenshot_command_saves_beside_the_captures(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_screenshot()
        shots = list((tmp_path / "data" / "screenshots").glob("*.svg"))
        assert len(shots) == 1 and "<svg" in shots[0].read_text()[:500]
