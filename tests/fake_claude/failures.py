"""Upstream API failures, line for line as real 2.1.328 transcripts show them (docs/claude-cli.md §6).

Shape: init, status, [api_retry × N], [rate_limit_event], assistant with `error`
(model `<synthetic>`, stop_reason `stop_sequence`, UUID message id,
is_api_error_message), result subtype success + is_error true, no ttft_ms; exit 1.
No stream_events. api_retry lines carry the real retry_delay_ms values but are not
waited for (fast) unless `retry_sleep_ms=N` is given.
"""

from __future__ import annotations

import time

from . import ids
from .run import Run, tokens_for

RETRY_DELAYS_MS = [553, 1104, 2131, 5012, 8034, 17210, 38022, 36004, 36120, 34001]
CONFIGURED = None  # retries: $CLAUDE_CODE_MAX_RETRIES, default 10


class Failure:
    def __init__(self, error: str, text: str, status: int | None, api_error_type: str | None = None, *,
                 terminal_reason: str = "api_error", retries: int | None = 0, retry_error: str = "unknown",
                 extra: dict | None = None) -> None:
        self.error = error  # assistant.error
        self.text = text  # also the result text; {model} {msg} {tokens} {limit} {conv} {time} {hint}
        self.status = status  # api_error_status; None = no HTTP answer
        self.api_error_type = api_error_type  # Anthropic error type of the HTTP answer
        self.terminal_reason = terminal_reason
        self.retries = retries  # api_retry lines by default; CONFIGURED = as the CLI is configured
        self.retry_error = retry_error  # api_retry.error
        self.extra = extra or {}  # more assistant-line fields


def _server_text(code: str) -> str:
    return f"API Error: {code}. This is a server-side issue, usually temporary — try again in a moment. {{hint}}"


FAILURES = {
    "not_logged_in": Failure("authentication_failed", "Not logged in · Please run /login", None),
    "invalid_api_key": Failure("authentication_failed", "Invalid API key · Fix external API key", 401,
                               "authentication_error"),
    "oauth_expired": Failure("authentication_failed", "Not logged in · Please run /login", 401,
                             "authentication_error", retries=2, retry_error="authentication_failed"),
    "forbidden": Failure("authentication_failed", "Failed to authenticate. API Error: 403 {msg}", 403,
                         "permission_error"),
    "model_not_found": Failure(
        "model_not_found", "There's an issue with the selected model ({model}). It may not exist or you may not "
        "have access to it. Run --model to pick a different model.", 404, "not_found_error"),
    "billing": Failure("billing_error", "Credit balance is too low", 400, "invalid_request_error"),
    "prompt_too_long": Failure(
        "invalid_request", "Prompt is too long · the request is ~{tokens} tokens (limit {limit}) but this "
        "conversation is only ~{conv} tokens — the rest is system prompt, tool definitions, and attachment "
        "content. A single-exchange conversation cannot be compacted; reduce attached files/tools or start "
        "with less context.", 400, "invalid_request_error", terminal_reason="prompt_too_long"),
    "bad_request": Failure("unknown", "API Error: 400 {msg}", 400, "invalid_request_error"),
    "rate_limit_subscription": Failure("rate_limit", "You've hit your 5-hour limit · resets {time} (UTC)", 429,
                                       "rate_limit_error"),
    "rate_limit_api_key": Failure("rate_limit", "API Error: Request rejected (429) · {msg}", 429,
                                  "rate_limit_error", retry_error="rate_limit"),
    "server_error": Failure("server_error", _server_text("500 Internal server error"), 500, "api_error",
                            retries=CONFIGURED, retry_error="server_error"),
    "overloaded": Failure("server_error", _server_text("529 Overloaded"), 529, "overloaded_error",
                          retries=CONFIGURED, retry_error="overloaded"),
    "network": Failure("server_error", "API Error: Can't reach the API server — check your internet or DNS "
                       "(EAI_AGAIN)", None, retries=CONFIGURED, extra={"api_error": "connection_failed"}),
}
DEFAULT_MESSAGES = {
    "forbidden": "Your account does not have permission to use this resource.",
    "bad_request": "messages.0.content.0.text: text content blocks must be non-empty",
    "rate_limit_api_key": "Rate limited",  # the unified-headers answer; msg="…" gives the org-limit text
}


def reset_time(epoch: float) -> str:
    """`3:16pm`, or `4pm` on the hour, in UTC like the real message."""
    t = time.gmtime(epoch)
    hour = t.tm_hour % 12 or 12
    suffix = "am" if t.tm_hour < 12 else "pm"
    return f"{hour}{suffix}" if t.tm_min == 0 else f"{hour}:{t.tm_min:02d}{suffix}"


def configured_retries(env: dict) -> int:
    try:
        return max(0, int(env.get("CLAUDE_CODE_MAX_RETRIES", "10")))
    except ValueError:
        return 10


def _server_hint(env: dict) -> str:
    base = env.get("ANTHROPIC_BASE_URL")
    if base:  # the real CLI names a custom gateway
        host = base.split("://", 1)[-1].split("/", 1)[0]
        return f"If it persists, check your inference gateway ({host})."
    return "If it persists, check status.claude.com."


def _rate_limit_info(resets_at: int) -> dict:
    return {"status": "rejected", "resetsAt": resets_at, "rateLimitType": "five_hour", "overageStatus": "rejected",
            "overageDisabledReason": "org_level_disabled", "isUsingOverage": False}


def fail(run: Run, name: str) -> None:
    failure = FAILURES[name]
    spec, env = run.spec, run.session.env
    resets_at = int(time.time()) + spec.int("resets_in", 3600)
    text = failure.text.format(
        model=run.session.model, msg=spec.str("msg", DEFAULT_MESSAGES.get(name, "")),
        tokens=spec.int("tokens", 250123), limit=spec.int("limit", 200000),
        conv=tokens_for(run.prompt.chars) + 260, time=reset_time(resets_at), hint=_server_hint(env))
    configured = configured_retries(env)
    retries = spec.int("retries", configured if failure.retries is CONFIGURED else failure.retries)
    # The OAuth 401 retries are token refreshes: their attempt numbers never pass the configured maximum.
    cap = configured if name == "oauth_expired" else retries

    run.init()
    run.status()
    for attempt in range(1, retries + 1):
        run.sleep(spec.float("retry_sleep_ms", 0) / 1000)
        run.api_retry(min(attempt, cap), cap, RETRY_DELAYS_MS[min(attempt, len(RETRY_DELAYS_MS)) - 1],
                      failure.status, failure.retry_error)
    extra: dict = {}
    if failure.status is not None:
        extra["request_id"] = ids.request_id()
    extra["is_api_error_message"] = True
    if failure.status is not None:
        extra["api_error_status"] = failure.status
    if name == "rate_limit_subscription":
        info = _rate_limit_info(resets_at)
        run.rate_limit_event({**info, "unifiedWindows": {"five_hour": {
            "utilization": 1, "resetsAt": resets_at, "status": "rejected"}}})
        extra.update(api_error="usage_limit_reached", api_error_params={"rate_limit_info": info})
    extra.update(failure.extra)
    if failure.api_error_type is not None:
        extra["api_error_type"] = failure.api_error_type
    run.error_assistant(failure.error, text, **extra)
    run.result(is_error=True, text=text, terminal_reason=failure.terminal_reason,
               api_error_status=failure.status, api_error_type=failure.api_error_type,
               api_error=extra.get("api_error"), stop_reason="stop_sequence")


def make(name: str):
    def scenario(run: Run) -> None:
        fail(run, name)
    scenario.__name__ = name
    return scenario
