"""Pilot tests: real requests to the console's in-app server, answered by the fake CLI,
and what each panel then shows."""

from __future__ import annotations

import asyncio
import json
import re
import socket

import aiohttp
import pytest
from textual.widgets import Static

from tui_proxy.tui.screens.confirm import ConfirmScreen
from tui_proxy.tui.screens.console import ConsoleScreen
from tui_proxy.tui.screens.detail import DetailScreen
from tui_proxy.tui.screens.help import HelpScreen
from tui_proxy.tui.screens.replay_diff import ReplayDiffScreen
from tui_proxy.tui.widgets.cli_panel import CliPanel
from tui_proxy.tui.widgets.errors_panel import ErrorsPanel
from tui_proxy.tui.widgets.problem_banner import ProblemBanner
from tui_proxy.tui.widgets.status_header import StatusHeader
from tui_proxy.tui.widgets.tokens_panel import TokensPanel

from test_tools_fake import WEATHER  # the same tool the fake CLI tests call
from tests.tui_fixtures import chat_body, detail_text, console_app, plain, post_chat, settle, sse_errors, static_text, table_rows

pytestmark = pytest.mark.usefixtures("fake_claude_env")

SIZE = (150, 45)


def tokens_text(app) -> str:
    return app.query_one(TokensPanel).plain


def finished(app, exchange_id: str):
    return lambda: (v := app.state.get(exchange_id)) is not None and not v.in_flight


