"""Validate a `/v1/responses` body into the neutral `ModelRequest`, or raise a 400 naming the param.

The Responses API's `input` is a string or a list of items: messages (`input_text`,
`input_image`, `output_text` parts), `function_call` and `function_call_output` items, and
`reasoning` items passed back. Reasoning items are dropped from the history: the CLI cannot
take earlier thinking back (it has no signature for it), and the model does not need it.
Consecutive assistant items (text, calls) become one assistant turn, as a chat client sends
them, so that a request bringing tool results continues the CLI that waits for them.

What the wire shape needs beyond the neutral request (echoed fields, namespaced tool names)
is kept in `ResponsesRequest`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .. import models
from ..conversation import Conversation, ModelRequest, OutputOptions, TextPart, ToolCall, ToolChoice, ToolSpec, Turn
from ..errors import invalid, unsupported
from .chat_request import ANY_OBJECT, EFFORTS, MAX_SCHEMA_CHARS, REASONING_EFFORTS, TOOL_NAME, required_model
from .content import text_only, user_parts

#: Between a namespace and a function's name in the one flat name the model sees.
NAMESPACE_SEPARATOR = "__"
#: Built-in tools OpenAI runs on its side; the proxy has none of them.
HOSTED_TOOLS = ("web_search", "web_search_preview", "file_search", "code_interpreter", "computer_use_preview", "computer",
                "image_generation", "mcp", "local_shell", "shell", "apply_patch", "tool_search")
#: Items a client may pass back that carry nothing the model needs.
IGNORED_ITEMS = ("reasoning",)
TRUNCATIONS = ("auto", "disabled")


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    """A Responses body: the neutral request, plus what only the Responses wire shape needs."""

    request: ModelRequest
    #: Fields the response object echoes (`instructions`, `tools`, `text`, `metadata`, ...).
    echo: dict = field(default_factory=dict)
    #: The model's flat tool name -> (namespace, name) for tools of a `namespace` tool.
    namespaced: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class History:
    """What an earlier response (`previous_response_id`) adds before this request's input."""

    system: tuple[str, ...] = ()
    turns: tuple[Turn, ...] = ()


def parse_responses_request(body: Any, history: History | None = None) -> ResponsesRequest:
    model_id = required_model(body)
    _reject_unsupported(body)
    stream = _bool(body, "stream", False)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise invalid("instructions", "'instructions' must be a string.", "invalid_type")

    system, turns = parse_input(body.get("input"))
    if history is not None:
        system, turns = [*history.system, *system], [*history.turns, *turns]
    if not turns:
        raise invalid("input", "'input' must hold at least one message.", "empty_array")
    system_text = "\n\n".join([instructions, *system] if instructions else system) or None

    tools, namespaced, tools_echo = _parse_tools(body.get("tools"))
    tool_choice, choice_echo = _parse_tool_choice(body.get("tool_choice"), tools, namespaced)
    text_echo, schema = _parse_text(body.get("text"))
    reasoning = _parse_reasoning(body.get("reasoning"))
    max_output_tokens = _positive_int(body, "max_output_tokens")
    parallel = _bool(body, "parallel_tool_calls", True)
    request = ModelRequest(
        model=models.resolve(model_id),
        conversation=Conversation(system=system_text, turns=tuple(turns)),
        stream=stream,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
        output=OutputOptions(max_tokens=max_output_tokens, json_schema=schema, effort=EFFORTS.get(reasoning.get("effort") or "")),
    )
    echo = {
        "instructions": instructions,
        "tools": tools_echo,
        "tool_choice": choice_echo,
        "parallel_tool_calls": parallel,
        "text": text_echo,
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "max_output_tokens": max_output_tokens,
        "max_tool_calls": _positive_int(body, "max_tool_calls"),
        "metadata": _parse_metadata(body.get("metadata")),
        "store": _bool(body, "store", True),
        "previous_response_id": body.get("previous_response_id"),
        "truncation": _choice(body, "truncation", TRUNCATIONS, "disabled"),
        "temperature": _number(body, "temperature", 1.0),
        "top_p": _number(body, "top_p", 1.0),
        "presence_penalty": _number(body, "presence_penalty", 0.0),
        "frequency_penalty": _number(body, "frequency_penalty", 0.0),
        "top_logprobs": 0,
        "prompt_cache_key": _string(body, "prompt_cache_key"),
        "safety_identifier": _string(body, "safety_identifier"),
        "user": _string(body, "user"),
        "service_tier": "default",
        "background": False,
    }
    return ResponsesRequest(request, echo, namespaced)


