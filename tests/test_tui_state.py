"""The console's plain model, filters and curl export: no Textual, no server."""

from __future__ import annotations

import gc
import shlex

from tui_proxy.events import (
    CliStdout,
    ErrorInfo,
    EventBus,
    ExchangeFinished,
    Notice,
    RequestReceived,
    ResponseChunk,
    TokenDelta,
    Usage,
)
from tui_proxy.tui import demo
from tui_proxy.tui.curl import as_curl
from tui_proxy.tui.view_filter import parse_view_filter as parse_filter
from tui_proxy.tui.formatting import client_name, duration
from tui_proxy.tui.exchange_view import MAX_CLI_LINES
from tui_proxy.tui.state import ConsoleState
from tui_proxy.tui.demo import history_summaries
from tui_proxy.tui.history import view_from_summary
from tui_proxy.tui.request_rows import COLUMNS, cell_text, row_cells


def received(exchange_id: str, at: float = 100.0, **kwargs) -> RequestReceived:
    values = dict(method="POST", path="/v1/chat/completions", headers={"user-agent": "curl/8"}, body=b'{"model":"sonnet"}', client="curl/8", remote="127.0.0.1", model="sonnet", stream=True)
    values.update(kwargs)
    return RequestReceived(exchange_id, at, **values)


def scene_state() -> ConsoleState:
    state = ConsoleState(clock=lambda: demo.SCENE_CLOCK)
    bus = EventBus()
    bus.subscribe(state.apply)
    demo.play_scene(bus)
    return state


def test_events_fold_into_one_view_with_timings_and_rates():
    state = ConsoleState(clock=lambda: 103.0)
    state.apply(received("a"))
    state.apply(TokenDelta("a", 101.0, kind="thinking", text="hmm "))
    for i in range(10):
        state.apply(TokenDelta("a", 101.0 + i * 0.1, kind="text", text=f"w{i} "))
    view = state.get("a")
    assert view.in_flight and view.tokens_estimated
    assert view.ttft_ms() == 1000.0
    assert view.tokens_out == 10 and str(view.thinking) == "hmm "
    assert round(view.tokens_per_second(103.0), 1) == 5.0  # 10 deltas over 2 s since the first token
    state.apply(ExchangeFinished("a", 102.0, 200, usage=Usage(50, 20), ttft_ms=1000.0, duration_ms=2000.0))
    assert not view.in_flight and view.tokens_out == 20
    assert state.totals.tokens == 70 and state.totals.errors == 0
    changes = state.take_changes()
    assert changes.added == ["a"] and changes.updated == {"a"}
    assert not state.take_changes()  # nothing new since


def test_history_is_bounded_and_evicts_finished_first():
    state = ConsoleState(history=3)
    state.apply(received("live", at=1.0))
    for i in range(5):
        state.apply(received(f"done{i}", at=2.0 + i))
        state.apply(ExchangeFinished(f"done{i}", 2.5 + i, 200))
    assert list(state.exchanges) == ["live", "done3", "done4"]
    changes = state.take_changes()
    assert "done0" not in changes.added  # added and evicted within one flush: never drawn


def test_per_exchange_caps_keep_memory_bounded():
    state = ConsoleState()
    state.apply(received("a"))
    lines = [f"line {i}" for i in range(MAX_CLI_LINES + 50)]
    for start in range(0, len(lines), 7):  # lines read together come as one event
        state.apply(CliStdout("a", 1.0, lines=tuple(lines[start : start + 7])))
    view = state.get("a")
    assert len(view.cli_lines) == MAX_CLI_LINES and view.cli_lines_total == MAX_CLI_LINES + 50
    assert [text for _, _, text in view.cli_lines] == lines[50:]


