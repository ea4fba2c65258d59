"""The scenarios a `[[mock:NAME key=value]]` marker can select.

Each scenario is a function from the incoming request to an `Outcome`.
Failing scenarios take `times=N`: fail the first N requests of a conversation,
then answer like `text` (so retries and fallbacks can be seen recovering).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .markers import Marker
from .replies import ApiError, BrokenStream, Outcome, Reply, TextBlock, ThinkingBlock, ToolUseBlock

TEXT_CHUNKS = ("Hello", " from the", " mock Anthropic", " API.")
TEXT_ANSWER = "".join(TEXT_CHUNKS)
DEFAULT_TOOL_NAME = "get_weather"
DEFAULT_TOOL_ARGUMENTS = {"city": "Paris"}
NOT_RETRYABLE = {"x-should-retry": "false"}


@dataclass(frozen=True, slots=True)
class ScenarioRequest:
    body: dict[str, Any]
    marker: Marker
    attempt: int  # 1 for the first request of this conversation in this scenario
    stream: bool
    tool_use_id: str  # a fresh id, for scenarios that call a tool

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "unknown-model")


Scenario = Callable[[ScenarioRequest], Outcome]


def text_reply(chunks: tuple[str, ...] = TEXT_CHUNKS, **kwargs: Any) -> Reply:
    return Reply(blocks=(TextBlock(chunks),), **kwargs)


def failing(outcome: Callable[[ScenarioRequest], Outcome], default_times: int | None) -> Scenario:
    """Fail with `outcome` for the first `times` attempts (forever if None), then answer `text`."""

    def scenario(request: ScenarioRequest) -> Outcome:
        params = request.marker.params
        times = int(params["times"]) if "times" in params else default_times
        if times is None or request.attempt <= times:
            return outcome(request)
        return text_reply()

    return scenario


def text(request: ScenarioRequest) -> Outcome:
    return text_reply()


def thinking(request: ScenarioRequest) -> Outcome:
    return Reply(
        blocks=(
            ThinkingBlock(("Let me think", " about this", " carefully."), signature="mock-signature-EqQBCkYIBRgCKkB"),
            TextBlock(("Thought about it:", " the answer is 42.")),
        )
    )


def tool_use(request: ScenarioRequest) -> Outcome:
    tool_result = _last_tool_result(request.body)
    if tool_result is not None:
        return text_reply(("Tool result received: ", tool_result[:200]))
    arguments = {key: value for key, value in request.marker.params.items() if key not in ("tool", "times")}
    arguments_json = json.dumps(arguments or DEFAULT_TOOL_ARGUMENTS)
    middle = len(arguments_json) // 2
    return Reply(
        blocks=(
            TextBlock(("I will call", " a tool.")),
            ToolUseBlock(request.tool_use_id, _tool_name(request), (arguments_json[:middle], arguments_json[middle:])),
        ),
        stop_reason="tool_use",
    )


def _tool_name(request: ScenarioRequest) -> str:
    """`tool=NAME` from the marker, else the first offered `mcp__` tool (client tools), else a default."""
    if "tool" in request.marker.params:
        return request.marker.params["tool"]
    for tool in request.body.get("tools") or []:
        name = tool.get("name", "")
        if name.startswith("mcp__"):
            return name
    return DEFAULT_TOOL_NAME


def _last_tool_result(body: dict[str, Any]) -> str | None:
    """The text of the tool_result in the last message, if the last message carries one.
    (A system message the CLI puts at the end, its environment, does not count.)"""
    messages = [m for m in body.get("messages") or [] if m.get("role") != "system"]
    if not messages or not isinstance(messages[-1].get("content"), list):
        return None
    for block in messages[-1]["content"]:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
            return str(content or "")
    return None


def client_tools(request: ScenarioRequest) -> Outcome:
    """A model using the proxy's client tools: `tool_use` of the first offered `mcp__` tool
    (like `tool_use`), but once the proxy's transcript of the conversation ends with a
    `<tool_result>` (the proxy starts a new run with the results), answer with that result."""
    result = _transcript_tool_result(request.body)
    if result is not None:
        return text_reply(("Tool result received: ", result[:200]))
    return tool_use(request)


_TRANSCRIPT_TOOL_RESULT = re.compile(r"<tool_result[^>]*>\n?(.*?)\n?</tool_result>", re.S)


def _transcript_tool_result(body: dict[str, Any]) -> str | None:
    """The last `<tool_result>` of the last user message's text, if no `<user>` turn follows it.

    (The CLI may put its own system message after the user's one.)"""
    users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    if not users:
        return None
    content = users[-1].get("content")
    text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content or [] if isinstance(b, dict))
    found = list(_TRANSCRIPT_TOOL_RESULT.finditer(text))
    if not found or "<user" in text[found[-1].end() :]:
        return None
    return found[-1].group(1)