def _reject_unsupported(body: dict) -> None:
    if body.get("background") is True:
        raise unsupported("background", "Background responses are not supported: each response is one CLI run answered on this connection.", "unsupported_parameter")
    for name in ("conversation", "prompt"):
        if body.get(name) is not None:
            what = "Conversations objects" if name == "conversation" else "Reusable prompts"
            raise unsupported(name, f"{what} are not supported: send 'input' (and 'previous_response_id').", "unsupported_parameter")
    top_logprobs = body.get("top_logprobs")
    if top_logprobs not in (None, 0):
        raise unsupported("top_logprobs", "top_logprobs are not available from the Claude Code CLI.", "unsupported_parameter")
    include = body.get("include")
    if include is not None:
        if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
            raise invalid("include", "'include' must be an array of strings.", "invalid_type")
        if "message.output_text.logprobs" in include:
            raise unsupported("include", "logprobs are not available from the Claude Code CLI.", "unsupported_parameter")
        # Others (`reasoning.encrypted_content`, ...) have nothing to add here: accepted.
    previous = body.get("previous_response_id")
    if previous is not None and not isinstance(previous, str):
        raise invalid("previous_response_id", "'previous_response_id' must be a string.", "invalid_type")


# ---- input ----


def parse_input(value: Any, where: str = "input") -> tuple[list[str], list[Turn]]:
    """System texts (system/developer messages) and turns of an `input` (or a stored output)."""
    if value is None:
        raise invalid(where, f"Missing required parameter: '{where}'.", "missing_required_parameter")
    if isinstance(value, str):
        return [], [Turn("user", (TextPart(value),))]
    if not isinstance(value, list):
        raise invalid(where, f"'{where}' must be a string or an array of items.", "invalid_type")
    system: list[str] = []
    turns: list[Turn] = []
    for i, item in enumerate(value):
        item_where = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise invalid(item_where, f"'{item_where}' must be an object.", "invalid_type")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role in ("system", "developer"):
                system.append(text_only(item.get("content"), f"{item_where}.content", ("input_text", "text")))
            elif role == "user":
                turns.append(Turn("user", user_parts(item.get("content"), f"{item_where}.content", text=("input_text", "text"), image="input_image", refused=("input_file", "input_audio"))))
            elif role == "assistant":
                text = text_only(item.get("content"), f"{item_where}.content", ("output_text", "input_text", "text", "refusal"))
                _add_assistant(turns, text=text)
            else:
                raise invalid(f"{item_where}.role", f"'{item_where}.role' must be one of user, assistant, system, developer.")
        elif kind == "function_call":
            _add_assistant(turns, call=_call(item, item_where))
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str) or not call_id:
                raise invalid(f"{item_where}.call_id", f"'{item_where}.call_id' must be a non-empty string.", "missing_required_parameter")
            text = text_only(item.get("output"), f"{item_where}.output", ("input_text", "output_text", "text"))
            turns.append(Turn("tool", (TextPart(text),), tool_call_id=call_id))
        elif kind in IGNORED_ITEMS:
            continue
        elif kind == "item_reference":  # resolved from the store before this (responses_store.py)
            raise unsupported(item_where, "Item references are not supported here: pass the items themselves.")
        else:
            raise unsupported(f"{item_where}.type", f"Input items of type {kind!r} are not supported (message, function_call, function_call_output and reasoning are).")
    return system, turns


def _add_assistant(turns: list[Turn], *, text: str = "", call: ToolCall | None = None) -> None:
    """Assistant text and calls that follow each other are one assistant turn (text first)."""
    calls = (call,) if call is not None else ()
    parts = (TextPart(text),) if text else ()
    last = turns[-1] if turns else None
    if last is not None and last.role == "assistant" and not (text and last.tool_calls):
        merged = (TextPart(last.text + "\n\n" + text),) if (text and last.text) else (parts or last.parts)
        turns[-1] = Turn("assistant", merged, tool_calls=last.tool_calls + calls)
    else:
        turns.append(Turn("assistant", parts, tool_calls=calls))


def _call(item: dict, where: str) -> ToolCall:
    name, call_id = item.get("name"), item.get("call_id")
    if not isinstance(name, str) or not name:
        raise invalid(f"{where}.name", f"'{where}.name' must be a non-empty string.", "invalid_type")
    if not isinstance(call_id, str) or not call_id:
        raise invalid(f"{where}.call_id", f"'{where}.call_id' must be a non-empty string.", "invalid_type")
    namespace = item.get("namespace")
    if isinstance(namespace, str) and namespace:
        name = namespace + NAMESPACE_SEPARATOR + name
    arguments = item.get("arguments", "")
    if not isinstance(arguments, str):
        raise invalid(f"{where}.arguments", "Function call arguments must be a JSON string.", "invalid_type")
    return ToolCall(call_id, name, arguments)


