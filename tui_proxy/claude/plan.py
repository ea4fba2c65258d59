"""From the neutral request to a CLI run plan: prompt, options, tools and output limits."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..conversation import ModelRequest
from ..tools.choice import ToolPlan, plan_tools
from .argv import RunOptions
from .history import Message, NotNative, native_messages
from .output_limits import OutputLimiter
from .prompt import CliPrompt, render_prompt


@dataclass(frozen=True, slots=True)
class RunPlan:
    prompt: CliPrompt
    options: RunOptions
    tools: ToolPlan
    stop: tuple[str, ...]
    max_tokens: int | None
    #: The conversation as native messages (a session file the CLI resumes), or why it
    #: cannot be expressed so (then `prompt`, a transcript, goes on stdin).
    history: tuple[Message, ...] | NotNative = NotNative("not_planned")

    def limiter(self) -> OutputLimiter:
        # Structured output is one JSON value: cutting it would only make it invalid.
        if self.options.json_schema:
            return OutputLimiter()
        return OutputLimiter(self.stop, self.max_tokens)


def plan_run(request: ModelRequest) -> RunPlan:
    tools = plan_tools(request.tools, request.tool_choice, request.parallel_tool_calls)
    prompt = render_prompt(request.conversation, extra_system=tools.instruction)
    output = request.output
    options = RunOptions(
        model=request.model.cli_model,
        effort=output.effort,
        # The CLI's `--json-schema`: it adds a StructuredOutput tool, validates the model's
        # call against the schema (retrying on mismatch) and reports `structured_output`.
        json_schema=None if output.json_schema is None else json.dumps(output.json_schema, ensure_ascii=False, separators=(",", ":")),
    )
    return RunPlan(prompt, options, tools, output.stop, output.max_tokens, _history(request))


def _history(request: ModelRequest) -> tuple[Message, ...] | NotNative:
    # Even one message goes in a session file: stdin would give the CLI's environment message
    # another shape (and an image a path block), and the next turn's prefix could not match.
    return native_messages(request.conversation)