def model(request: ScenarioRequest) -> Outcome:
    """A stand-in model for clients whose prompts carry no marker (conformance suites): it
    calls the first client tool (`mcp__`) when one is offered and no result is pending
    (like `client_tools`), and answers `text` otherwise."""
    offered = any(str(tool.get("name", "")).startswith("mcp__") for tool in request.body.get("tools") or [])
    if offered:
        return client_tools(request)
    return text(request)


def model_thinking(request: ScenarioRequest) -> Outcome:
    """`model`, thinking first when an effort is asked for (`output_config.effort`, from the
    CLI's `--effort`): for the Messages face's conformance run, whose thinking test needs it."""
    offered = any(str(tool.get("name", "")).startswith("mcp__") for tool in request.body.get("tools") or [])
    if not offered and (request.body.get("output_config") or {}).get("effort"):
        return thinking(request)
    return model(request)


def tool_once(request: ScenarioRequest) -> Outcome:
    """Call the first offered client tool once per conversation: once any tool result is in the
    history (native `tool_result` blocks, or the proxy's transcript tags), answer in text."""
    for message in request.body.get("messages") or []:
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for block in blocks:
            if isinstance(block, dict) and (block.get("type") == "tool_result" or "<tool_result" in str(block.get("text", ""))):
                return text_reply(("Answered", " after the tool."))
    return tool_use(request)


def words(request: ScenarioRequest) -> Outcome:
    """An answer of `n` words (default 150), different for each turn of a conversation (it
    names how many messages it answers), for measuring what a conversation costs."""
    n = request.marker.int_param("n", 150)
    turn = len(request.body.get("messages") or [])
    text = " ".join(f"word{(i * 7 + turn) % 1000}" for i in range(n))
    return text_reply(tuple(text[i : i + 200] for i in range(0, len(text), 200)))


def max_tokens(request: ScenarioRequest) -> Outcome:
    return text_reply(("This answer", " is cut short"), stop_reason="max_tokens")


