"""The CLI's `get_usage` control reply as a QuotaReport.

The reply (experimental in the CLI, "the response shape may change") reads like

    {"session": {...}, "subscription_type": "max", "rate_limits_available": true,
     "rate_limits": {"five_hour": {"utilization": 42, "resets_at": "2026-12-03T07:00:00+00:00"},
                     "seven_day": {...}, "seven_day_oauth_apps": null, "seven_day_opus": null,
                     "seven_day_sonnet": null,
                     "model_scoped": [{"display_name": "Fable", "utilization": 3, "resets_at": ...}],
                     "extra_usage": {"is_enabled": false, "monthly_limit": null,
                                     "used_credits": null, "utilization": null, "currency": "USD"}},
     "behaviors": null}

Utilization is 0-100 here (a fraction in the report, like the `rate_limit_event`'s); reset
times are ISO 8601. `rate_limits` is null when the CLI could not fetch them (an API key, a
token without the profile scope, nonessential traffic disabled, the endpoint failing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .windows import MODEL_SCOPED, ExtraUsage, QuotaReport, QuotaWindow, window_rank

#: The plan windows a reply may carry, by their key in `rate_limits`.
_WINDOWS = ("five_hour", "seven_day", "seven_day_oauth_apps", "seven_day_opus", "seven_day_sonnet")


class UsageUnavailable(ValueError):
    """The reply carries no limits; `reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def from_get_usage(response: object) -> QuotaReport:
    """The report in a `get_usage` success response (the control response's `response`).
    Raises UsageUnavailable when it holds no limits."""
    if not isinstance(response, dict):
        raise UsageUnavailable("not an object")
    if response.get("rate_limits_available") is False:
        raise UsageUnavailable("rate limits not available for this login (an API key, or a token without the profile scope)")
    limits = response.get("rate_limits")
    if not isinstance(limits, dict):
        raise UsageUnavailable("no rate limits in the reply (the CLI could not fetch them)")
    windows: list[QuotaWindow] = []
    for name in _WINDOWS:
        window = _window(name, limits.get(name))
        if window is not None:
            windows.append(window)
    for scoped in limits.get("model_scoped") or ():
        if isinstance(scoped, dict) and isinstance(scoped.get("display_name"), str):
            window = _window(MODEL_SCOPED + scoped["display_name"], scoped)
            if window is not None:
                windows.append(window)
    if not windows:
        raise UsageUnavailable("the reply names no window")
    return QuotaReport(
        windows=tuple(sorted(windows, key=window_rank)),
        source="get_usage",
        extra_usage=_extra_usage(limits.get("extra_usage")),
    )


def _window(name: str, raw: Any) -> QuotaWindow | None:
    if not isinstance(raw, dict):
        return None
    utilization = _number(raw.get("utilization"))
    resets_at = _epoch(raw.get("resets_at"))
    if utilization is None and resets_at is None:
        return None
    return QuotaWindow(name, None if utilization is None else utilization / 100, resets_at)


def _extra_usage(raw: Any) -> ExtraUsage | None:
    if not isinstance(raw, dict):
        return None
    enabled = raw.get("is_enabled")
    utilization = _number(raw.get("utilization"))
    currency = raw.get("currency")
    return ExtraUsage(
        is_enabled=enabled if isinstance(enabled, bool) else None,
        monthly_limit=_number(raw.get("monthly_limit")),
        used_credits=_number(raw.get("used_credits")),
        utilization=None if utilization is None else utilization / 100,
        currency=currency if isinstance(currency, str) and currency else None,
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _epoch(value: object) -> float | None:
    """An ISO 8601 time (or epoch seconds) as epoch seconds."""
    number = _number(value)
    if number is not None:
        return number
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # a time without a zone cannot be placed: say nothing rather than guess
    return parsed.timestamp()
