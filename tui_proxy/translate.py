"""From a validated chat request to a CLI run plan: prompt, options, tools and output limits."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .claude.argv import RunOptions
from .claude.prompt import CliPrompt, render_prompt
from .openai.chat_request import ChatRequest
from .output_limits import OutputLimiter
from .tools.choice import ToolPlan, plan_tools

#: OpenAI `reasoning_effort` → the CLI's `--effort` (low|medium|high|xhigh|max; the CLI
#: sends it upstream as `output_config.effort`). OpenAI's lowest levels have no match: low.
EFFORTS = {"none": "low", "minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}

#: `json_object` has no schema of its own: any JSON object.
ANY_OBJECT = {"type": "object"}


@dataclass(frozen=True, slots=True)
class RunPlan:
    prompt: CliPrompt
    options: RunOptions
    tools: ToolPlan
    stop: tuple[str, ...]
    max_tokens: int | None

    def limiter(self) -> OutputLimiter:
        # Structured output is one JSON value: cutting it would only make it invalid.
        if self.options.json_schema:
            return OutputLimiter()
        return OutputLimiter(self.stop, self.max_tokens)


def plan_chat_run(chat: ChatRequest) -> RunPlan:
    tools = plan_tools(chat.tools, chat.tool_choice, chat.parallel_tool_calls)
    prompt = render_prompt(chat.conversation, extra_system=tools.instruction)
    options = RunOptions(
        model=chat.model.cli_model,
        effort=EFFORTS.get(chat.reasoning_effort or ""),
        json_schema=_json_schema(chat.response_format),
    )
    return RunPlan(prompt, options, tools, chat.stop, chat.max_tokens)


def _json_schema(response_format: dict | None) -> str | None:
    """The CLI's `--json-schema`: it adds a StructuredOutput tool, validates the model's
    call against the schema (retrying on mismatch) and reports `structured_output`."""
    if not response_format:
        return None
    if response_format.get("type") == "json_object":
        schema = ANY_OBJECT
    else:
        schema = (response_format.get("json_schema") or {}).get("schema") or ANY_OBJECT
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
