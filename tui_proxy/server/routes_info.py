"""`GET /health`, `GET /v1/usage`, `GET /v1/models`, `GET /v1/models/{id}`: answered without
spawning anything."""

from __future__ import annotations

from aiohttp import web

from .. import __version__
from ..models import resolve
from ..openai.models import model_list, model_object
from .keys import ENGINE


SURFACES = ("POST /v1/chat/completions", "POST /v1/responses", "GET /v1/responses/{id}", "POST /v1/messages", "POST /v1/messages/count_tokens", "GET /v1/models", "GET /v1/models/{id}", "GET /v1/usage")


async def health(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    cli = engine.cli_status
    capture = capture_health(engine)
    ok = bool(cli and cli.found and cli.logged_in is not False) and capture["ok"]
    return web.json_response(
        {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            # The API faces this server answers (README "The API").
            "surfaces": list(SURFACES),
            "cli": {
                "path": cli.path if cli else None,
                "found": cli.found if cli else False,
                "version": cli.version if cli else None,
                "logged_in": cli.logged_in if cli else None,
                "auth_method": cli.auth_method if cli else None,
                "error": cli.error if cli else None,
                "hint": cli.hint if cli else None,
            },
            "active_runs": engine.active_runs,
            "runs": {
                "parked": len(engine.runs.parked) if engine.runs is not None else 0,
                "warm": {"count": len(engine.runs.warm), "max": engine.runs.warm.max_count, "resident_mb": round(engine.runs.warm.resident_mb()), "continued": engine.runs.warm.continued} if engine.runs is not None else None,
                "pool": {"size": engine.runs.pool.size, "ready": len(engine.runs.pool), "served": engine.runs.pool.served, "missed": engine.runs.pool.missed} if engine.runs is not None else None,
            },
            "queued": engine.admission.waiting,
            "max_concurrency": engine.admission.max_concurrency,
            "capture": capture,
            # The plan's windows as last reported (README "Your plan's limits, for programs").
            "quota": quota_state(engine),
        }
    )


async def usage(request: web.Request) -> web.Response:
    """The plan's limit windows and billing bucket as last reported: by the runs' CLIs after
    each request, and by the `get_usage` poll."""
    return web.json_response(quota_state(request.app[ENGINE]))


def quota_state(engine) -> dict:
    poll = engine.usage_poll
    return {**engine.quota.as_dict(), "poll": poll.as_dict() if poll is not None and poll.enabled else None}


def capture_health(engine) -> dict:
    """Whether exchanges are being kept: a failing store does not stop serving, so /health
    is where scripts (and the console) learn that captures are being lost."""
    if not engine.config.capture:
        return {"enabled": False, "ok": True}
    if engine.store is None:
        return {"enabled": True, "ok": False, "error": "the capture store could not be opened (see the log)"}
    return {"enabled": True, **engine.store.health()}


async def list_models(request: web.Request) -> web.Response:
    return web.json_response(model_list())


async def retrieve_model(request: web.Request) -> web.Response:
    model_id = request.match_info["model_id"]
    entry = resolve(model_id)  # raises the 404 for unknown ids
    return web.json_response(model_object(entry))

