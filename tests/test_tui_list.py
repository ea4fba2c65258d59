"""The requests list: columns that follow the terminal's size, mouse selection."""

from __future__ import annotations

import pytest

from tui_proxy.tui.screens.detail import DetailScreen

from tests.tui_fixtures import console_app, post_chat, settle

pytestmark = pytest.mark.usefixtures("fake_claude_env")


def header(app) -> str:
    return "".join(segment.text for segment in app.table.render_line(0))


async def test_resize_relays_the_columns_from_the_new_size(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await post_chat(app, "[[fake:text]] hi")
        await settle(pilot, lambda: app.table.row_count == 1)
        assert not app.table.narrow and " in " in header(app)

        await pilot.resize_terminal(80, 24)
        await settle(pilot, lambda: app.table.narrow)
        shown = header(app)
        assert "ttft" in shown and "tok/s" in shown  # the narrow layout keeps the timing columns on screen
        assert len(app.table.get_row_at(0)) == len(app.table.columns)

        await pilot.resize_terminal(160, 40)
        await settle(pilot, lambda: not app.table.narrow)
        assert " in " in header(app)


async def test_a_click_selects_the_clicked_row_and_a_double_click_opens_it(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=(150, 40)) as pilot:
        ids = [(await post_chat(app, f"[[fake:text]] {n}"))[1] for n in range(3)]
        await settle(pilot, lambda: app.table.row_count == 3)
        # The list's top border is line 0, its header line 1: the first row is line 2.
        table_top = app.table.region.y
        await pilot.click("#requests", offset=(5, 2))
        await settle(pilot)
        assert app.table.selected_id == ids[0], table_top
        await pilot.click("#requests", offset=(5, 3))
        await settle(pilot)
        assert app.table.selected_id == ids[1]
        await pilot.click("#requests", offset=(5, 2), times=2)
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.view.id == ids[0]


async def test_restored_rows_keep_tok_s_and_the_list_opens_at_the_newest(tmp_path):
    import time

    from tui_proxy.capture import CaptureStore
    from tui_proxy.capture.synthetic import exchange_events
    from tui_proxy.events import EventBus

    now = time.time()
    with CaptureStore.open(tmp_path / "data" / "captures.sqlite3") as store:
        bus = EventBus()
        store.record(bus)
        for i in range(60):
            for event in exchange_events(f"0193c1f2a{i:03d}-5e1f0{i:03d}", start=now - 600 + i):
                bus.publish(event)
    app = console_app(tmp_path, capture=True)
    async with app.run_test(size=(150, 30)) as pilot:
        await settle(pilot, lambda: app.table.row_count == 60)
        await settle(pilot)
        table = app.table
        assert table.selected_id.endswith("5e1f0059")
        top = int(table.scroll_y)
        assert top <= table.cursor_row < top + table.scrollable_content_region.height - 1  # the newest is on screen
        tps = [c.key for c in table.columns].index("tps")
        assert table.get_row_at(59)[tps] not in ("-", "")


async def test_a_request_answering_tool_calls_is_linked_to_the_one_that_made_them(tmp_path):
    import aiohttp

    from test_tools_fake import WEATHER
    from tests.tui_fixtures import chat_body

    app = console_app(tmp_path)
    async with app.run_test(size=(180, 40)) as pilot:
        body = chat_body('Weather in Paris? [[fake:tool_call args="{\\"city\\": \\"Paris\\"}"]]', stream=False)
        body["tools"] = [WEATHER]
        async with aiohttp.ClientSession() as session:
            async with session.post(app.engine.url + "/v1/chat/completions", json=body) as response:
                first = await response.json()
            first_id = response.headers["x-request-id"]
            call = first["choices"][0]["message"]["tool_calls"][0]
            body["messages"] += [first["choices"][0]["message"], {"role": "tool", "tool_call_id": call["id"], "content": "18°C, sunny"}]
            async with session.post(app.engine.url + "/v1/chat/completions", json=body) as response:
                await response.read()
            second_id = response.headers["x-request-id"]
        await settle(pilot, lambda: (v := app.state.get(second_id)) is not None and not v.in_flight)
        assert app.state.get(second_id).continues == first_id and app.state.get(first_id).continued_by == second_id
        note = [c.key for c in app.table.columns].index("note")
        assert app.table.get_row_at(0)[note] == "→" + second_id.rsplit("-", 1)[-1][:6]
        assert app.table.get_row_at(1)[note] == "↳" + first_id.rsplit("-", 1)[-1][:6]


async def test_the_error_code_shows_in_the_list_and_the_errors_panel(tmp_path):
    from tui_proxy.tui.widgets.errors_panel import ErrorsPanel

    app = console_app(tmp_path)
    async with app.run_test(size=(180, 40)) as pilot:
        _, exchange_id, _ = await post_chat(app, "[[fake:max_turns]] loop", stream=False)
        await settle(pilot, lambda: app.table.row_count == 1 and app.query_one(ErrorsPanel).row_count == 1)
        error = app.state.get(exchange_id).error
        assert error is not None and error.code
        note = [c.key for c in app.table.columns].index("note")
        assert app.table.get_row_at(0)[note] == error.code
        panel = app.query_one(ErrorsPanel)
        assert error.code in [str(cell) for cell in panel.get_row_at(0)]


async def test_sort_by_any_column_with_o_and_a_header_click(tmp_path):
    app = console_app(tmp_path)
    async with app.run_test(size=(180, 40)) as pilot:
        for n in (30, 5, 60):
            await post_chat(app, f"[[fake:tokens n={n}]] count")
        await settle(pilot, lambda: app.table.row_count == 3)
        table = app.table
        out = [c.key for c in table.columns].index("out")

        def column(index: int) -> list[int]:
            return [int(table.get_row_at(row)[index].lstrip("~")) for row in range(table.row_count)]

        arrival = column(out)
        assert arrival[1] < arrival[0] < arrival[2]  # 30, 5, 60 tokens asked
        while table.sort_column != "out":
            await pilot.press("o")
        await settle(pilot)
        assert column(out) == sorted(arrival, reverse=True) and "▼" in header(app)
        await pilot.press("O")
        await settle(pilot)
        assert column(out) == sorted(arrival)

        # A click on the header's "time" label goes back to arrival order.
        await pilot.click("#requests", offset=(3, 1))
        await settle(pilot)
        assert table.sort_column == "time" and column(out) == arrival
