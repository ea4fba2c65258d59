"""Every way a CLI run can fail, mapped to one ProxyError. The only place that decides.

It says what went wrong in neutral terms (status, kind, code); each API face renders it.

Decided on the result line first, then the exit code (docs/claude-cli.md §5-§7): API failures
come as `subtype:"success"` with `is_error:true`, keyed on the assistant line's `error`
field and `rate_limit_event`, never on message text.

| CLI outcome | status | kind / code | retry |
|---|---|---|---|
| CLI not found / not executable | 503 | server / cli_not_found | no |
| `authentication_failed` (not logged in, bad key, expired token) | 401 | authentication / cli_not_authenticated | no |
| `oauth_org_not_allowed`, `account_on_hold`, `verification_required` | 403 | permission / cli_account_blocked | no |
| `billing_error` | 402 | billing / insufficient_quota | no |
| Anthropic's "Third-party apps now draw from your extra usage" 400 | 402 | billing / extra_usage_required | no |
| `rate_limit` with a reset time (subscription limit) | 429 | rate_limit / rate_limit_exceeded, `Retry-After` = seconds to reset | SDK decides by `Retry-After` |
| `rate_limit` without a reset time | 429 | rate_limit / rate_limit_exceeded | yes |
| `model_not_found` | 404 | not_found / model_not_found | no |
| `invalid_request`, prompt too long (`prompt_too_long`, `blocking_limit`) | 400 | invalid_request / context_length_exceeded | no |
| `invalid_request`, other; `unknown` with upstream 400 | 400 | invalid_request / upstream_invalid_request | no |
| `overloaded`, upstream 529 | 503 | overloaded / upstream_overloaded | yes |
| `server_error` (upstream 5xx), network failure | 502 | server / upstream_error, upstream_unreachable | yes |
| `error_max_turns` | 500 | server / max_turns | no |
| `error_max_budget_usd` | 402 | billing / max_budget | no |
| other `error_*` subtypes | 500 | server / cli_error | no |
| usage error (`error: unknown option`...) | 500 | server / cli_usage_error | no |
| crash / exit without a result line | 502 | server / cli_crashed (stderr tail in the message) | yes |
| first-output / idle / total timeout | 504 | timeout / timeout | yes |
| structured output asked for, none produced | 502 | server / structured_output_missing | yes |
| the run's tool endpoint failed | 502 | server / tools_unavailable | yes |
| a retry rewrote text already streamed | 502 (as an SSE error) | server / upstream_retry_diverged | yes |
| stopped from the console / at shutdown | 503 | server / killed, server_shutting_down | no / yes |
| the client left | 499 (recorded only) | server / client_disconnected | - |

`max_output_tokens` is not an error: the text so far is answered with `finish_reason:"length"`.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from ..errors import ProxyError
from .lines import AssistantMessage, RateLimit, Result

_ACCOUNT_BLOCKED = frozenset({"oauth_org_not_allowed", "account_on_hold", "verification_required"})
_PROMPT_TOO_LONG = frozenset({"prompt_too_long", "blocking_limit"})

#: Anthropic's answer when it bills a request as extra usage rather than the plan and extra
#: usage cannot cover it: a 400 whose only mark is its text ("Third-party apps now draw from
#: your extra usage, not your plan limits. ..."; variants say "from extra usage, not plan
#: limits"). The one outcome keyed on text: no field of the CLI's tells it apart.
_EXTRA_USAGE = re.compile(r"draw from (your )?extra usage", re.IGNORECASE)

LOGIN_HINT = (
    "Log the CLI in: run `claude` once and use /login, or on a headless server run "
    "`claude setup-token` and set CLAUDE_CODE_OAUTH_TOKEN. `claude-max-tui doctor` checks it."
)


@dataclass(slots=True)
class RunFacts:
    """What a finished run left behind, for `failure()` to judge."""

    result: Result | None = None
    error_message: AssistantMessage | None = None
    rate_limit: RateLimit | None = None
    returncode: int | None = None
    stderr_tail: str = ""
    #: "first_output", "idle" or "total" when a watchdog ended the run.
    timed_out: str | None = None
    timeout_seconds: float | None = None


def failure(facts: RunFacts, *, now: float | None = None) -> ProxyError | None:
    """The error for a run, or None when it succeeded (or only hit max_output_tokens)."""
    if facts.timed_out:
        return _timeout(facts)
    result = facts.result
    if result is None:
        return _no_result(facts)
    error_kind = facts.error_message.error if facts.error_message else None
    if error_kind == "max_output_tokens":
        return None
    if not result.is_error and not result.subtype.startswith("error"):
        return None
    text = _cli_text(facts)
    stderr = facts.stderr_tail or None

    if result.subtype.startswith("error"):
        detail = "; ".join(result.errors) or result.subtype
        if result.subtype == "error_max_turns":
            return ProxyError(500, f"The CLI reached its maximum number of turns: {detail}", code="max_turns", retryable=False, source="cli")
        if result.subtype == "error_max_budget_usd":
            return ProxyError(402, f"The CLI reached its spending budget: {detail}", kind="billing", code="max_budget", retryable=False, source="cli")
        return ProxyError(500, f"The CLI failed: {detail}", code="cli_error", retryable=False, source="cli", stderr_tail=stderr)

    status = result.api_error_status
    if error_kind == "authentication_failed" or error_kind == "cloud_credential_error":
        return ProxyError(401, f"The Claude CLI is not authenticated: {text} {LOGIN_HINT}", kind="authentication", code="cli_not_authenticated", retryable=False, source="cli")
    if error_kind in _ACCOUNT_BLOCKED:
        return ProxyError(403, f"The Claude account cannot be used: {text}", kind="permission", code="cli_account_blocked", retryable=False, source="cli")
    if error_kind == "billing_error":
        return ProxyError(402, f"Billing problem on the Claude account: {text}", kind="billing", code="insufficient_quota", retryable=False, source="cli")
    if _EXTRA_USAGE.search(text):
        return extra_usage_required(text)
    if error_kind == "rate_limit" or status == 429:
        return _rate_limited(facts, text, now)
    if error_kind == "model_not_found" or status == 404:
        return ProxyError(404, text, code="model_not_found", param="model", retryable=False, source="cli")
    if result.terminal_reason in _PROMPT_TOO_LONG or (error_kind == "invalid_request" and "too long" in text.lower()):
        return ProxyError(400, f"This conversation is too long for the model: {text}", code="context_length_exceeded", param="messages", retryable=False, source="cli")
    if error_kind == "invalid_request" or (status is not None and 400 <= status < 500):
        return ProxyError(400, f"The model API rejected the request: {text}", code="upstream_invalid_request", retryable=False, source="cli")
    if error_kind == "overloaded" or status == 529:
        return ProxyError(503, f"The model API is overloaded: {text}", kind="overloaded", code="upstream_overloaded", source="cli")
    if facts.error_message is not None and facts.error_message.api_error == "connection_failed":
        return ProxyError(502, f"The CLI cannot reach the model API: {text}", code="upstream_unreachable", source="cli")
    return ProxyError(502, f"The model API failed: {text}", code="upstream_error", source="cli", stderr_tail=stderr)


def _rate_limited(facts: RunFacts, text: str, now: float | None) -> ProxyError:
    resets_at = facts.rate_limit.resets_at if facts.rate_limit else None
    if resets_at is None:
        return ProxyError(429, f"Rate limited: {text}", kind="rate_limit", code="rate_limit_exceeded", source="cli")
    seconds = max(1, math.ceil(resets_at - (time.time() if now is None else now)))
    kind = facts.rate_limit.rate_limit_type if facts.rate_limit else None
    label = f" ({kind})" if kind else ""
    return ProxyError(
        429,
        f"Claude subscription usage limit reached{label}: {text}",
        kind="rate_limit",
        code="rate_limit_exceeded",
        retry_after=seconds,
        source="cli",
    )


def extra_usage_required(text: str) -> ProxyError:
    """Anthropic decided that this request is billed as extra usage, not against the plan's
    limits, and refused it (extra usage is off or out of credit). Said plainly, with
    Anthropic's own words; the proxy never changes a request to be billed otherwise."""
    said = text.removeprefix("API Error: 400").strip()
    return ProxyError(
        402,
        "Anthropic refused this request: it bills requests like this one to your extra usage, not to your "
        "plan's limits, and your extra usage could not cover it. Such requests are billed as extra usage "
        "when it is enabled and has credit, and refused otherwise. Retrying will not change that. For the "
        "current rules, see your Claude account's usage settings or Anthropic's help center. "
        f"Anthropic said: {said}",
        kind="billing",
        code="extra_usage_required",
        retryable=False,
        source="cli",
    )


