"""The figures of the statistics screen, computed from plain values (no Textual).

Exchanges come as `Sample`s: the session's (taken from the console's model on the event
loop, cheaply) and the capture history's (summaries read in a thread). `build_stats` then
runs in a thread too: nothing here touches the loop or a widget.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

from ..capture.model import CaptureSummary
from .exchange_view import ExchangeView
from .quota_state import QuotaPoint

#: Requests drawn in the time-to-first-token and tokens-per-second lines (the newest).
SERIES_POINTS = 600
#: Buckets of the requests- and errors-per-minute lines at most (wider buckets past that).
MAX_BUCKETS = 180
#: Bucket sizes, seconds: the smallest that keeps the line within MAX_BUCKETS.
BUCKET_SIZES = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400, 7 * 86_400)
#: Quota points listed (the newest; the lines over time keep more).
QUOTA_ROWS = 200


@dataclass(frozen=True, slots=True)
class Sample:
    """One finished exchange, as the statistics need it."""

    id: str
    at: float
    model: str | None
    status: int | None
    failed: bool
    ttft_ms: float | None
    tokens_per_second: float | None
    tokens_in: int | None
    tokens_out: int | None
    #: Prompt tokens read from the cache; None when not known (capture summaries).
    cached: int | None
    cost_usd: float | None
    #: Seen live in this session (else read back from the capture store).
    session: bool


def sample_from_view(view: ExchangeView) -> Sample | None:
    """A finished exchange of the console's model; None while it runs."""
    if view.finished_at is None:
        return None
    usage = view.usage
    return Sample(
        id=view.id,
        at=view.received_at,
        model=view.model,
        status=view.status,
        failed=view.failed,
        ttft_ms=view.ttft_ms(),
        tokens_per_second=view.tokens_per_second(view.finished_at),
        tokens_in=usage.prompt_tokens if usage else None,
        tokens_out=usage.completion_tokens if usage else None,
        # Rows read back from the store at start carry no cache figures until opened.
        cached=usage.cached_tokens if usage is not None and not view.usage_partial else None,
        cost_usd=usage.cost_usd if usage is not None and not view.usage_partial else None,
        session=not view.from_history,
    )


def sample_from_summary(summary: CaptureSummary) -> Sample | None:
    if summary.in_progress or summary.duration_ms is None:
        return None
    tps = None
    if summary.ttft_ms is not None and summary.completion_tokens:
        span = (summary.duration_ms - summary.ttft_ms) / 1000
        tps = summary.completion_tokens / span if span > 0.001 else None
    failed = summary.error_type is not None or (summary.status is not None and summary.status >= 400)
    return Sample(
        id=summary.id,
        at=summary.started_at,
        model=summary.model,
        status=summary.status,
        failed=failed,
        ttft_ms=summary.ttft_ms,
        tokens_per_second=tps,
        tokens_in=summary.prompt_tokens,
        tokens_out=summary.completion_tokens,
        cached=summary.cached_tokens,
        cost_usd=summary.cost_usd,
        session=False,
    )


@dataclass(frozen=True, slots=True)
class Series:
    """One line of the screen: values in time order and what to say about them."""

    values: tuple[float, ...]
    #: `median 1.20s · p95 2.40s · max 3.10s`
    summary: str
    #: Seconds per value for time buckets; None when each value is one request.
    bucket_seconds: int | None = None
    #: A status per value, when values have one (the quota windows'), else empty.
    statuses: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelRow:
    model: str
    requests: int
    errors: int
    tokens_in: int
    tokens_out: int
    #: Cache reads over the requests that said (`cache_known` of the `with_usage` that
    #: reported tokens at all), None if none did.
    cached: int | None
    cache_known: int
    with_usage: int
    cache_share: float | None
    cost_usd: float | None
    ttft_median_ms: float | None
    tps_median: float | None


@dataclass(frozen=True, slots=True)
class Stats:
    session: int
    history: int
    first_at: float | None
    last_at: float | None
    ttft: Series
    tps: Series
    requests: Series
    errors: Series
    models: tuple[ModelRow, ...]
    #: Window name → its utilization (percent) report after report, oldest first.
    quota_lines: dict[str, Series] = field(default_factory=dict)
    #: Newest first, at most QUOTA_ROWS.
    quota_points: tuple[QuotaPoint, ...] = ()
    quota_points_total: int = 0


def merge(session: Iterable[Sample], history: Iterable[Sample]) -> list[Sample]:
    """One sample per exchange, the session's when both have it, oldest first."""
    by_id = {s.id: s for s in history}
    # What the console holds knows at least what the store's summary does (cache reads, cost).
    by_id.update((s.id, s) for s in session)
    return sorted(by_id.values(), key=lambda s: s.at)


def points_from_summaries(summaries: Iterable[CaptureSummary]) -> list[QuotaPoint]:
    """The quota windows each captured exchange's run reported (oldest first), at its end."""
    points = []
    for summary in summaries:
        report = summary.quota
        if report is None:
            continue
        at = summary.started_at + (summary.duration_ms or 0.0) / 1000
        points += [QuotaPoint(at, w.name, w.utilization, w.status, summary.id, None, w.resets_at, report.using_overage) for w in report.windows]
    return sorted(points, key=lambda p: p.at)


