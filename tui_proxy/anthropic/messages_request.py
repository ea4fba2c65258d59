"""Validate a `/v1/messages` body into the neutral `ModelRequest`, or raise a 400 naming the field.

Anthropic's errors have no `param`: like Anthropic's own, each message starts with the path
of the field at fault (`max_tokens: Field required`).

What the CLI cannot do is mapped honestly (README "Anthropic Messages API"):
- `thinking` picks the CLI's `--effort` (`enabled` by its budget, `output_config.effort` as is);
  thinking blocks reach the client only when it asked for thinking;
- thinking blocks the client passes back are dropped from the history (their signatures are
  the proxy's, and the CLI takes no prior thinking);
- `temperature`, `top_p`, `top_k`, `metadata`, `service_tier` are accepted and ignored;
- server tools (`web_search_...`, `bash_...`), `mcp_servers` and document blocks are a 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import models
from ..conversation import Conversation, ImagePart, ModelRequest, OutputOptions, Part, TextPart, ToolCall, ToolChoice, ToolSpec, Turn
from ..errors import ProxyError
# The same limits as the chat face: one image cap, one tool-name rule for the CLI's tool bridge.
from ..openai.chat_request import TOOL_NAME
from ..images import IMAGE_TYPES, MAX_IMAGE_MB, MAX_IMAGE_URL_CHARS, base64_problem

#: `thinking.budget_tokens` -> the CLI's `--effort` (the CLI takes no budget): the smallest
#: level whose bound exceeds the budget.
BUDGET_EFFORTS = ((4096, "low"), (16384, "medium"), (32768, "high"), (65536, "xhigh"))
EFFORTS = ("low", "medium", "high", "xhigh", "max")
MIN_THINKING_BUDGET = 1024
#: Block types of the Messages API that the CLI cannot take as input.
UNSUPPORTED_BLOCKS = ("document", "search_result", "server_tool_use", "web_search_tool_result", "container_upload", "mcp_tool_use", "mcp_tool_result")


@dataclass(frozen=True, slots=True)
class ThinkingDisplay:
    """What the client asked to see of the model's thinking."""

    #: Thinking blocks in the answer (`thinking` enabled or adaptive).
    shown: bool = False
    #: `display: "omitted"`: the blocks come, with empty text.
    omitted: bool = False


@dataclass(frozen=True, slots=True)
class MessagesRequest:
    request: ModelRequest
    thinking: ThinkingDisplay


def invalid(path: str, message: str, code: str = "invalid_value") -> ProxyError:
    return ProxyError(400, f"{path}: {message}", param=path, code=code, retryable=False)


def parse_messages_request(body: Any, *, count_only: bool = False) -> MessagesRequest:
    """`count_only`: a `count_tokens` body (no `max_tokens`, no `stream`)."""
    if not isinstance(body, dict):
        raise ProxyError(400, "The request body must be a JSON object.", code="invalid_json", retryable=False)
    model_id = body.get("model")
    if model_id is None:
        raise invalid("model", "Field required", "missing_required_parameter")
    if not isinstance(model_id, str) or not model_id:
        raise invalid("model", "Input should be a non-empty string", "invalid_type")
    max_tokens = None if count_only else _max_tokens(body.get("max_tokens"))
    stream = False if count_only else _bool(body, "stream")
    if body.get("mcp_servers"):
        raise invalid("mcp_servers", "MCP servers given by the client are not supported: the proxy offers the CLI only the request's own tools.", "unsupported_parameter")
    _check_metadata(body.get("metadata"))
    conversation = Conversation(_system(body.get("system")), _turns(body.get("messages")))
    tools = _tools(body.get("tools"))
    tool_choice, parallel = _tool_choice(body.get("tool_choice"), tools)
    thinking, effort = _thinking(body.get("thinking"))
    effort = _output_effort(body.get("output_config")) or effort
    request = ModelRequest(
        model=models.resolve(model_id),
        conversation=conversation,
        stream=stream,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
        output=OutputOptions(stop=_stop_sequences(body.get("stop_sequences")), max_tokens=max_tokens, effort=effort),
    )
    return MessagesRequest(request, thinking)