def test_batched_events_count_every_delta_line_and_chunk():
    state = ConsoleState(clock=lambda: 103.0)
    state.apply(received("a"))
    state.apply(TokenDelta("a", 101.0, kind="text", text="w0 w1 w2 ", count=3))
    state.apply(TokenDelta("a", 101.5, kind="text", text="w3 "))
    state.apply(CliStdout("a", 101.0, lines=("l0", "l1", "l2")))
    state.apply(ResponseChunk("a", 101.0, "c0", more=("c1", "c2")))
    state.apply(ResponseChunk("a", 101.5, "c3"))
    view = state.get("a")
    assert str(view.text) == "w0 w1 w2 w3 " and view.tokens_out == 4
    assert [text for _, _, text in view.cli_lines] == ["l0", "l1", "l2"] and view.cli_lines_total == 3
    assert list(view.chunks) == ["c0", "c1", "c2", "c3"] and view.chunks_total == 4


def test_errors_and_error_notices_are_listed_with_why():
    state = ConsoleState()
    state.apply(received("a"))
    state.apply(ExchangeFinished("a", 2.0, 429, error=ErrorInfo(429, "rate_limit_error", "slow down", source="cli")))
    state.apply(Notice("", 3.0, level="error", message="capture off"))
    state.apply(Notice("", 3.0, level="info", message="listening"))
    rows = list(state.errors)
    assert [(r.exchange_id, r.status, r.source, r.message) for r in rows] == [("a", 429, "cli", "slow down"), ("", None, "engine", "capture off")]
    assert state.totals.errors == 1


def test_clear_keeps_running_exchanges():
    state = scene_state()
    state.clear()
    assert [v.id for v in state] == [demo.RETRYING, demo.STREAMING, demo.WAITING, demo.QUEUED]
    assert not state.errors and state.take_changes().cleared


def test_requests_per_minute_counts_the_last_sixty_seconds():
    state = ConsoleState()
    for t in (0.0, 30.0, 50.0, 55.0):
        state.apply(received(f"r{t}", at=t))
    assert state.requests_per_minute(now=70.0) == 3.0


def test_filters():
    state = scene_state()

    def ids(text: str) -> list[str]:
        f = parse_filter(text)
        return [v.id.rsplit("-", 1)[-1][:6] for v in state if f(v)]

    assert ids("status>=400") == ["c0ffee", "d15ea5", "e7a11b"]
    assert ids("status=4xx !status=499") == ["c0ffee", "d15ea5"]
    assert ids("live") == ["529b0a", "f1f1f1", "0a0b0c", "9e0e0e"]
    assert ids("error") == ["c0ffee", "d15ea5", "e7a11b"]
    assert ids("model=opus") == ["a83c11", "529b0a", "0a0b0c"]
    assert ids("!stream") == ["a83c11", "d15ea5"]
    assert ids("client=aider") == ["e7a11b"]
    assert ids("haiku") == ["d15ea5", "f1f1f1"]  # free text: model, prompt or answer
    assert ids("ttft>1.5s") == ["a83c11"]
    assert ids('"capital of france"') == ["5e1f09"]
    assert ids("") == [v.id.rsplit("-", 1)[-1][:6] for v in state]
    assert ids('"unclosed') == []  # typing in progress never raises


def test_curl_export_replays_against_the_proxy_without_secrets():
    view = scene_state().get(demo.DONE_WITH_THINKING)
    command = as_curl(view, "http://127.0.0.1:3456")
    assert command.startswith("curl -sS -N http://127.0.0.1:3456/v1/chat/completions")
    assert "[redacted]" not in command and "Authorization: Bearer $OPENAI_API_KEY" in command
    words = shlex.split(command)
    assert "host: 127.0.0.1:3456" not in words
    body = words[words.index("--data-raw") + 1]
    assert body.encode() == view.body


def test_curl_from_the_console_and_from_the_store_are_the_same_command():
    """One builder: the in-memory exchange and its stored capture give the same curl."""
    from tui_proxy.capture.export_curl import to_curl
    from tui_proxy.tui.view_capture import capture_from_view

    view = scene_state().get(demo.DONE_WITH_THINKING)
    capture = capture_from_view(view)
    assert as_curl(view, "http://127.0.0.1:3456") == to_curl(capture, url="http://127.0.0.1:3456")


