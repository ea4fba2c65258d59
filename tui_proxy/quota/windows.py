"""A quota report as plain values, parsed from what the CLI prints.

The CLI's `rate_limit_event` (every run with a subscription login) reads like

    {"type": "rate_limit_event", "rate_limit_info": {"status": "allowed_warning",
     "rateLimitType": "five_hour", "utilization": 0.93, "resetsAt": 1767280000,
     "surpassedThreshold": 0.9, "isUsingOverage": false, "overageStatus": "rejected",
     "overageDisabledReason": "org_level_disabled",
     "unifiedWindows": {"five_hour": {"utilization": 0.93, "resetsAt": ..., "status": ...,
                                      "surpassedThreshold": 0.9}, "seven_day": {...}}}}

`utilization` is a fraction (it may exceed 1); `resetsAt` is epoch seconds and may be
absent while a window is `allowed`. Unknown keys are ignored, missing ones are None:
the CLI adds fields between versions and a report must never break a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..flat import flat_dict

#: The windows a report may name, in the order a viewer lists them.
WINDOW_ORDER = ("five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet", "seven_day_overage_included", "seven_day_oauth_apps", "overage")

#: Short labels (header gauges, the headless line, response headers).
WINDOW_LABELS = {
    "five_hour": "5h",
    "seven_day": "7d",
    "seven_day_opus": "7d opus",
    "seven_day_sonnet": "7d sonnet",
    "seven_day_overage_included": "7d incl. extra",
    "seven_day_oauth_apps": "7d apps",
    "overage": "extra",
}


#: Prefix of the per-model windows a `get_usage` reply names by display name
#: ("model_scoped:Fable").
MODEL_SCOPED = "model_scoped:"


@dataclass(frozen=True, slots=True)
class ExtraUsage:
    """The extra-usage (overage) spend of the billing period, as `get_usage` reports it."""

    is_enabled: bool | None = None
    #: Amounts in minor units of `currency` (cents for USD).
    monthly_limit: float | None = None
    used_credits: float | None = None
    #: A fraction, like the windows' (the reply says 0-100).
    utilization: float | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    """One limit window (the 5-hour one, the weekly one...)."""

    name: str
    #: A fraction: 0.93 is 93 %; may exceed 1. None when the report did not say.
    utilization: float | None = None
    #: Epoch seconds; None when the report did not say (often while `allowed`).
    resets_at: float | None = None
    #: "allowed", "allowed_warning", "rejected", or whatever the CLI says next.
    status: str | None = None
    #: The warning threshold this window passed (0.9), when it passed one.
    surpassed_threshold: float | None = None

    @property
    def label(self) -> str:
        if self.name.startswith(MODEL_SCOPED):
            return "7d " + self.name[len(MODEL_SCOPED) :]
        return WINDOW_LABELS.get(self.name, self.name)

    @property
    def warning(self) -> bool:
        return self.status in ("allowed_warning", "rejected") or self.surpassed_threshold is not None


@dataclass(frozen=True, slots=True)
class QuotaReport:
    """What one report said: the representative window and status, every window it named,
    and the billing bucket (plan or extra usage)."""

    #: The overall status ("allowed", "allowed_warning", "rejected").
    status: str | None = None
    #: The window the status is about ("five_hour", ...).
    limit_type: str | None = None
    windows: tuple[QuotaWindow, ...] = ()
    #: True when this request drew from extra usage (billed beyond the plan).
    using_overage: bool | None = None
    overage_status: str | None = None
    overage_disabled_reason: str | None = None
    #: Where it came from: "rate_limit_event" (a request's run) or "get_usage" (a poll).
    source: Literal["rate_limit_event", "get_usage"] = "rate_limit_event"
    #: When extra usage resets (epoch seconds), when the report said.
    overage_resets_at: float | None = None
    #: The extra-usage spend (`get_usage` only).
    extra_usage: ExtraUsage | None = None

    def window(self, name: str) -> QuotaWindow | None:
        return next((w for w in self.windows if w.name == name), None)

    @property
    def bucket(self) -> str | None:
        """"extra usage" when the request drew from it, "plan" when it did not, None if unsaid."""
        if self.using_overage is None:
            return None
        return "extra usage" if self.using_overage else "plan"


def from_rate_limit_event(obj: dict[str, Any]) -> QuotaReport:
    """Parse a `rate_limit_event` line (or its `rate_limit_info`)."""
    info = obj.get("rate_limit_info")
    if not isinstance(info, dict):
        info = obj
    limit_type = _str(info.get("rateLimitType"))
    status = _str(info.get("status"))
    windows: dict[str, QuotaWindow] = {}
    unified = info.get("unifiedWindows")
    if isinstance(unified, dict):
        for name, raw in unified.items():
            if isinstance(raw, dict):
                windows[str(name)] = QuotaWindow(
                    str(name), _float(raw.get("utilization")), _float(raw.get("resetsAt")), _str(raw.get("status")), _float(raw.get("surpassedThreshold"))
                )
    if limit_type and limit_type not in windows:
        # Older lines (and the top level) describe only the representative window.
        windows[limit_type] = QuotaWindow(
            limit_type, _float(info.get("utilization")), _float(info.get("resetsAt")), status, _float(info.get("surpassedThreshold"))
        )
    using = info.get("isUsingOverage")
    return QuotaReport(
        status=status,
        limit_type=limit_type,
        windows=tuple(sorted(windows.values(), key=window_rank)),
        using_overage=using if isinstance(using, bool) else None,
        overage_status=_str(info.get("overageStatus")),
        overage_disabled_reason=_str(info.get("overageDisabledReason")),
        overage_resets_at=_float(info.get("overageResetsAt")),
    )


def report_to_dict(report: QuotaReport) -> dict[str, Any]:
    """Plain JSON values (a capture keeps each exchange's report this way): what `asdict` gives,
    without its deep copies (every value is a scalar; this runs once per captured exchange)."""
    data = flat_dict(report)
    data["windows"] = tuple(map(flat_dict, report.windows))
    if report.extra_usage is not None:
        data["extra_usage"] = flat_dict(report.extra_usage)
    return data


def report_from_dict(data: dict[str, Any]) -> QuotaReport:
    """The report `report_to_dict` wrote; unknown keys (a later release's) are ignored."""
    windows = tuple(QuotaWindow(**_known(QuotaWindow, w)) for w in data.get("windows") or () if isinstance(w, dict))
    extra = data.get("extra_usage")
    fields = _known(QuotaReport, data)
    fields.update(windows=windows, extra_usage=ExtraUsage(**_known(ExtraUsage, extra)) if isinstance(extra, dict) else None)
    return QuotaReport(**fields)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return {key: value for key, value in data.items() if key in names}


#: Two readings whose reset times are this close describe the same period of a window
#: (the CLI's epoch seconds and get_usage's ISO times round differently).
SAME_PERIOD_SECONDS = 60.0


def merge_readings(old: QuotaWindow, new: QuotaWindow) -> QuotaWindow:
    """A window's state after a newer reading: the newer wins; within the same period of the
    window, what it leaves unsaid (a poll names no status or threshold; an `allowed` line may
    omit the reset) is kept. The engine (quota/latest.py) and the console merge alike."""
    if old.resets_at is not None and new.resets_at is not None and abs(old.resets_at - new.resets_at) > SAME_PERIOD_SECONDS:
        return new  # another period: nothing of the old one holds
    return QuotaWindow(
        new.name,
        new.utilization if new.utilization is not None else old.utilization,
        new.resets_at if new.resets_at is not None else old.resets_at,
        new.status if new.status is not None else old.status,
        new.surpassed_threshold if new.surpassed_threshold is not None else old.surpassed_threshold,
    )


def window_rank(window: QuotaWindow) -> tuple[int, str]:
    return (WINDOW_ORDER.index(window.name) if window.name in WINDOW_ORDER else len(WINDOW_ORDER), window.name)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