# ---- tools and output options ----


def _parse_tools(raw: Any) -> tuple[tuple[ToolSpec, ...], dict[str, tuple[str, str]], list[dict]]:
    if raw is None:
        return (), {}, []
    if not isinstance(raw, list):
        raise invalid("tools", "'tools' must be an array.", "invalid_type")
    specs: list[ToolSpec] = []
    namespaced: dict[str, tuple[str, str]] = {}
    echo: list[dict] = []
    for i, tool in enumerate(raw):
        where = f"tools[{i}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            spec = _function(tool, where)
            specs.append(spec)
            echo.append(_function_echo(spec))
        elif kind == "namespace":
            namespace = tool.get("name")
            inner = tool.get("tools")
            if not isinstance(namespace, str) or not TOOL_NAME.fullmatch(namespace) or not isinstance(inner, list):
                raise invalid(where, f"'{where}' must be {{'type': 'namespace', 'name': ..., 'tools': [...]}}.")
            functions = []
            for j, function in enumerate(inner):
                fwhere = f"{where}.tools[{j}]"
                if not isinstance(function, dict) or function.get("type") != "function":
                    raise unsupported(f"{fwhere}.type", "Only function tools are supported inside a namespace.")
                spec = _function(function, fwhere, prefix=namespace + NAMESPACE_SEPARATOR)
                specs.append(spec)
                namespaced[spec.name] = (namespace, function["name"])
                functions.append({**_function_echo(spec), "name": function["name"]})
            description = tool.get("description")
            echo.append({"type": "namespace", "name": namespace, "description": description if isinstance(description, str) else "", "tools": functions})
        elif kind == "custom":
            raise unsupported(f"{where}.type", "Custom (freeform) tools are not supported: offer it as a function tool with JSON parameters.")
        elif kind in HOSTED_TOOLS:
            hint = " (Codex CLI: set `web_search = \"disabled\"` in config.toml)" if kind.startswith("web_search") else ""
            raise unsupported(f"{where}.type", f"The built-in tool {kind!r} is not available through the Claude Code CLI: only function tools are{hint}.")
        else:
            raise invalid(f"{where}.type", f"'{where}.type' must be 'function' (or 'namespace' of functions).")
    names = [spec.name for spec in specs]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise invalid("tools", f"Tool name {duplicate!r} is given twice.")
    return tuple(specs), namespaced, echo


def _function(tool: dict, where: str, prefix: str = "") -> ToolSpec:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise invalid(f"{where}.name", "Tool names must be non-empty strings.", "invalid_type")
    if not TOOL_NAME.fullmatch(prefix + name):
        raise invalid(f"{where}.name", "Tool names may only hold letters, digits, '_' and '-', at most 64 of them (with the namespace).")
    parameters = tool.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid(f"{where}.parameters", "Tool parameters must be a JSON schema object.", "invalid_type")
    description = tool.get("description")
    return ToolSpec(prefix + name, description if isinstance(description, str) else "", parameters, bool(tool.get("strict")))


def _function_echo(spec: ToolSpec) -> dict:
    return {"type": "function", "name": spec.name, "description": spec.description or None, "parameters": spec.parameters, "strict": spec.strict}


def _parse_tool_choice(choice: Any, tools: tuple[ToolSpec, ...], namespaced: dict) -> tuple[ToolChoice, Any]:
    if choice is None or choice == "auto":
        return ToolChoice(), "auto"
    if choice in ("none", "required"):
        if choice == "required" and not tools:
            raise invalid("tool_choice", "'tool_choice' is 'required' but no 'tools' were given.")
        return ToolChoice(choice), choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = choice.get("name")
        if not isinstance(name, str):
            raise invalid("tool_choice", "A named 'tool_choice' is {'type': 'function', 'name': ...}.")
        flat = next((flat for flat, (ns, n) in namespaced.items() if n == name and choice.get("namespace") in (None, ns)), name)
        if not any(t.name == flat for t in tools):
            raise invalid("tool_choice", f"'tool_choice' names {name!r}, which is not in 'tools'.")
        return ToolChoice("named", flat), {"type": "function", "name": name}
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        raise unsupported("tool_choice", "'allowed_tools' is not supported: send only the tools the model may use.")
    if isinstance(choice, (dict, str)):
        raise invalid("tool_choice", "'tool_choice' must be none, auto, required or {'type': 'function', 'name': ...}.")
    raise invalid("tool_choice", "'tool_choice' must be a string or an object.", "invalid_type")


