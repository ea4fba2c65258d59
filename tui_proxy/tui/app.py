"""The console: a Textual app that hosts the engine's server in its own event loop.

The app is one more subscriber of `engine.bus`. The subscriber (`ConsoleState.apply`)
only folds events into a plain model; a timer flushes what changed to the widgets a
few times a second inside one `batch_update()`, and only to visible panels. So a
thousand tokens a second cost the proxy a dict update each, not a repaint each.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import aiohttp
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import Input, TabbedContent

from ..config import Config
from ..events import Notice
from ..replay.send import ReplayRefused
from .collector import Collector
from .commands import ConsoleCommands
from .screens.confirm import ConfirmScreen
from .screens.console import ConsoleScreen
from . import formatting as fmt, turns
from ..ids import short_id
from .copying import COPY_PARTS, clipboard_file, copy_part
from .curl import as_curl
from .replay_task import replay_and_diff
from ..filters import FilterError
from .view_filter import parse_view_filter
from .history import fill_from_capture, view_from_summary
from .keymap import keymap_from_environment
from .log_handler import ConsoleLogHandler
from .screens.detail import DetailScreen
from .screens.help import HelpScreen
from .screens.replay_diff import ReplayDiffScreen
from .screens.stats import StatsScreen
from .exchange_view import ExchangeView
from .state import ConsoleState
from .widgets.cli_panel import CliPanel
from .widgets.errors_panel import ErrorsPanel
from .widgets.line_table import LineTable
from .widgets.problem_banner import ProblemBanner
from .widgets.requests_table import RequestsTable
from .widgets.status_header import HeaderInfo, StatusHeader
from .widgets.tokens_panel import TokensPanel

if TYPE_CHECKING:
    from ..engine import Engine

#: Seconds between flushes of the model to the widgets (the issue asks for 1/8..1/4).
FLUSH_INTERVAL = 1 / 5
#: Keys closer together than this came from a paste or a burst, not from a typist.
BURST_SECONDS = 0.02


class ConsoleApp(App[int]):
    CSS_PATH = "console.tcss"
    TITLE = "claude-max-tui"
    COMMANDS = App.COMMANDS | {ConsoleCommands}

    BINDINGS = [
        Binding("x", "kill", "Kill", id="console.kill", tooltip="Kill the selected run: its client gets an error, the CLI is reaped"),
        Binding("r", "replay", "Replay", id="console.replay", tooltip="Send the selected request again (asks first; a new row, marked as a replay)"),
        Binding("y", "copy_curl", "Curl", id="console.copy_curl", tooltip="Copy the selected request as a curl command"),
        Binding("question_mark,f1", "help", "Help", id="console.help", tooltip="Every key with its binding id"),
        Binding("q", "quit", "Quit", id="console.quit", tooltip="Stop the server, reap every child, leave"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="console.interrupt", tooltip="Same as q"),
    ]

    def __init__(self, config: Config, engine: Any, *, clock: Callable[[], float] = time.time, freeze_gc: bool = False) -> None:
        super().__init__()
        #: Move everything alive after start-up out of the collector's reach (see on_mount),
        #: and run full collections while nothing streams.
        self.freeze_gc = freeze_gc
        self._collector = Collector()
        self.config = config
        self.engine = engine
        self.clock = clock
        self.state = ConsoleState(config.history, clock)
        self._unsubscribe = engine.bus.subscribe(self.state.apply)
        #: Set when the server could not start (port in use...): shown, never raised.
        self.listen_error: str | None = None
        self.server_started = False
        self._engine_stopped = False
        self._log_handler: ConsoleLogHandler | None = None
        #: True between mount and unmount: the flush timer must not touch widgets outside it.
        self._widgets_live = False
        #: Why the text in the filter box means nothing (shown under it), or None.
        self.filter_error: str | None = None
        #: When the last key arrived (Textual's event clock), and which keys came in a burst.
        self._last_key_at = 0.0
        self._burst_keys: dict[int, bool] = {}
        #: True while the bindings of a key that came in a burst run.
        self._key_burst = False
        #: The detail view, composed at start-up and shown again at every open.
        self._detail_screen: DetailScreen | None = None
        #: Keys that came while the detail view was pushed to be composed (start-up): they
        #: were typed at the main screen, and reach it once it is back.
        self._held_keys: list[events.Key] | None = None

    # -- layout -----------------------------------------------------------------------

    def get_default_screen(self) -> ConsoleScreen:
        return ConsoleScreen()

    def _main(self, selector, expect_type=None):
        """Widgets of the main screen, found even while a detail or help screen is on top."""
        screen = self.screen_stack[0]
        return screen.query_one(selector, expect_type) if expect_type else screen.query_one(selector)

    @property
    def table(self) -> RequestsTable:
        return self._main(RequestsTable)

    # -- lifecycle --------------------------------------------------------------------

    async def console_mounted(self) -> None:
        """The main screen is composed (ConsoleScreen.on_mount): start the flush and the engine."""
        self.set_keymap(keymap_from_environment())
        self.table.focus()
        self._widgets_live = True
        # A heavy step like a paint (5-10 ms with 20 streams): in a turn of the loop of its own.
        self.set_interval(FLUSH_INTERVAL, lambda: turns.when_free(self.flush), name="flush")
        self._log_handler = ConsoleLogHandler(asyncio.get_running_loop(), self.state.apply)
        logging.getLogger().addHandler(self._log_handler)
        await self._start_engine()
        self.flush()
        # Once the main screen is drawn: over it before, the detail screen left it half
        # laid out (its tab underline placed while it had no size).
        self.call_after_refresh(self._prepare_detail)

    async def _prepare_detail(self) -> None:
        """Compose the detail screen now, at start-up, and keep it; then freeze.

        Composed at the first open, its forty widgets took 60-110 ms of the loop while
        clients streamed, and stayed outside the frozen start-up objects that full
        garbage collections skip (they doubled what those walk).
        """
        screen = DetailScreen(None)
        self.install_screen(screen, "detail")
        self._held_keys = []
        try:
            with self.batch_update():  # composed and laid out, never drawn
                await self.push_screen(screen)
                if self.screen is screen:
                    await self.pop_screen()
        finally:
            # After the keys queued meanwhile, which are held too: in the order they came.
            self.call_later(self._release_held_keys)
        self._detail_screen = screen
        if self.freeze_gc:
            # Textual keeps tens of thousands of long-lived objects; a full collection
            # walking them all took 100-400 ms under load, a stall every client feels.
            # Frozen, collections only walk what was made since; full ones wait for a
            # moment when nothing streams (collector.py).
            self._collector.start()

    async def _release_held_keys(self) -> None:
        held, self._held_keys = self._held_keys or [], None
        for key in held:
            await self.on_event(key)

    async def _start_engine(self) -> None:
        banner = self._main(ProblemBanner)
        try:
            await self.engine.start()
        except OSError as error:
            self.listen_error, hint = describe_start_error(error, self.config)
            banner.set_problem("listen", self.listen_error, hint)
            self._show_cli_problem(banner)
            self._main(TokensPanel).set_empty_text("The proxy is not listening: see the problem above.")
            return
        except Exception as error:  # a broken install must still show a readable screen
            self.listen_error = f"The proxy did not start: {type(error).__name__}: {error}"
            banner.set_problem("listen", self.listen_error, "Run with --headless to see the full log.")
            self._main(TokensPanel).set_empty_text("The proxy is not listening: see the problem above.")
            return
        self.server_started = True
        self._show_cli_problem(banner)
        self.load_history()

    @work(group="history")
    async def load_history(self) -> None:
        """Earlier runs' exchanges from the capture store, before the live ones."""
        store = getattr(self.engine, "store", None)
        if store is None:
            return
        try:
            summaries = await store.alist(limit=self.config.history)
        except Exception as error:  # history is a bonus: never stop the console for it
            self.notify(f"Could not read earlier captures: {error}", severity="warning")
            return
        added = self.state.add_history([view_from_summary(s) for s in summaries if s.id not in self.state.exchanges])
        if added:
            self.flush()

    @work(group="history")
    async def load_details(self, view: ExchangeView) -> None:
        store = getattr(self.engine, "store", None)
        if store is None or view.details_loaded:
            return
        view.details_loaded = True  # one read per exchange, even if selected twice meanwhile
        capture = await store.aget(view.id)
        if capture is not None:
            fill_from_capture(view, capture)
            self.state.touch(view.id)
            self.flush()

    def _show_cli_problem(self, banner: ProblemBanner) -> None:
        status = getattr(self.engine, "cli_status", None)
        if status is None:
            return
        if not getattr(status, "found", True):
            banner.set_problem(
                "cli",
                f"Claude Code CLI not found ({getattr(status, 'path', None) or self.config.claude}). Requests will fail with 503.",
                getattr(status, "hint", None) or "Install it (npm i -g @anthropic-ai/claude-code) or pass --claude /path/to/claude.",
            )
        elif getattr(status, "logged_in", None) is False:
            banner.set_problem(
                "cli",
                "The Claude Code CLI is not logged in. Requests will fail with 401.",
                getattr(status, "hint", None) or "Run `claude` once and use /login (or `claude setup-token`), then restart.",
            )
        elif getattr(status, "error", None):
            banner.set_problem("cli", f"Claude Code CLI: {status.error}", getattr(status, "hint", None), level="warning")

    async def _stop_engine(self) -> None:
        if self._engine_stopped:
            return
        self._engine_stopped = True
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
        if self.server_started:
            try:
                await self.engine.stop()
            except Exception:  # leaving must always work
                logging.getLogger(__name__).exception("engine stop failed")
        self._unsubscribe()

    async def on_unmount(self) -> None:
        self._widgets_live = False
        await self._stop_engine()
        self._collector.stop()  # Python's own collector again (a process that goes on: tests, bench)

    async def action_quit(self) -> None:
        self.notify("Stopping the server…", timeout=2)
        await self._stop_engine()
        self._widgets_live = False
        code = 0 if self.server_started else 1
        self.exit(code, return_code=code)

    #: Actions that only make sense on the requests list, not over a detail or help screen
    #: (their keys live on ConsoleScreen; this stops the palette too).
    MAIN_SCREEN_ACTIONS = frozenset({"open_detail", "filter", "clear_filter", "clear", "undo_clear", "panel", "pretty", "sort"})

    #: Actions on "the selected request", which the statistics screen has none of.
    REQUEST_ACTIONS = frozenset({"kill", "replay", "copy_curl", "copy"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1:
            return False
        if action in self.REQUEST_ACTIONS and isinstance(self.screen, StatsScreen):
            return False
        return True

    # -- keys -------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Tell typed-ahead keys from decisions, and give the filter box its keys at once.

        A key comes here twice: first from the terminal, then back from the focused widget
        (bubbling) when the bindings run. A paste, a laggy SSH link or tmux send-keys
        delivers keys closer together than any typist: those are a burst.
        """
        if not isinstance(event, events.Key):
            await super().on_event(event)
            return
        if not event.is_forwarded:
            if self._held_keys is not None:
                self._held_keys.append(event)  # `/` must not open the unseen detail view's search
                return
            burst = event.time - self._last_key_at < BURST_SECONDS
            self._last_key_at = event.time
            if len(self._burst_keys) > 256:
                self._burst_keys.clear()
            self._burst_keys[id(event)] = burst
            if self._opened_prompt(event):
                # Handled here, before the keys behind it are forwarded to the list.
                self._burst_keys.pop(id(event), None)
                return
            await super().on_event(event)
            return
        self._key_burst = self._burst_keys.pop(id(event), False)
        screen = self.screen
        if isinstance(screen, ConfirmScreen) and screen.typed_before_asked(event):
            return  # typed ahead: no answer to a question it never saw
        try:
            await super().on_event(event)
        finally:
            self._key_burst = False

    def _opened_prompt(self, event: events.Key) -> bool:
        """Open the filter box (or the detail view's search box) if that is what this key does."""
        screen = self.screen
        if isinstance(screen.focused, Input):
            return False
        active = screen.active_bindings.get(event.key)
        if active is None:
            return False
        if active.binding.id == "console.filter" and screen is self.screen_stack[0]:
            self.action_filter()
            return True
        if active.binding.id == "detail.search" and isinstance(screen, DetailScreen):
            screen.action_search()
            return True
        return False

    # -- the flush ----------------------------------------------------------------------

    def header_info(self, now: float) -> HeaderInfo:
        status = getattr(self.engine, "cli_status", None)
        live = self.state.live_counts()
        quota = self.state.quota.snapshot()
        ticking = quota is not None and any(w.resets_at is not None for w in quota.windows)
        return HeaderInfo(
            url=getattr(self.engine, "url", None) if self.server_started else None,
            listen_error=self.listen_error,
            cli_version=getattr(status, "version", None),
            cli_found=getattr(status, "found", None) if status is not None else None,
            cli_logged_in=getattr(status, "logged_in", None),
            cli_auth=getattr(status, "auth_method", None),
            # Requests being answered, beside those queued and retrying: not the engine's live
            # CLIs, which include the ones kept warm for a conversation's next turn.
            running=live.in_flight - live.queued - live.retrying,
            totals=self.state.totals,
            per_minute=self.state.requests_per_minute(now),
            queued=live.queued,
            retrying=live.retrying,
            quota=quota,
            now=int(now) if ticking else 0,
        )

    def flush(self) -> None:
        """Apply what changed since the last flush, in one batch, to visible widgets only."""
        if not self._widgets_live or not self.screen_stack:  # at exit the stack empties first
            return
        try:
            state = self.state
            changes = state.take_changes()
            now = self.clock()
            with self.batch_update():
                self._main(StatusHeader).show(self.header_info(now))
                table = self.table
                if changes.cleared:
                    table.rebuild(state)
                else:
                    table.sync(state, changes.added, changes.updated, changes.removed)
                errors = self._main(ErrorsPanel)
                if changes.cleared:
                    errors.reset(state.errors)
                elif changes.errors:
                    errors.append(changes.errors)
                if changes.cleared or changes.errors:
                    count = len(state.errors)
                    self._main("#inspector", TabbedContent).get_tab("errors").label = f"e Errors {count}" if count else "e Errors"
                self._show_selection(now)
                screen = self.screen
                if isinstance(screen, DetailScreen):
                    screen.refresh_view(now)
                elif isinstance(screen, StatsScreen):
                    screen.refresh_live(now)
        except NoMatches:  # a screen is being torn down under the timer: nothing to draw on
            return
        for notice in changes.notices:
            self._announce(notice)
        if self.freeze_gc:
            self._collector.tick(self.state.in_flight)

    def _show_selection(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        view = self.state.get(self.table.selected_id)
        if view is not None and not view.details_loaded:
            self.load_details(view)
        active = self._main("#inspector", TabbedContent).active
        if active == "tokens":
            self._main(TokensPanel).show(view, now)
        elif active == "cli":
            self._main(CliPanel).show(view)

    def _announce(self, notice: Notice) -> None:
        if notice.level == "info":
            return
        self.notify(notice.message, severity="error" if notice.level == "error" else "warning", timeout=6)

    # -- events from widgets ------------------------------------------------------------

    @on(RequestsTable.Selected)
    def _selection_changed(self) -> None:
        self._show_selection()

    @on(TabbedContent.TabActivated, "#inspector")
    def _panel_changed(self) -> None:
        self._show_selection()

    @on(RequestsTable.Chosen)
    def _row_chosen(self, event: RequestsTable.Chosen) -> None:
        event.stop()
        self.action_open_detail()

    @on(ErrorsPanel.Open)
    def _error_chosen(self, event: ErrorsPanel.Open) -> None:
        view = self.state.get(event.exchange_id)
        if view is not None:
            self.open_detail(view, "error")

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self._apply_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        if self.filter_error:
            self.notify(f"Filter: {self.filter_error}", severity="error", timeout=6)
            return  # the box stays open to fix it
        self._close_filter_input()

    # -- actions ------------------------------------------------------------------------

    def current_view(self) -> ExchangeView | None:
        """The exchange an action applies to: the open detail's, else the selected row's."""
        if isinstance(self.screen, DetailScreen):
            return self.screen.view
        return self.state.get(self.table.selected_id)

    def action_open_detail(self) -> None:
        view = self.state.get(self.table.selected_id)
        if view is None:
            self.notify("No request selected.", severity="warning", timeout=2)
            return
        self.open_detail(view)

    def open_detail(self, view: ExchangeView, tab: str = "request") -> DetailScreen:
        """Show `view` in the detail screen: one screen, kept for the app's life (see screens/detail.py)."""
        screen = self._detail_screen
        if screen is None:  # not composed yet (the first moments after start-up)
            screen = DetailScreen(view, initial_tab=tab)
        else:
            screen.show(view, tab)
        if screen not in self.screen_stack:
            self.push_screen(screen)
        return screen

    def action_stats(self) -> None:
        if not isinstance(self.screen, StatsScreen):
            self.push_screen(StatsScreen())

    def open_exchange(self, exchange_id: str) -> None:
        """The detail view of an exchange: from memory, else read back from the capture store."""
        view = self.state.get(exchange_id)
        if view is not None:
            self.push_screen(DetailScreen(view))
        else:
            self._open_from_store(exchange_id)

    @work(group="history")
    async def _open_from_store(self, exchange_id: str) -> None:
        store = getattr(self.engine, "store", None)
        capture = await store.aget(exchange_id) if store is not None else None
        if capture is None:
            self.notify(f"{short_id(exchange_id)} is no longer kept (neither in memory nor in the capture store).", severity="warning", timeout=4)
            return
        view = view_from_summary(capture)
        fill_from_capture(view, capture)
        self.push_screen(DetailScreen(view))

    def _typed_ahead(self, what: str) -> bool:
        """True (and says so) when the key for `what` came in a burst: a paste or a laggy link, not a decision."""
        if not self._key_burst:
            return False
        self.notify(f"Ignored {what}: its key came in a burst of typed keys (a paste?). Press it on its own.", severity="warning", timeout=4)
        return True

    def action_kill(self) -> None:
        if self._typed_ahead("kill"):
            return
        view = self.current_view()
        if view is None:
            self.notify("No request selected.", severity="warning", timeout=2)
            return
        if not view.in_flight:
            self.notify(f"{view.id} already finished.", severity="warning", timeout=3)
            return
        self._kill(view)

    @work(exclusive=False, group="kill")
    async def _kill(self, view: ExchangeView) -> None:
        killed = await self.engine.kill(view.id)
        if killed:
            self.notify(f"Killed {view.id}: its client got an error, the CLI was reaped.", timeout=4)
        else:
            self.notify(f"{view.id} was not running any more.", severity="warning", timeout=3)

    def action_replay(self) -> None:
        """Replay spends quota: ask first (keys typed before the question never answer it)."""
        if self._typed_ahead("replay"):
            return
        view = self.current_view()
        if view is None:
            self.notify("No request selected.", severity="warning", timeout=2)
            return
        if not self.server_started:
            self.notify("The proxy is not listening: nothing to replay through.", severity="error")
            return
        question = f"Send {short_id(view.id)} ({view.model or '-'}, {fmt.count(view.body_size)} bytes) to the model again?\nIt runs the CLI once more and spends quota."

        def answered(yes: bool | None) -> None:
            if yes:
                self._replay(view)

        self.push_screen(ConfirmScreen("Replay?", question), answered)

    @work(exclusive=False, group="replay")
    async def _replay(self, view: ExchangeView) -> None:
        self.notify(f"Replaying {short_id(view.id)}…", timeout=3)
        try:
            result = await replay_and_diff(view, getattr(self.engine, "store", None), self.engine.url, self.config.api_key, seen=self.state.get)
        except ReplayRefused as refused:
            self.notify(str(refused), severity="warning", timeout=4)
            return
        except aiohttp.ClientError as error:
            self.notify(f"Replay of {short_id(view.id)} failed: {error}", severity="error")
            return
        if isinstance(self.screen, ReplayDiffScreen):
            self.switch_screen(ReplayDiffScreen(result))  # one diff window at a time, the newest
        else:
            self.push_screen(ReplayDiffScreen(result))

    def action_copy_curl(self) -> None:
        view = self.current_view()
        if view is None:
            self.notify("No request selected.", severity="warning", timeout=2)
            return
        if view.body_cut:
            self.notify(f"{view.id}'s body was cut in memory: export it from the capture store instead.", severity="warning")
            return
        base = getattr(self.engine, "url", None) or f"http://{self.config.host}:{self.config.port}"
        self.copy_text(as_curl(view, base), f"{short_id(view.id)} as curl")

    def copy_text(self, text: str, what: str) -> None:
        """To the clipboard (OSC 52, through tmux and SSH if they allow it) and, as no
        terminal says whether it did, to a private file as well: the notice says where."""
        self.copy_to_clipboard(text)
        saved = clipboard_file(self.config)
        try:
            saved.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold prompts
            with os.fdopen(fd, "w") as file:
                file.write(text)
        except OSError as error:
            self.notify(f"Sent {what} to the clipboard (OSC 52); could not also save it: {error}", severity="warning", timeout=6)
            return
        tmux = " (tmux: set -g set-clipboard on)" if os.environ.get("TMUX") else ""
        self.notify(f"Sent {what} to the clipboard (OSC 52{tmux}); also in {saved}", timeout=6)

    def action_copy(self, part: str) -> None:
        """Copy the answer, the response JSON, an SSE chunk or the argv of the current exchange."""
        view = self.current_view()
        if view is None:
            self.notify("No request selected.", severity="warning", timeout=2)
            return
        text = copy_part(view, part, self.screen)
        if text is None:
            self.notify(f"{short_id(view.id)} has no {COPY_PARTS[part]}.", severity="warning", timeout=3)
            return
        self.copy_text(text, f"{short_id(view.id)}'s {COPY_PARTS[part]}")

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Textual saves to ~/Downloads, which many machines lack: save with the captures instead."""
        folder = Path(path) if path else Path(self.config.data_dir) / "screenshots"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(folder))
        except OSError as error:
            self.notify(f"Could not save the screenshot in {folder}: {error}", severity="error")
            return
        self.notify(f"Screenshot saved: {saved}", timeout=6)

    def action_clear(self) -> None:
        if self._typed_ahead("clear"):
            return
        cleared = self.state.clear()
        self.flush()
        if cleared:
            self.notify(f"Cleared {cleared} finished requests: u brings them back.", timeout=6)

    def action_undo_clear(self) -> None:
        restored = self.state.undo_clear()
        self.flush()
        self.notify(f"Brought back {restored} requests." if restored else "Nothing to bring back.", timeout=3)

    def action_sort(self, step: int) -> None:
        """Sort by the next column (step 1), or reverse the order (step 0)."""
        table = self.table
        keys = [c.key for c in table.columns]
        if step:
            column = keys[(keys.index(table.sort_column) + 1) % len(keys)] if table.sort_column in keys else "time"
            table.sort_by(column, reverse=column != "time")
        else:
            table.sort_by(table.sort_column, reverse=not table.sort_reverse)
        order = "largest first" if table.sort_reverse else "smallest first"
        self.notify(f"Sorted by {table.sort_column}, {order}." if table.sorted else "In arrival order.", timeout=2)

    def action_follow(self) -> None:
        self.table.action_follow()

    def action_panel(self, panel: str) -> None:
        self._main("#inspector", TabbedContent).active = panel

    def action_pretty(self) -> None:
        self._main(CliPanel).toggle_pretty(self.state.get(self.table.selected_id))

    def action_filter(self) -> None:
        field = self._main("#filter", Input)
        field.display = True
        # Focused now, not after the queue (Widget.focus defers): the keys typed after `/`
        # in one burst are forwarded next, and must reach the box, not the list.
        self.screen_stack[0].set_focus(field)

    def action_set_filter(self, text: str) -> None:
        field = self._main("#filter", Input)
        if field.value == text:
            self._apply_filter(text)
        else:
            field.value = text  # Input.Changed applies it
        field.display = bool(text)

    def action_clear_filter(self) -> None:
        if self._main("#filter", Input).value or self.table.filter:
            self.action_set_filter("")
        self._close_filter_input()

    def _apply_filter(self, text: str) -> None:
        """Filter the list as the text is typed; a text that means nothing keeps the last filter and says why."""
        field = self._main("#filter", Input)
        try:
            parsed = parse_view_filter(text)
        except FilterError as error:
            field.border_subtitle = str(error)
            self.filter_error = str(error)
            return
        field.border_subtitle = ""
        self.filter_error = None
        table = self.table
        table.filter = parsed
        table.rebuild(self.state)
        self._show_selection()

    def _close_filter_input(self) -> None:
        field = self._main("#filter", Input)
        field.display = bool(field.value)
        self.table.focus()

    def action_help(self) -> None:
        self.push_screen(
            HelpScreen(
                keymap_from_environment(),
                [
                    ("Console", [*ConsoleScreen.BINDINGS, *self.BINDINGS]),
                    ("Requests list", RequestsTable.BINDINGS),
                    ("Detail view", DetailScreen.BINDINGS),
                    ("Replay diff", ReplayDiffScreen.BINDINGS),
                    ("Statistics", [*StatsScreen.BINDINGS, *LineTable.BINDINGS]),
                ]
            )
        )


def describe_start_error(error: OSError, config: Config) -> tuple[str, str | None]:
    """A failed start in one sentence, and what to do about it."""
    if error.errno is None:  # the engine's own refusal (e.g. remote bind without a key): already a sentence
        return str(error), None
    where = f"{config.host}:{config.port}"
    message = f"Cannot listen on {where}: {error.strerror or error}"
    if error.errno in (errno.EADDRINUSE, 10048):
        return message, "Another program (maybe another claude-max-tui) holds that port. Stop it, or start with --port 0 for a free one."
    if error.errno in (errno.EACCES, errno.EPERM):
        return message, "Ports below 1024 need privileges: pick a port above 1024."
    if error.errno == errno.EADDRNOTAVAIL:
        return message, f"{config.host} is not an address of this machine: check --host."
    return message, "Check the --host and --port settings."


def make_app(
    config: Config,
    *,
    engine: "Engine | Any | None" = None,
    clock: Callable[[], float] | None = None,
    ids: Callable[[], str] | None = None,
    freeze_gc: bool = False,
) -> ConsoleApp:
    """The console for `config`; builds the engine unless one is given (tests, demos)."""
    clock = clock or time.time
    if engine is None:
        from ..engine import Engine

        engine = Engine(config, clock=clock, ids=ids)
    return ConsoleApp(config, engine, clock=clock, freeze_gc=freeze_gc)


def run_console(config: Config) -> int:
    """Run the console in this terminal until the user quits; the exit code."""
    app = make_app(config, freeze_gc=True)
    code = app.run()
    return code if isinstance(code, int) else (0 if app.server_started else 1)