def _bool(body: dict, key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(key, "Input should be a valid boolean", "invalid_type")
    return value


def _max_tokens(value: Any) -> int:
    if value is None:
        raise invalid("max_tokens", "Field required", "missing_required_parameter")
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("max_tokens", "Input should be a valid integer", "invalid_type")
    if value < 1:
        raise invalid("max_tokens", "Input should be greater than or equal to 1")
    return value


def _check_metadata(value: Any) -> None:
    if value is not None and not isinstance(value, dict):
        raise invalid("metadata", "Input should be a valid dictionary", "invalid_type")


def _system(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if not isinstance(value, list):
        raise invalid("system", "Input should be a string or a list of text blocks", "invalid_type")
    texts = []
    for i, block in enumerate(value):
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise invalid(f"system.{i}", "Input should be a text block ({'type': 'text', 'text': ...})", "invalid_type")
        texts.append(block["text"])
    return "\n\n".join(texts) or None


def _turns(messages: Any) -> tuple[Turn, ...]:
    if messages is None:
        raise invalid("messages", "Field required", "missing_required_parameter")
    if not isinstance(messages, list):
        raise invalid("messages", "Input should be a valid list", "invalid_type")
    if not messages:
        raise invalid("messages", "at least one message is required", "empty_array")
    turns: list[Turn] = []
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, dict):
            raise invalid(where, "Input should be an object", "invalid_type")
        role = message.get("role")
        content = message.get("content")
        if content is None:
            raise invalid(f"{where}.content", "Field required", "missing_required_parameter")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            raise invalid(f"{where}.content", "Input should be a string or a list of content blocks", "invalid_type")
        if role == "user":
            turns.extend(_user_turns(blocks, f"{where}.content"))
        elif role == "assistant":
            turns.append(_assistant_turn(blocks, f"{where}.content"))
        else:
            raise invalid(f"{where}.role", "Input should be 'user' or 'assistant'")
    return tuple(turns)


def _block(block: Any, where: str) -> tuple[str, dict]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise invalid(where, "Input should be a content block with a 'type'", "invalid_type")
    kind = block["type"]
    if kind in UNSUPPORTED_BLOCKS:
        raise invalid(f"{where}.type", f"'{kind}' blocks are not supported by claude-max-tui (the Claude Code CLI takes text, images, tool calls and tool results).", "unsupported_value")
    return kind, block


def _text(block: dict, where: str) -> str:
    text = block.get("text")
    if not isinstance(text, str):
        raise invalid(f"{where}.text", "Input should be a valid string", "invalid_type")
    return text


def _user_turns(blocks: list, where: str) -> list[Turn]:
    """A user message: its tool results as tool turns, its text and images as user turns,
    in their order. Images inside a tool result follow it as a user turn (the CLI's tool
    results carry text only)."""
    turns: list[Turn] = []
    parts: list[Part] = []

    def flush() -> None:
        if parts:
            turns.append(Turn("user", tuple(parts)))
            parts.clear()

    for j, raw in enumerate(blocks):
        block_where = f"{where}.{j}"
        kind, block = _block(raw, block_where)
        if kind == "text":
            parts.append(TextPart(_text(block, block_where)))
        elif kind == "image":
            parts.append(_image(block, block_where))
        elif kind == "tool_result":
            flush()
            text, images = _tool_result_content(block.get("content"), f"{block_where}.content")
            call_id = block.get("tool_use_id")
            if not isinstance(call_id, str) or not call_id:
                raise invalid(f"{block_where}.tool_use_id", "Field required", "missing_required_parameter")
            is_error = block.get("is_error")
            if is_error is not None and not isinstance(is_error, bool):
                raise invalid(f"{block_where}.is_error", "Input should be a valid boolean", "invalid_type")
            if images:
                text += ("\n" if text else "") + f"[{len(images)} image(s) returned by the tool: attached to the next user message]"
            turns.append(Turn("tool", (TextPart(text),), tool_call_id=call_id, is_error=bool(is_error)))
            if images:
                turns.append(Turn("user", tuple(images)))
        elif kind in ("tool_use", "thinking", "redacted_thinking"):
            raise invalid(f"{block_where}.type", f"'{kind}' blocks belong in assistant messages")
        else:
            raise invalid(f"{block_where}.type", f"Unknown content block type {kind!r}: use text, image or tool_result")
    flush()
    return turns


def _tool_result_content(content: Any, where: str) -> tuple[str, list[ImagePart]]:
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise invalid(where, "Input should be a string or a list of text and image blocks", "invalid_type")
    texts: list[str] = []
    images: list[ImagePart] = []
    for k, raw in enumerate(content):
        kind, block = _block(raw, f"{where}.{k}")
        if kind == "text":
            texts.append(_text(block, f"{where}.{k}"))
        elif kind == "image":
            images.append(_image(block, f"{where}.{k}"))
        else:
            raise invalid(f"{where}.{k}.type", "Tool results may hold text and image blocks")
    return "\n".join(texts), images


def _assistant_turn(blocks: list, where: str) -> Turn:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for j, raw in enumerate(blocks):
        block_where = f"{where}.{j}"
        kind, block = _block(raw, block_where)
        if kind == "text":
            texts.append(_text(block, block_where))
        elif kind == "tool_use":
            call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
            if not isinstance(call_id, str) or not call_id:
                raise invalid(f"{block_where}.id", "Field required", "missing_required_parameter")
            if not isinstance(name, str) or not name:
                raise invalid(f"{block_where}.name", "Field required", "missing_required_parameter")
            if not isinstance(arguments, dict):
                raise invalid(f"{block_where}.input", "Input should be a valid dictionary", "invalid_type")
            calls.append(ToolCall(call_id, name, json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))))
        elif kind in ("thinking", "redacted_thinking"):
            continue  # dropped: the CLI takes no earlier thinking (see the module docstring)
        else:
            raise invalid(f"{block_where}.type", f"Assistant messages hold text, tool_use and thinking blocks, not {kind!r}")
    text = "".join(texts)
    return Turn("assistant", (TextPart(text),) if text else (), tool_calls=tuple(calls))


