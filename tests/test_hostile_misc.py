"""Item 6 of issue 16, the smaller holes: an argv too long for the system is a 400 naming `tools`, key-like query parameters and account headers
redacted in captures, only the proxy's own origin passes the web-page check, and an empty
or whitespace-only API key is refused at start."""

from __future__ import annotations

import sqlite3

import aiohttp
import pytest

from bench.soak import recorded_runs
from tui_proxy.claude.process import CliProcess
from tui_proxy.cli import build_parser, config_from_args
from tui_proxy.errors import ProxyError

# Stale run folders after a kill -9: the engine's working folder sweeps them at start-up
# (claude/workdir.py), tested in tests/test_conversations.py.


# -- argv too long ---------------------------------------------------------------------------


def _tools(n: int) -> list[dict]:
    """Names of 64 characters, the most OpenAI allows."""
    return [
        {"type": "function", "function": {"name": f"tool_{i:04d}_" + "x" * 54, "description": "d", "parameters": {"type": "object", "properties": {}}}}
        for i in range(n)
    ]


async def test_seventeen_hundred_tools_are_a_400_naming_tools_before_any_spawn(engine, fake_claude_env):
    body = {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] hi"}], "tools": _tools(1700)}
    async with aiohttp.ClientSession() as session:
        async with session.post(engine.url + "/v1/chat/completions", json=body) as response:
            status, error = response.status, (await response.json())["error"]
    assert status == 400, error
    assert error["param"] == "tools" and error["code"] == "argv_too_long" and error["type"] == "invalid_request_error"
    assert recorded_runs(fake_claude_env) == []


async def test_e2big_at_spawn_is_the_same_400(tmp_path):
    process = CliProcess(["/bin/true", "--allowedTools=" + "y" * 200_000], env={}, cwd=str(tmp_path))
    with pytest.raises(ProxyError) as caught:
        await process.start()
    assert caught.value.status == 400 and caught.value.param == "tools"


# -- redaction -------------------------------------------------------------------------------


async def test_key_like_query_parameters_and_account_headers_are_redacted(engine):
    secrets = ("sk-query-secret", "sk-token-secret", "Bearer sk-authn-secret", "org-secret-org")
    headers = {"Authentication": secrets[2], "OpenAI-Organization": secrets[3]}
    body = {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] hi"}]}
    url = engine.url + f"/v1/chat/completions?api_key={secrets[0]}&access_token={secrets[1]}&keep=visible"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, headers=headers) as response:
            assert response.status == 200
            xid = response.headers["x-request-id"]
    import asyncio

    await asyncio.to_thread(engine.store.flush, 10)
    capture = await engine.store.aget(xid)
    assert "keep=visible" in capture.path and "api_key=" in capture.path
    conn = sqlite3.connect(engine.store.path)
    dump = "\n".join(conn.iterdump())
    conn.close()
    for secret in secrets:
        assert secret.split()[-1] not in dump, secret


# -- origins ---------------------------------------------------------------------------------


async def test_only_the_proxys_own_origin_passes(engine, fake_claude_env):
    body = {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] hi"}]}
    own = f"http://127.0.0.1:{engine.port}"
    async with aiohttp.ClientSession() as session:
        for origin in ("http://localhost:9999", f"http://localhost:{engine.port + 1}", "http://127.0.0.1:8080", "http://[::1]:3000", f"http://localhost:{engine.port}"):
            async with session.post(engine.url + "/v1/chat/completions", json=body, headers={"Origin": origin}) as response:
                assert response.status == 403, origin
                assert (await response.json())["error"]["code"] == "origin_not_allowed"
        async with session.post(engine.url + "/v1/chat/completions", json=body, headers={"Origin": own}) as response:
            assert response.status == 200
    assert len(recorded_runs(fake_claude_env)) == 1


# -- the API key -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["   ", "\t\n", ""])
def test_a_blank_api_key_is_refused_at_start(key, monkeypatch):
    monkeypatch.delenv("CLAUDE_MAX_TUI_API_KEY", raising=False)
    args = build_parser().parse_args(["--api-key", key])
    with pytest.raises(SystemExit) as caught:
        config_from_args(args, environ={})
    assert "only whitespace" in str(caught.value)


def test_a_whitespace_key_in_the_environment_is_refused_too():
    args = build_parser().parse_args([])
    with pytest.raises(SystemExit):
        config_from_args(args, environ={"CLAUDE_MAX_TUI_API_KEY": "  "})
    assert config_from_args(args, environ={"CLAUDE_MAX_TUI_API_KEY": ""}).api_key is None
