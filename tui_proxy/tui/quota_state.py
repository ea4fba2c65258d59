"""The subscription's limit windows as the console knows them: the latest state of each
window (merged over reports as the engine's quota/latest.py does: a request's
`rate_limit_event` may name only the window it is about, a `get_usage` poll names them all
but no status) and a bounded timeline of every reported point with the request that moved
it.

Fed by `ConsoleState.apply` on the event loop, so it only stores plain values.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..events import QuotaReported
from ..quota.windows import QuotaReport, QuotaWindow, merge_readings, window_rank

#: Points kept for the statistics screen (one per window per report); the oldest go first.
MAX_QUOTA_POINTS = 5_000


@dataclass(frozen=True, slots=True)
class QuotaPoint:
    """One window's state as one report gave it."""

    at: float
    window: str
    utilization: float | None
    status: str | None
    #: The request whose run reported it ("" for a background poll).
    exchange_id: str
    #: Utilization change since the previous point of the same window (None for the first).
    delta: float | None
    resets_at: float | None = None
    #: True when that request drew from extra usage.
    using_overage: bool | None = None


@dataclass(frozen=True, slots=True)
class QuotaSnapshot:
    """What the header draws: every window known, newest state of each, and the billing bucket."""

    windows: tuple[QuotaWindow, ...]
    #: "plan" / "extra usage" from the latest report that said, else None.
    bucket: str | None
    overage_status: str | None
    overage_disabled_reason: str | None
    #: When the latest report came.
    at: float


class QuotaState:
    def __init__(self, max_points: int = MAX_QUOTA_POINTS) -> None:
        #: Window name → (its latest state, when reported).
        self._windows: dict[str, tuple[QuotaWindow, float]] = {}
        self._bucket: tuple[str, float] | None = None
        self._overage: tuple[str | None, str | None, float] | None = None
        self.last_at: float | None = None
        self.reports = 0
        self.points: deque[QuotaPoint] = deque(maxlen=max(1, max_points))
        #: Points ever recorded; `points_total - len(points)` were dropped from the front.
        self.points_total = 0
        self._snapshot: QuotaSnapshot | None = None

    def apply(self, event: QuotaReported) -> None:
        report = event.report
        at = event.at
        self.reports += 1
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        for window in report.windows:
            known = self._windows.get(window.name)
            previous = known[0].utilization if known else None
            delta = None if previous is None or window.utilization is None else window.utilization - previous
            self.points.append(QuotaPoint(at, window.name, window.utilization, window.status, event.exchange_id, delta, window.resets_at, report.using_overage))
            self.points_total += 1
            if known is None:
                self._windows[window.name] = (window, at)
            elif at >= known[1]:  # a late report never overwrites a newer one
                self._windows[window.name] = (merge_readings(known[0], window), at)
        bucket = report.bucket
        if bucket is not None and (self._bucket is None or at >= self._bucket[1]):
            self._bucket = (bucket, at)
        if (report.overage_status or report.overage_disabled_reason) and (self._overage is None or at >= self._overage[2]):
            self._overage = (report.overage_status, report.overage_disabled_reason, at)
        self._snapshot = None

    @property
    def known(self) -> bool:
        return bool(self._windows) or self._bucket is not None

    def snapshot(self) -> QuotaSnapshot | None:
        """The current state (cached until the next report); None before any report."""
        if not self.known:
            return None
        if self._snapshot is None:
            windows = sorted((w for w, _ in self._windows.values()), key=window_rank)
            overage = self._overage or (None, None, 0.0)
            self._snapshot = QuotaSnapshot(
                windows=tuple(windows),
                bucket=self._bucket[0] if self._bucket else None,
                overage_status=overage[0],
                overage_disabled_reason=overage[1],
                at=self.last_at or 0.0,
            )
        return self._snapshot


def representative(report: QuotaReport) -> QuotaWindow | None:
    """The window a report is about (its `rateLimitType`), else its first."""
    if report.limit_type:
        window = report.window(report.limit_type)
        if window is not None:
            return window
    return report.windows[0] if report.windows else None

