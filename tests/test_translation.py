"""From an OpenAI request to the CLI's input: every role survives, limits are emulated."""

from __future__ import annotations

import base64
import json

import pytest

from tui_proxy.claude.argv import RunOptions, build_argv, build_env
from tui_proxy.claude.prompt import render_prompt
from tui_proxy.openai.chat_request import parse_chat_request
from tui_proxy.errors import ProxyError
from tui_proxy.claude.output_limits import OutputLimiter, estimate_tokens

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


def chat(messages, **extra):
    return parse_chat_request({"model": "claude-sonnet-4", "messages": messages, **extra}).request


def test_single_user_message_goes_as_is():
    prompt = render_prompt(chat([{"role": "user", "content": "hello"}]).conversation)
    assert prompt.system_prompt is None
    assert prompt.blocks == ({"type": "text", "text": "hello"},)
    line = json.loads(prompt.stdin_line())
    assert line == {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": "hello"}]}, "parent_tool_use_id": None, "session_id": ""}


def test_every_role_survives_the_flattening():
    request = chat(
        [
            {"role": "system", "content": "Be terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric."}]},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "assistant", "content": "It is 18C."},
            {"role": "user", "content": "And tomorrow?"},
        ]
    )
    prompt = render_prompt(request.conversation)
    assert prompt.system_prompt == "Be terse.\n\nUse metric."
    text = prompt.text
    for piece in ("<user>\nWeather in Paris?", 'name="get_weather">{"city":"Paris"}', 'tool_call_id="call_1">\n18C', "<assistant>\nIt is 18C.", "</conversation_history>"):
        assert piece in text
    assert text.endswith("And tomorrow?")  # the message to answer comes last, untagged


def test_images_become_blocks_in_place():
    request = chat([{"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}])
    blocks = render_prompt(request.conversation).blocks
    assert blocks[0] == {"type": "text", "text": "What is this?"}
    assert blocks[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    assert blocks[2] == {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}


@pytest.mark.parametrize("url", ["data:image/png;base64,@@@", "data:text/plain;base64,aGk=", "ftp://x/y.png", "data:image/png,raw"])
def test_bad_images_are_400s(url):
    with pytest.raises(ProxyError) as caught:
        chat([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}])
    assert caught.value.status == 400 and caught.value.param.endswith(".image_url")


def test_sampling_knobs_and_metadata_are_accepted():
    request = chat([{"role": "user", "content": "x"}], temperature=0, top_p=0.5, seed=1, frequency_penalty=0, presence_penalty=0, logit_bias={}, user="alice", metadata={}, store=False, service_tier="auto", prompt_cache_key="k", something_new=True)
    assert request.model.cli_model == "sonnet"


def test_the_prompt_never_reaches_argv():
    argv = build_argv("/abs/claude", RunOptions(model="sonnet", system_prompt_file="/run/system-prompt.txt"))
    assert argv[0] == "/abs/claude"
    for flag in ("-p", "--verbose", "--include-partial-messages", "--tools=", "--strict-mcp-config", "--setting-sources=", "--no-session-persistence"):
        assert flag in argv
    assert argv[argv.index("--input-format") + 1] == "stream-json"
    assert argv[argv.index("--system-prompt-file") + 1] == "/run/system-prompt.txt"
    assert "--dangerously-skip-permissions" not in argv and "--permission-mode" not in argv


def test_child_environment_drops_nesting_and_our_secrets():
    env = build_env({"PATH": "/bin", "HOME": "/h", "CLAUDECODE": "1", "CLAUDE_CODE_ENTRYPOINT": "cli", "CLAUDE_CODE_OAUTH_TOKEN": "tok", "CLAUDE_MAX_TUI_API_KEY": "secret"}, tmpdir="/run/tmp")
    assert env["TMPDIR"] == "/run/tmp" and env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["CLAUDE_CODE_OAUTH_TOKEN"] == "tok"  # how a headless server logs in
    assert "CLAUDECODE" not in env and "CLAUDE_CODE_ENTRYPOINT" not in env and "CLAUDE_MAX_TUI_API_KEY" not in env


def test_stop_sequence_spanning_deltas_is_cut():
    limiter = OutputLimiter(stop=("END",))
    out = [limiter.feed(piece) for piece in ["abc E", "N", "D tail"]]
    assert "".join(out) == "abc " and limiter.finish_reason == "stop"
    assert limiter.feed("more") == "" and limiter.flush() == ""


def test_text_held_for_a_stop_sequence_is_released_at_the_end():
    limiter = OutputLimiter(stop=("END",))
    assert limiter.feed("almost EN") + limiter.flush() == "almost EN"
    assert limiter.finish_reason is None


def test_max_tokens_cuts_at_the_budget():
    limiter = OutputLimiter(max_tokens=3)
    out = limiter.feed("one two six ten")
    assert out == "one two six" and limiter.finish_reason == "length" and limiter.tokens == 3
    assert estimate_tokens("internationalization") == 5  # long words count as several tokens