def merge_points(history: Sequence[QuotaPoint], session: Sequence[QuotaPoint]) -> list[QuotaPoint]:
    """The capture history's points and the session's, one timeline (oldest first), the
    change since the window's previous point worked out again over the whole of it."""
    seen = {p.exchange_id for p in session if p.exchange_id}
    merged = sorted([p for p in history if p.exchange_id not in seen] + list(session), key=lambda p: p.at)
    last: dict[str, float] = {}
    out = []
    for p in merged:
        previous = last.get(p.window)
        delta = None if previous is None or p.utilization is None else p.utilization - previous
        if p.utilization is not None:
            last[p.window] = p.utilization
        out.append(p if p.delta == delta else replace(p, delta=delta))
    return out


def build_stats(samples: Sequence[Sample], points: Sequence[QuotaPoint], points_total: int | None = None) -> Stats:
    """Every figure of the screen from samples (oldest first) and quota points (oldest first)."""
    ttfts = [s.ttft_ms for s in samples if s.ttft_ms is not None][-SERIES_POINTS:]
    rates = [s.tokens_per_second for s in samples if s.tokens_per_second is not None][-SERIES_POINTS:]
    requests, errors, size = _per_bucket(samples)
    per = "minute" if size == 60 else _bucket_name(size)
    quota_lines: dict[str, Series] = {}
    by_window: dict[str, list[QuotaPoint]] = defaultdict(list)
    for point in points:
        if point.utilization is not None:
            by_window[point.window].append(point)
    for window, line in by_window.items():
        line = line[-SERIES_POINTS:]
        values = [p.utilization * 100 for p in line]  # type: ignore[operator]
        summary = f"now {values[-1]:.0f}% · low {min(values):.0f}% · high {max(values):.0f}% · {_plural(len(line), 'report')}"
        quota_lines[window] = Series(tuple(values), summary, statuses=tuple(p.status for p in line))
    return Stats(
        session=sum(1 for s in samples if s.session),
        history=sum(1 for s in samples if not s.session),
        first_at=samples[0].at if samples else None,
        last_at=samples[-1].at if samples else None,
        ttft=Series(tuple(ttfts), _spread(ttfts, _ms) + f" · {_plural(len(ttfts), 'request')}"),
        tps=Series(tuple(rates), _spread(rates, lambda v: f"{v:.1f}") + f" · {_plural(len(rates), 'request')}"),
        requests=Series(tuple(requests), f"peak {max(requests, default=0):.0f} per {per} · {_plural(len(samples), 'request')}", size),
        errors=Series(tuple(errors), f"peak {max(errors, default=0):.0f} per {per} · {_plural(sum(1 for s in samples if s.failed), 'error')}", size),
        models=tuple(_models(samples)),
        quota_lines=quota_lines,
        quota_points=tuple(reversed(points[-QUOTA_ROWS:])),
        quota_points_total=len(points) if points_total is None else points_total,
    )


def _per_bucket(samples: Sequence[Sample]) -> tuple[list[float], list[float], int]:
    """Requests and errors per time bucket, from the first request to the last."""
    if not samples:
        return [], [], 60
    first, last = samples[0].at, samples[-1].at
    size = next((b for b in BUCKET_SIZES if (last - first) / b < MAX_BUCKETS), BUCKET_SIZES[-1])
    start = first - first % size
    count = int((last - start) // size) + 1
    requests = [0.0] * count
    errors = [0.0] * count
    for sample in samples:
        index = min(count - 1, int((sample.at - start) // size))
        requests[index] += 1
        if sample.failed:
            errors[index] += 1
    return requests, errors, size


def _bucket_name(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return "day" if seconds == 86_400 else f"{seconds // 86_400} days"
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def _models(samples: Iterable[Sample]) -> list[ModelRow]:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.model or "-"].append(sample)
    rows = []
    for model, group in groups.items():
        tokens_in = sum(s.tokens_in or 0 for s in group)
        with_cache = [s for s in group if s.cached is not None]
        cached = sum(s.cached or 0 for s in with_cache) if with_cache else None
        cached_prompt = sum(s.tokens_in or 0 for s in with_cache)
        costs = [s.cost_usd for s in group if s.cost_usd is not None]
        ttfts = [s.ttft_ms for s in group if s.ttft_ms is not None]
        rates = [s.tokens_per_second for s in group if s.tokens_per_second is not None]
        rows.append(
            ModelRow(
                model=model,
                requests=len(group),
                errors=sum(1 for s in group if s.failed),
                tokens_in=tokens_in,
                tokens_out=sum(s.tokens_out or 0 for s in group),
                cached=cached,
                cache_known=len(with_cache),
                with_usage=sum(1 for s in group if s.tokens_in is not None),
                cache_share=cached / cached_prompt if cached is not None and cached_prompt else None,
                cost_usd=sum(costs) if costs else None,
                ttft_median_ms=statistics.median(ttfts) if ttfts else None,
                tps_median=statistics.median(rates) if rates else None,
            )
        )
    rows.sort(key=lambda r: (-r.requests, r.model))
    return rows


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _ms(value: float) -> str:
    return f"{value:.0f}ms" if value < 1000 else f"{value / 1000:.2f}s"


def _spread(values: Sequence[float], show) -> str:
    """`median 1.20s · p95 2.40s · max 3.10s`, or `none yet`."""
    if not values:
        return "none yet"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {show(statistics.median(ordered))} · p95 {show(p95)} · max {show(ordered[-1])}"