def big_delta(request: ScenarioRequest) -> Outcome:
    size = request.marker.int_param("size", 3_000_000)
    pattern = "0123456789abcdefghijklmnopqrstuvwxyz "
    return text_reply(((pattern * (size // len(pattern) + 1))[:size],))


# Characters that trip naive line splitters and JSON encoders.
UNICODE_CHUNKS = (
    "Line\u2028separator, ",
    "paragraph\u2029separator, ",
    "next\u0085line, ",
    "tab\tbell\u0007escape\u001b, ",
    "accents éü, CJK 中文, emoji 🎉, ",
    "quote \" backslash \\ end.",
)


def unicode(request: ScenarioRequest) -> Outcome:
    return text_reply(UNICODE_CHUNKS)


def _error(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> Callable[[ScenarioRequest], Outcome]:
    return lambda request: ApiError(status, error_type, message, dict(headers or {}))


def _model_not_found(request: ScenarioRequest) -> Outcome:
    return ApiError(404, "not_found_error", f"model: {request.model}", dict(NOT_RETRYABLE))


def _reset_epoch(request: ScenarioRequest) -> int:
    """`reset=<epoch>` from the marker, else the top of the next hour (stable within a test run)."""
    if "reset" in request.marker.params:
        return request.marker.int_param("reset", 0)
    return int(math.ceil(time.time() / 3600) * 3600)


def _subscription_limit(request: ScenarioRequest) -> Outcome:
    reset = str(_reset_epoch(request))
    headers = {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": reset,
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
        "anthropic-ratelimit-unified-5h-status": "rejected",
        "anthropic-ratelimit-unified-5h-reset": reset,
        "anthropic-ratelimit-unified-5h-utilization": "1.0",
        "anthropic-ratelimit-unified-overage-status": "rejected",
        "anthropic-ratelimit-unified-overage-disabled-reason": "org_level_disabled",
        **NOT_RETRYABLE,
    }
    return ApiError(429, "rate_limit_error", "Rate limited", headers)


def rate_limit_warning(request: ScenarioRequest) -> Outcome:
    reset = str(_reset_epoch(request))
    # The CLI takes resetsAt of a warning from the per-window 5h-reset header,
    # not from the top-level unified-reset one.
    headers = {
        "anthropic-ratelimit-unified-status": "allowed_warning",
        "anthropic-ratelimit-unified-reset": reset,
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
        "anthropic-ratelimit-unified-5h-status": "allowed_warning",
        "anthropic-ratelimit-unified-5h-reset": reset,
        "anthropic-ratelimit-unified-5h-utilization": "0.93",
        "anthropic-ratelimit-unified-5h-surpassed-threshold": "0.9",
    }
    return text_reply(headers=headers)


def unified_headers(
    status: str,
    reset: int,
    windows: dict[str, dict[str, str]],
    *,
    claim: str = "five_hour",
    overage: dict[str, str] | None = None,
) -> dict[str, str]:
    """The subscription headers as the real API sends them with an OAuth login (on every
    response, success or not): the overall status and reset, the representative window, each
    window's `-<short>-{status,utilization,reset,surpassed-threshold}` (short names 5h, 7d,
    7d_oi, overage) and the extra-usage (`overage-`) ones. docs/claude-cli.md §12."""
    prefix = "anthropic-ratelimit-unified-"
    headers = {prefix + "status": status, prefix + "reset": str(reset), prefix + "representative-claim": claim}
    for short, fields in windows.items():
        headers.update({f"{prefix}{short}-{name}": value for name, value in fields.items()})
    headers.update({f"{prefix}overage-{name}": value for name, value in (overage or {}).items()})
    return headers


def _week_reset(request: ScenarioRequest) -> int:
    return _reset_epoch(request) + 5 * 24 * 3600


def quota_warning(request: ScenarioRequest) -> Outcome:
    """An answer while the 5-hour window is past the 90 % warning threshold (`h5=0.93`), the
    weekly one allowed (`d7=0.41`), extra usage off: the CLI reports `allowed_warning`."""
    reset, week = _reset_epoch(request), _week_reset(request)
    params = request.marker.params
    headers = unified_headers(
        "allowed_warning",
        reset,
        {
            "5h": {"status": "allowed_warning", "utilization": params.get("h5", "0.93"), "reset": str(reset), "surpassed-threshold": "0.9"},
            "7d": {"status": "allowed", "utilization": params.get("d7", "0.41"), "reset": str(week)},
        },
        overage={"status": "rejected", "disabled-reason": "org_level_disabled"},
    )
    return text_reply(headers=headers)


def extra_usage(request: ScenarioRequest) -> Outcome:
    """An answer billed as extra usage: the plan's 5-hour window is used up (`rejected`) but
    extra usage is allowed, so the request goes through on it (the CLI: isUsingOverage)."""
    reset, week = _reset_epoch(request), _week_reset(request)
    headers = unified_headers(
        "rejected",
        reset,
        {
            "5h": {"status": "rejected", "utilization": "1.0", "reset": str(reset)},
            "7d": {"status": "allowed", "utilization": "0.62", "reset": str(week)},
        },
        overage={"status": "allowed", "reset": str(week), "utilization": "0.12"},
    )
    return text_reply(headers=headers)


#: Anthropic's answer when it bills a request as extra usage and extra usage cannot cover it
#: (reported widely since April 2026; its wording varies, see tui_proxy/claude/outcome.py).
EXTRA_USAGE_REFUSAL = "Third-party apps now draw from your extra usage, not your plan limits. Add more at claude.ai/settings/usage and keep going."

PARTIAL_REPLY = text_reply(("Partial", " answer that never finishes"))
OVERLOADED = ApiError(529, "overloaded_error", "Overloaded")

SCENARIOS: dict[str, Scenario] = {
    "text": text,
    "thinking": thinking,
    "tool_use": tool_use,
    "client_tools": client_tools,
    "model": model,
    "tool_once": tool_once,
    "words": words,
    "max_tokens": max_tokens,
    "big_delta": big_delta,
    "unicode": unicode,
    "rate_limit_warning": rate_limit_warning,
    "quota_warning": quota_warning,
    "extra_usage": extra_usage,
    "400_extra_usage": failing(_error(400, "invalid_request_error", EXTRA_USAGE_REFUSAL, NOT_RETRYABLE), None),
    "401": failing(_error(401, "authentication_error", "invalid x-api-key", NOT_RETRYABLE), None),
    "403": failing(_error(403, "permission_error", "Your account does not have permission to use this resource.", NOT_RETRYABLE), None),
    "404_model": failing(_model_not_found, None),
    "400_credit": failing(
        _error(
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
            NOT_RETRYABLE,
        ),
        None,
    ),
    "400_prompt_too_long": failing(
        _error(400, "invalid_request_error", "prompt is too long: 250123 tokens > 200000 maximum", NOT_RETRYABLE), None
    ),
    "400_other": failing(
        _error(400, "invalid_request_error", "messages.0.content.0.text: mock rejected this request", NOT_RETRYABLE), None
    ),
    "429_api_key": failing(
        _error(
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50 requests per minute.",
            {"retry-after": "1"},
        ),
        None,
    ),
    "429_subscription": failing(_subscription_limit, None),
    # A plain 429 (no subscription headers): the CLI retries it like a 5xx; `times=N` then answers.
    "429": failing(_error(429, "rate_limit_error", "Number of concurrent connections has exceeded your rate limit.", {"retry-after": "1"}), None),
    "500": failing(_error(500, "api_error", "Internal server error"), None),
    "529": failing(_error(529, "overloaded_error", "Overloaded"), None),
    "midstream_error": failing(lambda request: BrokenStream("error", PARTIAL_REPLY, OVERLOADED), 1),
    "drop": failing(lambda request: BrokenStream("drop", PARTIAL_REPLY), 1),
    "stall": failing(lambda request: BrokenStream("stall", PARTIAL_REPLY), None),
    "model_thinking": model_thinking,
}


def unknown_scenario(name: str) -> ApiError:
    known = ", ".join(sorted(SCENARIOS))
    return ApiError(400, "invalid_request_error", f"mock: unknown scenario {name!r} (known: {known})", dict(NOT_RETRYABLE))