def _parse_text(text: Any) -> tuple[dict, dict | None]:
    """`text.format`: the echo, and the JSON schema for structured output (None for text)."""
    plain = {"format": {"type": "text"}}
    if text is None:
        return plain, None
    if not isinstance(text, dict):
        raise invalid("text", "'text' must be an object.", "invalid_type")
    verbosity = text.get("verbosity")
    if verbosity not in (None, "low", "medium", "high"):
        raise invalid("text.verbosity", "'text.verbosity' must be low, medium or high.")
    echo = {"verbosity": verbosity} if verbosity else {}
    fmt = text.get("format")
    if fmt is None:
        return {**plain, **echo}, None
    if not isinstance(fmt, dict):
        raise invalid("text.format", "'text.format' must be an object.", "invalid_type")
    kind = fmt.get("type")
    if kind == "text":
        return {**plain, **echo}, None
    if kind == "json_object":
        return {"format": {"type": "json_object"}, **echo}, ANY_OBJECT
    if kind == "json_schema":
        name, schema = fmt.get("name"), fmt.get("schema")
        if not isinstance(name, str) or not name:
            raise invalid("text.format.name", "'text.format.name' is required for json_schema.", "missing_required_parameter")
        if not isinstance(schema, dict):
            raise invalid("text.format.schema", "'text.format.schema' must be a JSON schema object.", "invalid_type")
        if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
            raise invalid("text.format.schema", f"The JSON schema is larger than {MAX_SCHEMA_CHARS // 1024} KiB.")
        kept = {key: fmt[key] for key in ("type", "name", "schema", "description", "strict") if key in fmt}
        return {"format": kept, **echo}, schema
    raise invalid("text.format.type", "'text.format.type' must be text, json_object or json_schema.")


def _parse_reasoning(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("reasoning", "'reasoning' must be an object.", "invalid_type")
    effort = value.get("effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        raise invalid("reasoning.effort", f"'reasoning.effort' must be one of {', '.join(REASONING_EFFORTS)}.")
    summary = value.get("summary", value.get("generate_summary"))
    if summary is not None and summary not in ("auto", "concise", "detailed"):
        raise invalid("reasoning.summary", "'reasoning.summary' must be auto, concise or detailed.")
    return {"effort": effort, "summary": summary}


def _parse_metadata(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid("metadata", "'metadata' must be an object of string values.", "invalid_type")
    if len(value) > 16:
        raise invalid("metadata", "'metadata' may hold at most 16 keys.")
    return value


def _bool(body: dict, key: str, default: bool) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(key, f"'{key}' must be a boolean.", "invalid_type")
    return value


def _positive_int(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(key, f"'{key}' must be an integer.", "invalid_type")
    if value < 1:
        raise invalid(key, f"'{key}' must be at least 1.")
    return value


def _number(body: dict, key: str, default: float) -> float:
    """Sampling knobs: checked, echoed, and otherwise ignored (the CLI has none)."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise invalid(key, f"'{key}' must be a number.", "invalid_type")
    return value


def _string(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(key, f"'{key}' must be a string.", "invalid_type")
    return value


def _choice(body: dict, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise invalid(key, f"'{key}' must be one of {', '.join(allowed)}.")
    return value


# ---- for the console ----


def display_turns(body: Any) -> list[tuple[str, str]]:
    """A Responses body as (role, text) turns for display: instructions as `system`, then the
    input items (calls as `name(arguments)`, results as `tool`, images as `[image]`).
    Never raises: a body that does not parse shows what can be read of it."""
    if not isinstance(body, dict):
        return []
    turns: list[tuple[str, str]] = []
    if isinstance(body.get("instructions"), str):
        turns.append(("system", body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        return turns + [("user", items)]
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            turns.append(("system" if role == "developer" else str(role), _display_content(item.get("content"))))
        elif kind in ("function_call", "custom_tool_call"):
            turns.append(("assistant", f"{item.get('name')}({item.get('arguments', item.get('input', ''))})"))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            turns.append(("tool", _display_content(item.get("output"))))
        elif kind == "reasoning":
            turns.append(("assistant", "[reasoning]"))
        else:
            turns.append(("user", f"[{kind}]"))
    return turns


def _display_content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return "" if content is None else json.dumps(content, ensure_ascii=False)
    pieces = []
    for part in content:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        elif isinstance(part, dict):
            pieces.append(f"[{'image' if part.get('type') == 'input_image' else part.get('type')}]")
    return "\n".join(pieces)
