"""A loopback MCP endpoint (Streamable HTTP, JSON responses) offering one run's client tools.

Each run with tools gets its own endpoint, bound to 127.0.0.1 whatever address the proxy
listens on, on a free port, for the run's lifetime. The CLI must send the run's random
token as a bearer header (it reads it from the run's 0600 `--mcp-config` file), so no
other local process can list or call anything.

`tools/call` is never executed here: the client executes its own functions. A call is
held until the client's next request brings its result (`provide`, when that request
continues this run) or the run ends, so the CLI can neither go on without the result nor
hang. Calls carry no tool_use id: a result is matched to a call by name and arguments.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from typing import Any

from aiohttp import web

from ..conversation import ToolSpec

PROTOCOL_VERSIONS = ("2025-06-18", "2025-03-26", "2024-11-05")
#: How long a held call may wait for the client's result (the parking lot stops the run
#: then); the CLI's own MCP timeout is set above it (`CALL_TIMEOUT`) so that ours ends first.
WAIT_SECONDS = 120.0
CALL_TIMEOUT = WAIT_SECONDS + 60.0
SERVER_INFO = {"name": "claude-max-tui", "version": "1"}


class ToolServer:
    def __init__(self, tools: tuple[ToolSpec, ...], host: str = "127.0.0.1") -> None:
        self.tools = tools
        self.host = host
        self.port: int | None = None
        self.token = secrets.token_urlsafe(32)
        #: Names of the tools the CLI asked to run, in arrival order (console, tests).
        self.called: list[str] = []
        self._closed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        #: Results not yet asked for, and calls not yet answered: (name, arguments, ...).
        self._results: list[tuple[str, Any, dict]] = []
        self._waiting: list[tuple[str, Any, asyncio.Future]] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/mcp"

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/mcp", self._post)
        app.router.add_route("*", "/mcp", self._no_stream)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """The run is over: release held calls, close the port."""
        self._closed.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def provide(self, name: str, arguments: Any, text: str, *, is_error: bool = False) -> None:
        """The result of the call `name(arguments)`, for the held call or the one to come."""
        result = {"content": [{"type": "text", "text": text}], "isError": is_error}
        waiting = self._pick(self._waiting, name, arguments)
        if waiting is not None:
            waiting[2].set_result(result)
        else:
            self._results.append((name, arguments, result))

    async def _call(self, name: str, arguments: Any) -> dict:
        self.called.append(name)
        given = self._pick(self._results, name, arguments)
        if given is not None:
            return given[2]
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((name, arguments, future))
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait((future, closed), return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if future.done():
            return future.result()
        return {"content": [{"type": "text", "text": "The run ended before the client answered this call."}], "isError": True}

    @staticmethod
    def _pick(entries: list, name: str, arguments: Any):
        """Take the entry for `name(arguments)`: same arguments, else the only one of that
        name (should the CLI ever pass arguments on differently than the model wrote them)."""
        same_name = [i for i, entry in enumerate(entries) if entry[0] == name]
        exact = [i for i in same_name if entries[i][1] == arguments]
        chosen = exact[0] if exact else same_name[0] if len(same_name) == 1 else None
        return None if chosen is None else entries.pop(chosen)

    # -- HTTP ----------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self.token.encode())

    async def _no_stream(self, request: web.Request) -> web.Response:
        # No server-initiated stream (GET) and no session to delete: the spec's 405.
        return web.Response(status=405, headers={"Allow": "POST"})

    async def _post(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response(_error(None, -32001, "Unknown or missing token."), status=401)
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return web.json_response(_error(None, -32700, "Parse error"), status=400)
        messages = payload if isinstance(payload, list) else [payload]
        answers = [a for a in await asyncio.gather(*(self._answer(m) for m in messages)) if a is not None]
        if not answers:
            return web.Response(status=202)  # notifications only
        return web.json_response(answers if isinstance(payload, list) else answers[0])

    async def _answer(self, message: Any) -> dict | None:
        if not isinstance(message, dict) or "method" not in message:
            return None  # a response or junk: nothing to answer
        method, request_id = message.get("method"), message.get("id")
        if request_id is None:
            return None  # notification (notifications/initialized, cancelled...)
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        if method == "initialize":
            asked = params.get("protocolVersion")
            version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
            return _result(request_id, {"protocolVersion": version, "capabilities": {"tools": {"listChanged": False}}, "serverInfo": SERVER_INFO})
        if method == "ping":
            return _result(request_id, {})
        if method == "tools/list":
            return _result(request_id, {"tools": [_tool_entry(tool) for tool in self.tools]})
        if method == "tools/call":
            return _result(request_id, await self._call(str(params.get("name")), params.get("arguments") or {}))
        return _error(request_id, -32601, f"Method not found: {method}")


def _tool_entry(tool: ToolSpec) -> dict:
    schema = dict(tool.parameters) if tool.parameters else {}
    schema.setdefault("type", "object")
    if schema["type"] == "object":
        schema.setdefault("properties", {})
    return {"name": tool.name, "description": tool.description, "inputSchema": schema}


def _result(request_id: Any, result: dict) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _error(request_id: Any, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
