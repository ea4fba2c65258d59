"""`tools`, `tool_choice` and `parallel_tool_calls` → which tools a run offers, and what the model is told.

The CLI has no tool_choice: `none` offers nothing, a named choice offers only that tool,
and `required` / named choices are asked for in the system prompt (the model follows it;
a run that still answers in text is answered as text, see README).
"""

from __future__ import annotations

from dataclasses import dataclass
from ..conversation import ToolChoice, ToolSpec
from .names import PREFIX, cli_tool_name


@dataclass(frozen=True, slots=True)
class ToolPlan:
    offered: tuple[ToolSpec, ...] = ()
    parallel: bool = True
    #: Added to the system prompt when tools are offered.
    instruction: str | None = None

    @property
    def allowed_tools(self) -> tuple[str, ...]:
        return tuple(cli_tool_name(tool.name) for tool in self.offered)


def plan_tools(tools: tuple[ToolSpec, ...], tool_choice: ToolChoice, parallel: bool) -> ToolPlan:
    if not tools or tool_choice.mode == "none":
        return ToolPlan()
    offered = tools
    lines = [
        # The same words on every turn and whichever way the history travels (native blocks or,
        # as a fallback, a transcript): the system prompt starts the cached prefix.
        f"The functions you can call are the tools whose names start with {PREFIX}. To call a function, "
        "use the tool itself: never write a call out as text or tags."
    ]
    if tool_choice.mode == "named":
        name = tool_choice.name
        offered = tuple(tool for tool in tools if tool.name == name)
        lines.append(f"You must call the tool {cli_tool_name(name)} now, instead of answering in text.")
    elif tool_choice.mode == "required":
        lines.append("You must call at least one of these tools now, instead of answering in text.")
    if not parallel:
        lines.append("Call at most one tool in your answer.")
    return ToolPlan(offered=offered, parallel=parallel, instruction="\n".join(lines))
