"""Validate a `/v1/chat/completions` body into the neutral `ModelRequest`, or raise a 400 naming the param."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..conversation import Conversation, ModelRequest, OutputOptions, TextPart, ToolCall, ToolChoice, ToolSpec, Turn
from .. import models
from .content import text_only, user_parts
from ..errors import ProxyError, invalid, unsupported

#: Text parts of chat messages (an assistant's refusal is text too).
TEXT_KINDS = ("text", "refusal")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
#: OpenAI's rule for function names; it also keeps `--allowedTools=a,b` unambiguous.
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The schema travels in argv (`--json-schema` takes no file), where one argument is capped at 128 KiB.
MAX_SCHEMA_CHARS = 64 * 1024


#: OpenAI `reasoning_effort` -> the CLI's `--effort` (low|medium|high|xhigh|max; the CLI
#: sends it upstream as `output_config.effort`). OpenAI's lowest levels have no match: low.
EFFORTS = {"none": "low", "minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}
#: `json_object` has no schema of its own: any JSON object.
ANY_OBJECT = {"type": "object"}


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A chat body: the neutral request, plus what only the chat wire shape needs."""

    request: ModelRequest
    #: `stream_options.include_usage`: a usage chunk before `[DONE]`.
    include_usage: bool = False


def parse_chat_request(body: Any) -> ChatRequest:
    model_id = required_model(body)

    stream = _optional_bool(body, "stream", False)
    include_usage = False
    stream_options = body.get("stream_options")
    if stream_options is not None:
        if not isinstance(stream_options, dict):
            raise invalid("stream_options", "'stream_options' must be an object.", "invalid_type")
        if not stream:
            raise invalid("stream_options", "'stream_options' is only allowed when 'stream' is true.")
        include_usage = _optional_bool(stream_options, "include_usage", False, "stream_options.include_usage")

    _reject_unsupported(body)
    conversation = _parse_messages(body.get("messages"))
    tools, tool_choice = _parse_tools(body)

    effort = _parse_reasoning_effort(body.get("reasoning_effort"))
    request = ModelRequest(
        model=models.resolve(model_id),
        conversation=conversation,
        stream=stream,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=_optional_bool(body, "parallel_tool_calls", True),
        output=OutputOptions(
            stop=_parse_stop(body.get("stop")),
            max_tokens=_parse_max_tokens(body),
            json_schema=_json_schema(_parse_response_format(body.get("response_format"))),
            effort=EFFORTS.get(effort or ""),
        ),
    )
    return ChatRequest(request, include_usage=include_usage)


def required_model(body: Any) -> str:
    """The model id of an OpenAI body (chat or Responses), once the body is a JSON object."""
    if not isinstance(body, dict):
        raise ProxyError(400, "The request body must be a JSON object.", code="invalid_json", retryable=False)
    model_id = body.get("model")
    if model_id is None:
        raise invalid("model", "Missing required parameter: 'model'.", "missing_required_parameter")
    if not isinstance(model_id, str) or not model_id:
        raise invalid("model", "'model' must be a non-empty string.", "invalid_type")
    return model_id


def _optional_bool(obj: dict, key: str, default: bool, param: str | None = None) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(param or key, f"'{param or key}' must be a boolean.", "invalid_type")
    return value


def _reject_unsupported(body: dict) -> None:
    n = body.get("n")
    if n is not None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise invalid("n", "'n' must be a positive integer.", "invalid_type")
        if n > 1:
            raise unsupported("n", "Only n=1 is supported: the CLI produces one answer per run.")
    if body.get("logprobs") not in (None, False):
        raise unsupported("logprobs", "logprobs are not available from the Claude Code CLI.", "unsupported_parameter")
    if body.get("top_logprobs") is not None:
        raise unsupported("top_logprobs", "top_logprobs are not available from the Claude Code CLI.", "unsupported_parameter")
    modalities = body.get("modalities")
    if modalities is not None:
        if not isinstance(modalities, list) or not all(isinstance(m, str) for m in modalities):
            raise invalid("modalities", "'modalities' must be an array of strings.", "invalid_type")
        if any(m != "text" for m in modalities):
            raise unsupported("modalities", "Only text output is supported.")
    if body.get("audio") is not None:
        raise unsupported("audio", "Audio output is not supported.", "unsupported_parameter")
    for legacy in ("functions", "function_call"):
        if body.get(legacy) is not None:
            raise unsupported(legacy, f"'{legacy}' is the legacy API: use 'tools' and 'tool_choice'.", "unsupported_parameter")


