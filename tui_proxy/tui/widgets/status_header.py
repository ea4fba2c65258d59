"""The top two lines: where the proxy listens, the CLI's state and the running totals, then
the plan's windows as gauges with their reset countdowns and the billing bucket.

Each line is drawn in the most detailed form that fits the terminal's width (wide: long
gauges, `resets in 1h 12m`, every window; 80 columns: `5h ▇▇▇▇▇▇▇▇▇░ 93% 1h12m · 7d 41% · plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from .. import formatting as fmt
from ..quota_state import QuotaSnapshot
from ..state import Totals
from ...quota.windows import QuotaWindow


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    #: `http://127.0.0.1:3456`, or None while not listening.
    url: str | None
    #: Why it is not listening (port in use...), shown in red instead of the address.
    listen_error: str | None
    cli_version: str | None
    cli_found: bool | None
    cli_logged_in: bool | None
    cli_auth: str | None
    running: int
    totals: Totals
    per_minute: float
    #: Requests waiting for a slot, and requests whose CLI waits to retry upstream.
    queued: int = 0
    retrying: int = 0
    #: The plan's windows (None before the CLI reported any).
    quota: QuotaSnapshot | None = None
    #: The clock, to the second, while a countdown is shown (else 0: nothing ticks).
    now: int = 0


class StatusHeader(Static):
    """Rendered only when what it shows changed (a countdown ticks once a second at most)."""

    DEFAULT_CSS = """
    StatusHeader {
        dock: top;
        height: 2;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._shown: tuple | None = None

    def show(self, info: HeaderInfo) -> None:
        width = self.size.width or 200
        key = (info, width, info.totals.requests, info.totals.errors, info.totals.tokens)
        if key == self._shown:
            return
        self._shown = key
        self.update(render_header(info, width), layout=False)  # two lines, always


def render_header(info: HeaderInfo, width: int = 200) -> Text:
    out = _first_fitting(_status_lines(info), width)
    out.append("\n")
    out.append_text(_first_fitting(_quota_lines(info), width))
    return out


def _first_fitting(candidates: Iterable[Text], width: int) -> Text:
    """The first candidate that fits `width` cells, else the last (the shortest), cut."""
    last = Text()
    for candidate in candidates:
        if cell_len(candidate.plain) <= width:
            return candidate
        last = candidate
    last.truncate(width, overflow="ellipsis")
    return last


# -- line 1: address, CLI, live requests, totals ---------------------------------------------


def _status_lines(info: HeaderInfo) -> Iterable[Text]:
    for level in range(4):
        yield _status_line(info, level)


def _status_line(info: HeaderInfo, level: int) -> Text:
    """level 0: every word; 1: compact; 2 and 3: the least that still says it all."""
    sep = Text(" │ ", style="dim")
    out = Text(" ")
    if level == 0:
        out.append("claude-max-tui ", style="bold")
    if info.url:
        out.append("● ", style="green")
        out.append(info.url.removeprefix("http://"), style="bold")
    elif info.listen_error:
        out.append("✖ ", style="red")
        out.append("not listening", style="bold red")
    else:
        out.append("○ starting", style="yellow")
    out.append_text(sep)
    out.append_text(_cli(info, level))
    out.append_text(sep)
    out.append_text(_live(info, level))
    out.append_text(sep)
    totals = info.totals
    dot = " · " if level < 3 else " "
    out.append(f"{totals.requests} req")
    out.append(dot, style="dim")
    out.append(f"{totals.errors} err", style="bold red" if totals.errors else "")
    out.append(dot, style="dim")
    out.append(f"{fmt.count(totals.tokens)} tok")
    if level < 3:
        out.append_text(sep)
        out.append(f"{info.per_minute:.0f} req/min" if level == 0 else f"{info.per_minute:.0f}/min")
    return out


def _live(info: HeaderInfo, level: int) -> Text:
    """`3 running · 1 queued · 1 retrying`: what the requests in flight wait on."""
    out = Text()
    out.append(f"{info.running} running" if level == 0 else f"{info.running} run", style="bold cyan" if info.running else "dim")
    dot = " · " if level < 3 else " "
    if info.queued:
        out.append(dot, style="dim")
        out.append(f"{info.queued} queued" if level < 2 else f"{info.queued} q'd", style="bold cyan")
    if info.retrying:
        out.append(dot, style="dim")
        out.append(f"{info.retrying} retrying" if level < 2 else f"{info.retrying} retry", style="bold yellow")
    return out


def _cli(info: HeaderInfo, level: int) -> Text:
    if info.cli_found is None:
        return Text("claude ?", style="dim")
    if not info.cli_found:
        return Text("claude not found", style="bold red")
    if level == 2 and info.cli_logged_in:
        return Text("cli ✔", style="green")
    label = Text(f"claude {info.cli_version or '?'}" if level == 0 else f"cli {info.cli_version or '?'}")
    if info.cli_logged_in:
        auth = f" ({info.cli_auth})" if info.cli_auth and level == 0 else ""
        label.append(" ✔ logged in" + auth if level == 0 else " ✔", style="green")
    elif info.cli_logged_in is False:
        label.append(" ✖ logged out", style="bold red")
    else:
        label.append(" ? login unknown", style="yellow")
    return label


# -- line 2: the plan's windows --------------------------------------------------------------

#: How much each level draws: the first window's bar cells and countdown ("long": `resets
#: in 1h 12m`, "short": `1h12m`, None: none), the other windows' likewise, and whether the
#: words ("plan windows", "billed to", extra usage) are in. Most detailed first.
_QUOTA_LEVELS = (
    (20, "long", 20, "long", True),
    (12, "long", 12, "long", True),
    (10, "long", 10, "long", False),
    (16, "long", 8, "short", False),
    (12, "long", 6, "short", False),
    (10, "short", 10, "short", False),
    (10, "short", 6, "short", False),
    (10, "short", 0, "short", False),
    (10, "short", 0, None, False),
    (6, "short", 0, None, False),
    (0, "short", 0, None, False),
    (0, None, 0, None, False),
)


def _quota_lines(info: HeaderInfo) -> Iterable[Text]:
    quota = info.quota
    if quota is None:
        yield Text.assemble(" ", ("quota", "bold"), ("  not reported yet: the CLI reports the plan's windows with each answer", "dim"))
        yield Text.assemble(" ", ("quota", "bold"), ("  not reported yet", "dim"))
        return
    for level in _QUOTA_LEVELS:
        yield _quota_line(quota, info.now, *level)
    # Too narrow even so: the first two windows and how many more.
    shown = quota.windows[:2]
    yield _quota_line(QuotaSnapshot(shown, quota.bucket, None, None, quota.at), info.now, 0, None, 0, None, False, more=len(quota.windows) - len(shown))


def _quota_line(quota: QuotaSnapshot, now: float, first_bar: int, first_reset: str | None, bar: int, reset: str | None, words: bool, more: int = 0) -> Text:
    out = Text(" ")
    if words:
        out.append("plan windows  ", style="bold")
    sep = Text(" │ " if words else " · ", style="dim")
    for i, window in enumerate(quota.windows):
        if i:
            out.append_text(sep)
        out.append_text(_gauge(window, now, bar if i else first_bar, reset if i else first_reset))
    if more > 0:
        out.append(f" +{more}", style="dim")
    if quota.bucket is not None:
        out.append_text(sep)
        extra = quota.bucket == "extra usage"
        if words:
            out.append("billed to ", style="dim")
        out.append(quota.bucket, style="bold magenta" if extra else "green")
    if words and (quota.overage_status or quota.overage_disabled_reason):
        out.append_text(sep)
        out.append_text(_overage(quota))
    return out


def _gauge(window: QuotaWindow, now: float, bar: int, reset: str | None) -> Text:
    """`5h ▇▇▇▇▇▇▇▇▇░ 93% resets in 1h 12m`; yellow past the threshold, red when refused."""
    out = Text()
    out.append(window.label, style="bold")
    if window.resets_at is not None and now and window.resets_at <= now:
        out.append(" reset since", style="dim")  # the figure is stale: a new window began
        return out
    style = fmt.quota_style(window.status, window.warning) or "green"
    if bar:
        # Rounded down: a full bar means the window is used up, never 95 %.
        filled = 0 if window.utilization is None else int(min(max(window.utilization, 0.0), 1.0) * bar)
        if filled == 0 and window.utilization:
            filled = 1  # anything used shows
        out.append(" ")
        out.append("▇" * filled, style=style)
        out.append("░" * (bar - filled), style="dim")
    out.append(" ")
    out.append(fmt.percent(window.utilization), style=style if style != "green" else "bold")
    if window.status == "rejected":
        out.append(" limit", style="bold red")
    if reset is not None and window.resets_at is not None and now:
        left = window.resets_at - now
        out.append(f" resets in {fmt.countdown(left)}" if reset == "long" else f" {fmt.countdown(left, compact=True)}", style="dim" if reset == "long" else "")
    return out


def _overage(quota: QuotaSnapshot) -> Text:
    """Whether extra usage may be drawn on: `extra usage off (org_level_disabled)`."""
    status = quota.overage_status
    if status in ("rejected", "disabled") or (status is None and quota.overage_disabled_reason):
        reason = f" ({quota.overage_disabled_reason})" if quota.overage_disabled_reason else ""
        return Text(f"extra usage off{reason}", style="dim")
    return Text(f"extra usage {status}", style="magenta" if status == "allowed" else "yellow")
