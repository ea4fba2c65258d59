"""The subscription's limits as the CLI reports them: every `rate_limit_event` and `api_retry`
line parsed with all its fields (the REAL CLI's transcripts in tests/golden), published live
by a run, merged by the engine's holder, and the `get_usage` poll (its reply parsed, its
absence quiet, its back-off) over the fake CLI."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.mock_anthropic.server import default_usage
from tui_proxy.claude import lines as L
from tui_proxy.claude.reader import RunReader
from tui_proxy.errors import ProxyError
from tui_proxy.events import ExchangeFinished, QuotaReported, TokenDelta, UpstreamRetry
from tui_proxy.quota import usage_poll
from tui_proxy.quota.latest import LatestQuota
from tui_proxy.quota.usage_poll import UsagePoller
from tui_proxy.quota.usage_reply import UsageUnavailable, from_get_usage
from tui_proxy.quota.windows import QuotaReport, QuotaWindow

GOLDEN = Path(__file__).resolve().parent / "golden"


def golden(case: str) -> list[str]:
    return (GOLDEN / f"{case}.jsonl").read_bytes().decode("utf-8").split("\n")[:-1]


def golden_objects(case: str, kind: str, subtype: str | None = None) -> list[dict]:
    objects = [json.loads(line) for line in golden(case)]
    return [o for o in objects if o.get("type") == kind and (subtype is None or o.get("subtype") == subtype)]


# -- parsing what the real CLI printed -------------------------------------------------------


def test_a_warning_line_carries_every_window_figure():
    (line,) = [L.parse_line(raw) for raw in golden("rate_limit_warning") if '"rate_limit_event"' in raw]
    info = golden_objects("rate_limit_warning", "rate_limit_event")[0]["rate_limit_info"]
    assert isinstance(line, L.RateLimit)
    assert (line.status, line.resets_at, line.rate_limit_type) == ("allowed_warning", info["resetsAt"], "five_hour")
    report = line.report
    assert (report.status, report.limit_type, report.using_overage, report.bucket) == ("allowed_warning", "five_hour", False, "plan")
    (window,) = report.windows
    assert window == QuotaWindow("five_hour", 0.93, float(info["resetsAt"]), "allowed_warning", 0.9)
    assert window.warning and window.label == "5h"


def test_a_rejection_line_carries_the_overage_fields():
    (line,) = [L.parse_line(raw) for raw in golden("429_subscription") if '"rate_limit_event"' in raw]
    report = line.report
    assert report.status == "rejected" and report.overage_status == "rejected"
    assert report.overage_disabled_reason == "org_level_disabled" and report.using_overage is False
    assert report.window("five_hour").utilization == 1.0 and report.window("five_hour").status == "rejected"


def test_the_real_apis_headers_give_every_window_and_the_bucket():
    (warning,) = [L.parse_line(raw).report for raw in golden("quota_warning") if '"rate_limit_event"' in raw]
    assert [(w.name, w.utilization, w.status, w.surpassed_threshold) for w in warning.windows] == [
        ("five_hour", 0.93, "allowed_warning", 0.9), ("seven_day", 0.41, "allowed", None),
    ]
    assert warning.overage_status == "rejected" and warning.overage_disabled_reason == "org_level_disabled" and warning.bucket == "plan"
    (extra,) = [L.parse_line(raw).report for raw in golden("extra_usage") if '"rate_limit_event"' in raw]
    info = golden_objects("extra_usage", "rate_limit_event")[0]["rate_limit_info"]
    assert extra.status == "rejected" and extra.using_overage is True and extra.bucket == "extra usage"
    assert extra.overage_status == "allowed" and extra.overage_resets_at == info["overageResetsAt"]
    assert extra.window("five_hour").utilization == 1 and extra.window("seven_day").utilization == 0.62


def test_the_extra_usage_refusal_is_judged_from_the_real_lines():
    reader = RunReader()
    for raw in golden("400_extra_usage"):
        reader.feed(raw)
    with pytest.raises(ProxyError) as caught:
        reader.judge(now=0)
    error = caught.value
    assert (error.status, error.kind, error.code, error.retryable) == (402, "billing", "extra_usage_required", False)
    assert "Anthropic said: Third-party apps now draw from your extra usage" in error.message


def test_a_routine_line_names_no_window_but_the_bucket():
    (line,) = [L.parse_line(raw) for raw in golden("text") if '"rate_limit_event"' in raw]
    assert line.report.status == "allowed" and line.report.windows == () and line.report.bucket == "plan"


@pytest.mark.parametrize("case", ["529_recovers", "529_retries", "429_recovers", "500", "529", "drop"])
def test_every_api_retry_line_keeps_its_delay(case):
    expected = golden_objects(case, "system", "api_retry")
    parsed = [L.parse_line(raw) for raw in golden(case) if '"api_retry"' in raw]
    assert expected and len(parsed) == len(expected)
    for line, obj in zip(parsed, expected):
        assert isinstance(line, L.ApiRetry)
        assert (line.attempt, line.max_retries, line.error_status, line.error, line.retry_delay_ms) == (
            obj["attempt"], obj["max_retries"], obj["error_status"], obj["error"], obj["retry_delay_ms"],
        )


@pytest.mark.parametrize("case", ["529_retries", "429_recovers", "quota_warning", "extra_usage", "429_subscription"])
def test_the_reader_tells_of_each_upstream_line_in_order_as_it_is_fed(case):
    told: list = []
    reader = RunReader(on_upstream=told.append)
    for raw in golden(case):
        before = len(told)
        reader.feed(raw)
        # Told while that very line is fed, not at the end of the run.
        assert len(told) - before == ('"rate_limit_event"' in raw or '"api_retry"' in raw)
    expected = [L.RateLimit if '"rate_limit_event"' in raw else L.ApiRetry for raw in golden(case) if '"rate_limit_event"' in raw or '"api_retry"' in raw]
    assert told and [type(note) for note in told] == expected


# -- the get_usage reply -----------------------------------------------------------------------


USAGE_REPLY = {
    "session": {"total_cost_usd": 0},
    "subscription_type": "max",
    "rate_limits_available": True,
    "rate_limits": {
        "five_hour": {"utilization": 42, "resets_at": "2026-12-03T07:00:00+00:00"},
        "seven_day": {"utilization": 12.5, "resets_at": "2026-12-08T00:00:00Z"},
        "seven_day_oauth_apps": None,
        "seven_day_opus": {"utilization": None, "resets_at": None},
        "seven_day_sonnet": {"utilization": 3, "resets_at": "2026-12-08T00:00:00+00:00"},
        "model_scoped": [{"display_name": "Fable", "utilization": 7, "resets_at": "2026-12-08T00:00:00+00:00"}],
        "extra_usage": {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1234, "utilization": 24.68, "currency": "USD"},
    },
    "behaviors": None,
}


def test_a_usage_reply_becomes_fractions_and_epoch_seconds():
    report = from_get_usage(USAGE_REPLY)
    assert report.source == "get_usage" and report.status is None and report.bucket is None
    assert [w.name for w in report.windows] == ["five_hour", "seven_day", "seven_day_sonnet", "model_scoped:Fable"]
    assert report.window("five_hour").utilization == pytest.approx(0.42)
    assert report.window("five_hour").resets_at == 1796281200.0  # 2026-12-03T07:00:00Z
    assert report.window("seven_day").resets_at == 1796688000.0  # "Z" read as UTC
    assert report.window("model_scoped:Fable").label == "7d Fable"
    extra = report.extra_usage
    assert (extra.is_enabled, extra.monthly_limit, extra.used_credits, extra.currency) == (True, 5000, 1234, "USD")
    assert extra.utilization == pytest.approx(0.2468)


@pytest.mark.parametrize(
    "reply, why",
    [
        ({**USAGE_REPLY, "rate_limits_available": False, "rate_limits": None}, "not available"),
        ({**USAGE_REPLY, "rate_limits": None}, "could not fetch"),
        ({**USAGE_REPLY, "rate_limits": {"five_hour": None}}, "names no window"),
        ("nonsense", "not an object"),
    ],
)
def test_a_usage_reply_without_limits_says_why(reply, why):
    with pytest.raises(UsageUnavailable, match=why):
        from_get_usage(reply)


# -- the holder ---------------------------------------------------------------------------------


def _event_report(**windows: QuotaWindow) -> QuotaReport:
    return QuotaReport(status="allowed_warning", limit_type="five_hour", windows=tuple(windows.values()), using_overage=False, overage_status="rejected")


def test_the_holder_keeps_each_windows_newest_reading_and_the_newest_status():
    now = [1000.0]
    quota = LatestQuota(clock=lambda: now[0], history=3)
    assert not quota.known and quota.as_dict()["windows"] == []
    quota.add(_event_report(five_hour=QuotaWindow("five_hour", 0.93, 5000.0, "allowed_warning", 0.9)), at=1000.0, exchange_id="x1")
    # A poll in the same period: its utilization wins, the status and threshold it does not name stay.
    quota.add(QuotaReport(windows=(QuotaWindow("five_hour", 0.95, 5010.0), QuotaWindow("seven_day", 0.4, 90000.0)), source="get_usage"), at=1100.0)
    five = quota.windows["five_hour"]
    assert five.window == QuotaWindow("five_hour", 0.95, 5010.0, "allowed_warning", 0.9)
    assert (five.source, five.exchange_id, five.updated_at) == ("get_usage", "", 1100.0)
    assert quota.status == "allowed_warning" and quota.bucket == "plan"  # a poll says neither
    # The next period: nothing of the old reading holds.
    quota.add(_event_report(five_hour=QuotaWindow("five_hour", 0.1, 23000.0, "allowed")), at=1200.0, exchange_id="x2")
    assert quota.windows["five_hour"].window == QuotaWindow("five_hour", 0.1, 23000.0, "allowed", None)
    # Extra usage: the newest report that says the bucket decides it.
    quota.add(QuotaReport(status="rejected", limit_type="five_hour", using_overage=True, overage_status="allowed"), at=1300.0, exchange_id="x3")
    assert quota.bucket == "extra usage" and quota.status == "rejected"
    assert [p.exchange_id for p in quota.history] == ["", "x2", "x3"]  # bounded: the oldest went
    assert quota.version == 4
    data = quota.as_dict()
    assert [w["name"] for w in data["windows"]] == ["five_hour", "seven_day"]
    assert data["bucket"] == "extra usage" and data["updated_at"] == 1300.0 and data["source"] == "rate_limit_event"
    now[0] = 6000.0
    assert data["windows"][0]["reset_passed"] is False and quota.as_dict()["windows"][0]["reset_passed"] is False
    now[0] = 24000.0
    assert quota.as_dict()["windows"][0]["reset_passed"] is True
    assert quota.warnings() == []  # past its reset, a warning no longer holds


# -- the poller ----------------------------------------------------------------------------------


async def test_the_poller_publishes_a_report_and_backs_off_quietly(caplog):
    replies: list[object] = [USAGE_REPLY, {**USAGE_REPLY, "rate_limits": None}, RuntimeError("no reply within 30 s"), USAGE_REPLY]
    asked: list[float] = []
    rested: list[bool] = []
    reports: list[QuotaReport] = []

    async def ask(timeout: float) -> dict:
        asked.append(timeout)
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply  # type: ignore[return-value]

    async def rest() -> None:
        rested.append(True)

    poller = UsagePoller(ask, reports.append, interval=300, rest=rest, max_backoff=1000)
    caplog.set_level(logging.DEBUG, logger="tui_proxy.quota.usage_poll")
    assert (await poller.poll()) is not None and poller.next_delay == 300
    assert await poller.poll() is None and poller.next_delay == 600 and rested == [True]
    assert await poller.poll() is None and poller.next_delay == 1000  # capped
    assert poller.last_problem == "no reply within 30 s" and poller.unanswered == 2
    assert len([r for r in caplog.records if "get_usage gave no windows" in r.getMessage()]) == 1  # once per streak
    assert await poller.poll() is not None and poller.next_delay == 300 and poller.last_problem is None
    assert len(reports) == 2 and all(r.source == "get_usage" for r in reports)


def test_a_zero_interval_turns_the_poller_off():
    poller = UsagePoller(lambda timeout: None, lambda report: None, interval=0)  # type: ignore[arg-type, return-value]
    poller.start()
    assert not poller.enabled and poller._task is None


# -- through the engine, over the fake CLI -------------------------------------------------------


def fake_limits() -> dict:
    """What the fake CLI's get_usage answers, with resets ahead of whenever the tests run."""
    usage = default_usage()
    return {"five_hour": {**usage["five_hour"], "utilization": 61}, "seven_day": {**usage["seven_day"], "utilization": 20}}