def test_short_formats():
    assert client_name("OpenAI/Python 1.82.0") == "openai-python"
    assert client_name("Python/3.11 aiohttp/3.14.5") == "aiohttp"
    assert [duration(x) for x in (None, 12.4, 2410, 35_000, 65_000)] == ["-", "12ms", "2.41s", "35.0s", "1m05s"]


def test_big_bodies_are_cut_in_memory_and_never_replayed_or_exported_cut():
    from tui_proxy.tui.exchange_view import MAX_BODY_BYTES

    state = ConsoleState()
    state.apply(received("big", body=b"x" * (MAX_BODY_BYTES + 10)))
    view = state.get("big")
    assert len(view.body) == MAX_BODY_BYTES and view.body_size == MAX_BODY_BYTES + 10 and view.body_cut


def test_the_demo_scene_shows_the_pinned_cli_version():
    import re
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "scripts" / "install-claude-cli.sh").read_text()
    [pinned] = re.findall(r'^CLAUDE_CLI_VERSION="([^"]+)"', script, flags=re.M)
    assert demo.DemoCliStatus().version == pinned


def test_long_values_in_the_replay_diff_fold_inside_their_column():
    from tui_proxy.replay.diff import DiffRow, ReplayDiff
    from tui_proxy.tui.screens.replay_diff import diff_renderable
    from tests.tui_fixtures import plain

    long_error = "server_error: " + "the CLI said something very long " * 8
    d = ReplayDiff("orig-1", "new-2", (), (DiffRow("error", "-", long_error), DiffRow("status", "200", "503")))
    shown = plain(diff_renderable(d), width=100).splitlines()
    assert all(len(line.rstrip()) <= 100 for line in shown)
    status = [line for line in shown if "status" in line]
    assert len(status) == 1 and status[0].split() == ["*", "status", "200", "503"]
    error_lines = [line for line in shown if "CLI said" in line]
    assert len(error_lines) > 1 and all(line.index("CLI said") > 50 for line in error_lines)  # folded in the replay column


def test_what_the_console_keeps_per_line_and_per_row_is_not_walked_by_the_garbage_collector():
    """CLI lines (up to MAX_CLI_LINES per listed exchange) and the list's cells (15 per row,
    1 000 history rows) are plain tuples of strings and numbers: the collector stops
    tracking them, so full collections, a stall of every stream, do not grow with them."""
    state = ConsoleState()
    state.apply(received("a"))
    state.apply(CliStdout("a", 1.0, lines=("l0", "l1")))
    history = view_from_summary(history_summaries(1)[0])
    rows = [row_cells(view, 2.0, narrow=False) for view in (state.get("a"), history)]
    gc.collect()
    gc.collect()  # a tuple is let go once what it holds was: the row after its cells
    assert not any(gc.is_tracked(line) for line in state.get("a").cli_lines)
    assert not any(gc.is_tracked(row) or any(gc.is_tracked(cell) for cell in row) for row in rows)


def test_a_failed_row_says_its_code_in_the_narrow_list_too():
    """At 80 columns there is no code column: a failed row tells status, code and duration
    from its status cell on (killed, gone and cut rows say it in their status already)."""
    state = ConsoleState()
    for exchange_id, error in (("a", ErrorInfo(429, "rate_limit_error", "slow down", code="usage_limit", source="cli")), ("k", ErrorInfo(499, "killed", "killed from the console", code="killed", source="killed"))):
        state.apply(received(exchange_id, at=1.0))
        state.apply(ExchangeFinished(exchange_id, 2.0, error.status, error=error, duration_ms=1000))
    narrow = [cell_text(cell) for cell in row_cells(state.get("a"), 3.0, narrow=True)]
    assert narrow[5:] == ["429 usage_limit · 1.00s"]
    wide = [cell_text(cell) for cell in row_cells(state.get("a"), 3.0, narrow=False)]
    assert wide[[c.key for c in COLUMNS].index("note")] == "usage_limit" and len(wide) == len(COLUMNS)
    killed = [cell_text(cell) for cell in row_cells(state.get("k"), 3.0, narrow=True)]
    assert killed[5] == "kill" and len(killed) == len([c for c in COLUMNS if c.narrow_width is not None])
