"""The top line: where the proxy listens, the CLI's state, and the running totals."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from .. import formatting as fmt
from ..state import Totals


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


class StatusHeader(Static):
    """Rendered only when its HeaderInfo changes, so a 4 Hz flush costs nothing idle."""

    DEFAULT_CSS = """
    StatusHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._shown: tuple | None = None

    def show(self, info: HeaderInfo) -> None:
        compact = self.size.width and self.size.width < 130
        key = (info, compact, info.totals.requests, info.totals.errors, info.totals.tokens)
        if key == self._shown:
            return
        self._shown = key
        self.update(render_header(info, compact=bool(compact)), layout=False)  # one line, always


def render_header(info: HeaderInfo, *, compact: bool = False) -> Text:
    sep = Text(" │ ", style="dim")
    out = Text(" ")
    if not compact:
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
    out.append_text(_cli(info, compact))
    out.append_text(sep)
    running_style = "bold cyan" if info.running else "dim"
    out.append(f"{info.running} running" if not compact else f"{info.running} run", style=running_style)
    out.append_text(sep)
    totals = info.totals
    out.append(f"{totals.requests} req")
    out.append(" · ", style="dim")
    out.append(f"{totals.errors} err", style="bold red" if totals.errors else "")
    out.append(" · ", style="dim")
    out.append(f"{fmt.count(totals.tokens)} tok")
    out.append_text(sep)
    out.append(f"{info.per_minute:.0f}/min" if compact else f"{info.per_minute:.0f} req/min")
    return out


def _cli(info: HeaderInfo, compact: bool) -> Text:
    if info.cli_found is None:
        return Text("claude ?", style="dim")
    if not info.cli_found:
        return Text("claude not found", style="bold red")
    label = Text(f"claude {info.cli_version or '?'}" if not compact else f"cli {info.cli_version or '?'}")
    if info.cli_logged_in:
        auth = f" ({info.cli_auth})" if info.cli_auth and not compact else ""
        label.append(" ✔" if compact else " ✔ logged in" + auth, style="green")
    elif info.cli_logged_in is False:
        label.append(" ✖ logged out", style="bold red")
    else:
        label.append(" ? login unknown", style="yellow")
    return label
