"""What a request read from the prompt cache, and how its run got the conversation, is shown
in the console's list and detail view, the headless line and `captures show` (issue 12)."""

from __future__ import annotations

import time

from tui_proxy.events import ExchangeFinished, HistorySent, RequestReceived, Usage
from tui_proxy.headless import format_finished
from tui_proxy.tui.state import ConsoleState
from tui_proxy.tui.widgets.cli_panel import history_words
from tui_proxy.tui.request_rows import COLUMNS, row_cells

NOW = time.time()
USAGE = Usage(prompt_tokens=4000, completion_tokens=50, cached_tokens=3000, cache_creation_tokens=600)


def finished_view(history: HistorySent | None):
    state = ConsoleState()
    state.apply(RequestReceived("x1", NOW, method="POST", path="/v1/chat/completions", headers={}, body=b"{}", client="", remote=""))
    if history is not None:
        state.apply(history)
    state.apply(ExchangeFinished("x1", NOW + 1, status=200, finish_reason="stop", usage=USAGE, duration_ms=1000))
    return state.get("x1")


def cache_cell(view):
    cells = row_cells(view, NOW + 2, narrow=False)
    return cells[[c.key for c in COLUMNS].index("cache")]


def test_the_list_shows_the_cache_share_and_marks_a_conversation_the_cache_could_not_read():
    native = finished_view(HistorySent("x1", NOW, mode="session", messages=6))
    assert cache_cell(native) == "75%" and native.cache_share == 0.75
    transcript = cache_cell(finished_view(HistorySent("x1", NOW, mode="transcript", messages=3, reason="starts_with_assistant")))
    assert transcript[0] == "75%" and "yellow" in transcript[1]
    fallback = finished_view(HistorySent("x1", NOW, mode="transcript", messages=6, reason="resume_failed: No conversation found", fallback=True))
    assert "red" in cache_cell(fallback)[1]
    assert "resume failed" in history_words(fallback) and "No conversation found" in history_words(fallback)


def test_the_headless_line_says_the_share_and_a_transcript_or_fallback():
    event = ExchangeFinished("x1", NOW, status=200, finish_reason="stop", usage=USAGE, duration_ms=1000, model="sonnet")
    assert format_finished(event, False).endswith("in 4000 out 50 cache 75%")
    line = format_finished(event, False, HistorySent("x1", NOW, mode="transcript", messages=6, reason="resume_failed: gone", fallback=True))
    assert line.endswith("history FALLBACK transcript: resume_failed: gone")


async def test_captures_keep_how_the_history_went_and_show_it(start_engine):
    from tui_proxy.commands.captures import history_text
    from tui_proxy.replay.send import await_capture

    import aiohttp

    engine = await start_engine()
    body = {"model": "sonnet", "messages": [{"role": "assistant", "content": "Hello."}, {"role": "user", "content": "[[fake:echo]] hi"}]}
    async with aiohttp.ClientSession() as session, session.post(engine.url + "/v1/chat/completions", json=body) as response:
        assert response.status == 200
        exchange_id = response.headers["x-request-id"]
    capture = await await_capture(engine.store, exchange_id)
    # A history starting with an assistant turn cannot go as real messages: said, with why.
    assert (capture.history["mode"], capture.history["reason"], capture.history["fallback"]) == ("transcript", "starts_with_assistant", False)
    assert history_text(capture.history).startswith("transcript") and "starts_with_assistant" in history_text(capture.history)