def _timeout(facts: RunFacts) -> ProxyError:
    what = {"first_output": "produced no output", "idle": "went silent", "total": "did not finish"}.get(facts.timed_out or "", "timed out")
    span = "for" if facts.timed_out == "idle" else "within"
    seconds = f" {span} {facts.timeout_seconds:g} s" if facts.timeout_seconds else ""
    return ProxyError(504, f"The Claude CLI {what}{seconds}; the run was stopped.", code="timeout", source="timeout")


def _no_result(facts: RunFacts) -> ProxyError:
    stderr = facts.stderr_tail.strip()
    if stderr.startswith(("error: ", "Error: ")) and facts.returncode == 1:
        return ProxyError(500, f"The Claude CLI refused its command line: {stderr}", code="cli_usage_error", retryable=False, source="cli", stderr_tail=stderr)
    code = facts.returncode
    how = f"exited with code {code}" if code is not None and code >= 0 else f"was killed by signal {-code}" if code is not None else "ended"
    tail = f": {stderr[-2000:]}" if stderr else " (no stderr)"
    return ProxyError(502, f"The Claude CLI {how} without a result{tail}", code="cli_crashed", source="cli", stderr_tail=stderr or None)


def _cli_text(facts: RunFacts) -> str:
    if facts.result and facts.result.result:
        return facts.result.result
    if facts.error_message and facts.error_message.text:
        return facts.error_message.text
    return facts.result.subtype if facts.result else "unknown error"


