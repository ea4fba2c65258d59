"""Property-based: any request body gives either a run plan or a clean OpenAI error (400, or
404 for an unknown model), never an unhandled exception; and what a plan hands the CLI is
always well-formed (one ASCII JSON user line on stdin, no user text in argv)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui_proxy.claude.argv import build_argv
from tui_proxy.openai.chat_request import ChatRequest, parse_chat_request
from tui_proxy.errors import ProxyError
from tui_proxy.openai.errors import error_body
from tui_proxy.server.admission import prompt_chars
from tui_proxy.server.body import _has_lone_surrogate
from tui_proxy.claude.plan import plan_run

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies --------------------------------------------------------------------------------

#: Mostly ordinary text; sometimes lone surrogates (`"\ud800"` is valid JSON, not Unicode).
text = st.text(max_size=40) | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=True) | text
any_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=20)
#: Values that look like what a field expects, or not quite.
ish = st.sampled_from(["", "text", "image_url", "function", "auto", "none", "required", "json_schema", "json_object", "data:image/png;base64,AAAA", "https://x.example/a.png", "data:,x", "data:image/gif;base64,!!"]) | any_json

part = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "input_audio", "file", "refusal", "bogus"]) | ish},
    optional={"text": ish, "image_url": st.fixed_dictionaries({}, optional={"url": ish, "detail": ish}) | ish, "refusal": ish},
)
content = st.none() | text | st.lists(part, max_size=3) | any_json
tool_call = st.fixed_dictionaries(
    {"id": ish, "type": ish, "function": st.fixed_dictionaries({}, optional={"name": ish, "arguments": ish}) | ish}
)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "bogus"]) | ish},
    optional={"content": content, "name": ish, "tool_call_id": ish, "tool_calls": st.lists(tool_call, max_size=2) | ish, "refusal": ish},
)
tool = st.fixed_dictionaries(
    {"type": st.just("function") | ish},
    optional={"function": st.fixed_dictionaries({}, optional={"name": ish, "description": ish, "parameters": ish, "strict": ish}) | ish},
)
request = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["sonnet", "claude-opus-4", "claude-x-1", "gpt-4o", "anthropic/haiku", "claude-\u0000", ""]) | ish,
        "messages": st.lists(message, max_size=4) | ish,
        "stream": ish,
        "stream_options": st.fixed_dictionaries({}, optional={"include_usage": ish}) | ish,
        "n": ish,
        "stop": ish,
        "max_tokens": ish,
        "max_completion_tokens": ish,
        "tools": st.lists(tool, max_size=2) | ish,
        "tool_choice": ish,
        "parallel_tool_calls": ish,
        "response_format": st.fixed_dictionaries({"type": ish}, optional={"json_schema": ish}) | ish,
        "reasoning_effort": ish,
        "logprobs": ish,
        "modalities": ish,
        "temperature": ish,
        "user": ish,
        "functions": ish,
    },
)



def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid values three times in four, anything else otherwise: reaches deep code paths."""
    return st.one_of(valid, valid, valid, ish)


good_part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": text}),
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": st.fixed_dictionaries({"url": st.sampled_from(["https://x.example/a.png", "data:image/png;base64,iVBORw0KGgo=", "data:image/jpeg;base64,/9j/"])})}),
)
good_tool = st.fixed_dictionaries(
    {"type": st.just("function"), "function": st.fixed_dictionaries({"name": st.sampled_from(["get_weather", "f", "a.b"])}, optional={"description": text, "parameters": st.just({"type": "object", "properties": {"x": {"type": "string"}}}), "strict": st.booleans()})}
)
good_message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "developer", "user"]), "content": mostly(text | st.lists(good_part, min_size=1, max_size=3))}, optional={"name": text}),
    st.fixed_dictionaries({"role": st.just("assistant"), "content": st.none() | text}, optional={"tool_calls": st.lists(st.fixed_dictionaries({"id": text, "type": st.just("function"), "function": st.fixed_dictionaries({"name": text, "arguments": st.sampled_from(["{}", '{"x": 1}', "not json"])})}), max_size=2)}),
    st.fixed_dictionaries({"role": st.just("tool"), "tool_call_id": mostly(text), "content": mostly(text)}),
)
plausible = st.fixed_dictionaries(
    {
        "model": mostly(st.sampled_from(["sonnet", "opus", "haiku", "claude-sonnet-4-5", "claude-code-cli/claude-opus-4", "claude-3-x_y.z"])),
        "messages": mostly(st.lists(good_message, min_size=1, max_size=4).map(lambda m: m + [{"role": "user", "content": "hi"}])),
    },
    optional={
        "stream": mostly(st.booleans()),
        "stream_options": mostly(st.fixed_dictionaries({"include_usage": st.booleans()})),
        "stop": mostly(text | st.lists(text, max_size=4)),
        "max_tokens": mostly(st.integers(1, 10**6)),
        "max_completion_tokens": mostly(st.integers(1, 10**6)),
        "tools": mostly(st.lists(good_tool, max_size=2)),
        "tool_choice": mostly(st.sampled_from(["auto", "none", "required", {"type": "function", "function": {"name": "f"}}])),
        "parallel_tool_calls": mostly(st.booleans()),
        "response_format": mostly(st.sampled_from([{"type": "text"}, {"type": "json_object"}, {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}}])),
        "reasoning_effort": mostly(st.sampled_from(["low", "medium", "high", "none", "max"])),
        "temperature": mostly(st.floats(0, 2)),
        "user": text,
        "seed": st.integers(),
    },
)


