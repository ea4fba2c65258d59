"""Just enough of an MCP client (Streamable HTTP) to do what the real CLI does with --mcp-config.

The real CLI connects to each configured HTTP server before the turn, lists its tools
(offered to the model as `mcp__<server>__<tool>`), and calls one when the model asks,
while it keeps printing the rest of the message. Standard library only (the fake runs
with `python -I -S`).
"""

from __future__ import annotations

import json
import threading
import urllib.request

PROTOCOL_VERSION = "2025-06-18"


class McpServer:
    def __init__(self, name: str, url: str, headers: dict) -> None:
        self.name = name
        self.url = url
        self.headers = headers
        self.tools: list = []
        self.connected = False
        self._ids = 0

    def _post(self, method: str, params: dict | None = None, notify: bool = False, timeout: float | None = 10):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            self._ids += 1
            message["id"] = self._ids
        request = urllib.request.Request(
            self.url, data=json.dumps(message).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                     **self.headers})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def connect(self) -> None:
        self._post("initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                  "clientInfo": {"name": "fake-claude", "version": "1"}})
        self._post("notifications/initialized", notify=True)
        answer = self._post("tools/list", {})
        self.tools = list(((answer or {}).get("result") or {}).get("tools") or [])
        self.connected = True

    def call_in_background(self, tool: str, arguments: dict) -> threading.Thread:
        """tools/call without waiting (the real CLI streams on while the tool runs)."""
        result: dict = {}

        def call() -> None:
            try:
                result.update(self._post("tools/call", {"name": tool, "arguments": arguments}, timeout=None) or {})
            except OSError as error:
                result["error"] = {"message": str(error)}

        thread = threading.Thread(target=call, daemon=True)
        thread.result = result  # type: ignore[attr-defined]
        thread.start()
        return thread


_connected: dict = {}  # once per process, like the real CLI: init and the scenario share them


def connect_all(config_items: list) -> list:
    """Every server of the --mcp-config items (files or inline JSON); HTTP ones are connected
    (`connected` says whether that worked), other kinds are never started here."""
    key = tuple(config_items or ())
    if key not in _connected:
        _connected[key] = _connect(config_items)
    return _connected[key]


def _connect(config_items: list) -> list:
    servers = []
    for item in config_items or []:
        try:
            if item.lstrip().startswith("{"):
                config = json.loads(item)
            else:
                with open(item, encoding="utf-8") as f:
                    config = json.load(f)
        except (OSError, ValueError):
            continue
        for name, entry in ((config or {}).get("mcpServers") or {}).items():
            server = McpServer(name, entry.get("url", ""), entry.get("headers") or {})
            servers.append(server)
            if entry.get("type") == "http":
                try:
                    server.connect()
                except (OSError, ValueError):
                    pass
    return servers
