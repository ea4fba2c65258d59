"""The detail view of one exchange: request, response, live stream, CLI, timings, error.

Tabs other than Stream and CLI are rebuilt only when the exchange changed and the
tab is visible. Bodies are cut at BODY_LINES lines (`f` loads the rest), because
a multi-megabyte Static would stall the whole console, proxy included.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from .. import formatting as fmt
from ..conversation import conversation, redact_headers
from ..exchange_view import ExchangeView
from ..widgets.cli_panel import CliPanel
from ..widgets.tokens_panel import TokensPanel

#: Lines of a body shown before "press f for the rest" (mitmproxy stops at 512 too).
BODY_LINES = 512

TABS = ("request", "response", "stream", "cli", "timings", "error")


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _headers_table(headers: dict[str, str]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for name, value in headers.items():
        table.add_row(Text(name), Text(value))
    return table


def _json_block(raw: str | bytes, full: bool) -> RenderableType:
    text, more = fmt.cut_lines(fmt.pretty_json(raw), None if full else BODY_LINES)
    parts: list[RenderableType] = [Syntax(text, "json", theme="ansi_dark", word_wrap=True, background_color="default")]
    if more:
        parts.append(Text(f"… {more} more lines: press f to load all", style="bold yellow"))
    return Group(*parts)


def request_renderable(view: ExchangeView, full: bool) -> RenderableType:
    line = Text()
    line.append(f"{view.method} {view.path}", style="bold")
    line.append(f"   client {view.client or '-'}   from {view.remote or '-'}   {'stream' if view.stream else 'no stream'}")
    if view.replay_of:
        line.append(f"   replay of {view.replay_of}", style="magenta")
    parts: list[RenderableType] = [
        line,
        _section("Headers"),
        _headers_table(redact_headers(view.headers)),
        _section("Conversation"),
        conversation(view.body, max_chars=None if full else 4000),
        _section(f"Body ({fmt.count(view.body_size)} bytes)"),
    ]
    if view.body_cut:
        parts.append(Text(f"Only the first {fmt.count(len(view.body))} bytes are kept in memory; the capture store has it all.", style="yellow"))
    parts.append(_json_block(view.body, full))
    return Group(*parts)


def response_renderable(view: ExchangeView, full: bool) -> RenderableType:
    if view.response_status is None and view.in_flight:
        return Text("No response yet: the proxy holds the headers until the model speaks.", style="dim")
    head = Text()
    status = view.status if view.status is not None else view.response_status
    head.append(f"{status} ", style=fmt.status_style(view))
    head.append(f"{'text/event-stream' if view.stream else 'application/json'}")
    if view.finish_reason:
        head.append(f"   finish {view.finish_reason}")
    if view.usage:
        u = view.usage
        head.append(f"   tokens {u.prompt_tokens} in (cached {u.cached_tokens}) / {u.completion_tokens} out")
        if u.cost_usd is not None:
            head.append(f"   ${u.cost_usd:.4f}")
    else:
        head.append("   usage not reported yet" if view.in_flight else "   usage missing", style="yellow")
    parts: list[RenderableType] = [head, _section("Headers"), _headers_table(view.response_headers)]
    if view.tool_calls:
        parts += [_section(f"Tool calls ({len(view.tool_calls)})"), *_tool_calls(view)]
    if not view.stream:
        parts += [_section("Body"), _json_block(view.chunks[-1], full) if view.chunks else Text("(none)", style="dim")]
        return Group(*parts)
    parts += [_section("Final text"), Text(str(view.text) or "(none)")]
    limit = None if full else BODY_LINES
    chunks = list(view.chunks)
    shown = chunks if limit is None else chunks[:limit]
    parts.append(_section(f"Chunks ({view.chunks_total})"))
    if view.chunks_total > len(chunks):
        parts.append(Text(f"… {view.chunks_total - len(chunks)} earlier chunks dropped (per-request cap)", style="dim"))
    parts.append(Text("\n".join(f"data: {c}" for c in shown), style="dim"))
    if len(shown) < len(chunks):
        parts.append(Text(f"… {len(chunks) - len(shown)} more chunks: press f to load all", style="bold yellow"))
    return Group(*parts)


def _tool_calls(view: ExchangeView) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for call_id, name, arguments in view.tool_calls:
        parts.append(Text.assemble((name, "bold"), (f"  {call_id}", "dim")))
        parts.append(Syntax(fmt.pretty_json(arguments), "json", theme="ansi_dark", word_wrap=True, background_color="default"))
    return parts


def timings_renderable(view: ExchangeView, now: float) -> RenderableType:
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("step")
    table.add_column("at")
    table.add_column("after received", justify="right")
    table.add_column("")
    steps = [
        ("received", view.received_at),
        ("CLI spawned", view.spawned_at),
        ("first CLI line", view.first_cli_line_at),
        ("first token", view.first_token_at),
        ("response started", view.response_started_at),
        ("CLI exited", view.exited_at),
        ("done", view.finished_at),
    ]
    total = max(view.duration_ms(now), 1.0)
    for name, at in steps:
        if at is None:
            table.add_row(name, "-", "-", "")
            continue
        offset = (at - view.received_at) * 1000
        bar = "█" * max(1, int(30 * min(offset, total) / total)) if offset > 0 else "▏"
        table.add_row(name, fmt.clock_time_ms(at), fmt.duration(offset), Text(bar, style="cyan"))
    summary = Text()
    summary.append(f"\nTTFT {fmt.duration(view.ttft_ms())}   duration {fmt.duration(view.duration_ms(now))}   ")
    summary.append(f"{fmt.rate(view.tokens_per_second(now))} tok/s   ")
    summary.append(f"{'~' if view.tokens_estimated else ''}{view.tokens_out} tokens out")
    if view.tokens_estimated and not view.in_flight:
        summary.append("   (usage missing: estimated from deltas)", style="yellow")
    return Group(table, summary)


_WHY = {
    "request": "request: the proxy refused it before any run",
    "cli": "cli: the Claude Code CLI reported it",
    "timeout": "timeout: the run took too long",
    "disconnect": "disconnect: the client went away",
    "killed": "killed: stopped from the console",
    "shutdown": "shutdown: the proxy was stopping",
    "internal": "internal: a bug in the proxy",
}


def error_renderable(view: ExchangeView) -> RenderableType:
    error = view.error
    if error is None:
        if view.in_flight:
            return Text("Still running: no error so far.", style="dim")
        return Text(f"No error: {view.status}.", style="green")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("status sent", Text(str(error.status), style="bold red"))
    table.add_row("type", Text(error.type))
    table.add_row("code", Text(error.code or "-"))
    table.add_row("message", Text(error.message))
    table.add_row("why", Text(_WHY.get(error.source, error.source)))
    if error.param:
        table.add_row("param", Text(error.param))
    if error.retry_after is not None:
        table.add_row("retry after", f"{error.retry_after}s")
    if view.returncode is not None:
        table.add_row("CLI exit", f"{view.returncode}" + (f" ({view.killed_because})" if view.killed_because else ""))
    parts: list[RenderableType] = [table]
    if error.stderr_tail:
        parts += [_section("stderr (tail)"), Text(error.stderr_tail, style="red")]
    return Group(*parts)


class DetailScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="detail.close", tooltip="Back to the requests list"),
        Binding("1", "tab('request')", "Request", show=False, id="detail.tab_request", tooltip="Show the request tab"),
        Binding("2", "tab('response')", "Response", show=False, id="detail.tab_response", tooltip="Show the response tab"),
        Binding("3", "tab('stream')", "Stream", show=False, id="detail.tab_stream", tooltip="Show the live stream tab"),
        Binding("4", "tab('cli')", "CLI", show=False, id="detail.tab_cli", tooltip="Show the CLI transcript tab"),
        Binding("5", "tab('timings')", "Timings", show=False, id="detail.tab_timings", tooltip="Show the timings tab"),
        Binding("6", "tab('error')", "Error", show=False, id="detail.tab_error", tooltip="Show the error tab"),
        Binding("f", "load_all", "Load all", id="detail.load_all", tooltip="Load the rest of a long body"),
        Binding("p", "pretty", "Pretty CLI", id="detail.pretty", tooltip="Raw or pretty JSON CLI lines"),
    ]

    def __init__(self, view: ExchangeView, *, initial_tab: str = "request") -> None:
        super().__init__()
        self.view = view
        self.full = False
        self.initial_tab = initial_tab
        self._drawn: dict[str, tuple] = {}
        self._widgets_live = False

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with TabbedContent(initial=self.initial_tab, id="detail-tabs"):
            with TabPane("1 Request", id="request"):
                yield VerticalScroll(Static(id="request-body"))
            with TabPane("2 Response", id="response"):
                yield VerticalScroll(Static(id="response-body"))
            with TabPane("3 Stream", id="stream"):
                yield TokensPanel(id="detail-stream")
            with TabPane("4 CLI", id="cli"):
                yield CliPanel(id="detail-cli")
            with TabPane("5 Timings", id="timings"):
                yield VerticalScroll(Static(id="timings-body"))
            with TabPane("6 Error", id="error"):
                yield VerticalScroll(Static(id="error-body"))
        yield Footer()

    def on_mount(self) -> None:
        self._widgets_live = True
        self.refresh_view(self.app.clock())  # type: ignore[attr-defined]

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def refresh_view(self, now: float, *, force: bool = False) -> None:
        """Redraw what is visible, if the exchange changed since it was drawn."""
        if not self._widgets_live:  # the flush can run between push_screen and compose
            return
        view = self.view
        title = Text()
        title.append(f" {view.id} ", style="bold reverse")
        title.append(f"  {view.model or '-'}  ")
        title.append_text(fmt.status_text(view))
        title.append(f"  {fmt.clock_time(view.received_at)}  {fmt.duration(view.duration_ms(now))}")
        if view.error is not None:
            title.append(f"  {view.error.type}", style="red")
        self.query_one("#detail-title", Static).update(title)
        tab = self.active_tab
        # What each tab depends on: the request never changes once received, so a
        # streaming exchange does not re-highlight its body at every flush.
        ticking = view.in_flight and int(now * 4)
        key = {
            "request": (self.full,),
            "response": (view.version, self.full),
            "timings": (view.version, ticking),
        }.get(tab, (view.version, ticking))
        if not force and self._drawn.get(tab) == key:
            return
        self._drawn[tab] = key
        if tab == "request":
            self.query_one("#request-body", Static).update(request_renderable(view, self.full))
        elif tab == "response":
            self.query_one("#response-body", Static).update(response_renderable(view, self.full))
        elif tab == "stream":
            self.query_one(TokensPanel).show(view, now)
        elif tab == "cli":
            self.query_one(CliPanel).show(view)
        elif tab == "timings":
            self.query_one("#timings-body", Static).update(timings_renderable(view, now))
        elif tab == "error":
            self.query_one("#error-body", Static).update(error_renderable(view))

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_view(self.app.clock())  # type: ignore[attr-defined]

    def action_close(self) -> None:
        self.dismiss()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_load_all(self) -> None:
        self.full = True
        self.refresh_view(self.app.clock(), force=True)  # type: ignore[attr-defined]
        self.notify("Loaded the whole body.", timeout=2)

    def action_pretty(self) -> None:
        self.query_one(CliPanel).toggle_pretty(self.view)

