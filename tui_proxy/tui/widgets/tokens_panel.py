"""The tokens panel: the selected request's output as it streams, thinking apart.

Redrawn by the flush (a few times a second, never per token) and only when its
exchange changed; the text goes to a StreamText, which re-wraps and repaints only the
lines that changed. Only the tail of a very long answer is drawn.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ...ids import short_id
from .. import formatting as fmt
from ..exchange_view import ExchangeView
from .stream_text import StreamText

#: Characters of answer drawn at most; the detail view has the rest.
SHOWN_CHARS = 20_000


def stream_summary(view: ExchangeView, now: float) -> Text:
    """`5e1f09 · sonnet · live · ttft 820ms · 42.0 tok/s · ~120 tok · 2.41s · $0.004 · 5h 93% · plan`."""
    out = Text()
    out.append(short_id(view.id), style="bold")
    out.append(f" · {view.model or '-'} · ")
    if view.retrying:
        out.append(fmt.retry_texts(view, now)[0], style=fmt.status_style(view))
        return out
    out.append_text(fmt.status_text(view))
    out.append(" · ttft ")
    out.append(fmt.duration(view.ttft_ms()), style="bold")
    out.append(" · ")
    out.append(fmt.rate(view.tokens_per_second(now)), style="bold")
    out.append(" tok/s · ")
    out.append(("~" if view.tokens_estimated else "") + fmt.count(view.tokens_out))
    out.append(" tok · ")
    out.append(fmt.duration(view.duration_ms(now)))
    if view.cost_usd is not None:
        out.append(f" · {fmt.cost(view.cost_usd)}")
    out.append_text(fmt.quota_summary(view))
    return out


def retry_story(view: ExchangeView, now: float) -> str:
    """What a retrying request waits on, in words."""
    retry = view.last_retry
    if retry is None:
        return "The CLI is retrying its call to Anthropic."
    why = " ".join(str(p) for p in (retry.error_status, retry.error) if p) or "an error"
    left = None if retry.retry_delay_ms is None else retry.at + retry.retry_delay_ms / 1000 - now
    when = "now" if left is None or left <= 0 else f"in {left:.1f} s"
    return (
        f"Anthropic answered {why}: the CLI retries (attempt {retry.attempt or '?'} of {retry.max_retries or '?'}, next {when}). "
        "The request waits on Anthropic, not in the proxy's queue."
    )


def _tail(text: str) -> str:
    if len(text) <= SHOWN_CHARS:
        return text
    return "…" + text[-SHOWN_CHARS:]


def _tool_call_runs(view: ExchangeView) -> list[tuple[str, str]]:
    """The calls the model made, as (text, style) runs: name and id, then the pretty arguments."""
    runs: list[tuple[str, str]] = []
    for call_id, name, arguments in view.tool_calls:
        runs += [(f"→ {name}  ({call_id})", "bold"), (fmt.pretty_json(arguments), "")]
    return runs


class TokensPanel(Vertical):
    """A summary line over the streamed text, which follows its end while you are there."""

    DEFAULT_CSS = """
    TokensPanel { height: 1fr; }
    TokensPanel > .summary { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.exchange_id: str | None = None
        self._drawn: tuple | None = None
        #: What the panel says before any request.
        self.empty_text = "No request yet. Send one to the address above."

    def compose(self) -> ComposeResult:
        yield Static(self.empty_text, classes="summary")
        yield StreamText()

    def set_empty_text(self, text: str) -> None:
        """What to say before any request (the proxy may not be listening at all)."""
        self.empty_text = text
        if self._drawn is None:
            self.query_one(".summary", Static).update(text, layout=False)

    @property
    def plain(self) -> str:
        """The summary and the text as shown (tests read it)."""
        return f"{static_plain(self.query_one('.summary', Static))}\n{self.query_one(StreamText).plain}"

    def show(self, view: ExchangeView | None, now: float) -> None:
        if view is None:
            if self._drawn is not None:
                self._drawn = None
                self.exchange_id = None
                self.query_one(".summary", Static).update("No request selected." if self.empty_text.startswith("No request") else self.empty_text, layout=False)
                self.query_one(StreamText).set_runs(())
            return
        key = (view.id, view.version, view.in_flight and int(now * 4))
        if key == self._drawn:
            return
        switched = view.id != self.exchange_id
        self._drawn = key
        self.exchange_id = view.id
        self.query_one(".summary", Static).update(stream_summary(view, now), layout=False)  # one line
        runs: list[tuple[str, str]] = []
        thinking = str(view.thinking)
        if thinking:
            runs += [("thinking", THINKING_LABEL), (_tail(thinking), THINKING), ("", ""), ("answer", ANSWER_LABEL)]
        answer = _tail(str(view.text))
        if not answer and view.error is not None:
            runs.append((f"✖ {view.status} {view.error.type}: {view.error.message}", "red"))
        elif not answer and view.retrying:
            runs.append((retry_story(view, now), "yellow"))
        elif not answer and view.queued:
            runs.append(("queued: every CLI slot is busy (--max-concurrency); it starts when one frees up…", "dim"))
        elif not answer and view.in_flight:
            runs.append(("waiting for the first token…", "dim"))
        elif answer or not view.tool_calls:
            runs.append((answer, ""))
        if view.tool_calls:
            if answer:
                runs.append(("", ""))
            runs += [(f"tool calls ({len(view.tool_calls)})", TOOL_CALLS_LABEL), *_tool_call_runs(view)]
        body = self.query_one(StreamText)
        # A live answer is followed at its end while the reader stays there; a finished
        # one opens at its start.
        body.set_runs(tuple(runs), follow=True if switched and view.in_flight else None if view.in_flight else False)
        if switched and not view.in_flight:
            body.scroll_home(animate=False, immediate=True)


THINKING_LABEL = "bold grey62"
THINKING = "italic grey62"
ANSWER_LABEL = "bold dark_orange"
TOOL_CALLS_LABEL = "bold dodger_blue1"


def static_plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)
