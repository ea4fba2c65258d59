"""The scenario registry: name -> function(run). The names are a contract (see __init__)."""

from __future__ import annotations

from . import answers, failures, faults, lifecycle, strays
from .stdout import stderr

SCENARIOS = {
    "echo": answers.echo,
    "text": answers.fixed_text,
    "tokens": answers.tokens,
    "slow": answers.slow,
    "thinking": answers.thinking,
    "unicode": answers.unicode,
    "bigline": answers.bigline,
    "garbage": answers.garbage,
    "tool_use_attempt": answers.tool_use_attempt,
    "max_turns": answers.max_turns,
    "max_budget": answers.max_budget,
    "max_output_tokens": answers.max_output_tokens,
    "rate_limit_warning": answers.rate_limit_warning,
    "quota_warning": answers.quota_warning,
    "extra_usage": answers.extra_usage,
    "tool_call": lambda run: _client_tools().tool_call(run),
    "structured": lambda run: _client_tools().structured(run),
    "model": lambda run: _client_tools().model(run),
    **{name: failures.make(name) for name in failures.FAILURES},
    "crash_midstream": faults.crash_midstream,
    "exit_no_result": faults.exit_no_result,
    "hang": faults.hang,
    "hang_after_start": faults.hang_after_start,
    "no_exit_after_result": faults.no_exit_after_result,
    "ignore_sigterm": faults.ignore_sigterm,
    "stderr_noise": faults.stderr_noise,
    "midstream_retry": faults.midstream_retry,
    "midstream_fallback": faults.midstream_fallback,
    "retry_recovers": faults.retry_recovers,
    # The mock API's scenario names (tests/mock_anthropic), line for line as the real CLI prints them.
    "midstream_error": faults.midstream_error,
    "drop": faults.drop,
    "529_recovers": faults.recovers_529,
    "stall": faults.stall,
    "grandchild": strays.grandchild,
    "endless_line": strays.endless_line,
    "usage_error": faults.usage_error,
}


def play(run) -> None:
    """Run the chosen scenario; a not-logged-in fake fails every turn like the real CLI."""
    name = run.spec.name
    if name == "usage_error":
        faults.usage_error(run)
    if not run.session.auth.logged_in:
        failures.fail(run, "not_logged_in")
        return
    scenario = SCENARIOS.get(name)
    if scenario is None:
        # A typo in a marker must not pass silently as an echo.
        _unknown(run, name)
        return
    scenario(run)


def _unknown(run, name: str) -> None:
    stderr(f"fake claude: unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    lifecycle.exit_now(2)


def _client_tools():
    # Imported on use: its HTTP client (urllib) would slow every other run's start.
    from . import client_tools

    return client_tools
