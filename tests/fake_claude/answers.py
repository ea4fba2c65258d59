"""Scenarios that answer normally (exit 0): echo, text, tokens, slow, thinking, unicode,
bigline, garbage, tool_use_attempt, max_budget, max_turns, max_output_tokens,
rate_limit_warning."""

from __future__ import annotations

import time

from . import text as texts
from .run import Run

ECHO_LIMIT = 200


def echo(run: Run) -> None:
    reply = "You said: " + run.prompt.last_text[:ECHO_LIMIT]
    run.init()
    run.answer(texts.split_words(reply, run.spec.int("chunks", 4)))
    run.result()


def thinking_echo(run: Run) -> None:
    """Thinking, then the echo (the conformance model when a thinking effort is asked for)."""
    run.init()
    response = run.response()
    response.start()
    response.thinking(texts.split_words("Let me think about what was said.", 3))
    response.text(texts.split_words("You said: " + run.prompt.last_text[:ECHO_LIMIT], 4))
    response.finish()
    run.result()


def fixed_text(run: Run) -> None:
    body = run.spec.str("text", "Hello from the fake Claude.")
    run.init()
    run.answer(texts.split_even(body, run.spec.int("chunks", 3)))
    run.result()


def tokens(run: Run) -> None:
    run.init()
    run.answer(texts.short_words(run.spec.int("n", 500)))
    run.result()


def slow(run: Run) -> None:
    run.delay = run.spec.float("delay_ms", 200) / 1000
    run.init()
    run.answer(texts.short_words(run.spec.int("n", 20)))
    run.result()


def thinking(run: Run) -> None:
    thought = run.spec.str("thinking", "The user wants an answer. Let me think it through step by step "
                                       "before replying, then keep the reply short.")
    answer = run.spec.str("text", "Here is my considered answer.")
    run.init()
    response = run.response()
    response.start()
    response.thinking(texts.split_words(thought, run.spec.int("chunks", 5)))
    response.text(texts.split_words(answer, 3))
    response.finish()
    run.result()


# Deltas cut where tokenizers do: inside a grapheme (e + combining acute, a ZWJ family).
UNICODE_CHUNKS = [
    "Unicode: héllo wörld, ", "cafe", "\u0301 (combining acute), ", "日本語のテキスト、中文、한국어, ",
    "مرحبا (RTL), ", "👍🏽 ", "👨\u200d👩", "\u200d👧\u200d👦 family, ", "line\u2028separator, ",
    "paragraph\u2029separator, ", "next\u0085line, ", "control\u0001char, ",
    "tab\tbell\x07escape\x1b, ", "quote \" backslash \\ ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 done.",
]


def unicode(run: Run) -> None:
    run.init()
    run.answer(list(UNICODE_CHUNKS))
    run.result()


def bigline(run: Run) -> None:
    run.init()
    run.answer([texts.filler(run.spec.int("size", 3_000_000))])
    run.result()


GARBAGE_BEFORE = [
    b"Warning: something unexpected happened\n",
    b"\n",
    b"[1,2]\n",
    b'{"type":"system","subtype":"hook_started","hook_name":"SessionStart","session_id":"x","uuid":"y"}\n',
]
GARBAGE_BETWEEN = [
    b'{"type":"compact_boundary"}\n',
    b'{"type":"tool_progress","tool_use_id":"toolu_x","elapsed_time_seconds":1}\n',
    b'"just a string"\n',
    b"not json at all {\n",
    b'{"type":"system","subtype":"notification","text":"hello"}\n',
    b"null\n",
]


def garbage(run: Run) -> None:
    """A normal answer with non-JSON lines and unknown line types interleaved."""
    run.init()
    for junk in GARBAGE_BEFORE:
        run.raw(junk)
    response = run.response()
    response.start()

    def between(number: int) -> None:
        if number < len(GARBAGE_BETWEEN):
            run.raw(GARBAGE_BETWEEN[number])

    response.text(texts.split_words("Garbage-proof answer: all junk lines must be skipped.", 8), between)
    run.raw(b'{"type":"tool_progress"}\n')
    response.finish()
    run.raw(b'{"type":"system","subtype":"hook_response","hook_name":"Stop"}\n')
    run.result()


NO_TOOL = "No such tool available: Bash"


def _attempt_tool(run: Run) -> None:
    """A model turn calling Bash although --tools= removed it; the CLI refuses the call
    with a tool_result user line, printed right after the tool_use assistant line."""
    response = run.response()
    response.start()
    response.text(texts.split_words("Let me check that with a command.", 3))

    def refuse(tool_id: str) -> None:
        run.user_line([{"type": "tool_result", "content": f"<tool_use_error>Error: {NO_TOOL}</tool_use_error>",
                        "is_error": True, "tool_use_id": tool_id}], tool_use_result=f"Error: {NO_TOOL}")

    response.tool_use("Bash", {"command": "ls -la", "description": "List files"}, refuse)
    response.finish("tool_use")


def _max_turns_reached(run: Run, limit: int) -> None:
    run.num_turns += 1
    run.result(subtype="error_max_turns", is_error=True, errors=[f"Reached maximum number of turns ({limit})"],
               terminal_reason="max_turns")


