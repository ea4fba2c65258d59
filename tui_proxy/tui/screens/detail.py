"""The detail view of one exchange: request, response, live stream, CLI, timings, error.

A tab is rebuilt only when the exchange changed and the tab is visible. The request,
response and CLI tabs are documents of lines (`TextLines`): built in slices of the
loop and drawn only where visible, so a 600-message request or a 5 MB answer never
stalls the proxy. Bodies still stop at BODY_LINES lines until `f`, to bound the work.

The console keeps one of these screens for its whole life and points it at the
exchange to show (`show`): composing a fresh screen of some forty widgets, styling,
laying out and drawing them from cold, took 60-110 ms of the loop at every open.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static, TabbedContent, Tabs, TabPane

from .. import formatting as fmt
from ..documents import request_lines, response_lines, transcript_lines
from ..exchange_view import ExchangeView
from ..widgets.quiet_footer import QuietFooter
from ..widgets.text_lines import TextLines
from ..widgets.tokens_panel import TokensPanel
from .stepped import SteppedScreen

TABS = ("request", "response", "stream", "cli", "timings", "error")
#: Tabs drawn as documents of lines (built in slices, searchable, wrap or scroll sideways).
DOCUMENT_TABS = ("request", "response", "cli")


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


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
    return Group(table, summary, *usage_renderables(view, now))


def usage_renderables(view: ExchangeView, now: float) -> list[RenderableType]:
    """Tokens and cost, the plan's windows after this request, and the CLI's upstream retries."""
    parts: list[RenderableType] = []
    usage = view.usage
    if usage is not None:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(justify="right")
        grid.add_column(style="dim")
        share = view.cache_share
        grid.add_row("prompt", fmt.count(usage.prompt_tokens), "cache reads and writes included")
        grid.add_row("  cache read", fmt.count(usage.cached_tokens), "-" if share is None else f"{share:.0%} of the prompt")
        grid.add_row("  cache write", fmt.count(usage.cache_creation_tokens), "")
        grid.add_row("output", fmt.count(usage.completion_tokens), f"{usage.reasoning_tokens} thinking" if usage.reasoning_tokens else "")
        grid.add_row("cost", fmt.cost(usage.cost_usd), "as the CLI reports it" if usage.cost_usd is not None else "not reported")
        parts += [_section("usage"), grid]
    report = view.quota
    if report is not None:
        windows = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
        for name in ("window", "used", "", "status", "resets", "threshold"):
            windows.add_column(name, justify="right" if name == "used" else "left")
        for window in report.windows:
            style = fmt.quota_style(window.status, window.warning)
            filled = 0 if window.utilization is None else int(min(max(window.utilization, 0.0), 1.0) * 20)
            bar = Text("▇" * filled, style=style or "green")
            bar.append("░" * (20 - filled), style="dim")
            resets = "-" if window.resets_at is None else f"{fmt.clock_time(window.resets_at)} (in {fmt.countdown(window.resets_at - now)})" if window.resets_at > now else f"{fmt.clock_time(window.resets_at)} (passed)"
            threshold = "-" if window.surpassed_threshold is None else f"passed {fmt.percent(window.surpassed_threshold)}"
            windows.add_row(Text(window.label, style="bold"), Text(fmt.percent(window.utilization), style=style), bar, Text(window.status or "-", style=style), resets, threshold)
        billed = Text("billed to: ")
        if report.bucket is None:
            billed.append("not reported", style="dim")
        else:
            billed.append(report.bucket, style="bold magenta" if report.using_overage else "green")
        if report.overage_status or report.overage_disabled_reason:
            billed.append(f"   extra usage: {report.overage_status or '-'}" + (f" ({report.overage_disabled_reason})" if report.overage_disabled_reason else ""), style="dim")
        parts += [_section("plan windows after this request"), windows, billed]
    if view.retries:
        retries = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
        for name in ("attempt", "at", "upstream said", "next after"):
            retries.add_column(name)
        for retry in view.retries:
            of = f"{retry.attempt if retry.attempt is not None else '?'}/{retry.max_retries if retry.max_retries is not None else '?'}"
            said = " ".join(str(p) for p in (retry.error_status, retry.error) if p) or "-"
            delay = "-" if retry.retry_delay_ms is None else fmt.duration(retry.retry_delay_ms)
            retries.add_row(of, fmt.clock_time_ms(retry.at), said, delay)
        dropped = view.retries_total - len(view.retries)
        title = f"upstream retries by the CLI ({view.retries_total}" + (f", the first {dropped} not kept" if dropped else "") + ")"
        parts += [_section(title), retries]
        if view.retrying:
            parts.append(Text(fmt.retry_texts(view, now)[1], style="bold yellow"))
    return parts


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


class DetailScreen(SteppedScreen):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="detail.close", tooltip="Back to the requests list (or out of the search box)"),
        Binding("1", "tab('request')", "Request", show=False, id="detail.tab_request", tooltip="Show the request tab"),
        Binding("2", "tab('response')", "Response", show=False, id="detail.tab_response", tooltip="Show the response tab"),
        Binding("3", "tab('stream')", "Stream", show=False, id="detail.tab_stream", tooltip="Show the live stream tab"),
        Binding("4", "tab('cli')", "CLI", show=False, id="detail.tab_cli", tooltip="Show the CLI transcript tab"),
        Binding("5", "tab('timings')", "Timings", show=False, id="detail.tab_timings", tooltip="Show the timings tab"),
        Binding("6", "tab('error')", "Error", show=False, id="detail.tab_error", tooltip="Show the error tab"),
        Binding("slash", "search", "Search", id="detail.search", tooltip="Search the request, response or CLI tab (n next, N previous)"),
        Binding("n", "next_match", "Next", show=False, id="detail.next_match", tooltip="Next search match"),
        Binding("N", "previous_match", "Previous", show=False, id="detail.previous_match", tooltip="Previous search match"),
        Binding("w", "wrap", "Wrap", id="detail.wrap", tooltip="Wrap long lines, or scroll them sideways (← →)"),
        Binding("a", "app.copy('answer')", "Copy answer", show=False, id="detail.copy_answer", tooltip="Copy the answer text"),
        Binding("J", "app.copy('response')", "Copy JSON", show=False, id="detail.copy_response", tooltip="Copy the response JSON (the SSE chunks when streamed)"),
        Binding("D", "app.copy('chunk')", "Copy chunk", show=False, id="detail.copy_chunk", tooltip="Copy the SSE chunk the search stands on (else the last)"),
        Binding("v", "app.copy('argv')", "Copy argv", show=False, id="detail.copy_argv", tooltip="Copy the CLI argv as a shell command"),
        Binding("f", "load_all", "Load all", id="detail.load_all", tooltip="Load the rest of a long body"),
        Binding("p", "pretty", "Pretty CLI", id="detail.pretty", tooltip="Raw or pretty JSON CLI lines"),
    ]

    def __init__(self, view: ExchangeView | None, *, initial_tab: str = "request") -> None:
        """`view` None: composed ahead, to `show` an exchange later."""
        super().__init__()
        self.view = view
        self.full = False
        self.pretty = False
        self.initial_tab = initial_tab
        self._drawn: dict[str, tuple] = {}
        #: Document tabs whose lines are being built (in slices, by a worker): tab -> that build.
        self._building: dict[str, object] = {}
        self._widgets_live = False
        #: The theme the widgets' styles were computed under.
        self._styled_theme: str | None = None
        self._title = Text()

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with TabbedContent(initial=self.initial_tab, id="detail-tabs"):
            with TabPane("1 Request", id="request"):
                yield TextLines(id="request-body")
            with TabPane("2 Response", id="response"):
                yield TextLines(id="response-body")
            with TabPane("3 Stream", id="stream"):
                yield TokensPanel(id="detail-stream")
            with TabPane("4 CLI", id="cli"):
                yield TextLines(id="cli-body")
            with TabPane("5 Timings", id="timings"):
                yield VerticalScroll(Static(id="timings-body"))
            with TabPane("6 Error", id="error"):
                yield VerticalScroll(Static(id="error-body"))
        yield Input(placeholder="search this tab (enter: find, n/N: next/previous, escape: close)", id="detail-search")
        yield QuietFooter()

    def on_mount(self) -> None:
        self._widgets_live = True
        self._styled_theme = self.app.theme
        self.refresh_view(self.app.clock())  # type: ignore[attr-defined]

    def show(self, view: ExchangeView, initial_tab: str = "request") -> None:
        """Show another exchange, as a freshly opened detail view would: first tab given,
        nothing loaded in full, no search, documents from the top."""
        self.view = view
        self.full = False
        self.pretty = False
        self.initial_tab = initial_tab
        self._drawn.clear()
        if not self._widgets_live:
            return  # compose reads the above
        self._clear_documents()
        search = self.query_one("#detail-search", Input)
        search.value = ""
        if search.display:  # setting it at all lays the whole screen out again
            search.display = False
        self.query_one("#detail-tabs", TabbedContent).active = initial_tab
        self.set_focus(self.query_one(Tabs))  # where a new screen's focus starts
        self.refresh_view(self.app.clock())  # type: ignore[attr-defined]

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every widget of a screen each time it is shown (10-20 ms here,
        # on top of the styling done at mount); this screen is kept between opens, and
        # its styles only go stale when the theme changes.
        if self._styled_theme == self.app.theme:
            event.refresh_styles = False
        self._styled_theme = self.app.theme

    def on_screen_suspend(self) -> None:
        if self in self.app.screen_stack:
            return  # only covered (help, a question): the reader comes back to it as it was
        # Closed: keep no copy of a 5 MB answer or a 600-message conversation around, nor
        # the exchange (the history may drop it meanwhile).
        self._clear_documents()
        self._drawn.clear()
        self.view = None

    def _clear_documents(self) -> None:
        for tab in DOCUMENT_TABS:
            self.workers.cancel_group(self, f"detail-{tab}")
            self._building.pop(tab, None)
        # A query, not query_one: the screen can be suspended before its widgets exist or
        # after they are gone (the app quitting while it prepared this screen).
        for document in self.query(TextLines):
            document.reset()

    @property
    def active_tab(self) -> str:
        return self.query_one("#detail-tabs", TabbedContent).active

    @property
    def ready(self) -> bool:
        """True once the visible tab shows the exchange (a document tab may still be building)."""
        return self._widgets_live and self.active_tab not in self._building

    def document(self, tab: str | None = None) -> TextLines | None:
        tab = tab or self.active_tab
        return self.query_one(f"#{tab}-body", TextLines) if tab in DOCUMENT_TABS else None

    def refresh_view(self, now: float, *, force: bool = False) -> None:
        """Redraw what is visible, if the exchange changed since it was drawn."""
        if not self._widgets_live or self.view is None:  # the flush can run between push_screen and compose
            return
        view = self.view
        title = Text()
        title.append(f" {view.id} ", style="bold reverse")
        title.append(f"  {view.model or '-'}  ")
        title.append_text(fmt.status_text(view))
        if view.retrying:
            title.append(f" {fmt.retry_texts(view, now)[1].removeprefix('retry ')}", style="bold yellow")
        title.append(f"  {fmt.clock_time(view.received_at)}  {fmt.duration(view.duration_ms(now))}")
        if view.cost_usd is not None:
            title.append(f"  {fmt.cost(view.cost_usd)}")
        title.append_text(fmt.quota_summary(view))
        if view.error is not None:
            title.append(f"  {view.error.code or view.error.type}", style="red")
        if view.continues:
            title.append(f"  ↳ answers the tool calls of {view.continues}", style="magenta")
        if view.continued_by:
            title.append(f"  → its tool calls answered in {view.continued_by}", style="magenta")
        if title != self._title:  # the flush comes five times a second
            self._title = title
            # One line high whatever it says: no layout of the whole screen.
            self.query_one("#detail-title", Static).update(title, layout=False)
        tab = self.active_tab
        # What each tab depends on: the request never changes once received, so a
        # streaming exchange does not rebuild its body at every flush.
        ticking = view.in_flight and int(now * 4)
        key = {
            "request": (self.full,),
            "response": (view.version, self.full),
            "cli": (view.version, self.pretty),
            "timings": (view.version, ticking),
        }.get(tab, (view.version, ticking))
        if not force and self._drawn.get(tab) == key:
            return
        self._drawn[tab] = key
        if tab in DOCUMENT_TABS:
            build = self._building[tab] = object()
            self.run_worker(self._build(tab, build), group=f"detail-{tab}", exclusive=True)
        elif tab == "stream":
            self.query_one(TokensPanel).show(view, now)
        elif tab == "timings":
            self.query_one("#timings-body", Static).update(timings_renderable(view, now))
        elif tab == "error":
            self.query_one("#error-body", Static).update(error_renderable(view))

    async def _build(self, tab: str, build: object) -> None:
        """Build a document tab in slices of the loop (see TextLines.fill)."""
        view = self.view
        if tab == "request":
            lines = request_lines(view, self.full)
        elif tab == "response":
            lines = response_lines(view, self.full)
        else:
            lines = transcript_lines(view, self.pretty)
        document = self.query_one(f"#{tab}-body", TextLines)
        if not document.lines:  # while many clients stream, building takes a while: say so
            document.set_lines([Text("Loading…", style="dim")])
        try:
            await document.fill(lines, keep_position=tab == "cli" and view.in_flight)
        finally:
            if self._building.get(tab) is build:  # not a build cancelled by a newer one
                del self._building[tab]

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_view(self.app.clock())  # type: ignore[attr-defined]

    def action_close(self) -> None:
        search = self.query_one("#detail-search", Input)
        if search.has_focus:
            search.display = False
            self._focus_document()
            return
        self.dismiss()

    def action_tab(self, tab: str) -> None:
        self.query_one("#detail-tabs", TabbedContent).active = tab

    def action_load_all(self) -> None:
        self.full = True
        self.refresh_view(self.app.clock(), force=True)  # type: ignore[attr-defined]
        self.notify("Loading the whole body…", timeout=2)

    def action_pretty(self) -> None:
        self.pretty = not self.pretty
        self.action_tab("cli")
        self.refresh_view(self.app.clock(), force=True)  # type: ignore[attr-defined]

    def action_wrap(self) -> None:
        document = self.document()
        if document is None:
            self.notify("Wrap applies to the request, response and CLI tabs.", timeout=2)
            return
        document.action_toggle_wrap()

    def action_search(self) -> None:
        if self.document() is None:
            self.action_tab("request")
        search = self.query_one("#detail-search", Input)
        search.display = True
        self.set_focus(search)  # now: keys typed right after `/` belong to the box

    @on(Input.Submitted, "#detail-search")
    async def _search_submitted(self, event: Input.Submitted) -> None:
        document = self.document()
        self._focus_document()
        if document is None:
            return
        found = await document.search(event.value)
        if event.value:
            lines = "1 line matches" if found == 1 else f"{found} lines match"
            where = f"{lines} {event.value!r}: n next, N previous" if found else f"No match for {event.value!r} in this tab."
            self.notify(where, severity="information" if found else "warning", timeout=3)

    def _focus_document(self) -> None:
        document = self.document()
        if document is not None:
            document.focus()

    def action_next_match(self) -> None:
        if (document := self.document()) is not None:
            document.action_next_match()

    def action_previous_match(self) -> None:
        if (document := self.document()) is not None:
            document.action_previous_match()
