"""The plan's limits through the whole stack with the REAL pinned CLI against the mock's
rate-limit scenarios (an OAuth login, so the CLI prints its `rate_limit_event`): the events,
/health, /v1/usage, the response headers, the headless line and the captures show the
figures the mock's headers gave; upstream retries of 529 and 429 are published live; the
extra-usage refusal is its own error; and `get_usage` reads the usage endpoint with no model
call (the mock answering as https://api.anthropic.com, tests/mock_anthropic/oauth_host.py).

Without the real CLI the module skips locally and fails in CI (CI=true)."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import datetime

import aiohttp
from multidict import CIMultiDict
import pytest

from tests.conftest import wait_until
from tests.mock_anthropic import MockAnthropic
from tests.mock_anthropic.scenarios import EXTRA_USAGE_REFUSAL
from tests.real_cli import FAKE_OAUTH_TOKEN, find_real_cli, real_cli_engine, require_real_cli
from tui_proxy.commands.captures import format_capture, format_summary
from tui_proxy.events import ExchangeFinished, QuotaReported, TokenDelta, UpstreamRetry
from tui_proxy.headless import HeadlessLog
from tui_proxy.line_output import LineOutput
from tui_proxy.quota import usage_poll

P = "anthropic-ratelimit-unified-"
#: No CLIs started ahead or kept: each test counts what reached the mock.
NO_SPARES = {"pool_size": 0, "warm_conversations": 0}
ANTHROPIC = {"anthropic-version": "2023-06-01"}


@pytest.fixture(autouse=True)
def _real_cli():
    require_real_cli(find_real_cli())


async def post(engine, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        async with session.post(engine.url + path, json=body, headers=headers or {}) as response:
            return response.status, CIMultiDict(response.headers), await response.text()  # names in any case


async def get(engine, path: str) -> dict:
    async with aiohttp.ClientSession() as session:
        async with session.get(engine.url + path) as response:
            assert response.status == 200
            return await response.json()


def chat(prompt: str, stream: bool = False) -> dict:
    return {"model": "sonnet", "stream": stream, "messages": [{"role": "user", "content": prompt}]}


def messages(prompt: str, stream: bool = False) -> dict:
    return {"model": "sonnet", "max_tokens": 100, "stream": stream, "messages": [{"role": "user", "content": prompt}]}


async def test_the_plans_windows_reach_every_view_from_the_real_cli(tmp_path, monkeypatch):
    reset = int(time.time()) + 7200
    async with MockAnthropic() as mock:
        async with real_cli_engine(tmp_path, monkeypatch, mock, env={"CLAUDE_CODE_MAX_RETRIES": "3"}, **NO_SPARES) as engine:
            seen: list = []
            engine.bus.subscribe(lambda e: seen.append(e) if isinstance(e, (QuotaReported, UpstreamRetry, TokenDelta, ExchangeFinished)) else None)
            out = io.StringIO()
            lines = LineOutput(out)
            engine.bus.subscribe(HeadlessLog(lines))

            def of(exchange_id: str, kind: type) -> list:
                return [e for e in seen if e.exchange_id == exchange_id and type(e) is kind]

            # 1. A warning: the 5-hour window at 93 %, past the 90 % threshold.
            status, headers, _ = await post(engine, "/v1/chat/completions", chat(f"One. [[mock:quota_warning reset={reset}]]"))
            assert status == 200
            warned = headers["x-request-id"]
            (report,) = [e.report for e in of(warned, QuotaReported)]
            assert report.status == "allowed_warning" and report.bucket == "plan"
            assert [(w.name, w.utilization, w.resets_at, w.status, w.surpassed_threshold) for w in report.windows] == [
                ("five_hour", 0.93, reset, "allowed_warning", 0.9), ("seven_day", 0.41, reset + 5 * 86400, "allowed", None),
            ]
            # A complete answer's headers come after its run reported.
            assert headers[P + "status"] == "allowed_warning" and headers[P + "representative-claim"] == "five_hour"
            assert headers[P + "5h-utilization"] == "0.93" and headers[P + "5h-surpassed-threshold"] == "0.9"
            assert headers[P + "5h-reset"] == headers[P + "reset"] == str(reset)
            assert headers[P + "7d-utilization"] == "0.41" and headers[P + "7d-status"] == "allowed"
            assert headers[P + "overage-status"] == "rejected" and headers[P + "overage-disabled-reason"] == "org_level_disabled"
            assert headers["x-claude-max-tui-quota-bucket"] == "plan"
            usage = await get(engine, "/v1/usage")
            assert [(w["name"], w["utilization"], w["resets_at"], w["threshold"], w["warning"]) for w in usage["windows"]] == [
                ("five_hour", 0.93, reset, 0.9, True), ("seven_day", 0.41, reset + 5 * 86400, None, False),
            ]
            assert usage["status"] == "allowed_warning" and usage["bucket"] == "plan" and usage["source"] == "rate_limit_event"
            assert (await get(engine, "/health"))["quota"]["windows"] == usage["windows"]

            # 2. Streamed on the Messages face, answered on extra usage: its headers went out
            # before its run reported, so they still carry the warning.
            status, headers, _ = await post(engine, "/v1/messages", messages(f"Two. [[mock:extra_usage reset={reset}]]", stream=True), ANTHROPIC)
            assert status == 200 and headers[P + "status"] == "allowed_warning" and headers[P + "5h-utilization"] == "0.93"
            extra = headers["x-request-id"]
            (report,) = [e.report for e in of(extra, QuotaReported)]
            assert report.using_overage is True and report.bucket == "extra usage" and report.status == "rejected"
            usage = await get(engine, "/v1/usage")
            assert usage["bucket"] == "extra usage" and usage["using_extra_usage"] is True and usage["extra_usage"]["status"] == "allowed"
            assert usage["windows"][0]["utilization"] == 1 and usage["windows"][0]["status"] == "rejected"

            # 3. Upstream retries of 529 (Responses face) and 429 (chat), then success: published
            # live, before the answer's first token.
            retried = {}
            for code, path, body in ((529, "/v1/responses", {"model": "sonnet", "input": "Three. [[mock:529 times=2]]"}), (429, "/v1/chat/completions", chat("Four. [[mock:429 times=2]]"))):
                status, headers, _ = await post(engine, path, body)
                assert status == 200
                exchange = retried[code] = headers["x-request-id"]
                retries = of(exchange, UpstreamRetry)
                assert [(r.attempt, r.max_retries, r.error_status) for r in retries] == [(1, 3, code), (2, 3, code)]
                assert all(r.retry_delay_ms and r.retry_delay_ms > 0 and r.run_id for r in retries)
                events = [e for e in seen if e.exchange_id == exchange]
                assert events.index(retries[-1]) < events.index(of(exchange, TokenDelta)[0])
                assert headers["x-claude-max-tui-quota-bucket"] == "plan"  # its own run was back on the plan
            assert of(retried[529], UpstreamRetry)[0].error == "overloaded" and of(retried[429], UpstreamRetry)[0].error == "rate_limit"

            # 4. The extra-usage refusal and the subscription limit, in two faces' shapes.
            status, headers, body = await post(engine, "/v1/chat/completions", chat("Five. [[mock:400_extra_usage]]"))
            error = json.loads(body)["error"]
            assert status == 402 and error["code"] == "extra_usage_required" and headers["x-should-retry"] == "false"
            assert "Anthropic said: " + EXTRA_USAGE_REFUSAL in error["message"]
            status, headers, body = await post(engine, "/v1/messages", messages("Six. [[mock:400_extra_usage]]"), ANTHROPIC)
            assert status == 402 and json.loads(body)["error"]["type"] == "billing_error" and headers["x-should-retry"] == "false"
            status, headers, body = await post(engine, "/v1/chat/completions", chat(f"Seven. [[mock:429_subscription reset={reset}]]"))
            assert status == 429 and 7000 < int(headers["Retry-After"]) <= 7200 and json.loads(body)["error"]["code"] == "rate_limit_exceeded"
            assert headers[P + "status"] == "rejected" and headers[P + "5h-utilization"] == "1.0"
            limited = headers["x-request-id"]

            assert await wait_until(lambda: len([e for e in seen if type(e) is ExchangeFinished]) == 7, timeout=30)
            lines.close()
            logged = {line.split()[2]: line for line in out.getvalue().splitlines() if line.startswith("20")}
            assert logged[warned].endswith("quota 5h 93%! 7d 41%")
            assert logged[extra].endswith("quota 5h 100%! 7d 62% EXTRA USAGE")
            assert "retried 2x (529)" in logged[retried[529]] and "retried 2x (429)" in logged[retried[429]]
            assert "429 rate_limit_exceeded" in logged[limited] and logged[limited].endswith("quota 5h 100%!")

            await asyncio.to_thread(engine.store.flush)
            store = engine.store
            assert store.get(warned).quota == of(warned, QuotaReported)[0].report
            assert store.get(extra).quota.bucket == "extra usage" and store.get(retried[529]).upstream_retries == 2
            assert format_summary(store.get(warned)).endswith("quota 5h 93%! 7d 41%")
            assert "retried 2x" in format_summary(store.get(retried[429]))
            shown = format_capture(store.get(extra))
            assert "quota    5h        100%! rejected, resets " in shown
            assert "quota    status rejected, billed to extra usage; extra usage allowed" in shown


async def test_get_usage_reads_the_usage_endpoint_and_never_calls_the_model(tmp_path, monkeypatch):
    """A claude.ai login (the credentials file `claude /login` writes, with the profile scope):
    the usage CLI's `get_usage` reads GET https://api.anthropic.com/api/oauth/usage."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    credentials = home / ".claude" / ".credentials.json"
    credentials.write_text(json.dumps({"claudeAiOauth": {
        "accessToken": FAKE_OAUTH_TOKEN, "refreshToken": "sk-ant-ort01-fake", "expiresAt": int(time.time() * 1000) + 3_600_000,
        "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"], "subscriptionType": "max",
    }}))
    credentials.chmod(0o600)
    async with MockAnthropic() as mock:
        oauth_env = await mock.serve_oauth_host(tmp_path / "certs")
        env = {**oauth_env, "CLAUDE_CODE_OAUTH_TOKEN": None}
        async with real_cli_engine(tmp_path, monkeypatch, mock, env=env, usage_poll_seconds=300, **NO_SPARES) as engine:
            polled: list[QuotaReported] = []
            engine.bus.subscribe(lambda e: polled.append(e) if type(e) is QuotaReported else None)
            # The first poll comes by itself, a moment after start.
            assert await wait_until(lambda: bool(polled), timeout=60), engine.usage_poll.last_problem
            (event,) = polled
            assert event.exchange_id == "" and event.report.source == "get_usage"
            report = event.report
            assert [(w.name, w.utilization) for w in report.windows] == [("five_hour", 0.42), ("seven_day", 0.17), ("seven_day_sonnet", 0.05)]
            assert report.window("five_hour").resets_at == datetime.fromisoformat(mock.usage["five_hour"]["resets_at"]).timestamp()
            assert report.extra_usage is not None and report.extra_usage.is_enabled is False
            usage = await get(engine, "/v1/usage")
            assert usage["source"] == "get_usage" and usage["poll"]["answered"] == 1 and usage["poll"]["interval_seconds"] == 300
            assert [w["utilization"] for w in usage["windows"]] == [0.42, 0.17, 0.05]
            asked = [r for r in mock.oauth_requests() if r.path == "/api/oauth/usage"]
            assert asked and all(r.auth == "bearer" for r in asked)
            assert mock.message_requests() == []  # never a model call
            # A response now carries the polled windows. (A second poll right away is answered
            # from the CLI's own cache, without a new GET: not asserted on here.)
            status, headers, _ = await post(engine, "/v1/chat/completions", chat("Hi. [[mock:text]]"))
            assert status == 200 and headers[P + "5h-utilization"] == "0.42" and headers[P + "7d-utilization"] == "0.17"
            assert len(mock.message_requests()) == 1  # that request's own call, nothing else