def _parse_messages(messages: Any) -> Conversation:
    if messages is None:
        raise invalid("messages", "Missing required parameter: 'messages'.", "missing_required_parameter")
    if not isinstance(messages, list):
        raise invalid("messages", "'messages' must be an array.", "invalid_type")
    if not messages:
        raise invalid("messages", "'messages' must contain at least one message.", "empty_array")

    system_texts: list[str] = []
    turns: list[Turn] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid(where, f"'{where}' must be an object.", "invalid_type")
        role = message.get("role")
        name = message.get("name")
        if name is not None and not isinstance(name, str):
            raise invalid(f"{where}.name", f"'{where}.name' must be a string.", "invalid_type")
        if role in ("system", "developer"):
            system_texts.append(text_only(message.get("content"), f"{where}.content", TEXT_KINDS))
        elif role == "user":
            parts = user_parts(message.get("content"), f"{where}.content", text=("text",), image="image_url", refused=("input_audio", "file"))
            turns.append(Turn("user", parts, name=name))
        elif role == "assistant":
            turns.append(_assistant_turn(message, where))
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or not call_id:
                raise invalid(f"{where}.tool_call_id", f"'{where}.tool_call_id' is required for tool messages.", "missing_required_parameter")
            text = text_only(message.get("content"), f"{where}.content", TEXT_KINDS)
            turns.append(Turn("tool", (TextPart(text),), tool_call_id=call_id))
        elif role == "function":
            raise unsupported(f"{where}.role", "The 'function' role is the legacy API: use 'tool' messages.")
        else:
            raise invalid(f"{where}.role", f"'{where}.role' must be one of system, developer, user, assistant, tool.")

    return Conversation(system="\n\n".join(system_texts) if system_texts else None, turns=tuple(turns))


def _assistant_turn(message: dict, where: str) -> Turn:
    content = message.get("content")
    text = text_only(content, f"{where}.content", TEXT_KINDS, required=False)
    calls: list[ToolCall] = []
    raw_calls = message.get("tool_calls")
    if raw_calls is not None:
        if not isinstance(raw_calls, list):
            raise invalid(f"{where}.tool_calls", f"'{where}.tool_calls' must be an array.", "invalid_type")
        for k, call in enumerate(raw_calls):
            call_where = f"{where}.tool_calls[{k}]"
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise invalid(call_where, f"'{call_where}.function.name' must be a string.", "invalid_type")
            arguments = function.get("arguments", "")
            if not isinstance(arguments, str):
                raise invalid(f"{call_where}.function.arguments", "Tool call arguments must be a JSON string.", "invalid_type")
            call_id = call.get("id")
            if not isinstance(call_id, str):
                raise invalid(f"{call_where}.id", f"'{call_where}.id' must be a string.", "invalid_type")
            calls.append(ToolCall(call_id, function["name"], arguments))
    if not text and not calls and message.get("refusal"):
        text = str(message["refusal"])
    return Turn("assistant", (TextPart(text),) if text else (), name=message.get("name"), tool_calls=tuple(calls))


def _parse_stop(stop: Any) -> tuple[str, ...]:
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,) if stop else ()
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        if len(stop) > 4:
            raise invalid("stop", "'stop' may hold at most 4 sequences.")
        return tuple(s for s in stop if s)
    raise invalid("stop", "'stop' must be a string or an array of strings.", "invalid_type")


