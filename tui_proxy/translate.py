"""From a validated chat request to a CLI run plan: prompt, options and output limits."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .claude.argv import RunOptions
from .claude.prompt import CliPrompt, render_prompt
from .openai.chat_request import ChatRequest
from .openai.errors import unsupported
from .output_limits import OutputLimiter

#: OpenAI `reasoning_effort` → the CLI's `--effort`.
EFFORTS = {"none": "low", "minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}


@dataclass(frozen=True, slots=True)
class RunPlan:
    prompt: CliPrompt
    options: RunOptions
    stop: tuple[str, ...]
    max_tokens: int | None

    def limiter(self) -> OutputLimiter:
        return OutputLimiter(self.stop, self.max_tokens)


def plan_chat_run(chat: ChatRequest) -> RunPlan:
    _check_tool_choice(chat)
    prompt = render_prompt(chat.conversation, extra_system=_format_instruction(chat.response_format))
    options = RunOptions(model=chat.model.cli_model, effort=EFFORTS.get(chat.reasoning_effort or ""))
    return RunPlan(prompt, options, chat.stop, chat.max_tokens)


def _check_tool_choice(chat: ChatRequest) -> None:
    # Until client tools are bridged, a forced call cannot be honoured with text.
    choice = chat.tool_choice
    if chat.tools and (choice == "required" or isinstance(choice, dict)):
        raise unsupported("tool_choice", "Forcing a tool call is not supported yet: use tool_choice 'auto' or 'none'.")


def _format_instruction(response_format: dict | None) -> str | None:
    if not response_format:
        return None
    if response_format.get("type") == "json_object":
        return "Answer with one valid JSON object and nothing else: no prose, no code fences."
    spec = response_format.get("json_schema") or {}
    schema = json.dumps(spec.get("schema") or {}, ensure_ascii=False)
    return (
        "Answer with one valid JSON value and nothing else (no prose, no code fences) that "
        f"conforms exactly to this JSON schema named {spec.get('name')!r}: {schema}"
    )
