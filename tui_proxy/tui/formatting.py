"""Short, fixed-width renderings of times, durations, counts and statuses.

Every column of the console goes through these, so a row never changes width and
the table never has to re-measure.
"""

from __future__ import annotations

import json
import time

from rich.text import Text

from .exchange_view import ExchangeView
from .quota_state import representative


def clock_time(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def clock_time_ms(epoch: float) -> str:
    return f"{clock_time(epoch)}.{int(epoch * 1000) % 1000:03d}"


def duration(ms: float | None) -> str:
    """`840ms`, `2.4s`, `1m05s`: at most 5 characters."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def count(n: int | None) -> str:
    """`950`, `12.3k`, `150k`, `4.1M`: at most 5 characters."""
    if n is None:
        return "-"
    if n < 1000:
        return str(n)
    if n < 99_950:
        return f"{n / 1000:.1f}k"
    if n < 999_500:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def cost(usd: float | None) -> str:
    """`$0.004`, `$0.12`, `$3.40`, `$12.5`: what the CLI says the run cost, at most 6 characters."""
    if usd is None:
        return "-"
    if usd <= 0:
        return "$0"
    if usd < 0.001:
        return "<$.001"
    if usd < 0.1:
        return f"${usd:.3f}"
    if usd < 10:
        return f"${usd:.2f}"
    if usd < 1000:
        return f"${usd:.1f}"
    return f"${usd / 1000:.1f}k"


def percent(fraction: float | None) -> str:
    return "?%" if fraction is None else f"{fraction * 100:.0f}%"


def countdown(seconds: float, *, compact: bool = False) -> str:
    """`1h 12m`, `3d 4h`, `45s` (`1h12m` compact): how long until a window resets."""
    seconds = max(0, int(seconds))
    sep = "" if compact else " "
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{sep}{hours}h"
    if hours:
        return f"{hours}h{sep}{minutes:02d}m" if compact else f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def rate(per_second: float | None) -> str:
    if per_second is None:
        return "-"
    if per_second >= 1000:
        return f"{per_second / 1000:.1f}k"
    return f"{per_second:.1f}" if per_second < 100 else f"{per_second:.0f}"


def called_tools(view: ExchangeView) -> bool:
    """The answer ended with calls to the client's tools (the client runs them next)."""
    return bool(view.tool_calls) or view.finish_reason == "tool_calls"


def status_label(view: ExchangeView, *, narrow: bool = False) -> str:
    """`200`, `200 tool` (`tool` when narrow), `live`, `kill`…: a row's status column."""
    if view.in_flight:
        if view.retrying:
            return "retry"
        if view.first_token_at is not None or view.response_status:
            return "live"
        if view.queued:
            return "queue" if narrow else "queued"
        return "wait"
    if view.error is not None and view.error.source == "killed":
        return "kill"
    if view.error is not None and view.error.source == "disconnect":
        return "gone"
    if view.error is not None and view.error.source == "interrupted":
        return "cut"
    if view.error is None and called_tools(view):
        return "tool" if narrow else f"{view.status or '?'} tool"
    return str(view.status) if view.status is not None else "?"


def status_style(view: ExchangeView) -> str:
    """The class of a status, named as in console.tcss and used for row colours."""
    if view.in_flight:
        return "bold yellow" if view.retrying else "bold cyan"
    if view.error is not None and view.error.source in ("killed", "disconnect"):
        return "bold magenta"
    status = view.status or 0
    if status >= 500:
        return "bold red"
    if status >= 400:
        return "bold yellow"
    return "bold green"


def status_text(view: ExchangeView, *, narrow: bool = False) -> Text:
    return Text(status_label(view, narrow=narrow), style=status_style(view))


def retry_texts(view: ExchangeView, now: float) -> tuple[str, ...]:
    """A retrying request, longest first (a cell takes the first that fits):
    `retry 5/10 · 529 overloaded · next in 9.7 s`, down to `retry 5/10 529 9.7s`."""
    retry = view.last_retry
    if retry is None:
        return ("retry",)
    of = f"{retry.attempt if retry.attempt is not None else '?'}/{retry.max_retries if retry.max_retries is not None else '?'}"
    status = str(retry.error_status) if retry.error_status is not None else ""
    why = " ".join(part for part in (status, retry.error or "") if part) or "error"
    left = None if retry.retry_delay_ms is None else retry.at + retry.retry_delay_ms / 1000 - now
    if left is None or left <= 0:
        when, short = "retrying now", "now"
    else:
        when, short = f"next in {left:.1f} s", f"{left:.1f}s"
    waited = duration(view.duration_ms(now))
    return (
        f"retry {of} · {why} · {when} · waiting {waited}",
        f"retry {of} · {why} · {when}",
        f"retry {of} · {why} · {short}",
        f"retry {of} · {why} {short}",
        f"retry {of} {status or why} {short}",
        f"retry {of} {short}",
    )


def quota_window_text(view: ExchangeView) -> str:
    """`5h 93%`: the window this request's run reported on, after it."""
    report = view.quota
    if report is None:
        return "-"
    window = representative(report)
    if window is None:
        return "-"
    return f"{window.label} {percent(window.utilization)}"


def quota_summary(view: ExchangeView) -> Text:
    """` · 5h 93% · plan` (or `extra usage`): the window after this request and where it was billed."""
    out = Text()
    report = view.quota
    if report is None:
        return out
    window = representative(report)
    if window is not None:
        out.append(" · ")
        out.append(f"{window.label} {percent(window.utilization)}", style=quota_style(window.status, window.warning))
    if report.bucket is not None:
        out.append(" · ")
        out.append(report.bucket, style="bold magenta" if report.using_overage else "")
    return out


def quota_style(status: str | None, warning: bool = False) -> str:
    """Red when the window refused, yellow past its threshold, plain otherwise."""
    if status == "rejected":
        return "bold red"
    if warning or status == "allowed_warning":
        return "bold yellow"
    return ""



def pretty_json(raw: str | bytes) -> str:
    """Indented JSON when it parses, the text as it is when not."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def cut_lines(text: str, limit: int | None) -> tuple[str, int]:
    """The first `limit` lines and how many more there are (big bodies freeze widgets)."""
    if limit is None:
        return text, 0
    lines = text.split("\n")
    if len(lines) <= limit:
        return text, 0
    return "\n".join(lines[:limit]), len(lines) - limit


#: Product tokens that say nothing about which program sent the request.
_GENERIC_PRODUCTS = {"mozilla", "python", "node", "node.js", "deno", "bun", "java", "go-http-client", "dart"}


def client_name(user_agent: str) -> str:
    """`OpenAI/Python 1.82.0` → `openai-python`, `Python/3.11 aiohttp/3.14` → `aiohttp`, `curl/8.5` → `curl`."""
    if not user_agent:
        return "-"
    tokens = [t for t in user_agent.replace(";", " ").split() if "/" in t and not t.startswith("(")]
    if not tokens:
        return user_agent.split()[0].lower()[:20]
    for token in tokens:
        product, _, version = token.partition("/")
        if product.lower() in _GENERIC_PRODUCTS:
            continue
        if version and not version[0].isdigit():  # `OpenAI/Python 1.82.0`: vendor/language
            return f"{product}-{version}".lower()
        return product.lower()
    return tokens[0].partition("/")[0].lower()
