"""The pieces of client tool calling on their own: the per-run MCP endpoint, its config file,
tool_choice planning, and the stream → tool-call collector."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import aiohttp
import pytest

from tui_proxy.claude.lines import Init, parse_line
from tui_proxy.conversation import ToolChoice, ToolSpec
from tui_proxy.tools.bridge import ToolServer
from tui_proxy.tools.choice import plan_tools
from tui_proxy.tools.mcp_config import write_mcp_config
from tui_proxy.tools.stream_calls import ToolCallArguments, ToolCallCollector, ToolCallStarted

WEATHER = ToolSpec("get_weather", "Weather.", {"type": "object", "properties": {"city": {"type": "string"}}})
NO_PARAMS = ToolSpec("ping", "Ping.", {})


@pytest.fixture
async def server():
    tool_server = ToolServer((WEATHER, NO_PARAMS))
    await tool_server.start()
    yield tool_server
    await tool_server.stop()


async def rpc(server: ToolServer, payload, token: str | None = None):
    headers = {"Authorization": f"Bearer {server.token if token is None else token}"}
    async with aiohttp.ClientSession() as session, session.post(server.url, json=payload, headers=headers) as response:
        return response.status, (await response.json() if response.status not in (202,) else None)


async def test_only_the_runs_token_gets_in(server):
    status, body = await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, token="guess")
    assert status == 401 and body["error"]["code"] == -32001
    async with aiohttp.ClientSession() as session, session.post(server.url, json={}) as response:
        assert response.status == 401
    assert server.host == "127.0.0.1"  # loopback only, whatever the proxy listens on


async def test_handshake_and_tool_list(server):
    status, body = await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}})
    assert status == 200 and body["result"]["protocolVersion"] == "2025-03-26" and "tools" in body["result"]["capabilities"]
    status, _ = await rpc(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert status == 202
    _, body = await rpc(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    tools = {t["name"]: t for t in body["result"]["tools"]}
    assert tools["get_weather"]["inputSchema"] == WEATHER.parameters
    assert tools["ping"]["inputSchema"] == {"type": "object", "properties": {}}  # always an object schema
    _, body = await rpc(server, [{"jsonrpc": "2.0", "id": 3, "method": "ping"}, {"jsonrpc": "2.0", "id": 4, "method": "nope"}])
    assert body[0]["result"] == {} and body[1]["error"]["code"] == -32601
    async with aiohttp.ClientSession() as session, session.get(server.url) as response:
        assert response.status == 405  # no server-initiated stream


async def test_a_call_is_held_until_the_run_ends():
    server = ToolServer((WEATHER,))
    await server.start()
    call = asyncio.ensure_future(rpc(server, {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "get_weather", "arguments": {"city": "Paris"}}}))
    await asyncio.sleep(0.2)
    assert not call.done() and server.called == ["get_weather"]  # the client runs it, not us
    await server.stop()
    status, body = await asyncio.wait_for(call, 5)
    assert status == 200 and body["result"]["isError"] is True


async def test_mcp_config_file_is_private(server, tmp_path):
    path = write_mcp_config(str(tmp_path / "mcp.json"), server)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    entry = json.loads(open(path).read())["mcpServers"]["client"]
    assert entry == {"type": "http", "url": server.url, "headers": {"Authorization": f"Bearer {server.token}"}}


def test_tool_choice_plans():
    tools = (WEATHER, NO_PARAMS)
    assert plan_tools(tools, ToolChoice("none"), True).offered == ()
    assert plan_tools((), ToolChoice("auto"), True).offered == ()
    auto = plan_tools(tools, ToolChoice(), True)
    assert auto.allowed_tools == ("mcp__client__get_weather", "mcp__client__ping")
    assert "must" not in auto.instruction
    named = plan_tools(tools, ToolChoice("named", "ping"), False)
    assert named.allowed_tools == ("mcp__client__ping",)
    assert "You must call the tool mcp__client__ping" in named.instruction and "at most one tool" in named.instruction
    assert "at least one" in plan_tools(tools, ToolChoice("required"), True).instruction


def test_collector_turns_blocks_into_calls():
    calls = ToolCallCollector()
    assert calls.block_start(0, None, None) is None  # a text block
    assert calls.block_start(1, "toolu_1", "mcp__client__get_weather") == ToolCallStarted(0, "toolu_1", "get_weather")
    assert calls.arguments(1, '{"city":') == ToolCallArguments(0, '{"city":')
    assert calls.arguments(1, ' "Paris"}') == ToolCallArguments(0, ' "Paris"}')
    assert calls.block_stop(1) is None
    assert calls.block_start(2, "toolu_2", "StructuredOutput") is None  # the CLI's own tool
    assert calls.block_start(3, "toolu_3", "mcp__client__ping") == ToolCallStarted(1, "toolu_3", "ping")
    assert calls.block_stop(3) == ToolCallArguments(1, "{}")  # no arguments streamed: still JSON
    assert [(c.id, c.name, c.arguments) for c in calls.calls] == [("toolu_1", "get_weather", '{"city": "Paris"}'), ("toolu_3", "ping", "{}")]


def test_collector_keeps_one_call_without_parallel_calls():
    calls = ToolCallCollector(parallel=False)
    assert calls.block_start(0, "toolu_1", "mcp__client__a") is not None
    calls.block_stop(0)
    assert calls.block_start(1, "toolu_2", "mcp__client__b") is None
    assert len(calls.calls) == 1


def test_init_line_reports_mcp_servers():
    line = json.dumps({"type": "system", "subtype": "init", "tools": ["mcp__client__a"], "mcp_servers": [{"name": "client", "status": "failed"}]})
    parsed = parse_line(line)
    assert isinstance(parsed, Init) and parsed.mcp_servers == {"client": "failed"}


async def test_results_match_calls_by_name_and_arguments(server):
    async def call(arguments):
        return await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_weather", "arguments": arguments}})

    paris, rome = asyncio.ensure_future(call({"city": "Paris"})), asyncio.ensure_future(call({"city": "Rome"}))
    await asyncio.sleep(0.2)
    server.provide("get_weather", {"city": "Rome"}, "hot")
    server.provide("get_weather", {"city": "Paris"}, "mild")
    assert (await paris)[1]["result"]["content"][0]["text"] == "mild"
    assert (await rome)[1]["result"]["content"][0]["text"] == "hot"
    server.provide("ping", {}, "pong")  # a result given before its call arrives waits for it
    _, body = await rpc(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ping", "arguments": {"x": 1}}})
    assert body["result"] == {"content": [{"type": "text", "text": "pong"}], "isError": False}  # the only one of that name