async def test_a_setup_token_without_the_profile_scope_is_quiet(tmp_path, monkeypatch):
    """CLAUDE_CODE_OAUTH_TOKEN (what `claude setup-token` gives): the CLI says the plan's
    limits are not available to it; the poll backs off, no error, nothing published."""
    monkeypatch.setattr(usage_poll, "FIRST_DELAY", 3600.0)  # only the poll below
    async with MockAnthropic() as mock:
        async with real_cli_engine(tmp_path, monkeypatch, mock, usage_poll_seconds=300, **NO_SPARES) as engine:
            version = engine.quota.version
            assert await engine.usage_poll.poll() is None
            assert "not available" in engine.usage_poll.last_problem and engine.usage_poll.next_delay == 600
            assert engine.quota.version == version and engine.runs.usage.pid is None
            assert mock.message_requests() == []


@pytest.mark.parametrize("runs_env", [True, False])
async def test_only_the_usage_clis_environment_reads_the_usage_endpoint(tmp_path, runs_env):
    """Why get_usage has a CLI of its own (runs/usage_cli.py): with the runs' environment
    (nonessential traffic off) the CLI answers `get_usage` without asking Anthropic; with the
    usage CLI's (that switch off, telemetry off instead) it reads the endpoint."""
    from tui_proxy.claude.argv import RunOptions, build_argv, build_env
    from tui_proxy.runs.usage_cli import QUIET_ENV

    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text(json.dumps({"claudeAiOauth": {
        "accessToken": FAKE_OAUTH_TOKEN, "refreshToken": "sk-ant-ort01-fake", "expiresAt": int(time.time() * 1000) + 3_600_000,
        "scopes": ["user:inference", "user:profile"], "subscriptionType": "max",
    }}))
    (tmp_path / "tmp").mkdir()
    async with MockAnthropic() as mock:
        inherited = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ANTHROPIC_BASE_URL": mock.base_url, **await mock.serve_oauth_host(tmp_path / "certs")}
        env = build_env(inherited, tmpdir=str(tmp_path / "tmp"))
        assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"  # what every run has
        if not runs_env:
            del env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"]
            env.update(QUIET_ENV)
        process = await asyncio.create_subprocess_exec(
            *build_argv(require_real_cli(find_real_cli()), RunOptions(model="")),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=tmp_path, env=env,
        )
        try:
            process.stdin.write(b'{"type":"control_request","request_id":"u1","request":{"subtype":"get_usage","skip_behaviors":true}}\n')
            await process.stdin.drain()
            while True:
                line = await asyncio.wait_for(process.stdout.readline(), 60)
                assert line, "the CLI exited without answering"
                reply = json.loads(line)
                if reply.get("type") == "control_response":
                    break
        finally:
            process.kill()
            await process.wait()
        answer = reply["response"]["response"]
        read = [r for r in mock.oauth_requests() if r.path == "/api/oauth/usage"]
        assert answer["rate_limits_available"] is True
        if runs_env:
            assert answer["rate_limits"] is None and not read
        else:
            assert answer["rate_limits"]["five_hour"] == mock.usage["five_hour"] and read
        assert mock.message_requests() == []