def translate(body) -> tuple[ChatRequest, object] | ProxyError:
    """The request path up to the CLI: validation, then the run plan."""
    try:
        chat = parse_chat_request(body)
        return chat, plan_run(chat.request)
    except ProxyError as error:
        return error


def check(body) -> None:
    if _has_lone_surrogate(body):
        return  # refused with a 400 before translation (tests/test_limits.py)
    outcome = translate(body)
    if isinstance(outcome, ProxyError):
        assert outcome.status in (400, 404), outcome
        body = error_body(outcome)["error"]
        assert set(body) == {"message", "type", "param", "code"} and body["message"]
        json.dumps(error_body(outcome), ensure_ascii=False).encode()  # always sendable
        return
    chat, plan = outcome
    line = plan.prompt.stdin_line()
    assert line.endswith("\n") and line.count("\n") == 1 and line.isascii()
    parsed = json.loads(line)
    assert parsed["type"] == "user" and parsed["message"]["role"] == "user"
    assert isinstance(parsed["message"]["content"], list) and parsed["message"]["content"]
    argv = build_argv("/bin/claude", plan.options)
    assert all(isinstance(arg, str) and "\0" not in arg for arg in argv)
    # The model id is the only request value in argv, and it cannot pose as a flag.
    assert not plan.options.model.startswith("-")
    for turn in chat.request.conversation.turns:
        for part in turn.parts:
            value = getattr(part, "text", "")
            if len(value) > 12:
                assert value not in " ".join(argv[1:])


# -- properties ------------------------------------------------------------------------------


@SETTINGS
@given(any_json)
def test_any_json_value_is_a_plan_or_a_clean_error(body):
    check(body)


@SETTINGS
@given(request)
@example({"model": "sonnet", "messages": [{"role": "user", "content": "--help"}]})
@example({"model": "sonnet", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,"}}]}]})
@example({"model": "sonnet", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f"}}]}]})
@example({"model": "sonnet", "messages": [{"role": "user", "content": "\ud800 lone surrogate"}], "user": "\udfff"})
def test_any_request_shaped_body_is_a_plan_or_a_clean_error(body):
    check(body)


@SETTINGS
@given(plausible)
def test_plausible_requests_are_a_plan_or_a_clean_error(body):
    check(body)


@SETTINGS
@given(plausible)
def test_the_prompt_bound_never_undercounts_the_text_the_cli_gets(body):
    outcome = translate(body)
    if isinstance(outcome, ProxyError) or _has_lone_surrogate(body):
        return
    chat, plan = outcome
    user_text = sum(len(b.get("text", "")) for b in plan.prompt.blocks if b.get("type") == "text")
    # Rendering adds tags around history; the bound is on the client's own text.
    own = sum(len(getattr(p, "text", "")) for t in chat.request.conversation.turns for p in t.parts) + len(chat.request.conversation.system or "")
    assert prompt_chars(body) >= own
    assert user_text >= 0


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_are_json_or_refused_as_invalid_json(raw):
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return  # the HTTP layer answers 400 invalid_json (tests/test_limits.py)
    check(body)
