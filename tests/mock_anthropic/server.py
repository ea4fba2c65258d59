"""A loopback stand-in for the Anthropic Messages API, for running the real CLI offline.

Usage in tests:

    async with MockAnthropic() as mock:
        env["ANTHROPIC_BASE_URL"] = mock.base_url
        ...
        assert "my system prompt" in mock.system_texts()[0]
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pathlib import Path

from aiohttp import web

from .markers import DEFAULT_SCENARIO, find_marker, system_text
from .oauth_host import OAuthHost
from .replies import ApiError, BrokenStream, Outcome
from .scenarios import SCENARIOS, ScenarioRequest, unknown_scenario
from .wire import block_events, message_json, message_start, reply_events, sse_frame

CREDENTIAL_HEADERS = frozenset({"x-api-key", "authorization"})
#: A plausible usage answer (shape as the CLI's own schema reads it: each window's utilization
#: 0-100 and ISO reset time, null for windows the plan does not have).
def default_usage(now: float | None = None) -> dict[str, Any]:
    """The plan's usage as `GET /api/oauth/usage` gives it (utilization 0-100, ISO resets), with
    resets some hours and days after `now`: a window whose reset has passed is left out by the
    proxy, so fixed dates would break the tests once the calendar reached them."""
    hour = int((time.time() if now is None else now) // 3600 * 3600)

    def iso(at: int) -> str:
        return datetime.fromtimestamp(at, timezone.utc).isoformat()

    return {
        "five_hour": {"utilization": 42.0, "resets_at": iso(hour + 3 * 3600)},
        "seven_day": {"utilization": 17.0, "resets_at": iso(hour + 5 * 86400)},
        "seven_day_oauth_apps": None,
        "seven_day_opus": None,
        "seven_day_sonnet": {"utilization": 5.0, "resets_at": iso(hour + 5 * 86400)},
        "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None, "utilization": None},
    }


PROFILE: dict[str, Any] = {
    "account": {"uuid": "11111111-1111-4111-8111-111111111111", "email": "user@example.com", "full_name": "Test User",
                "display_name": "Test", "has_claude_max": True, "has_claude_pro": False, "created_at": "2025-01-01T00:00:00Z"},
    "organization": {"uuid": "22222222-2222-4222-8222-222222222222", "name": "Test org", "organization_type": "claude_max",
                     "billing_type": "stripe_subscription", "rate_limit_tier": "default_claude_max_20x", "has_extra_usage_enabled": False},
}
DROP_LINGER_SECONDS = 0.3


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str  # including the query string, e.g. /v1/messages?beta=true
    headers: dict[str, str]  # lower-cased names, credentials removed
    auth: str | None  # which credential came ("x-api-key" or "bearer"), never its value
    body: Any  # parsed JSON, or None
    scenario: str | None  # the scenario that answered, for /v1/messages

    @property
    def is_message(self) -> bool:
        return self.method == "POST" and self.path.split("?")[0] == "/v1/messages"


class MockAnthropic:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, event_delay: float = 0.002, default_scenario: str = DEFAULT_SCENARIO) -> None:
        self.host = host
        #: What a request without a marker gets: "text", or e.g. "model" for clients (conformance
        #: suites) whose prompts carry no marker.
        self.default_scenario = default_scenario
        self.port = port
        self.event_delay = event_delay  # pause between SSE events, so deltas arrive as separate reads
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._attempts: Counter[tuple[str, str]] = Counter()
        self._ids = itertools.count(1)
        #: What `GET /api/oauth/usage` answers (the plan's windows, utilization 0-100).
        self.usage: dict[str, Any] = default_usage()
        self._oauth_host: OAuthHost | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def message_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.is_message]

    def system_texts(self) -> list[str]:
        return [system_text(request.body) for request in self.message_requests() if isinstance(request.body, dict)]

    async def start(self) -> MockAnthropic:
        app = web.Application(middlewares=[self._record], client_max_size=1024**3)
        app.router.add_get("/api/hello", self._hello)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        # The CLI's OAuth host (api.anthropic.com, through `serve_oauth_host()`).
        app.router.add_get("/api/oauth/usage", self._oauth_usage)
        app.router.add_get("/api/oauth/profile", self._oauth_profile)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the real port when 0 was asked
        return self

    async def serve_oauth_host(self, directory: Path) -> dict[str, str]:
        """Also answer as https://api.anthropic.com (oauth_host.py); returns the environment
        that sends the CLI's calls to that host here."""
        assert self._runner is not None
        self._oauth_host = await OAuthHost(self._runner, directory).start()
        return self._oauth_host.env()

    def oauth_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.startswith("/api/oauth/")]

    async def close(self) -> None:
        self._closing.set()  # releases stalled streams
        if self._oauth_host is not None:
            await self._oauth_host.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> MockAnthropic:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- request recording -------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        scenario = find_marker(body, self.default_scenario).scenario if request.path == "/v1/messages" and isinstance(body, dict) else None
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path_qs,
                headers={name.lower(): value for name, value in request.headers.items() if name.lower() not in CREDENTIAL_HEADERS},
                auth=_credential_kind(request),
                body=body,
                scenario=scenario,
            )
        )
        return await handler(request)

    # -- routes --------------------------------------------------------------

    async def _hello(self, request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error_response(ApiError(404, "not_found_error", f"mock: no route for {request.method} {request.path}"), "")

    async def _oauth_usage(self, request: web.Request) -> web.Response:
        return web.json_response(self.usage)

    async def _oauth_profile(self, request: web.Request) -> web.Response:
        return web.json_response(PROFILE)

    async def _count_tokens(self, request: web.Request) -> web.Response:
        # About four characters per token, like the usage numbers elsewhere.
        return web.json_response({"input_tokens": max(1, len(await request.text()) // 4)})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        marker = find_marker(body, self.default_scenario)
        number = next(self._ids)
        request_id = f"req_mock_{number:04d}"
        scenario = SCENARIOS.get(marker.scenario)
        if scenario is None:
            return _error_response(unknown_scenario(marker.scenario), request_id)
        stream = bool(body.get("stream"))
        attempt_key = (request.headers.get("x-claude-code-session-id", ""), marker.scenario)
        self._attempts[attempt_key] += 1
        outcome: Outcome = scenario(
            ScenarioRequest(
                body=body,
                marker=marker,
                attempt=self._attempts[attempt_key],
                stream=stream,
                tool_use_id=f"toolu_mock_{number:04d}",
            )
        )
        message_id = f"msg_mock_{number:04d}"
        model = str(body.get("model") or "unknown-model")
        if isinstance(outcome, ApiError):
            return _error_response(outcome, request_id)
        if isinstance(outcome, BrokenStream):
            return await self._broken(request, request_id, outcome, stream=stream, message_id=message_id, model=model)
        if not stream:
            return web.json_response(
                message_json(outcome, message_id=message_id, model=model),
                headers={"request-id": request_id, **outcome.headers},
            )
        response = await self._sse_response(request, request_id, outcome.headers)
        await self._send(response, reply_events(outcome, message_id=message_id, model=model))
        await self._finish(response)
        return response

    # -- streaming -----------------------------------------------------------

    async def _sse_response(self, request: web.Request, request_id: str, headers: dict[str, str]) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "request-id": request_id, **headers}
        )
        await response.prepare(request)
        return response

    async def _send(self, response: web.StreamResponse, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
        for event, data in events:
            await response.write(sse_frame(event, data))
            await asyncio.sleep(self.event_delay)

    async def _finish(self, response: web.StreamResponse) -> None:
        try:
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client hung up first (the CLI does after an SSE error event): nothing to finish

    async def _broken(
        self, request: web.Request, request_id: str, outcome: BrokenStream, *, stream: bool, message_id: str, model: str
    ) -> web.StreamResponse:
        if not stream:
            # A non-streaming request cannot break part-way: fail it as a whole.
            if outcome.how == "error" and outcome.error is not None:
                return _error_response(outcome.error, request_id)
            if outcome.how == "drop":
                _cut(request)
            else:
                await self._stall(request)
            return web.Response(status=200)

        response = await self._sse_response(request, request_id, {})
        await self._send(response, [message_start(message_id=message_id, model=model)])
        if outcome.how == "stall":
            await self._stall(request)
            return response
        await self._send(response, block_events(0, outcome.partial.blocks[0], delta_limit=1))
        if outcome.how == "drop":
            # Let the client handle the partial events first: a close arriving with
            # them makes the CLI drop a random number of them (flaky transcripts).
            await asyncio.sleep(DROP_LINGER_SECONDS)
            _cut(request)
            return response
        await self._send(response, [("error", outcome.error.body() if outcome.error else {})])
        await self._finish(response)
        return response

    async def _stall(self, request: web.Request) -> None:
        """Stay silent until the client goes away or the mock shuts down."""
        while not self._closing.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await asyncio.sleep(0.05)


def _cut(request: web.Request) -> None:
    # Close without finishing the chunked body: the client sees the stream end
    # early. close() (FIN) rather than abort() (RST), because an RST makes the
    # client's kernel drop the events it has not read yet.
    if request.transport is not None:
        request.transport.close()


def _credential_kind(request: web.Request) -> str | None:
    if "x-api-key" in request.headers:
        return "x-api-key"
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return "bearer"
    return None


def _error_response(error: ApiError, request_id: str) -> web.Response:
    headers = {"request-id": request_id, **error.headers} if request_id else dict(error.headers)
    return web.json_response(error.body(), status=error.status, headers=headers)
