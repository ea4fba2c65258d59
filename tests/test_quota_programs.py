"""What programs see of the plan's limits, over the fake CLI: the response headers of every
face (streamed and not, errors too), /health and /v1/usage behind the guard, the headless
line, and the captures (`captures list` / `show`), after an old store is migrated."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import time

import aiohttp
from multidict import CIMultiDict
import pytest

from tui_proxy.capture import CaptureStore
from tui_proxy.capture.schema import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import wait_until
from tui_proxy.commands.captures import format_capture, format_summary
from tui_proxy.events import ExchangeFinished
from tui_proxy.headless import HeadlessLog
from tui_proxy.line_output import LineOutput
from tui_proxy.tui.stats import points_from_summaries

P = "anthropic-ratelimit-unified-"
WARNING = "[[fake:rate_limit_warning]] hi"


async def post(engine, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + path, json=body, headers=headers or {}) as response:
            return response.status, CIMultiDict(response.headers), await response.text()  # names in any case


async def get(engine, path: str, headers: dict | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(engine.url + path, headers=headers or {}) as response:
            return response.status, await response.json()


def chat(prompt: str, stream: bool = False) -> dict:
    return {"model": "sonnet", "stream": stream, "messages": [{"role": "user", "content": prompt}]}


async def test_every_face_carries_the_windows_in_the_upstream_header_style(start_engine):
    engine = await start_engine()
    # Nothing known yet, and a stream's headers go before its own run reports: none.
    status, headers, _ = await post(engine, "/v1/chat/completions", chat(WARNING, stream=True))
    assert status == 200 and not [name for name in headers if name.lower().startswith(P)]
    assert engine.quota.windows["five_hour"].window.utilization == 0.93  # its run did report
    # From then on every face says it, streamed or not (each run warns again: the newest
    # report's status is the one sent).
    bodies = {
        "/v1/chat/completions": chat(WARNING),
        "/v1/responses": {"model": "sonnet", "input": WARNING},
        "/v1/messages": {"model": "sonnet", "max_tokens": 50, "messages": [{"role": "user", "content": WARNING}]},
    }
    for path, body in bodies.items():
        for stream in (False, True):
            status, headers, _ = await post(engine, path, {**body, "stream": stream}, {"anthropic-version": "2023-06-01"} if "messages" in path else None)
            assert status == 200, (path, stream)
            assert headers[P + "status"] == "allowed_warning" and headers[P + "representative-claim"] == "five_hour"
            assert headers[P + "5h-utilization"] == "0.93" and headers[P + "5h-surpassed-threshold"] == "0.9"
            assert headers[P + "5h-status"] == "allowed_warning" and int(headers[P + "5h-reset"]) == int(headers[P + "reset"]) > 0
            assert headers["x-claude-max-tui-quota-bucket"] == "plan"
    # A routine report (no window named) changes the status, not the windows' figures.
    status, headers, _ = await post(engine, "/v1/chat/completions", chat("[[fake:echo]] hi"))
    assert headers[P + "status"] == "allowed" and headers[P + "5h-utilization"] == "0.93" and P + "representative-claim" not in headers


async def test_the_subscription_limit_keeps_retry_after_and_says_rejected(start_engine):
    engine = await start_engine()
    status, headers, body = await post(engine, "/v1/chat/completions", chat("[[fake:rate_limit_subscription resets_in=5400]] hi"))
    assert status == 429 and json.loads(body)["error"]["code"] == "rate_limit_exceeded"
    assert 5300 < int(headers["Retry-After"]) <= 5400
    assert headers[P + "status"] == "rejected" and headers[P + "5h-utilization"] == "1.0" and headers[P + "overage-status"] == "rejected"
    assert headers[P + "overage-disabled-reason"] == "org_level_disabled"


async def test_health_and_the_usage_endpoint_carry_the_windows_behind_the_key(start_engine):
    engine = await start_engine(api_key="k-123")
    auth = {"Authorization": "Bearer k-123"}
    status, _ = await get(engine, "/v1/usage")
    assert status == 401  # the same guard as every route
    status, _ = await get(engine, "/v1/usage", {**auth, "Host": "evil.example"})
    assert status == 403  # DNS rebinding protection too
    status, usage = await get(engine, "/v1/usage", auth)
    assert status == 200 and usage["known"] is False and usage["windows"] == [] and usage["poll"] is None
    assert (await post(engine, "/v1/chat/completions", chat(WARNING), auth))[0] == 200
    status, usage = await get(engine, "/v1/usage", auth)
    (window,) = usage["windows"]
    assert window["name"] == "five_hour" and window["label"] == "5h" and window["utilization"] == 0.93
    assert window["status"] == "allowed_warning" and window["threshold"] == 0.9 and window["warning"] is True
    assert window["resets_at"] > usage["updated_at"] and window["source"] == "rate_limit_event"
    assert usage["status"] == "allowed_warning" and usage["bucket"] == "plan" and usage["using_extra_usage"] is False
    status, health = await get(engine, "/health", auth)
    assert health["quota"]["windows"] == usage["windows"] and health["quota"]["bucket"] == "plan"
    assert "GET /v1/usage" in health["surfaces"]


async def test_the_headless_line_flags_warnings_and_retries(start_engine):
    engine = await start_engine()
    out = io.StringIO()
    lines = LineOutput(out)
    engine.bus.subscribe(HeadlessLog(lines))
    finished: list = []
    engine.bus.subscribe(lambda e: finished.append(e) if type(e) is ExchangeFinished else None)
    await post(engine, "/v1/chat/completions", chat(WARNING))
    await post(engine, "/v1/chat/completions", chat("[[fake:retry_recovers retries=2 status=529]] hi"))
    await post(engine, "/v1/chat/completions", chat("[[fake:echo]] hi"))  # a routine report: no figures
    assert await wait_until(lambda: len(finished) == 3)  # an exchange ends once its child is reaped
    lines.close()
    warning, retried, plain = [line for line in out.getvalue().splitlines() if "  200 " in line]
    assert warning.endswith("quota 5h 93%!")
    assert "retried 2x (529)" in retried and "quota" not in retried
    assert "quota" not in plain and "retried" not in plain


async def test_captures_keep_each_exchanges_windows_and_retries(start_engine):
    engine = await start_engine()
    await post(engine, "/v1/chat/completions", chat(WARNING))
    await post(engine, "/v1/chat/completions", chat("[[fake:retry_recovers retries=3 status=529]] hi"))
    assert await wait_until(lambda: engine.active_runs == 0)  # both exchanges finished
    await asyncio.to_thread(engine.store.flush)
    retried, warned = engine.store.list(limit=2)
    assert warned.quota.window("five_hour").utilization == 0.93 and warned.upstream_retries == 0
    assert retried.upstream_retries == 3 and retried.quota.windows == () and retried.quota.bucket == "plan"
    assert format_summary(warned).endswith("quota 5h 93%!") and "retried 3x" in format_summary(retried)
    shown = format_capture(engine.store.get(warned.id))
    assert "quota    5h         93%! allowed_warning, warning past 90%, resets " in shown
    # A list row carries the cost and cache reads of the whole capture (the statistics screen's
    # per-model table reads them from the history), and its windows become the screen's points.
    full = engine.store.get(warned.id)
    assert warned.cost_usd is not None and (warned.cost_usd, warned.cached_tokens) == (full.usage.cost_usd, full.usage.cached_tokens)
    points = points_from_summaries([retried, warned])
    assert [(p.exchange_id, p.window, p.utilization) for p in points] == [(warned.id, "five_hour", 0.93)]
    assert "quota    status allowed_warning, billed to plan" in shown
    assert "the CLI retried its upstream call 3 times" in format_capture(engine.store.get(retried.id))


def test_an_older_store_is_migrated_and_its_rows_say_nothing_of_quota(tmp_path):
    db = tmp_path / "captures.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    for migration in MIGRATIONS[:3]:
        migration(conn)
    conn.execute("PRAGMA user_version = 3")
    # Recent enough that retention keeps it.
    conn.execute("INSERT INTO exchanges (id, state, started_at, method, path) VALUES ('old-1', 'complete', ?, 'POST', '/v1/chat/completions')", (time.time(),))
    conn.close()
    with CaptureStore.open(db) as store:
        (old,) = store.list(limit=5)
        assert old.id == "old-1" and old.quota is None and old.upstream_retries == 0
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


EXTRA_USAGE_TEXT = "Third-party apps now draw from your extra usage, not your plan limits. Add more at claude.ai/settings/usage and keep going."


@pytest.mark.parametrize("stream", [False, True])
async def test_the_extra_usage_refusal_is_its_own_error_in_each_faces_shape(start_engine, stream):
    engine = await start_engine()
    prompt = f'[[fake:bad_request msg="{EXTRA_USAGE_TEXT}"]] hi'
    faces = {
        "/v1/chat/completions": (chat(prompt), lambda body: body["error"]),
        "/v1/responses": ({"model": "sonnet", "input": prompt}, lambda body: body["error"]),
        "/v1/messages": ({"model": "sonnet", "max_tokens": 50, "messages": [{"role": "user", "content": prompt}]}, lambda body: body["error"]),
    }
    for path, (body, error_of) in faces.items():
        status, headers, text = await post(engine, path, {**body, "stream": stream}, {"anthropic-version": "2023-06-01"} if "messages" in path else None)
        error = error_of(json.loads(text))
        assert status == 402 and headers["x-should-retry"] == "false", path
        message = error["message"]
        assert "bills requests like this one to your extra usage, not to your plan's limits" in message
        assert "see your Claude account's usage settings or Anthropic's help center" in message
        assert "Anthropic said: " + EXTRA_USAGE_TEXT in message
        if "messages" in path:
            assert error["type"] == "billing_error"
        else:
            assert error["code"] == "extra_usage_required" and error["type"] == "insufficient_quota"
