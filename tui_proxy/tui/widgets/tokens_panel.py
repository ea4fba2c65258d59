"""The tokens panel: the selected request's output as it streams, thinking apart.

Redrawn by the flush only when its exchange changed, with the whole text (Static
updates at a few Hz keep up with any token rate; per-token appends would not). Only
the tail is drawn for very long answers.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from .. import formatting as fmt
from ..state import ExchangeView

#: Characters of answer drawn at most; the detail view has the rest.
SHOWN_CHARS = 20_000


def stream_summary(view: ExchangeView, now: float) -> Text:
    """`5e1f09 · sonnet · live · ttft 820ms · 42.0 tok/s · ~120 tok`."""
    out = Text()
    out.append(view.id.rsplit("-", 1)[-1][:6], style="bold")
    out.append(f" · {view.model or '-'} · ")
    out.append_text(fmt.status_text(view))
    out.append(" · ttft ")
    out.append(fmt.duration(view.ttft_ms()), style="bold")
    out.append(" · ")
    out.append(fmt.rate(view.tokens_per_second(now)), style="bold")
    out.append(" tok/s · ")
    out.append(("~" if view.tokens_estimated else "") + fmt.count(view.tokens_out))
    out.append(" tok · ")
    out.append(fmt.duration(view.duration_ms(now)))
    return out


def _tail(text: str) -> str:
    if len(text) <= SHOWN_CHARS:
        return text
    return "…" + text[-SHOWN_CHARS:]


class TokensPanel(Vertical):
    """A summary line over a scrolling body that follows the end while you are at it."""

    DEFAULT_CSS = """
    TokensPanel { height: 1fr; }
    TokensPanel > .summary { height: 1; padding: 0 1; background: $boost; }
    TokensPanel > VerticalScroll { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    TokensPanel .thinking-label { color: $text-muted; text-style: bold; }
    TokensPanel .thinking { color: $text-muted; text-style: italic; border-left: outer $secondary; padding-left: 1; margin-bottom: 1; }
    TokensPanel .answer-label { color: $accent; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.exchange_id: str | None = None
        self._drawn: tuple | None = None
        self._heights: dict[tuple, int] = {}

    def compose(self) -> ComposeResult:
        yield Static("No request yet. Send one to the address above.", classes="summary")
        with VerticalScroll():
            yield Static("thinking", classes="thinking-label")
            yield Static("", classes="thinking", markup=False)
            yield Static("answer", classes="answer-label")
            yield Static("", classes="answer", markup=False)

    def on_mount(self) -> None:
        for selector in (".thinking-label", ".thinking", ".answer-label"):
            self.query_one(selector).display = False

    def _update_text(self, widget: Static, text: str) -> None:
        """Update, asking for a screen-wide layout only when the text's height changes.

        A layout pass reflows and repaints the whole screen; while tokens stream, most
        flushes only add words to the last line.
        """
        width = max(1, widget.content_region.width or self.size.width or 80)
        height = sum(max(1, -(-len(line) // width)) for line in text.split("\n"))
        key = ("height", id(widget))
        layout = self._heights.get(key) != height
        self._heights[key] = height
        widget.update(text, layout=layout)

    def show(self, view: ExchangeView | None, now: float) -> None:
        if view is None:
            if self._drawn is not None:
                self._drawn = None
                self.exchange_id = None
                self.query_one(".summary", Static).update("No request selected.")
                self.query_one(".answer", Static).update("")
            return
        key = (view.id, view.version, view.in_flight and int(now * 4))
        if key == self._drawn:
            return
        switched = view.id != self.exchange_id
        self._drawn = key
        self.exchange_id = view.id
        body = self.query_one(VerticalScroll)
        # A live answer is followed at its end while the reader stays there; a finished
        # one opens at its start.
        at_end = body.scroll_y >= body.max_scroll_y - 1
        follow = view.in_flight and (switched or at_end)
        self.query_one(".summary", Static).update(stream_summary(view, now), layout=False)  # one line
        thinking = str(view.thinking)
        has_thinking = bool(thinking)
        for selector in (".thinking-label", ".thinking", ".answer-label"):
            self.query_one(selector).display = has_thinking
        if has_thinking:
            self._update_text(self.query_one(".thinking", Static), _tail(thinking))
        answer = _tail(str(view.text))
        if not answer and view.error is not None:
            answer = f"✖ {view.status} {view.error.type}: {view.error.message}"
        elif not answer and view.in_flight:
            answer = "waiting for the first token…"
        self._update_text(self.query_one(".answer", Static), answer)
        if follow:
            body.scroll_end(animate=False)
        elif switched:
            body.scroll_home(animate=False)
