"""The subscription's windows on every model response, in the upstream's header style.

Anthropic's API tells the CLI its plan's state in `anthropic-ratelimit-unified-*` headers; the
CLI reports them in its `rate_limit_event` and the proxy's quota holder (quota/latest.py)
merges every report. Each model response (chat, responses, messages; streamed or not; errors
too) carries that state as known when its headers were made: a streamed response's before its
own run reported (the CLI reports at the end of the answer), a complete or failed one's after.
A window whose period has ended since its reading is left out (its figures no longer hold).
"""

from __future__ import annotations

from ..quota.latest import LatestQuota

PREFIX = "anthropic-ratelimit-unified-"
#: The upstream's short names of the windows (the CLI reads `-5h-`, `-7d-`, `-7d_oi-`,
#: `-overage-`); the windows only `get_usage` names get names in the same style.
SHORT_NAMES = {
    "five_hour": "5h",
    "seven_day": "7d",
    "seven_day_overage_included": "7d_oi",
    "overage": "overage",
    "seven_day_opus": "7d_opus",
    "seven_day_sonnet": "7d_sonnet",
    "seven_day_oauth_apps": "7d_oauth_apps",
}
#: The proxy's own: which bucket the newest request drew from, and how old the state is.
BUCKET_HEADER = "x-claude-max-tui-quota-bucket"
UPDATED_HEADER = "x-claude-max-tui-quota-updated"


def quota_headers(quota: LatestQuota, now: float) -> dict[str, str]:
    if not quota.known:
        return {}
    headers: dict[str, str] = {}
    if quota.status:
        headers[PREFIX + "status"] = quota.status
    if quota.limit_type:
        headers[PREFIX + "representative-claim"] = quota.limit_type
    for known in quota.ordered():
        window = known.window
        short = SHORT_NAMES.get(window.name)
        if short is None or (window.resets_at is not None and window.resets_at <= now):
            continue
        if window.name == quota.limit_type and window.resets_at is not None:
            headers[PREFIX + "reset"] = _epoch(window.resets_at)
        if window.status:
            headers[f"{PREFIX}{short}-status"] = window.status
        if window.utilization is not None:
            headers[f"{PREFIX}{short}-utilization"] = _fraction(window.utilization)
        if window.resets_at is not None:
            headers[f"{PREFIX}{short}-reset"] = _epoch(window.resets_at)
        if window.surpassed_threshold is not None:
            headers[f"{PREFIX}{short}-surpassed-threshold"] = _fraction(window.surpassed_threshold)
    if quota.overage_status:
        headers[PREFIX + "overage-status"] = quota.overage_status
    if quota.overage_disabled_reason:
        headers[PREFIX + "overage-disabled-reason"] = quota.overage_disabled_reason
    if quota.overage_resets_at is not None:
        headers[PREFIX + "overage-reset"] = _epoch(quota.overage_resets_at)
    if quota.bucket:
        headers[BUCKET_HEADER] = quota.bucket.replace(" ", "_")
    if quota.updated_at is not None:
        headers[UPDATED_HEADER] = _epoch(quota.updated_at)
    return headers


def _fraction(value: float) -> str:
    return str(round(value, 4))


def _epoch(value: float) -> str:
    return str(int(value))
