"""The latest known state of the subscription's limits: every report merged as it arrives.

A bus subscriber (cheap: a few dict updates per report, a report per request at most), owned
by the engine (`engine.quota`) and read by the HTTP side (/health, /v1/usage, the response
headers) and the console. Each window keeps its newest reading; the overall status and the
billing bucket come from the newest report that said them (a `get_usage` poll names windows
only). A bounded history of the reports, with the exchange that brought each, is kept for
graphs (older ones are in the captures).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from ..events import Event, QuotaReported
from .windows import ExtraUsage, QuotaReport, QuotaWindow, merge_readings, window_rank

#: Reports kept in memory for graphs (oldest dropped first).
HISTORY = 2000


@dataclass(frozen=True, slots=True)
class KnownWindow:
    """A window's newest reading, and where and when it came from."""

    window: QuotaWindow
    updated_at: float
    source: str
    #: The exchange whose run reported it ("" for a poll).
    exchange_id: str = ""


@dataclass(frozen=True, slots=True)
class QuotaPoint:
    """One report as it arrived: for graphs of the windows over time."""

    at: float
    exchange_id: str
    report: QuotaReport


class LatestQuota:
    __slots__ = (
        "windows", "status", "limit_type", "using_overage", "overage_status", "overage_disabled_reason",
        "overage_resets_at", "extra_usage", "updated_at", "source", "history", "version", "_clock",
    )  # fmt: skip

    def __init__(self, *, clock: Callable[[], float] = time.time, history: int = HISTORY) -> None:
        #: Window name → its newest reading.
        self.windows: dict[str, KnownWindow] = {}
        #: From the newest report that said them (a request's `rate_limit_event`).
        self.status: str | None = None
        self.limit_type: str | None = None
        self.using_overage: bool | None = None
        self.overage_status: str | None = None
        self.overage_disabled_reason: str | None = None
        self.overage_resets_at: float | None = None
        #: From the newest `get_usage` reply that had it.
        self.extra_usage: ExtraUsage | None = None
        #: When the newest report arrived (None: nothing known yet), and its source.
        self.updated_at: float | None = None
        self.source: str | None = None
        self.history: deque[QuotaPoint] = deque(maxlen=history)
        #: Bumped by every report: a viewer redraws when it changed.
        self.version = 0
        self._clock = clock

    def __call__(self, event: Event) -> None:
        if type(event) is QuotaReported:
            self.add(event.report, at=event.at, exchange_id=event.exchange_id)  # type: ignore[attr-defined]

    def add(self, report: QuotaReport, *, at: float | None = None, exchange_id: str = "") -> None:
        at = self._clock() if at is None else at
        for window in report.windows:
            known = self.windows.get(window.name)
            merged = window if known is None else merge_readings(known.window, window)
            self.windows[window.name] = KnownWindow(merged, at, report.source, exchange_id)
        if report.status is not None:
            self.status, self.limit_type = report.status, report.limit_type
        if report.using_overage is not None:
            self.using_overage = report.using_overage
            self.overage_status = report.overage_status
            self.overage_disabled_reason = report.overage_disabled_reason
            self.overage_resets_at = report.overage_resets_at
        if report.extra_usage is not None:
            self.extra_usage = report.extra_usage
        self.updated_at, self.source = at, report.source
        self.history.append(QuotaPoint(at, exchange_id, report))
        self.version += 1

    # -- reading -------------------------------------------------------------------------

    @property
    def known(self) -> bool:
        return self.updated_at is not None

    @property
    def bucket(self) -> str | None:
        """"extra usage" when the newest request drew from it, "plan" when not, None if unsaid."""
        if self.using_overage is None:
            return None
        return "extra usage" if self.using_overage else "plan"

    def ordered(self) -> list[KnownWindow]:
        """The known windows, in the order a viewer lists them (5h, 7d, per model...)."""
        return sorted(self.windows.values(), key=lambda known: window_rank(known.window))

    def warnings(self) -> list[QuotaWindow]:
        """Windows past the CLI's warning threshold (or rejected), whose period has not ended."""
        now = self._clock()
        return [k.window for k in self.ordered() if k.window.warning and not _ended(k.window, now)]

    def as_dict(self) -> dict:
        """For programs (/health, /v1/usage): plain JSON values, times as epoch seconds."""
        now = self._clock()
        return {
            "known": self.known,
            "status": self.status,
            "representative_window": self.limit_type,
            "bucket": self.bucket,
            "using_extra_usage": self.using_overage,
            "extra_usage": {
                "status": self.overage_status,
                "disabled_reason": self.overage_disabled_reason,
                "resets_at": self.overage_resets_at,
                **(_extra_usage_dict(self.extra_usage) if self.extra_usage else {}),
            },
            "windows": [_window_dict(k, now) for k in self.ordered()],
            "updated_at": self.updated_at,
            "source": self.source,
        }


def _ended(window: QuotaWindow, now: float) -> bool:
    return window.resets_at is not None and window.resets_at <= now


def _window_dict(known: KnownWindow, now: float) -> dict:
    w = known.window
    return {
        "name": w.name,
        "label": w.label,
        "utilization": w.utilization,
        "resets_at": w.resets_at,
        "status": w.status,
        "threshold": w.surpassed_threshold,
        "warning": w.warning,
        # The reading is from before the window's reset: its figures no longer hold.
        "reset_passed": _ended(w, now),
        "updated_at": known.updated_at,
        "source": known.source,
    }


def _extra_usage_dict(extra: ExtraUsage) -> dict:
    return {
        "enabled": extra.is_enabled,
        "monthly_limit": extra.monthly_limit,
        "used_credits": extra.used_credits,
        "utilization": extra.utilization,
        "currency": extra.currency,
    }
