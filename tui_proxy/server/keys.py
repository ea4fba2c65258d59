"""Typed keys for what the aiohttp app and requests carry, and what the app needs of its engine.

The web app sees the engine only through `EngineView`, so `server/` never imports the engine
that builds it (no cycle: the engine imports the server, not the other way round).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from ..config import Config
from ..exchange import Exchange

if TYPE_CHECKING:
    from ..capture.store import CaptureStore
    from ..claude.probe import CliStatus
    from ..quota.latest import LatestQuota
    from ..quota.usage_poll import UsagePoller
    from ..runs.registry import Runs
    from .admission import Admission


class EngineView(Protocol):
    """What request handlers use of the engine."""

    config: Config
    admission: "Admission"
    runs: "Runs"
    cli_status: "CliStatus | None"
    store: "CaptureStore | None"
    quota: "LatestQuota"
    usage_poll: "UsagePoller | None"

    @property
    def active_runs(self) -> int: ...

    def new_exchange(self) -> Exchange: ...


ENGINE: web.AppKey[EngineView] = web.AppKey("engine")
#: The request's Exchange, once it has one.
EXCHANGE: web.RequestKey[Exchange] = web.RequestKey("exchange", Exchange)
