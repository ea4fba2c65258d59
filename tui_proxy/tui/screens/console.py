"""The console's main view: status line, problems, the requests list, the filter box and
the inspector (tokens, CLI, errors). The app owns the model and the flush; this screen
owns the layout and the keys that only make sense on the list."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, TabbedContent, TabPane

from ..widgets.cli_panel import CliPanel
from ..widgets.errors_panel import ErrorsPanel
from ..widgets.problem_banner import ProblemBanner
from ..widgets.quiet_footer import QuietFooter
from ..widgets.requests_table import RequestsTable
from ..widgets.status_header import StatusHeader
from ..widgets.tokens_panel import TokensPanel
from .stepped import SteppedScreen


class ConsoleScreen(SteppedScreen):
    BINDINGS = [
        Binding("enter", "app.open_detail", "Open", show=False, id="console.open", tooltip="Open the selected request's detail view"),
        Binding("slash", "app.filter", "Filter", id="console.filter", tooltip="Filter the list: status>=400, model=x, live, text…"),
        Binding("escape", "app.clear_filter", "Clear filter", show=False, id="console.clear_filter", tooltip="Show every request again"),
        Binding("z", "app.clear", "Clear", id="console.clear", tooltip="Forget finished requests and errors (running ones stay; u brings them back)"),
        Binding("u", "app.undo_clear", "Undo clear", show=False, id="console.undo_clear", tooltip="Bring back what z cleared"),
        Binding("o", "app.sort(1)", "Sort", id="console.sort", tooltip="Sort the list by the next column (time, status, ttft, dur, tokens...); a header click too"),
        Binding("O", "app.sort(0)", "Reverse", show=False, id="console.sort_reverse", tooltip="Reverse the sort order"),
        Binding("t", "app.panel('tokens')", "Tokens", show=False, id="console.panel_tokens", tooltip="Bottom panel: streaming tokens"),
        Binding("c", "app.panel('cli')", "CLI", show=False, id="console.panel_cli", tooltip="Bottom panel: CLI transcript"),
        Binding("e", "app.panel('errors')", "Errors", show=False, id="console.panel_errors", tooltip="Bottom panel: errors"),
        Binding("p", "app.pretty", "Pretty", show=False, id="console.pretty", tooltip="CLI lines: raw or pretty JSON"),
        Binding("s", "app.stats", "Stats", id="console.stats", tooltip="Statistics: time to first token, tokens/s, requests and errors over time, tokens and cache per model, the plan's windows over time"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status")
        yield ProblemBanner(id="problems")
        table = RequestsTable(id="requests")
        table.border_title = "Requests 0"
        yield table
        yield Input(placeholder="filter: status>=400  model=sonnet  live  error  !stream  text…", id="filter")
        with TabbedContent(initial="tokens", id="inspector"):
            with TabPane("t Tokens", id="tokens"):
                yield TokensPanel(id="tokens-panel")
            with TabPane("c CLI", id="cli"):
                yield CliPanel(id="cli-panel")
            with TabPane("e Errors", id="errors"):
                yield ErrorsPanel(id="errors-panel")
        yield QuietFooter()

    async def on_mount(self) -> None:
        # The app starts its engine and flush once the widgets they draw on exist.
        await self.app.console_mounted()  # type: ignore[attr-defined]
