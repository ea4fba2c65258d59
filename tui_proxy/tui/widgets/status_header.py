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
    return Text.assemble(*_first_fitting(_status_lines(info), width), ("\n", ""), *_first_fitting(_quota_lines(info), width))


#: A line as (text, style) runs: measured as plain text, made into one Text only once chosen
#: (building a rich Text per candidate cost milliseconds per header).
Runs = list[tuple[str, str]]


def _first_fitting(candidates: Iterable[Runs], width: int) -> Runs:
    """The first candidate that fits `width` cells, else the last (the shortest), cut."""
    last: Runs = []
    for candidate in candidates:
        if sum(cell_len(text) for text, _ in candidate) <= width:
            return candidate
        last = candidate
    cut = Text.assemble(*last)
    cut.truncate(width, overflow="ellipsis")
    return [(cut.plain, "")]


# -- line 1: address, CLI, live requests, totals ---------------------------------------------

_SEP = (" │ ", "dim")


def _status_lines(info: HeaderInfo) -> Iterable[Runs]:
    for level in range(4):
        yield _status_line(info, level)


def _status_line(info: HeaderInfo, level: int) -> Runs:
    """level 0: every word; 1: compact; 2 and 3: the least that still says it all."""
    out: Runs = [(" ", "")]
    if level == 0:
        out.append(("claude-max-tui ", "bold"))
    if info.url:
        out += [("● ", "green"), (info.url.removeprefix("http://"), "bold")]
    elif info.listen_error:
        out += [("✖ ", "red"), ("not listening", "bold red")]
    else:
        out.append(("○ starting", "yellow"))
    out.append(_SEP)
    out += _cli(info, level)
    out.append(_SEP)
    out += _live(info, level)
    out.append(_SEP)
    totals = info.totals
    dot = (" · " if level < 3 else " ", "dim")
    out += [(f"{totals.requests} req", ""), dot, (f"{totals.errors} err", "bold red" if totals.errors else ""), dot, (f"{fmt.count(totals.tokens)} tok", "")]
    if level < 3:
        out += [_SEP, (f"{info.per_minute:.0f} req/min" if level == 0 else f"{info.per_minute:.0f}/min", "")]
    return out


def _live(info: HeaderInfo, level: int) -> Runs:
    """`3 running · 1 queued · 1 retrying`: what the requests in flight wait on."""
    out: Runs = [(f"{info.running} running" if level == 0 else f"{info.running} run", "bold cyan" if info.running else "dim")]
    dot = (" · " if level < 3 else " ", "dim")
    if info.queued:
        out += [dot, (f"{info.queued} queued" if level < 2 else f"{info.queued} q'd", "bold cyan")]
    if info.retrying:
        out += [dot, (f"{info.retrying} retrying" if level < 2 else f"{info.retrying} retry", "bold yellow")]
    return out


def _cli(info: HeaderInfo, level: int) -> Runs:
    if info.cli_found is None:
        return [("claude ?", "dim")]
    if not info.cli_found:
        return [("claude not found", "bold red")]
    if level == 2 and info.cli_logged_in:
        return [("cli ✔", "green")]
    out: Runs = [(f"claude {info.cli_version or '?'}" if level == 0 else f"cli {info.cli_version or '?'}", "")]
    if info.cli_logged_in:
        auth = f" ({info.cli_auth})" if info.cli_auth and level == 0 else ""
        out.append((" ✔ logged in" + auth if level == 0 else " ✔", "green"))
    elif info.cli_logged_in is False:
        out.append((" ✖ logged out", "bold red"))
    else:
        out.append((" ? login unknown", "yellow"))
    return out


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


def _quota_lines(info: HeaderInfo) -> Iterable[Runs]:
    quota = info.quota
    if quota is None:
        yield [(" ", ""), ("quota", "bold"), ("  not reported yet: the CLI reports the plan's windows with each answer", "dim")]
        yield [(" ", ""), ("quota", "bold"), ("  not reported yet", "dim")]
        return
    for level in _QUOTA_LEVELS:
        yield _quota_line(quota, info.now, *level)
    # Too narrow even so: the first two windows and how many more.
    shown = quota.windows[:2]
    yield _quota_line(QuotaSnapshot(shown, quota.bucket, None, None, quota.at), info.now, 0, None, 0, None, False, more=len(quota.windows) - len(shown))


def _quota_line(quota: QuotaSnapshot, now: float, first_bar: int, first_reset: str | None, bar: int, reset: str | None, words: bool, more: int = 0) -> Runs:
    out: Runs = [(" ", "")]
    if words:
        out.append(("plan windows  ", "bold"))
    sep = (" │ " if words else " · ", "dim")
    for i, window in enumerate(quota.windows):
        if i:
            out.append(sep)
        out += _gauge(window, now, bar if i else first_bar, reset if i else first_reset)
    if more > 0:
        out.append((f" +{more}", "dim"))
    if quota.bucket is not None:
        out.append(sep)
        if words:
            out.append(("billed to ", "dim"))
        out.append((quota.bucket, "bold magenta" if quota.bucket == "extra usage" else "green"))
    if words and (quota.overage_status or quota.overage_disabled_reason):
        out += [sep, _overage(quota)]
    return out


def _gauge(window: QuotaWindow, now: float, bar: int, reset: str | None) -> Runs:
    """`5h ▇▇▇▇▇▇▇▇▇░ 93% resets in 1h 12m`; yellow past the threshold, red when refused."""
    out: Runs = [(window.label, "bold")]
    if window.resets_at is not None and now and window.resets_at <= now:
        out.append((" reset since", "dim"))  # the figure is stale: a new window began
        return out
    style = fmt.quota_style(window.status, window.warning) or "green"
    if bar:
        # Rounded down: a full bar means the window is used up, never 95 %.
        filled = 0 if window.utilization is None else int(min(max(window.utilization, 0.0), 1.0) * bar)
        if filled == 0 and window.utilization:
            filled = 1  # anything used shows
        out += [(" ", ""), ("▇" * filled, style), ("░" * (bar - filled), "dim")]
    out += [(" ", ""), (fmt.percent(window.utilization), style if style != "green" else "bold")]
    if window.status == "rejected":
        out.append((" limit", "bold red"))
    if reset is not None and window.resets_at is not None and now:
        left = window.resets_at - now
        out.append((f" resets in {fmt.countdown(left)}", "dim") if reset == "long" else (f" {fmt.countdown(left, compact=True)}", ""))
    return out


def _overage(quota: QuotaSnapshot) -> tuple[str, str]:
    """Whether extra usage may be drawn on: `extra usage off (org_level_disabled)`."""
    status = quota.overage_status
    if status in ("rejected", "disabled") or (status is None and quota.overage_disabled_reason):
        reason = f" ({quota.overage_disabled_reason})" if quota.overage_disabled_reason else ""
        return (f"extra usage off{reason}", "dim")
    return (f"extra usage {status}", "magenta" if status == "allowed" else "yellow")
