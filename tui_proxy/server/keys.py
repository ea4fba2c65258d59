"""Typed keys for what the aiohttp app and requests carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..exchange import Exchange

if TYPE_CHECKING:
    from ..engine import Engine

ENGINE: web.AppKey["Engine"] = web.AppKey("engine")
#: The request's Exchange, once it has one.
EXCHANGE: web.RequestKey[Exchange] = web.RequestKey("exchange", Exchange)
