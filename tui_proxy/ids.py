"""Exchange and run ids: short, unique, sortable by time, safe in URLs and file names."""

from __future__ import annotations

import os
import time


def new_exchange_id(now: float | None = None) -> str:
    """12 hex digits of milliseconds, then 8 random hex digits: `0193c1f2a4b0-5e1f09aa`."""
    ms = int((time.time() if now is None else now) * 1000)
    return f"{ms:012x}-{os.urandom(4).hex()}"


def short_id(exchange_id: str) -> str:
    """What the console shows: the random tail, enough to tell rows apart."""
    return exchange_id.rsplit("-", 1)[-1][:6]


def new_run_id() -> str:
    """A CLI run's id: `run-` and 8 random hex digits (a run may answer several exchanges)."""
    return f"run-{os.urandom(4).hex()}"
