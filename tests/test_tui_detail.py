"""The detail view of big exchanges: built in slices of the loop, drawn only where visible,
searchable, wrapping or scrolling sideways."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from textual.widgets._footer import FooterKey

from tui_proxy.tui import documents
from tui_proxy.tui.screens.detail import DetailScreen
from tui_proxy.tui.widgets import text_lines
from tui_proxy.tui.exchange_view import ExchangeView
from tui_proxy.tui.widgets.text_lines import TextLines

from tests.tui_fixtures import console_app, detail_text, settle

pytestmark = pytest.mark.usefixtures("fake_claude_env")

SIZE = (120, 30)

#: As agent clients send them: 600 messages, ~62 KB.
BIG_MESSAGES = [{"role": ("user", "assistant")[i % 2], "content": f"message {i}: " + "lorem ipsum dolor sit amet " * 3} for i in range(599)]


async def post(app, body: dict) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.post(app.engine.url + "/v1/chat/completions", json=body) as response:
            await response.read()
            assert response.status == 200
            return response.headers["x-request-id"]


def finished(app, exchange_id: str):
    return lambda: (v := app.state.get(exchange_id)) is not None and not v.in_flight


async def test_a_600_message_request_is_built_in_slices_and_drawn_only_where_visible(tmp_path, monkeypatch):
    monkeypatch.setattr(text_lines, "SLICE_SECONDS", 0.0)  # yield at every pause point, whatever the machine's speed
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        messages = BIG_MESSAGES + [{"role": "user", "content": "[[fake:text]] and so?"}]
        exchange_id = await post(app, {"model": "sonnet", "messages": messages})
        await settle(pilot, finished(app, exchange_id))
        assert len(app.state.get(exchange_id).body) > 60_000

        ticks = 0
        seen: set[str] = set()

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                seen.add(document.plain)
                await asyncio.sleep(0)

        app.push_screen(DetailScreen(app.state.get(exchange_id)))
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen._widgets_live)
        screen = app.screen
        document = screen.query_one("#request-body", TextLines)
        document.set_lines([])
        screen.refresh_view(app.clock(), force=True)
        task = asyncio.ensure_future(ticker())
        await settle(pilot, lambda: screen.ready)
        task.cancel()
        # The loop ran other work while the conversation was being built, and meanwhile
        # the tab said so rather than looking empty.
        assert ticks > 10
        assert "Loading…" in seen

        shown = document.plain
        assert shown.count("▌ user") == 301 and shown.count("▌ assistant") == 299
        assert "message 598: lorem" in shown
        # Only what is on screen was ever rendered.
        assert len(document.lines) > 1000 and 0 < len(document._strips) <= SIZE[1]


def test_a_5_mb_string_is_pretty_printed_with_pause_points_and_a_line_is_cut_to_the_screen():
    huge = json.dumps({"choices": [{"message": {"content": "lorem ipsum " * 420_000}}]})
    produced = list(documents.json_lines(huge, None))
    pauses = sum(1 for line in produced if line is None)
    lines = [line for line in produced if line is not None]
    assert pauses >= 60  # one per 64 KB piece of the 5 MB string
    assert "\n".join(lines) == json.dumps(json.loads(huge), indent=2, ensure_ascii=False)


async def test_search_n_and_N_move_between_matches_and_w_wraps_long_lines(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        messages = BIG_MESSAGES[:200] + [{"role": "user", "content": "[[fake:text]] needle " + "x" * 500 + " end"}]
        exchange_id = await post(app, {"model": "sonnet", "messages": messages})
        await settle(pilot, finished(app, exchange_id))
        await pilot.press("enter")
        await detail_text(pilot, "request")
        screen = app.screen
        document = screen.query_one("#request-body", TextLines)

        await pilot.press("slash", *"message 15", "enter")
        await settle(pilot, lambda: document.matches)
        # message 15, 150..159 in the conversation, and the same in the JSON body
        first = document.matches[document.current_match]
        assert "message 15" in document.plain.split("\n")[first]
        assert document.scroll_y <= first < document.scroll_y + document.scrollable_content_region.height
        await pilot.press("n")
        second = document.matches[document.current_match]
        assert second > first
        await pilot.press("N")
        assert document.matches[document.current_match] == first

        long_line = next(i for i, line in enumerate(document.plain.split("\n")) if "x" * 500 in line)
        assert document.virtual_size.width > 500  # scrolls sideways
        await pilot.press("w")
        await pilot.pause()
        assert document.wrap and document.virtual_size.width <= SIZE[0]
        assert document._row_of_line(long_line + 1) - document._row_of_line(long_line) >= 500 // SIZE[0]


async def test_the_detail_view_is_composed_once_and_shows_each_exchange_as_if_new(tmp_path):
    """One screen for the console's life: opening another exchange resets what the reader
    did to the last one (tab, search, wrap, load-all, scroll), and closing lets go of its lines."""
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        first = await post(app, {"model": "sonnet", "messages": BIG_MESSAGES[:100] + [{"role": "user", "content": "[[fake:text]] first needle"}]})
        second = await post(app, {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:text]] second exchange"}]})
        await settle(pilot, lambda: finished(app, first)() and finished(app, second)())
        prepared = app._detail_screen
        assert isinstance(prepared, DetailScreen) and prepared.is_mounted  # composed at start-up, not at the first open
        keys = list(prepared.query(FooterKey))
        assert keys and all(key.size.width for key in keys)  # its footer laid out already
        widgets = [prepared.query_one("#detail-tabs"), *prepared.query(TextLines)]

        app.table.move_cursor(row=app.table._order.index(first))
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen is prepared and prepared.ready)
        document = prepared.query_one("#request-body", TextLines)
        assert "first needle" in document.plain
        await pilot.press("f")
        await settle(pilot, lambda: prepared.ready)
        await pilot.press("slash", *"needle", "enter")
        await settle(pilot, lambda: document.matches)
        await pilot.press("w")
        assert document.wrap and prepared.full and document.scroll_y > 0

        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is app.screen_stack[0])
        assert prepared.query_one("#request-body", TextLines).lines == [] and prepared.view is None  # nothing kept while closed

        app.table.move_cursor(row=app.table._order.index(second))
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen is prepared and prepared.ready)
        assert prepared.view.id == second and [prepared.query_one("#detail-tabs"), *prepared.query(TextLines)] == widgets
        assert "second exchange" in document.plain and "first needle" not in document.plain
        assert not document.needle and not document.matches and not document.wrap and document.scroll_y == 0
        assert not prepared.full and not prepared.query_one("#detail-search").display
        assert prepared.active_tab == "request" and prepared.focused is prepared.query_one("#detail-tabs Tabs")

        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is app.screen_stack[0])
        app.open_detail(app.state.get(first), "error")  # as the errors panel opens one
        await settle(pilot, lambda: app.screen is prepared and prepared.ready)
        assert prepared.active_tab == "error" and prepared.view.id == first


async def test_a_screen_over_the_detail_view_leaves_it_as_it_was(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        exchange_id = await post(app, {"model": "sonnet", "messages": BIG_MESSAGES[:200] + [{"role": "user", "content": "[[fake:text]] last"}]})
        await settle(pilot, finished(app, exchange_id))
        await pilot.press("enter")
        await detail_text(pilot, "request")
        screen = app.screen
        document = screen.query_one("#request-body", TextLines)
        await pilot.press("slash", *"message 150", "enter")
        await settle(pilot, lambda: document.matches)
        lines, at = document.lines, document.scroll_y
        assert at > 0

        await pilot.press("question_mark")
        await settle(pilot, lambda: app.screen is not screen)
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is screen)
        assert document.lines is lines and document.scroll_y == at and document.needle == "message 150"


async def test_the_kept_detail_view_takes_a_theme_changed_while_it_was_closed(tmp_path):
    """Its styles are not recomputed at each open (see DetailScreen.on_screen_resume), but
    they are after a theme change: the screen kept aside must not show the old colours."""
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        exchange_id = await post(app, {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:text]] hi"}]})
        await settle(pilot, finished(app, exchange_id))
        await pilot.press("enter")
        await detail_text(pilot, "request")
        screen = app.screen
        before = screen.styles.background
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is app.screen_stack[0])

        app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
        await settle(pilot)
        main_background = app.screen.styles.background
        assert main_background != before
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen is screen and screen.ready)
        assert screen.styles.background == main_background


def test_the_request_tab_parses_its_body_once(monkeypatch):
    calls = []
    loads = documents.json.loads
    monkeypatch.setattr(documents.json, "loads", lambda raw, *a, **k: calls.append(len(raw)) or loads(raw, *a, **k))
    body = json.dumps({"model": "sonnet", "messages": BIG_MESSAGES}).encode()
    view = ExchangeView("x-1", 0.0, path="/v1/chat/completions", body=body, body_size=len(body))
    lines = [line for line in documents.request_lines(view, full=False) if line is not None]
    assert calls == [len(body)]  # once, for the conversation and the pretty body both
    plain = "\n".join(line.plain if hasattr(line, "plain") else line for line in lines)
    assert "message 598: lorem" in plain and '"role": "assistant"' in plain


async def test_a_search_match_is_highlighted_on_a_plain_line_too(tmp_path):
    """Plain ASCII lines are drawn as one segment (no rich.Text); a match on one still shows."""
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        exchange_id = await post(app, {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:text]] find the needle here"}]})
        await settle(pilot, finished(app, exchange_id))
        await pilot.press("enter")
        await detail_text(pilot, "request")
        document = app.screen.query_one("#request-body", TextLines)
        row = next(i for i, line in enumerate(document.lines) if isinstance(line, str) and "the needle" in line)
        plain_strip = document.render_line(row - int(document.scroll_y))
        assert len(list(plain_strip)) == 1  # the fast path: one segment
        await pilot.press("slash", *"needle", "enter")
        await settle(pilot, lambda: document.matches)
        strip = document.render_line(row - int(document.scroll_y))
        styled = [segment for segment in strip if segment.text.lower() == "needle"]
        assert styled and styled[0].style.bgcolor is not None


async def test_a_detail_screen_suspended_before_it_was_composed_does_not_fail(tmp_path):
    """The console composes its detail screen just after start-up; quitting at that moment
    suspended it before its widgets existed (seen once, under load, as NoMatches)."""
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE):
        screen = DetailScreen(None)
        screen.on_screen_suspend()  # never mounted: nothing to clear
        assert screen.view is None and not screen.ready


async def test_lines_drawn_at_another_width_are_let_go():
    """When the text width changes without a resize of the widget (its scroll bar comes once
    the lines overflow), every line is drawn again: the old strips are dropped, not kept
    beside the new ones until the cache fills (seen under load: twice the strips)."""
    from textual.app import App
    from textual.geometry import Region

    class Document(App):
        def compose(self):
            yield TextLines()

    app = Document()
    async with app.run_test(size=(60, 10)) as pilot:
        document = app.query_one(TextLines)
        await document.fill([f"line {i} " + "x" * 80 for i in range(50)])
        await pilot.pause()
        widths = iter((50, 49))
        document._text_width = lambda: next(widths)
        for _ in range(2):
            document._styles_cache.clear()  # Textual's own cache of drawn lines: draw them again
            document.render_lines(Region(0, 0, 50, 10))
        assert {key[2] for key in document._strips} == {49} and len(document._strips) == 10


class OneDocument:
    """An app showing one TextLines, and which of its lines are drawn (by index)."""

    @staticmethod
    def make(monkeypatch):
        from textual.app import App

        drawn: list[str] = []
        render = TextLines._render

        def counting(self, line, *args):
            drawn.append(line if isinstance(line, str) else line.plain)
            return render(self, line, *args)

        monkeypatch.setattr(TextLines, "_render", counting)

        class Document(App):
            def compose(self):
                yield TextLines()

        return Document(), drawn


async def test_a_new_document_is_drawn_ahead_in_slices_and_the_paint_draws_nothing_again(monkeypatch):
    """Shown at once, a screen of new lines was drawn in one go by the paint (10-15 ms at 200
    columns); fill draws them before they are shown, at the width they will have once the
    scroll bar comes."""
    app, drawn = OneDocument.make(monkeypatch)
    async with app.run_test(size=(60, 12)) as pilot:
        document = app.query_one(TextLines)
        await document.fill(["{"] + [f'  "key {i}": "{"x" * 30}",' for i in range(300)] + ["}"])
        ahead = list(drawn)
        assert ahead == [document.lines[i] for i in range(12)]  # the first screen (12 rows), nothing more
        await pilot.pause()
        await pilot.pause()
        assert drawn == ahead  # shown: drawn once
        assert document.scrollbars_enabled[0] and document._strips_width == document._text_width() == 60 - 2 - 1
        document.scroll_end(animate=False, immediate=True)  # what was not drawn ahead is drawn when shown
        await pilot.pause()
        assert drawn[len(ahead):] and set(drawn[len(ahead):]) <= set(document.lines[-12:])


async def test_a_live_document_that_grows_draws_only_its_new_lines(monkeypatch):
    app, drawn = OneDocument.make(monkeypatch)
    async with app.run_test(size=(60, 12)) as pilot:
        document = app.query_one(TextLines)
        lines = [f"line {i}" for i in range(40)]
        await document.fill(lines)
        await pilot.pause()
        document.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        drawn.clear()
        await document.fill(lines + ["line 40", "line 41"], keep_position=True)  # the stream went on
        await pilot.pause()
        await pilot.pause()
        assert sorted(drawn) == ["line 40", "line 41"]
        assert document.scroll_y == document.max_scroll_y  # still following the end
        drawn.clear()
        await document.fill(["changed"] + lines[1:] + ["line 40", "line 41"], keep_position=True)
        await pilot.pause()
        assert drawn == []  # the changed line is not on screen; the shown ones are the same
        await document.fill([f"other {i}" for i in range(42)], keep_position=True)
        await pilot.pause()
        assert len(drawn) == 12 and all(text.startswith("other") for text in drawn)


async def test_lines_drawn_ahead_for_the_scroll_bar_to_come_outlive_a_paint_before_it(monkeypatch):
    """Seen in bench/ui_load.py: the detail view painted a new document once at the width
    before its scroll bar came (the layout that brings it came after), which dropped the
    lines drawn ahead for the narrower width: every line was drawn twice."""
    from textual.geometry import Region

    app, drawn = OneDocument.make(monkeypatch)
    async with app.run_test(size=(60, 12)) as pilot:
        document = app.query_one(TextLines)
        lines = [f"line {i}" for i in range(100)]
        document.set_lines(lines[:3])
        await pilot.pause()
        assert not document.scrollbars_enabled[0] and document._text_width() == 58
        drawn.clear()
        await document.fill(lines)
        assert len(drawn) == 12 and document._ahead_width == 57  # drawn for the scroll bar to come
        document.render_lines(Region(0, 0, 58, 12))  # a paint before the layout: drawn at 58
        assert len(drawn) == 24
        await pilot.pause()
        await pilot.pause()
        assert document._text_width() == 57 and document._ahead_width is None
        assert len(drawn) == 24  # the paint at 57 found them
        assert {key[2] for key in document._strips} == {57}  # those at 58 let go
