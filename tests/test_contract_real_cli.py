"""Contract tests: the proxy with `--claude` = the pinned REAL CLI, against the mock Anthropic API.

Every scenario of tests/mock_anthropic goes through the whole stack (openai SDK with strict
validation → engine → real `claude` → loopback mock) as a plain and as a streamed
request, and what the client receives is asserted: text, reasoning, finish reason, usage
(prompt = input + cache read + cache write, cached = cache read, summed over the CLI's API
calls), or the status, error code, `Retry-After` and `x-should-retry` of
tui_proxy/claude/outcome.py. The expected outcomes are the ones
tests/test_golden_through_proxy.py asserts on recorded transcripts: the two must agree.

Also: the argv is accepted by the real CLI in every run (no usage error), the prompt and
the system prompt never appear in argv, the system prompt reaches the API, a stalled
upstream ends at the proxy's idle timeout with a 504 and the child reaped.

All runs happen once per module, concurrently (see `CONCURRENCY`); the tests then judge
them. Without the real CLI the module skips locally and fails in CI (CI=true).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from bench.soak import pid_alive
from tests.contract_env import Call, Profile, Rig
from tests.mock_anthropic import TEXT_ANSWER
from tests.mock_anthropic.replies import CACHE_CREATION_INPUT_TOKENS, CACHE_READ_INPUT_TOKENS, INPUT_TOKENS
from tests.mock_anthropic.scenarios import SCENARIOS, UNICODE_CHUNKS, ScenarioRequest, text_reply
from tests.mock_anthropic.markers import Marker
from tests.real_cli import find_real_cli, require_real_cli

CONCURRENCY = 5
IDLE_TIMEOUT = 1.5  # the stall profile's engine: far below the CLI's own 300 s watchdog
BIG = 3_000_000
SUBSCRIPTION_RESET_IN = 7200

PROFILES = [
    Profile("oauth"),  # a subscription login: what the proxy's users have
    Profile("oauth_retry1", max_retries=1),  # cases that need one retry (500, 529, drop)
    Profile("api_key", auth="api_key"),
    Profile("no_login", auth=None, use_mock=False),
    Profile("stall", config={"idle_timeout": IDLE_TIMEOUT, "first_output_timeout": 60.0}),
]

PROMPT_TOKENS_PER_CALL = INPUT_TOKENS + CACHE_READ_INPUT_TOKENS + CACHE_CREATION_INPUT_TOKENS


def _output_tokens(scenario: str, params: dict[str, str] | None = None) -> int:
    """What the mock reports as output_tokens for one successful answer of `scenario`."""
    request = ScenarioRequest(body={"model": "claude-sonnet-5-5", "messages": []}, marker=Marker(scenario, params or {}), attempt=1, stream=True, tool_use_id="toolu_mock_0000")
    return SCENARIOS[scenario](request).output_tokens  # type: ignore[union-attr]


TEXT_TOKENS = text_reply().output_tokens
PARTIAL_MESSAGE_TOKENS = 1  # a broken stream's message_start usage, counted by the CLI


@dataclass(frozen=True, slots=True)
class Success:
    profile: str
    marker: str
    text: str | None  # exact answer; None = checked by a dedicated test
    calls: int  # API calls whose usage the CLI sums
    completion_tokens: int | None
    finish_reason: str = "stop"
    stream_fails: bool = False  # a stream rewritten by a retry ends in an error event


SUCCESSES: dict[str, Success] = {
    "text": Success("oauth", "[[mock:text]]", TEXT_ANSWER, 1, TEXT_TOKENS),
    "text_api_key": Success("api_key", "[[mock:text]]", TEXT_ANSWER, 1, TEXT_TOKENS),
    "thinking": Success("oauth", "[[mock:thinking]]", "Thought about it: the answer is 42.", 1, _output_tokens("thinking")),
    "unicode": Success("oauth", "[[mock:unicode]]", "".join(UNICODE_CHUNKS), 1, _output_tokens("unicode")),
    "big_delta": Success("oauth", f"[[mock:big_delta size={BIG}]]", None, 1, _output_tokens("big_delta", {"size": str(BIG)})),
    "rate_limit_warning": Success("oauth", "[[mock:rate_limit_warning]]", TEXT_ANSWER, 1, TEXT_TOKENS),
    "529_recovers": Success("oauth_retry1", "[[mock:529 times=1]]", TEXT_ANSWER, 1, TEXT_TOKENS),
    "tool_use": Success("oauth", "[[mock:tool_use]]", None, 2, None),
    "max_tokens": Success("oauth", "[[mock:max_tokens]]", "This answer is cut short" * 4, 4, None, finish_reason="length"),
    "midstream_error": Success("oauth", "[[mock:midstream_error]]", TEXT_ANSWER, 2, PARTIAL_MESSAGE_TOKENS + TEXT_TOKENS, stream_fails=True),
    "drop": Success("oauth_retry1", "[[mock:drop]]", TEXT_ANSWER, 2, PARTIAL_MESSAGE_TOKENS + TEXT_TOKENS, stream_fails=True),
}


@dataclass(frozen=True, slots=True)
class Failure:
    profile: str
    marker: str
    status: int
    code: str
    should_retry: str | None  # the x-should-retry header (None = absent: the SDK decides)
    stream_status: bool = True  # False: a streamed request fails after text (an error event)


FAILURES: dict[str, Failure] = {
    "not_logged_in": Failure("no_login", "Hello?", 401, "cli_not_authenticated", "false"),
    "401": Failure("oauth", "[[mock:401]]", 401, "cli_not_authenticated", "false"),
    "401_api_key": Failure("api_key", "[[mock:401]]", 401, "cli_not_authenticated", "false"),
    "403": Failure("oauth", "[[mock:403]]", 401, "cli_not_authenticated", "false"),
    "404_model": Failure("oauth", "[[mock:404_model]]", 404, "model_not_found", "false"),
    "400_credit": Failure("oauth", "[[mock:400_credit]]", 402, "insufficient_quota", "false"),
    "400_prompt_too_long": Failure("oauth", "[[mock:400_prompt_too_long]]", 400, "context_length_exceeded", "false"),
    "400_other": Failure("oauth", "[[mock:400_other]]", 400, "upstream_invalid_request", "false"),
    "429_api_key": Failure("api_key", "[[mock:429_api_key]]", 429, "rate_limit_exceeded", None),
    "429_subscription": Failure("oauth", "[[mock:429_subscription reset={reset}]]", 429, "rate_limit_exceeded", None),
    "429_subscription_api_key": Failure("api_key", "[[mock:429_subscription reset={reset}]]", 429, "rate_limit_exceeded", None),
    "500": Failure("oauth_retry1", "[[mock:500]]", 502, "upstream_error", None),
    "529": Failure("oauth_retry1", "[[mock:529]]", 503, "upstream_overloaded", None),
    "midstream_error_fallback_fails": Failure("oauth", "[[mock:midstream_error times=2]]", 503, "upstream_overloaded", None, stream_status=False),
    "stall": Failure("stall", "[[mock:stall]]", 504, "timeout", None),
}

CASES = {**SUCCESSES, **FAILURES}
SYSTEM_TAG = "CONTRACT-SYS-{case}-{mode}"
USAGE_ERROR = re.compile(r"^(error: |Error: )", re.MULTILINE)


def _prompt(case: str, marker: str, reset: int) -> str:
    return f"Contract case {case}. {marker.format(reset=reset)}"


# -- running everything once --------------------------------------------------------


@dataclass(slots=True)
class Runs:
    calls: dict[tuple[str, bool], Call]
    system_texts: list[str]
    reset: int
    seconds: float

    def __getitem__(self, key: tuple[str, bool]) -> Call:
        return self.calls[key]


async def _run_all(cli: str, root: Path) -> Runs:
    reset = int(time.time()) + SUBSCRIPTION_RESET_IN
    rig = await Rig(cli, root, PROFILES, CONCURRENCY).start()
    started = time.monotonic()
    try:
        jobs = []
        # The slow ones first, so they overlap the many quick ones.
        order = ["stall", "drop", "500", "529", "529_recovers", "big_delta", "max_tokens", "tool_use"]
        names = order + [name for name in CASES if name not in order]
        for name in names:
            for stream in (False, True):
                mode = "stream" if stream else "plain"
                system = SYSTEM_TAG.format(case=name, mode=mode)
                jobs.append(rig.call(CASES[name].profile, name, _prompt(name, CASES[name].marker, reset), stream=stream, system=system))
        results = await asyncio.gather(*jobs)
        return Runs({(call.case, call.stream): call for call in results}, rig.mock.system_texts(), reset, time.monotonic() - started)
    finally:
        await rig.close()


@pytest.fixture(scope="module")
def runs() -> Runs:
    cli = require_real_cli(find_real_cli())
    with tempfile.TemporaryDirectory(prefix="contract-real-cli-") as scratch:
        result = asyncio.run(_run_all(cli, Path(scratch)))
    print(f"\ncontract: {len(result.calls)} requests through the real CLI in {result.seconds:.1f} s")
    for call in sorted(result.calls.values(), key=lambda c: -c.seconds)[:5]:
        print(f"  slowest: {call.case:32} stream={call.stream!s:5} {call.seconds:5.2f} s")
    return result


STREAMS = pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])


def _usage_ok(call: Call, case: Success) -> None:
    usage = call.usage
    assert usage is not None, call.describe()
    assert usage.prompt_tokens == case.calls * PROMPT_TOKENS_PER_CALL, (call.describe(), usage)
    assert usage.prompt_tokens_details.cached_tokens == case.calls * CACHE_READ_INPUT_TOKENS, usage
    if case.completion_tokens is not None:
        assert usage.completion_tokens == case.completion_tokens, usage
    else:
        assert usage.completion_tokens > 0, usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


# -- successes ----------------------------------------------------------------------


# A stream rewritten by a retry fails instead: see test_a_stream_rewritten_by_a_retry_fails_honestly.
@pytest.mark.parametrize(
    ("name", "stream"),
    [
        pytest.param(name, stream, id=f"{name}-{'stream' if stream else 'plain'}")
        for name, case in SUCCESSES.items()
        if case.text is not None
        for stream in (False, True)
        if not (stream and case.stream_fails)
    ],
)
def test_success_text_and_usage(runs: Runs, name: str, stream: bool) -> None:
    case = SUCCESSES[name]
    call = runs[name, stream]
    assert call.error is None, call.describe()
    assert call.content == case.text, call.describe()
    assert call.finish_reason == case.finish_reason, call.describe()
    _usage_ok(call, case)


@STREAMS
def test_thinking_is_reasoning_content(runs: Runs, stream: bool) -> None:
    call = runs["thinking", stream]
    assert call.error is None, call.describe()
    assert call.reasoning == "Let me think about this carefully."
    assert call.reasoning not in (call.content or "")


@STREAMS
def test_unicode_survives_including_line_separators(runs: Runs, stream: bool) -> None:
    call = runs["unicode", stream]
    assert call.error is None, call.describe()
    assert "\u2028" in call.content and "\u2029" in call.content and "\u0085" in call.content  # type: ignore[operator]
    assert "中文" in call.content and "🎉" in call.content  # type: ignore[operator]


@STREAMS
def test_big_delta_arrives_whole(runs: Runs, stream: bool) -> None:
    call = runs["big_delta", stream]
    assert call.error is None, call.describe()
    expected = SCENARIOS["big_delta"](
        ScenarioRequest(body={}, marker=Marker("big_delta", {"size": str(BIG)}), attempt=1, stream=True, tool_use_id="")
    ).blocks[0].final()["text"]  # type: ignore[union-attr]
    assert len(call.content or "") == BIG
    assert call.content == expected
    _usage_ok(call, SUCCESSES["big_delta"])


@STREAMS
def test_tool_attempt_with_tools_off_answers_both_turns(runs: Runs, stream: bool) -> None:
    """The mock calls a tool; `--tools=` makes the CLI refuse it and ask again: the answer has both turns."""
    call = runs["tool_use", stream]
    assert call.error is None, call.describe()
    assert call.finish_reason == "stop"
    assert (call.content or "").startswith("I will call a tool.\n\nTool result received: "), call.describe()
    assert "No such tool available" in (call.content or "")
    _usage_ok(call, SUCCESSES["tool_use"])


def test_max_output_tokens_is_length_with_every_continuation(runs: Runs) -> None:
    for stream in (False, True):
        call = runs["max_tokens", stream]
        assert call.finish_reason == "length", call.describe()
        _usage_ok(call, SUCCESSES["max_tokens"])


@pytest.mark.parametrize("name", ["midstream_error", "drop"])
def test_a_stream_rewritten_by_a_retry_fails_honestly(runs: Runs, name: str) -> None:
    call = runs[name, True]
    assert isinstance(call.error, openai.APIError), call.describe()
    assert "retry" in call.error.message
    assert call.finish_reason is None
    assert (call.content or "") in ("", "Partial"), call.describe()  # at most the doomed partial delta


# -- failures -----------------------------------------------------------------------


@STREAMS
@pytest.mark.parametrize("name", list(FAILURES))
def test_failure_status_code_and_retry_headers(runs: Runs, name: str, stream: bool) -> None:
    case = FAILURES[name]
    call = runs[name, stream]
    assert call.error is not None, call.describe()
    if stream and not case.stream_status:
        assert call.status is None and call.finish_reason is None, call.describe()  # an error event after text
        return
    assert isinstance(call.error, openai.APIStatusError), call.describe()
    assert (call.status, call.code) == (case.status, case.code), call.describe()
    assert call.headers.get("x-should-retry") == case.should_retry, call.describe()
    assert call.headers["content-type"].startswith("application/json")
    body = call.error.body if isinstance(call.error.body, dict) else {}
    assert body.get("code") == case.code or call.code == case.code


@STREAMS
def test_subscription_limit_has_retry_after_from_the_reset_time(runs: Runs, stream: bool) -> None:
    call = runs["429_subscription", stream]
    assert isinstance(call.error, openai.RateLimitError), call.describe()
    retry_after = int(call.headers["retry-after"])
    expected = runs.reset - time.time()
    assert expected - 300 <= retry_after <= expected + 60, (retry_after, expected)
    assert "limit" in call.error.message


def test_api_key_rate_limits_have_no_retry_after(runs: Runs) -> None:
    """Without a subscription reset time the SDK's own backoff decides (no Retry-After)."""
    for name in ("429_api_key", "429_subscription_api_key"):
        for stream in (False, True):
            assert "retry-after" not in runs[name, stream].headers, runs[name, stream].describe()


