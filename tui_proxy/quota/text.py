"""A quota report in a few words, for one-line views (the headless line, `captures list`)."""

from __future__ import annotations

from .windows import QuotaReport


def brief(report: QuotaReport) -> str:
    """Each window's use, `!` past the CLI's warning threshold (or rejected), and
    `EXTRA USAGE` when the request drew from it: "5h 93%! 7d 41%". "" when it says nothing."""
    parts = [f"{w.label} {w.utilization:.0%}{'!' if w.warning else ''}" for w in report.windows if w.utilization is not None]
    if report.using_overage:
        parts.append("EXTRA USAGE")
    return " ".join(parts)