async def _chat(engine, prompt: str) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": prompt}]}) as response:
            await response.read()
            return response.status


async def test_a_run_publishes_its_reports_and_retries_as_they_come(start_engine):
    engine = await start_engine()
    seen: list = []
    engine.bus.subscribe(lambda e: seen.append(e) if isinstance(e, (QuotaReported, UpstreamRetry, TokenDelta, ExchangeFinished)) else None)
    assert await _chat(engine, "[[fake:retry_recovers retries=3 status=529]] hi") == 200
    assert await _chat(engine, "[[fake:rate_limit_warning]] hi") == 200
    first = [e for e in seen if e.exchange_id == seen[0].exchange_id]
    kinds = [type(e).__name__ for e in first]
    # Live: the retries before the answer's first token, the routine report before the end.
    assert kinds[:3] == ["UpstreamRetry"] * 3 and kinds.index("TokenDelta") > 2 and kinds[-1] == "ExchangeFinished"
    retries = [e for e in first if type(e) is UpstreamRetry]
    assert [(r.attempt, r.error_status, r.error, r.retry_delay_ms) for r in retries] == [(n, 529, "overloaded", 563.0) for n in (1, 2, 3)]
    assert all(r.run_id for r in retries)
    warning = [e for e in seen if type(e) is QuotaReported and e.report.status == "allowed_warning"]
    assert len(warning) == 1 and warning[0].exchange_id and warning[0].run_id
    five = engine.quota.windows["five_hour"]
    assert five.window.utilization == 0.93 and five.exchange_id == warning[0].exchange_id
    assert engine.quota.status == "allowed_warning" and engine.quota.bucket == "plan"