@STREAMS
def test_stall_ends_at_the_idle_timeout_and_the_child_is_reaped(runs: Runs, stream: bool) -> None:
    call = runs["stall", stream]
    assert (call.status, call.code) == (504, "timeout"), call.describe()
    assert call.seconds < IDLE_TIMEOUT + 20, call.seconds
    assert len(call.spawned) == 1 and len(call.exited) == 1, call.describe()
    assert call.exited[0].killed_because == "idle", call.exited
    assert not pid_alive(call.spawned[0].pid)


# -- the command line and the process ------------------------------------------------


def test_the_real_cli_accepts_the_argv_in_every_run(runs: Runs) -> None:
    bad = []
    for call in runs.calls.values():
        if call.code == "cli_usage_error" or USAGE_ERROR.search(call.stderr) or "unknown option" in call.stderr:
            bad.append(call.describe())
    assert not bad, "\n".join(bad)


def test_every_request_spawned_one_child_that_was_reaped(runs: Runs) -> None:
    for call in runs.calls.values():
        assert call.exchange_id, call.describe()
        assert len(call.spawned) == 1, call.describe()
        assert len(call.exited) == 1, call.describe()
        assert not pid_alive(call.spawned[0].pid), call.describe()


def test_prompt_and_system_prompt_never_in_argv(runs: Runs) -> None:
    for call in runs.calls.values():
        argv = call.spawned[0].argv
        joined = "\0".join(argv)
        assert "Contract case" not in joined and "[[mock:" not in joined, argv
        assert "CONTRACT-SYS-" not in joined, argv
        # It went in the session file the CLI resumed instead (nothing on stdin; gone after the run).
        assert "--resume" in argv and call.spawned[0].stdin == ""
        prompt_file = argv[argv.index("--system-prompt-file") + 1]
        assert Path(prompt_file).name == "system-prompt.txt"


def test_the_system_prompt_reaches_the_api(runs: Runs) -> None:
    seen = "\n".join(runs.system_texts)
    missing = []
    for (name, stream), call in runs.calls.items():
        if CASES[name].profile == "no_login":
            continue  # never reaches the API
        tag = SYSTEM_TAG.format(case=name, mode="stream" if stream else "plain")
        if tag not in seen:
            missing.append(tag)
    assert not missing, missing


def test_the_module_stays_quick(runs: Runs) -> None:
    assert runs.seconds < 150, runs.seconds
