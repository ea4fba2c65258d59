"""Upstream API failures, line for line as claude-cli.md §6 maps them.

Shape: init, status, [api_retry × N], [rate_limit_event], assistant with `error`
(model `<synthetic>`, stop_reason `stop_sequence`, UUID message id,
is_api_error_message), result subtype success + is_error true; exit 1. No stream_events.
Retries are printed with the real retry_delay_ms values but not waited for (fast),
unless `retry_sleep_ms=N` is given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .run import Run

SERVER_HINT = ("This is a server-side issue, usually temporary — try again in a moment. "
               "If it persists, check status.claude.com.")
RETRY_DELAYS_MS = [553, 1104, 2131, 5012, 8034, 17210, 38022, 36004, 36120, 34001]


@dataclass(frozen=True)
class Failure:
    error: str  # assistant.error
    text: str  # also the result text; {model} {msg} {tokens} {limit} {time} are filled in
    status: int | None  # api_error_status
    terminal_reason: str = "api_error"
    retries: int | None = 0  # api_retry lines; None = $CLAUDE_CODE_MAX_RETRIES or 10
    retry_error: str = "unknown"  # api_retry.error
    extra: dict = field(default_factory=dict)  # more assistant-line fields


FAILURES = {
    "not_logged_in": Failure("authentication_failed", "Not logged in · Please run /login", None),
    "invalid_api_key": Failure("authentication_failed", "Invalid API key · Fix external API key", 401),
    "oauth_expired": Failure("authentication_failed", "Not logged in · Please run /login", 401,
                             retries=2, retry_error="authentication_failed"),
    "forbidden": Failure("authentication_failed", "Failed to authenticate. API Error: 403 {msg}", 403),
    "model_not_found": Failure(
        "model_not_found", "There's an issue with the selected model ({model}). It may not exist or you may "
        "not have access to it. Run /model to pick a different model.", 404),
    "billing": Failure("billing_error", "Credit balance is too low", 400),
    "prompt_too_long": Failure("invalid_request", "Prompt is too long · the request is ~{tokens} tokens "
                               "(limit {limit}). Run /compact or start a new conversation.", 400,
                               terminal_reason="prompt_too_long"),
    "bad_request": Failure("unknown", "API Error: 400 {msg}", 400),
    "rate_limit_subscription": Failure("rate_limit", "You've hit your 5-hour limit · resets {time} (UTC)", 429),
    "rate_limit_api_key": Failure("rate_limit", "API Error: Request rejected (429) · Rate limited", 429),
    "server_error": Failure("server_error", "API Error: 500 Internal server error. " + SERVER_HINT, 500,
                            retries=None, retry_error="server_error"),
    "overloaded": Failure("server_error", "API Error: 529 Overloaded. " + SERVER_HINT, 529,
                          retries=None, retry_error="overloaded"),
    "network": Failure("server_error", "API Error: Can't reach the API server — check your internet or DNS "
                       "(EAI_AGAIN)", None, retries=None, retry_error="unknown",
                       extra={"api_error": "connection_failed"}),
}
DEFAULT_MESSAGES = {
    "forbidden": "OAuth authentication is currently not allowed for this organization.",
    "bad_request": "messages.0.content.0.text: text content blocks must be non-empty",
}


def reset_time(epoch: float) -> str:
    """`3:16pm`, or `4pm` on the hour, in UTC like the real message."""
    t = time.gmtime(epoch)
    hour = t.tm_hour % 12 or 12
    suffix = "am" if t.tm_hour < 12 else "pm"
    return f"{hour}{suffix}" if t.tm_min == 0 else f"{hour}:{t.tm_min:02d}{suffix}"


def _retries(run: Run, failure: Failure) -> int:
    if failure.retries is not None:
        return run.spec.int("retries", failure.retries)
    try:
        configured = int(run.session.env.get("CLAUDE_CODE_MAX_RETRIES", "10"))
    except ValueError:
        configured = 10
    return run.spec.int("retries", configured)


def fail(run: Run, name: str) -> None:
    failure = FAILURES[name]
    spec, started = run.spec, time.monotonic()
    resets_at = int(time.time()) + spec.int("resets_in", 3600)
    text = failure.text.format(
        model=run.session.model_flag or run.session.model,
        msg=spec.str("msg", DEFAULT_MESSAGES.get(name, "")),
        tokens=spec.int("tokens", 250123), limit=spec.int("limit", 200000),
        time=reset_time(resets_at))
    run.init()
    run.status()
    retries = _retries(run, failure)
    for attempt in range(1, retries + 1):
        run.sleep(spec.float("retry_sleep_ms", 0) / 1000)
        run.api_retry(attempt, retries, RETRY_DELAYS_MS[min(attempt, len(RETRY_DELAYS_MS)) - 1],
                      failure.status, failure.retry_error)
    if name == "rate_limit_subscription":
        run.rate_limit_event({
            "status": "rejected", "resetsAt": resets_at, "rateLimitType": "five_hour",
            "overageStatus": "rejected", "overageDisabledReason": "org_level_disabled", "isUsingOverage": False,
            "unifiedWindows": {"five_hour": {"status": "rejected", "resetsAt": resets_at, "utilization": 1}},
        })
    if failure.status is not None:  # an HTTP round trip happened
        run.api_seconds += time.monotonic() - started
    run.error_assistant(failure.error, text, **failure.extra)
    run.result(is_error=True, text=text, terminal_reason=failure.terminal_reason,
               api_error_status=failure.status, stop_reason="stop_sequence")


def make(name: str):
    def scenario(run: Run) -> None:
        fail(run, name)
    scenario.__name__ = name
    return scenario
