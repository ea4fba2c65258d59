"""A plain-words banner for what stops the console from being useful.

Port in use, CLI missing, CLI logged out: the user gets one sentence of what is wrong
and one of what to do, never a traceback.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ProblemBanner(Static):
    DEFAULT_CSS = """
    ProblemBanner {
        display: none;
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
        background: $error 15%;
        border-left: thick $error;
    }
    ProblemBanner.-shown { display: block; }
    ProblemBanner.-warning { background: $warning 15%; border-left: thick $warning; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.problems: dict[str, tuple[str, str | None, str]] = {}

    def set_problem(self, key: str, message: str, hint: str | None = None, *, level: str = "error") -> None:
        self.problems[key] = (message, hint, level)
        self._redraw()

    def clear_problem(self, key: str) -> None:
        if self.problems.pop(key, None) is not None:
            self._redraw()

    def _redraw(self) -> None:
        text = Text()
        for i, (message, hint, level) in enumerate(self.problems.values()):
            if i:
                text.append("\n")
            text.append("✖ " if level == "error" else "! ", style="bold red" if level == "error" else "bold yellow")
            text.append(message, style="bold")
            if hint:
                text.append(f"\n  {hint}", style="italic")
        self.update(text)
        self.set_class(bool(self.problems), "-shown")
        self.set_class(bool(self.problems) and all(p[2] != "error" for p in self.problems.values()), "-warning")
