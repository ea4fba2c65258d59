"""The help screen: every binding with its id and help text, and the filter words."""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ...filters import HELP as FILTER_HELP
from .boxed_modal import BoxedModal


def bindings_table(title: str, bindings: Iterable[Binding], key_display: Callable[[Binding], str], keymap: Mapping[str, str]) -> Table:
    """The bindings with the keys they answer to now (remapped ones included)."""
    table = Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 2), expand=True)
    table.add_column("key", style="bold cyan", no_wrap=True, width=12)
    table.add_column("what it does", ratio=1)
    table.add_column("binding id", style="dim", no_wrap=True, width=22)
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.id:
            continue
        keys = " ".join(key_display(Binding(key, binding.action)) for key in keymap.get(binding.id, binding.key).split(","))
        table.add_row(Text(keys), Text(binding.tooltip or binding.description), Text(binding.id))
    return table


class HelpScreen(BoxedModal):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close", tooltip="Close the help")]

    def __init__(self, keymap: Mapping[str, str], sections: list[tuple[str, Iterable[Binding]]]) -> None:
        super().__init__()
        #: Binding id → keys, as the user remapped them.
        self.keymap = keymap
        self.sections = sections

    def compose(self) -> ComposeResult:
        with self.box("Help · esc to close"):
            intro = Text.from_markup(
                "Every request to the proxy is a row; [b]enter[/] opens it. [b]ctrl+p[/] lists every command.\n"
                "Remap keys by binding id: CLAUDE_MAX_TUI_KEYMAP=\"console.kill=ctrl+k,console.copy_curl=c\"\n"
            )
            tables = [bindings_table(title, bindings, self.app.get_key_display, self.keymap) for title, bindings in self.sections]
            filters = Text.from_markup(f"\n[b]Filter words[/] (all must match, ! negates, \"quote a phrase\"; the same in `captures list --filter`)\n")
            filters.append(f"  {FILTER_HELP}\n")
            yield Static(Group(intro, *tables, filters))