def _image(block: dict, where: str) -> ImagePart:
    source = block.get("source")
    if not isinstance(source, dict):
        raise invalid(f"{where}.source", "Field required", "missing_required_parameter")
    kind = source.get("type")
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise invalid(f"{where}.source.url", "Input should be an http(s) URL")
        if len(url) > MAX_IMAGE_URL_CHARS:
            raise invalid(f"{where}.source.url", "The image URL is too long")
        return ImagePart(url=url)
    if kind == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if media_type not in IMAGE_TYPES:
            raise invalid(f"{where}.source.media_type", f"Input should be one of {', '.join(IMAGE_TYPES)}")
        if not isinstance(data, str):
            raise invalid(f"{where}.source.data", "Input should be a valid string", "invalid_type")
        problem = base64_problem(data)
        if problem == "too_large":
            raise invalid(f"{where}.source.data", f"The image is larger than {MAX_IMAGE_MB} MB", "image_too_large")
        if problem == "not_base64":
            raise invalid(f"{where}.source.data", "The image data is not valid base64")
        return ImagePart(media_type=media_type, data=data)
    raise invalid(f"{where}.source.type", "Input should be 'base64' or 'url'")


def _tools(raw: Any) -> tuple[ToolSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise invalid("tools", "Input should be a valid list", "invalid_type")
    tools: list[ToolSpec] = []
    for i, tool in enumerate(raw):
        where = f"tools.{i}"
        if not isinstance(tool, dict):
            raise invalid(where, "Input should be an object", "invalid_type")
        kind = tool.get("type")
        if kind not in (None, "custom"):
            raise invalid(f"{where}.type", f"Anthropic's server and client-defined built-in tools ({kind!r}) are not supported: give custom tools with an input_schema.", "unsupported_value")
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            raise invalid(f"{where}.name", "Field required", "missing_required_parameter")
        if not TOOL_NAME.fullmatch(name):
            raise invalid(f"{where}.name", "Tool names may only hold letters, digits, '_' and '-', at most 64 of them")
        if any(t.name == name for t in tools):
            raise invalid(f"{where}.name", f"Tool names must be unique ({name!r} is given twice)")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise invalid(f"{where}.input_schema", "Field required: a JSON schema object", "missing_required_parameter")
        description = tool.get("description")
        if description is not None and not isinstance(description, str):
            raise invalid(f"{where}.description", "Input should be a valid string", "invalid_type")
        tools.append(ToolSpec(name, description or "", schema, bool(tool.get("strict"))))
    return tuple(tools)


def _tool_choice(raw: Any, tools: tuple[ToolSpec, ...]) -> tuple[ToolChoice, bool]:
    """The choice, and whether parallel calls are allowed (`disable_parallel_tool_use`)."""
    if raw is None:
        return ToolChoice(), True
    if not isinstance(raw, dict):
        raise invalid("tool_choice", "Input should be an object", "invalid_type")
    kind = raw.get("type")
    disable = raw.get("disable_parallel_tool_use")
    if disable is not None and not isinstance(disable, bool):
        raise invalid("tool_choice.disable_parallel_tool_use", "Input should be a valid boolean", "invalid_type")
    parallel = not disable
    if kind == "auto":
        return ToolChoice(), parallel
    if kind == "none":
        return ToolChoice("none"), parallel
    if kind == "any":
        if not tools:
            raise invalid("tool_choice", "tool_choice 'any' needs tools")
        return ToolChoice("required"), parallel
    if kind == "tool":
        name = raw.get("name")
        if not isinstance(name, str):
            raise invalid("tool_choice.name", "Field required", "missing_required_parameter")
        if name not in {t.name for t in tools}:
            raise invalid("tool_choice.name", f"Tool {name!r} is not in tools")
        return ToolChoice("named", name), parallel
    raise invalid("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'")


def _stop_sequences(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise invalid("stop_sequences", "Input should be a list of strings", "invalid_type")
    for i, sequence in enumerate(raw):
        if not sequence.strip():
            raise invalid(f"stop_sequences.{i}", "Each stop sequence must contain non-whitespace")
    return tuple(raw)


def _thinking(raw: Any) -> tuple[ThinkingDisplay, str | None]:
    """What to show, and the CLI effort it asks for."""
    if raw is None:
        return ThinkingDisplay(), None
    if not isinstance(raw, dict):
        raise invalid("thinking", "Input should be an object", "invalid_type")
    display = raw.get("display")
    if display not in (None, "summarized", "omitted"):
        raise invalid("thinking.display", "Input should be 'summarized' or 'omitted'")
    shown = ThinkingDisplay(shown=True, omitted=display == "omitted")
    kind = raw.get("type")
    if kind == "disabled":
        return ThinkingDisplay(), None
    if kind == "adaptive":
        return shown, None  # the CLI's own default: adaptive thinking at its default effort
    if kind == "enabled":
        budget = raw.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool):
            raise invalid("thinking.budget_tokens", "Field required: an integer", "missing_required_parameter")
        if budget < MIN_THINKING_BUDGET:
            raise invalid("thinking.budget_tokens", f"Input should be greater than or equal to {MIN_THINKING_BUDGET}")
        # Not checked against max_tokens: with interleaved thinking (a beta header the face does
        # not see) Anthropic lets the budget exceed it, and here max_tokens limits only the text.
        effort = next((level for bound, level in BUDGET_EFFORTS if budget < bound), "max")
        return shown, effort
    raise invalid("thinking.type", "Input should be 'enabled', 'adaptive' or 'disabled'")


def _output_effort(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid("output_config", "Input should be an object", "invalid_type")
    effort = raw.get("effort")
    if effort is None:
        return None
    if effort not in EFFORTS:
        raise invalid("output_config.effort", f"Input should be one of {', '.join(EFFORTS)}")
    return effort


# -- for the console -----------------------------------------------------------------------


def display_turns(body: Any) -> list[tuple[str, str]]:
    """A Messages body as readable turns `(role, text)` for the console; never raises
    (a rejected body is shown as far as it can be read)."""
    if not isinstance(body, dict):
        return []
    turns: list[tuple[str, str]] = []
    system = body.get("system")
    if isinstance(system, str) and system:
        turns.append(("system", system))
    elif isinstance(system, list):
        turns.append(("system", "\n\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))))
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "?"))
        content = message.get("content")
        if isinstance(content, str):
            turns.append((role, content))
            continue
        pieces: list[str] = []
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_result":
                if pieces:
                    turns.append((role, "\n".join(pieces)))
                    pieces = []
                turns.append(("tool", _display_tool_result(block)))
            else:
                pieces.append(_display_block(block))
        if pieces:
            turns.append((role, "\n".join(pieces)))
    return turns


def _display_block(block: dict) -> str:
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "image":
        return "[image]"
    if kind == "tool_use":
        return f"→ {block.get('name', '?')}({json.dumps(block.get('input', {}), ensure_ascii=False)})"
    if kind in ("thinking", "redacted_thinking"):
        return "[thinking, not passed to the model]"
    return f"[{kind}]"


def _display_tool_result(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        content = "\n".join(_display_block(b) for b in content if isinstance(b, dict))
    head = f"← {block.get('tool_use_id', '?')}" + (" (error)" if block.get("is_error") else "")
    return f"{head}\n{content or ''}"