async def test_a_streamed_request_fills_the_row_the_tokens_and_the_cli_panels(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = static_text(app.query_one(StatusHeader))
        assert app.engine.url.removeprefix("http://") in header and "2.1.328" in header and "logged in" in header

        status, exchange_id, body = await post_chat(app, "[[fake:thinking]] why is the sky blue?", user_agent="OpenAI/Python 1.82.0")
        assert status == 200 and exchange_id
        await settle(pilot, finished(app, exchange_id))

        [row] = table_rows(app.table)
        short = exchange_id.rsplit("-", 1)[-1][:6]
        assert row[1:6] == [short, "openai-python", row[3], "sse", "200"]
        assert row[6] != "-" and row[7] != "-" and row[9] not in ("-", "0")  # ttft, duration, tokens out
        text = tokens_text(app)
        assert "thinking" in text and "answer" in text
        view = app.state.get(exchange_id)
        assert str(view.text) and str(view.text) in text and str(view.thinking) in text

        await pilot.press("c")
        await settle(pilot)
        lines = app.query_one(CliPanel).lines
        assert lines[1].startswith("$ ") and "stream-json" in lines[1]
        assert any('"type":"result"' in line.replace(" ", "") for line in lines)
        assert lines[-1].endswith("exit 0")
        assert "1 req" in static_text(app.query_one(StatusHeader))
        raw_count = len(lines)
        await pilot.press("p")  # pretty JSON: one line becomes an indented block
        await settle(pilot)
        pretty = app.query_one(CliPanel).lines
        assert len(pretty) > raw_count and any(line.startswith(" " * 17 + '  "type"') for line in pretty)


async def test_rows_and_tokens_update_live_while_streaming(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        request = asyncio.create_task(post_chat(app, "[[fake:slow n=30 delay_ms=60]] count"))
        await settle(pilot, lambda: any(v.deltas >= 5 for v in app.state))
        view = next(iter(app.state))
        assert view.in_flight
        row = table_rows(app.table)[0]
        assert row[5] == "live" and row[6] != "-"  # status, time to first token
        partial = tokens_text(app)
        assert "live" in partial and "tok/s" in partial
        await request
        await settle(pilot, finished(app, view.id))
        assert table_rows(app.table)[0][5] == "200"
        assert len(tokens_text(app)) > len(partial) - 10


async def test_kill_ends_the_run_and_the_client_gets_a_clear_error(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        request = asyncio.create_task(post_chat(app, "[[fake:hang_after_start deltas=2]] wait", stream=True))
        await settle(pilot, lambda: any(v.deltas >= 2 for v in app.state))
        view = next(iter(app.state))
        await pilot.press("x")
        status, _, body = await asyncio.wait_for(request, 10)
        await settle(pilot, finished(app, view.id))
        assert view.returncode is not None and view.killed_because  # the child was reaped
        assert view.error is not None and view.error.source == "killed"
        errors = str(sse_errors(body) if status == 200 else body).lower()
        assert "kill" in errors or "cancel" in errors, body
        assert table_rows(app.table)[0][5] == "kill"
        # Only this exchange's row: the panel also lists warnings logged meanwhile.
        [error_row] = [r for r in table_rows(app.query_one(ErrorsPanel)) if r[1] == view.id.rsplit("-", 1)[-1][:6]]
        assert error_row[3] == "killed"
        assert app.engine.active_runs == 0


async def test_errors_panel_lists_a_cli_failure_with_status_and_why(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        status, exchange_id, body = await post_chat(app, "[[fake:not_logged_in]] hi", stream=False)
        assert status >= 400
        await settle(pilot, finished(app, exchange_id))
        await pilot.press("e")
        await settle(pilot)
        # Only this exchange's row: the panel also lists warnings logged meanwhile.
        [row] = [r for r in table_rows(app.query_one(ErrorsPanel)) if r[1] == exchange_id.rsplit("-", 1)[-1][:6]]
        assert row[2] == str(status) and row[3] == "cli"
        assert "e Errors 1" in str(app.query_one("#inspector").get_tab("errors").label)
        # enter on the error opens its detail on the error tab
        app.query_one(ErrorsPanel).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen) and app.screen.active_tab == "error"
        assert str(status) in static_text(app.screen.query_one("#error-body"))


async def test_detail_view_tabs_show_request_response_stream_cli_timings(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        status, exchange_id, _ = await post_chat(app, "[[fake:text]] hello there", stream=False)
        await settle(pilot, finished(app, exchange_id))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        request = await detail_text(pilot, "request")
        assert "POST /v1/chat/completions" in request and "▌ user" in request and "hello there" in request
        assert '"model": "sonnet"' in request
        await pilot.press("2")
        await pilot.pause()
        response = await detail_text(pilot, "response")
        assert "200" in response and f"chatcmpl-{exchange_id}" in response
        await pilot.press("3")
        await pilot.pause()
        assert "Hello from the fake Claude." in tokens_text_in(screen)
        await pilot.press("4")
        await pilot.pause()
        assert (await detail_text(pilot, "cli")).endswith("exit 0")
        await pilot.press("5")
        await pilot.pause()
        timings = static_text(screen.query_one("#timings-body"))
        for step in ("received", "CLI spawned", "first CLI line", "first token", "done"):
            assert step in timings
        await pilot.press("6")
        await pilot.pause()
        assert "No error" in static_text(screen.query_one("#error-body"))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)


def tokens_text_in(screen) -> str:
    return screen.query_one(TokensPanel).plain


async def test_long_bodies_are_cut_until_f(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = "\n".join(f"line {i}" for i in range(700))
        async with aiohttp.ClientSession() as session:
            messages = [{"role": "user", "content": f"[[fake:text]] {i}"} for i in range(300)]
            async with session.post(app.engine.url + "/v1/chat/completions", json={"model": "sonnet", "messages": messages + [{"role": "user", "content": prompt}]}) as r:
                exchange_id = r.headers["x-request-id"]
        await settle(pilot, finished(app, exchange_id))
        await pilot.press("enter")
        await pilot.pause()
        body = await detail_text(pilot, "request")
        assert "press f to load all" in body
        await pilot.press("f")
        await pilot.pause()
        assert "press f to load all" not in await detail_text(pilot, "request")


async def test_filter_copy_as_curl_and_clear(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        ok = await post_chat(app, "[[fake:text]] fine", model="opus")
        bad = await post_chat(app, "[[fake:model_not_found]] nope", stream=False)
        await settle(pilot, lambda: len(app.state) == 2 and all(not v.in_flight for v in app.state))
        assert len(table_rows(app.table)) == 2
        await pilot.press("slash", *"status>=400", "enter")
        await settle(pilot)
        assert [r[1] for r in table_rows(app.table)] == [bad[1].rsplit("-", 1)[-1][:6]]
        assert "filter: status>=400" in app.table.border_subtitle
        await pilot.press("escape")
        await settle(pilot)
        assert len(table_rows(app.table)) == 2

        app.table.move_cursor(row=0)
        await pilot.press("y")
        assert app.clipboard.startswith(f"curl -sS -N {app.engine.url}/v1/chat/completions")
        assert '"model": "opus"' in app.clipboard or '"model":"opus"' in app.clipboard

        await pilot.press("z")
        await settle(pilot)
        assert app.table.row_count == 0 and app.query_one(ErrorsPanel).row_count == 0
        assert ok[0] == 200


async def test_follow_newest_and_the_n_new_marker(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for i in range(3):
            await post_chat(app, f"[[fake:text]] {i}")
        await settle(pilot, lambda: len(app.state) == 3 and all(not v.in_flight for v in app.state))
        assert app.table.cursor_row == 2  # following the newest
        await pilot.press("k", "k")
        for i in range(2):
            await post_chat(app, f"[[fake:text]] more {i}")
        await settle(pilot, lambda: len(app.state) == 5)
        await settle(pilot)
        assert app.table.cursor_row == 0
        assert "▼ 2 new" in app.table.border_subtitle
        await pilot.press("G")
        await settle(pilot)
        assert app.table.cursor_row == 4 and "new" not in app.table.border_subtitle


async def test_history_bounds_the_rows_in_memory(tmp_path):
    app = console_app(tmp_path, history=3)
    async with app.run_test(size=SIZE) as pilot:
        ids = [(await post_chat(app, f"[[fake:text]] {i}"))[1] for i in range(5)]
        await settle(pilot, lambda: all(not v.in_flight for v in app.state) and ids[-1] in app.state.exchanges)
        assert list(app.state.exchanges) == ids[2:]
        assert app.table.row_count == 3
        assert "5 req" in static_text(app.query_one(StatusHeader))  # totals count everything


async def test_port_in_use_is_shown_plainly(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        app = console_app(tmp_path, port=port)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            banner = static_text(app.query_one(ProblemBanner))
            assert f"Cannot listen on 127.0.0.1:{port}" in banner and "--port 0" in banner
            assert "Traceback" not in banner
            assert "not listening" in static_text(app.query_one(StatusHeader))
            assert "Send one" not in tokens_text(app) and "not listening" in tokens_text(app)
            await pilot.press("q")
        assert app.return_code == 1
    finally:
        holder.close()


async def test_missing_cli_is_shown_plainly(tmp_path):
    app = console_app(tmp_path, claude=str(tmp_path / "no-such-claude"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "CLI not found" in static_text(app.query_one(ProblemBanner))
        assert "claude not found" in static_text(app.query_one(StatusHeader))


async def test_logged_out_cli_is_shown_plainly(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_CLAUDE_LOGGED_IN", "0")
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "not logged in" in static_text(app.query_one(ProblemBanner))
        assert "logged out" in static_text(app.query_one(StatusHeader))


async def test_quit_stops_the_server_and_reaps_running_children(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        url = app.engine.url
        request = asyncio.create_task(post_chat(app, "[[fake:hang]] forever"))
        await settle(pilot, lambda: any(v.pid for v in app.state))
        view = next(iter(app.state))
        await pilot.press("q")
        status, _, body = await asyncio.wait_for(request, 15)
    assert app.engine.active_runs == 0
    assert view.returncode is not None  # reaped, not orphaned
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.post(url + "/v1/chat/completions", json=chat_body("after"))


async def test_help_screen_and_palette_list_every_binding(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("Static").content, width=140)
        for binding in app.BINDINGS:
            assert binding.id in text
        assert "console.kill" in text and "detail.load_all" in text and "status>=400" in text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"copy as curl")
        await pilot.pause(0.3)
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)
        assert "export: copy as curl" in str([str(o.prompt) for o in app.screen.query("OptionList").first()._options])


async def test_every_binding_has_an_id_and_help_text():
    from tui_proxy.tui.app import ConsoleApp
    from tui_proxy.tui.widgets.requests_table import RequestsTable

    for binding in [*ConsoleApp.BINDINGS, *ConsoleScreen.BINDINGS, *ConfirmScreen.BINDINGS, *RequestsTable.BINDINGS, *DetailScreen.BINDINGS, *HelpScreen.BINDINGS, *ReplayDiffScreen.BINDINGS]:
        assert binding.id and binding.tooltip, binding


@pytest.mark.parametrize("capture", [False, True], ids=["from-memory", "from-store"])
async def test_replay_sends_the_request_again_and_shows_the_diff(tmp_path, capture):
    app = console_app(tmp_path, capture=capture)
    async with app.run_test(size=SIZE) as pilot:
        status, original, _ = await post_chat(app, "[[fake:text]] again please")
        await settle(pilot, finished(app, original))
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: isinstance(app.screen, ReplayDiffScreen))
        replay = app.state.newest
        assert replay.id != original and replay.replay_of == original
        assert replay.body == app.state.get(original).body and replay.status == 200
        assert table_rows(app.table)[1][1].endswith("⟲")
        shown = plain(app.screen.query_one("#replay-diff", Static).content)
        assert f"replay {replay.id} of {original}" in shown
        rows = {cells[0]: cells[1:] for line in shown.splitlines() if len(cells := re.split(r"\s{2,}", line.lstrip("* ").strip())) >= 3}
        assert rows["status"] == ["200", "200"] and rows["finish reason"] == ["stop", "stop"]
        assert "answer text: identical" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, ReplayDiffScreen)


async def test_earlier_runs_come_back_from_the_capture_store(tmp_path):
    first = console_app(tmp_path, capture=True)
    async with first.run_test(size=SIZE) as pilot:
        _, earlier, _ = await post_chat(first, "[[fake:text]] remember me")
        await settle(pilot, finished(first, earlier))
        await pilot.press("q")
    second = console_app(tmp_path, capture=True)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: earlier in second.state.exchanges)
        view = second.state.get(earlier)
        assert view.from_history and view.status == 200
        assert table_rows(second.table)[0][1] == earlier.rsplit("-", 1)[-1][:6]
        await pilot.press("c")
        await settle(pilot, lambda: view.details_loaded and view.argv)
        await settle(pilot)
        assert second.query_one(CliPanel).lines[1].startswith("$ ")
        assert "remember me" in view.body.decode()
        assert "1 req" not in static_text(second.query_one(StatusHeader))  # totals are this run's


async def test_keys_can_be_remapped_by_binding_id(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_MAX_TUI_KEYMAP", "console.help=h, bogus")
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("stream", [True, False], ids=["sse", "json"])
async def test_tool_calls_show_in_the_list_the_tokens_panel_and_the_detail(tmp_path, stream):
    app = console_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        body = chat_body('Weather in Paris? [[fake:tool_call args="{\\"city\\": \\"Paris\\"}"]]', stream=stream)
        body["tools"] = [WEATHER]
        async with aiohttp.ClientSession() as session:
            async with session.post(app.engine.url + "/v1/chat/completions", json=body) as response:
                assert response.status == 200
                exchange_id = response.headers["x-request-id"]
                await response.read()
        await settle(pilot, finished(app, exchange_id))
        view = app.state.get(exchange_id)
        assert [(name, json.loads(arguments)) for _, name, arguments in view.tool_calls] == [("get_weather", {"city": "Paris"})]
        assert table_rows(app.table)[0][5] == "200 tool"
        shown = tokens_text(app)
        assert "tool calls (1)" in shown and "→ get_weather" in shown and '"city": "Paris"' in shown

        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("2")
        await settle(pilot)
        response_tab = await detail_text(pilot, "response")
        assert "Tool calls (1)" in response_tab and "get_weather" in response_tab and '"city": "Paris"' in response_tab

        await pilot.press("escape", "r")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: isinstance(app.screen, ReplayDiffScreen))
        shown = plain(app.screen.query_one("#replay-diff", Static).content)
        assert "  tool calls" in shown and shown.count('get_weather({"city":"Paris"})') == 2  # same call, both sides