def _parse_max_tokens(body: dict) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid(key, f"'{key}' must be an integer.", "invalid_type")
        if value < 1:
            raise invalid(key, f"'{key}' must be at least 1.")
        return value
    return None


def _parse_tools(body: dict) -> tuple[tuple[ToolSpec, ...], ToolChoice]:
    raw = body.get("tools")
    tools: list[ToolSpec] = []
    if raw is not None:
        if not isinstance(raw, list):
            raise invalid("tools", "'tools' must be an array.", "invalid_type")
        for i, tool in enumerate(raw):
            where = f"tools[{i}]"
            if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
                raise invalid(where, f"'{where}' must be {{'type': 'function', 'function': {{...}}}}.")
            function = tool["function"]
            name = function.get("name")
            if not isinstance(name, str) or not name:
                raise invalid(f"{where}.function.name", "Tool names must be non-empty strings.", "invalid_type")
            if not TOOL_NAME.fullmatch(name):
                raise invalid(f"{where}.function.name", "Tool names may only hold letters, digits, '_' and '-', at most 64 of them.")
            if any(t.name == name for t in tools):
                raise invalid(f"{where}.function.name", f"Tool name {name!r} is given twice.")
            parameters = function.get("parameters") or {}
            if not isinstance(parameters, dict):
                raise invalid(f"{where}.function.parameters", "Tool parameters must be a JSON schema object.", "invalid_type")
            tools.append(ToolSpec(name, str(function.get("description") or ""), parameters, bool(function.get("strict"))))
    choice = body.get("tool_choice")
    if choice is not None:
        names = {t.name for t in tools}
        if isinstance(choice, str):
            if choice not in ("none", "auto", "required"):
                raise invalid("tool_choice", "'tool_choice' must be none, auto, required or a named function.")
            if choice == "required" and not tools:
                raise invalid("tool_choice", "'tool_choice' is 'required' but no 'tools' were given.")
        elif isinstance(choice, dict):
            function = choice.get("function")
            name = function.get("name") if isinstance(function, dict) else None
            if choice.get("type") != "function" or not isinstance(name, str):
                raise invalid("tool_choice", "A named 'tool_choice' is {'type': 'function', 'function': {'name': ...}}.")
            if name not in names:
                raise invalid("tool_choice", f"'tool_choice' names {name!r}, which is not in 'tools'.")
        else:
            raise invalid("tool_choice", "'tool_choice' must be a string or an object.", "invalid_type")
    if isinstance(choice, dict):
        return tuple(tools), ToolChoice("named", choice["function"]["name"])
    if choice in ("none", "required"):
        return tuple(tools), ToolChoice(choice)
    return tuple(tools), ToolChoice()


def _parse_response_format(value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("response_format", "'response_format' must be an object.", "invalid_type")
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return value
    if kind == "json_schema":
        schema = value.get("json_schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
            raise invalid("response_format", "'response_format.json_schema' must be an object with a 'name'.")
        if schema.get("schema") is not None and not isinstance(schema.get("schema"), dict):
            raise invalid("response_format", "'response_format.json_schema.schema' must be an object.", "invalid_type")
        if len(json.dumps(schema.get("schema") or {})) > MAX_SCHEMA_CHARS:
            raise invalid("response_format", f"The JSON schema is larger than {MAX_SCHEMA_CHARS // 1024} KiB.")
        return value
    raise invalid("response_format", "'response_format.type' must be text, json_object or json_schema.")


def _parse_reasoning_effort(value: Any) -> str | None:
    if value is None:
        return None
    if value not in REASONING_EFFORTS:
        raise invalid("reasoning_effort", f"'reasoning_effort' must be one of {', '.join(REASONING_EFFORTS)}.")
    return value


def _json_schema(response_format: dict | None) -> dict | None:
    """Structured output: `json_schema`'s schema, or any object for `json_object`."""
    if not response_format:
        return None
    if response_format.get("type") == "json_object":
        return ANY_OBJECT
    return (response_format.get("json_schema") or {}).get("schema") or ANY_OBJECT