def cli_not_found(path: str, reason: str) -> ProxyError:
    return ProxyError(
        503,
        f"The Claude CLI could not be started ({path}: {reason}). Install it with "
        "`npm install -g @anthropic-ai/claude-code` or point --claude at it; `claude-max-tui doctor` checks it.",
        code="cli_not_found",
        retryable=False,
        source="cli",
    )


def tools_unavailable(status: str) -> ProxyError:
    return ProxyError(502, f"The CLI could not reach the proxy's tool endpoint (MCP status {status!r}); the client's tools were not offered.", code="tools_unavailable", source="cli")


def structured_output_missing() -> ProxyError:
    return ProxyError(502, "The model did not return output matching the requested JSON schema.", code="structured_output_missing", source="cli")


def retry_diverged() -> ProxyError:
    return ProxyError(
        502,
        "The model API failed mid-answer and the CLI's retry wrote a different answer; "
        "the text already streamed cannot be taken back. Retry the request.",
        code="upstream_retry_diverged",
        source="cli",
    )


def client_disconnected() -> ProxyError:
    return ProxyError(499, "The client closed the connection before the answer was complete.", code="client_disconnected", source="disconnect")


def stopped(reason: str) -> ProxyError:
    """A run the engine ended: from the console, at shutdown, or because its client left."""
    if reason == "killed":
        return ProxyError(503, "The request was stopped from the claude-max-tui console.", code="killed", retryable=False, source="killed")
    if reason == "shutdown":
        return ProxyError(503, "claude-max-tui is shutting down; the request was stopped.", code="server_shutting_down", source="shutdown")
    return client_disconnected()