def tool_use_attempt(run: Run) -> None:
    run.init()
    _attempt_tool(run)
    limit = run.session.args.value("--max-turns")
    if limit is not None and float(limit) < 2:
        _max_turns_reached(run, int(float(limit)))
        return
    final = run.spec.str("text", "I cannot run commands here, so here is my answer without them.")
    response = run.response(extra_input_tokens=60)
    response.start()
    response.text(texts.split_words(final, 4))
    response.finish()
    run.result()


def max_turns(run: Run) -> None:
    run.init()
    _attempt_tool(run)
    _max_turns_reached(run, int(float(run.session.args.value("--max-turns") or run.spec.int("limit", 1))))


def max_budget(run: Run) -> None:
    budget = run.session.args.value("--max-budget-usd") or run.spec.str("budget", "0.0001")
    run.init()
    run.answer(texts.split_words("An answer that costs more than the budget allows.", 4))
    run.result(subtype="error_max_budget_usd", is_error=True, errors=[f"Reached maximum budget (${budget})"],
               terminal_reason="budget_exhausted")


RESUME = ("Output token limit hit. Resume directly — no apology, no recap of what you were doing. "
          "Pick up mid-thought if that is where the cut happened. Break remaining work into smaller pieces.")
TOO_LONG = ("API Error: Claude's response exceeded the 128000 output token maximum. To configure this behavior, "
            "set the CLAUDE_CODE_MAX_OUTPUT_TOKENS environment variable.")


def max_output_tokens(run: Run) -> None:
    """Four responses cut by max_tokens (three automatic continuations), then the error."""
    run.init()
    for part in range(4):
        if part:
            run.user_line([{"type": "text", "text": RESUME}], isSynthetic=True)
        response = run.response(extra_input_tokens=100 * part)
        response.start()
        response.text(texts.split_words(f"Part {part + 1} of a very long answer that keeps going", 4))
        response.finish("max_tokens")
    run.error_assistant("max_output_tokens", TOO_LONG, is_api_error_message=True, api_error="max_output_tokens",
                        api_error_params={"cut": "output_limit"})
    run.result(is_error=True, text=TOO_LONG, terminal_reason="api_error", api_error="max_output_tokens",
               stop_reason="stop_sequence")


def rate_limit_warning(run: Run) -> None:
    resets_at = int(time.time()) + run.spec.int("resets_in", 3600)
    info = {"status": "allowed_warning", "resetsAt": resets_at, "rateLimitType": "five_hour", "utilization": 0.93,
            "isUsingOverage": False, "surpassedThreshold": 0.9,
            "unifiedWindows": {"five_hour": {"utilization": 0.93, "resetsAt": resets_at, "status": "allowed_warning",
                                             "surpassedThreshold": 0.9}}}
    run.init()
    response = run.response()
    response.start()
    response.text(texts.split_words("Answered, but you are close to your limit.", 4))
    response.finish(rate_limit_info=info)
    run.result()


def _quota_answer(run: Run, info: dict) -> None:
    run.init()
    response = run.response()
    response.start()
    response.text(texts.split_words(run.spec.str("text", "Hello from the mock Anthropic API."), 4))
    response.finish(rate_limit_info=info)
    run.result()


def quota_warning(run: Run) -> None:
    """The mock's `quota_warning` (golden `quota_warning`): the 5-hour window past its 90 %
    threshold (`h5=0.93`), the weekly one allowed (`d7=0.41`), extra usage off."""
    resets_at = int(time.time()) + run.spec.int("resets_in", 3600)
    week = resets_at + 5 * 24 * 3600
    h5, d7 = run.spec.float("h5", 0.93), run.spec.float("d7", 0.41)
    _quota_answer(run, {
        "status": "allowed_warning", "resetsAt": resets_at, "rateLimitType": "five_hour", "utilization": h5,
        "overageStatus": "rejected", "overageDisabledReason": "org_level_disabled", "isUsingOverage": False,
        "surpassedThreshold": 0.9,
        "unifiedWindows": {
            "five_hour": {"utilization": h5, "resetsAt": resets_at, "status": "allowed_warning", "surpassedThreshold": 0.9},
            "seven_day": {"utilization": d7, "resetsAt": week, "status": "allowed"},
        },
    })


def extra_usage(run: Run) -> None:
    """The mock's `extra_usage` (golden `extra_usage`): the plan's 5-hour window used up, the
    answer billed as extra usage (isUsingOverage)."""
    resets_at = int(time.time()) + run.spec.int("resets_in", 3600)
    week = resets_at + 5 * 24 * 3600
    _quota_answer(run, {
        "status": "rejected", "resetsAt": resets_at, "rateLimitType": "five_hour", "overageStatus": "allowed",
        "overageResetsAt": week, "isUsingOverage": True,
        "unifiedWindows": {
            "five_hour": {"utilization": 1, "resetsAt": resets_at, "status": "rejected"},
            "seven_day": {"utilization": 0.62, "resetsAt": week, "status": "allowed"},
        },
    })