async def test_the_engine_polls_get_usage_on_its_own_cli_without_a_prompt(start_engine, fake_claude_env, monkeypatch):
    monkeypatch.setenv("FAKE_CLAUDE_USAGE", json.dumps(fake_limits()))
    engine = await start_engine(usage_poll_seconds=300)
    polled: list[QuotaReported] = []
    engine.bus.subscribe(lambda e: polled.append(e) if type(e) is QuotaReported else None)
    # The first poll comes by itself shortly after start.
    assert await wait_until(lambda: bool(polled), timeout=30)
    (event,) = polled
    assert event.exchange_id == "" and event.report.source == "get_usage"
    assert engine.quota.windows["five_hour"].window.utilization == pytest.approx(0.61)
    assert engine.quota.windows["seven_day"].source == "get_usage"
    (record,) = [json.loads(p.read_text()) for p in fake_claude_env.glob("*.json")]
    # Its own CLI: asked get_usage only, never a prompt; telemetry off, the usage fetch allowed.
    assert record.get("control") == ["get_usage"] and not record.get("scenarios")
    assert record["env"].get("DISABLE_TELEMETRY") == "1" and "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC" not in record["env"]
    pid = engine.runs.usage.pid
    assert pid is not None  # kept alive for the next poll
    assert await engine.usage_poll.poll() is not None and engine.runs.usage.pid == pid  # the same CLI again
    await engine.stop()
    assert engine.runs.usage.pid is None


async def test_a_login_without_usage_is_quiet_and_frees_its_cli(start_engine, monkeypatch):
    monkeypatch.setattr(usage_poll, "FIRST_DELAY", 3600.0)  # only the poll below
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-fake")  # a setup-token: no profile scope
    engine = await start_engine(usage_poll_seconds=300)
    before = engine.quota.version
    assert await engine.usage_poll.poll() is None
    assert "not available" in engine.usage_poll.last_problem and engine.usage_poll.next_delay == 600
    assert engine.runs.usage.pid is None and engine.quota.version == before


async def test_an_older_cli_without_get_usage_is_quiet(start_engine, monkeypatch):
    monkeypatch.setattr(usage_poll, "FIRST_DELAY", 3600.0)
    monkeypatch.setenv("FAKE_CLAUDE_USAGE", "unsupported")
    engine = await start_engine(usage_poll_seconds=300)
    assert await engine.usage_poll.poll() is None
    assert "Unsupported control request subtype" in engine.usage_poll.last_problem
