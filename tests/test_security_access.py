"""Who may talk to the proxy: loopback by default, the API key (constant-time), refusing a
public bind without a key, the Host check against DNS rebinding, no CORS for web pages."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import openai
import pytest

from bench.soak import Headless, recorded_runs
from tests.conftest import fake_config, strict_client
from tui_proxy.cli import build_parser, config_from_args
from tui_proxy.config import Config
from tui_proxy.engine import Engine
from tui_proxy.server import guard as guard_module

KEY = "sk-proxy-test-key-0123456789"
CHAT = {"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] hi"}]}


async def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict, bytes]:
    """Bytes on the wire, so headers can be anything a hostile client sends."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + (b"Content-Length: %d\r\n\r\n" % len(body)) + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    header_block, _, payload = rest.partition(b"\r\n\r\n")
    headers = {}
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        headers[name.decode().strip().lower()] = value.decode(errors="replace").strip()
    return int(status_line.split()[1]), headers, payload


def head(method: str, path: str, *lines: bytes) -> bytes:
    return f"{method} {path} HTTP/1.1\r\n".encode() + b"".join(line + b"\r\n" for line in lines) + b"Connection: close\r\n"


# -- where it listens ---------------------------------------------------------------------


async def test_it_listens_on_loopback_only_by_default(start_engine):
    assert Config().host == "127.0.0.1"
    engine = await start_engine(host=Config().host)
    addresses = [s.getsockname()[0] for site in engine._runner.sites for s in site._server.sockets]
    assert addresses == ["127.0.0.1"]


async def test_a_public_bind_without_a_key_refuses_to_start(tmp_path, fake_claude_env):
    engine = Engine(fake_config(tmp_path, host="0.0.0.0"))
    with pytest.raises(PermissionError, match="without an API key"):
        await engine.start()
    assert engine.port is None  # refused before binding anything


async def test_a_public_bind_is_accepted_with_a_key_or_an_explicit_allow(tmp_path, fake_claude_env):
    # 192.0.2.1 (TEST-NET-1) is on no interface here: passing the guard shows as a bind
    # error, so nothing is ever exposed by this test.
    for extra in ({"api_key": KEY}, {"allow_remote": True}):
        engine = Engine(fake_config(tmp_path, host="192.0.2.1", **extra))
        with pytest.raises(OSError) as raised:
            await engine.start()
        assert not isinstance(raised.value, PermissionError)


def test_headless_refuses_a_public_bind_without_a_key_with_a_clear_message(tmp_path):
    proxy = Headless(tmp_path, "--host", "0.0.0.0")
    with pytest.raises(RuntimeError):
        proxy.start(timeout=15)
    assert proxy.process.wait(10) == 1
    assert "Refusing to listen on 0.0.0.0 without an API key" in proxy.output()


def test_the_key_comes_from_the_flag_or_the_environment():
    parser = build_parser()
    assert config_from_args(parser.parse_args(["--api-key", "flag-key"]), {}).api_key == "flag-key"
    assert config_from_args(parser.parse_args([]), {"CLAUDE_MAX_TUI_API_KEY": "env-key"}).api_key == "env-key"
    assert config_from_args(parser.parse_args(["--api-key", "flag-key"]), {"CLAUDE_MAX_TUI_API_KEY": "env-key"}).api_key == "flag-key"
    assert config_from_args(parser.parse_args([]), {}).api_key is None


# -- the API key ----------------------------------------------------------------------------


async def test_with_a_key_only_the_right_bearer_gets_in(start_engine, fake_claude_env):
    engine = await start_engine(api_key=KEY)
    async with strict_client(engine, api_key=KEY) as client:
        answer = await client.chat.completions.create(**CHAT)
        assert answer.choices[0].message.content == "You said: [[fake:echo]] hi"
    for wrong in ("wrong", "sk-proxy-test-key-012345678", KEY + "x", KEY.upper()):
        async with strict_client(engine, api_key=wrong) as client:
            with pytest.raises(openai.AuthenticationError) as raised:
                await client.chat.completions.create(**CHAT)
            assert raised.value.code == "invalid_api_key"
            assert raised.value.response.headers.get("x-should-retry") == "false"
            with pytest.raises(openai.AuthenticationError):
                await client.models.list()
    bodies = json.dumps(CHAT).encode()
    for authorization in (b"", b"Authorization: " + KEY.encode(), b"Authorization: Basic " + KEY.encode(), b"Authorization: Bearer", b"Authorization: Bearer \xff\xfe\x80", b"Authorization: Bearer " + KEY.encode() + b"\xff"):
        lines = [b"Host: 127.0.0.1", b"Content-Type: application/json"] + ([authorization] if authorization else [])
        status, headers, body = await raw_request(engine.port, head("POST", "/v1/chat/completions", *lines), bodies)
        assert status == 401, (authorization, body)
        assert json.loads(body)["error"]["code"] == "invalid_api_key"
    status, _, _ = await raw_request(engine.port, head("POST", "/v1/chat/completions", b"Host: 127.0.0.1", b"Authorization: bearer  " + KEY.encode()), bodies)
    assert status == 200  # scheme is case-insensitive, spaces around the token are not part of it
    # Refused requests never reached the CLI: only the two good ones ran.
    assert len(recorded_runs(fake_claude_env)) == 2
    # Health says nothing about the machine to a stranger either.
    status, _, _ = await raw_request(engine.port, head("GET", "/health", b"Host: 127.0.0.1"))
    assert status == 401


async def test_the_key_compare_is_constant_time(start_engine, monkeypatch):
    """compare_digest on equal-length digests: neither a matching prefix nor the key's
    length changes what is compared."""
    engine = await start_engine(api_key=KEY)
    compared: list[tuple[bytes, bytes]] = []
    real = guard_module.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(guard_module.hmac, "compare_digest", spy)
    async with aiohttp.ClientSession() as session:
        for token in ("x", KEY[:-1], KEY, "y" * 500):
            async with session.get(engine.url + "/v1/models", headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == (200 if token == KEY else 401)
    assert len(compared) == 8  # each request: its bearer token and its (absent) x-api-key
    assert {len(a) for a, _ in compared} == {len(b) for _, b in compared} == {32}
    assert all(KEY.encode() not in a and KEY.encode() not in b for a, b in compared)


async def test_the_proxy_key_never_reaches_the_cli(start_engine, fake_claude_env, monkeypatch):
    monkeypatch.setenv("CLAUDE_MAX_TUI_API_KEY", KEY)
    engine = await start_engine(api_key=KEY)
    async with strict_client(engine, api_key=KEY) as client:
        await client.chat.completions.create(**CHAT)
    (run,) = recorded_runs(fake_claude_env)
    assert KEY not in json.dumps(run)  # not in argv, env, stdin or cwd


# -- Host and Origin -----------------------------------------------------------------------


async def test_dns_rebinding_is_refused_by_the_host_check(start_engine, fake_claude_env):
    engine = await start_engine()
    body = json.dumps(CHAT).encode()
    port = engine.port
    for host in (b"evil.example", f"evil.example:{port}".encode(), b"127.0.0.1.evil.example", b"localhost.evil.example", b"\xff\xfe"):
        status, headers, payload = await raw_request(port, head("POST", "/v1/chat/completions", b"Host: " + host, b"Content-Type: application/json"), body)
        assert status == 403 and json.loads(payload)["error"]["code"] == "host_not_allowed", host
        assert "access-control-allow-origin" not in headers
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}", "127.0.0.2"):
        status, _, payload = await raw_request(port, head("POST", "/v1/chat/completions", f"Host: {host}".encode(), b"Content-Type: application/json"), body)
        assert status == 200, (host, payload)
    assert len(recorded_runs(fake_claude_env)) == 5  # only the allowed hosts ran


async def test_allowed_hosts_extend_the_host_check(start_engine):
    engine = await start_engine(allowed_hosts=("proxy.internal",))
    status, _, _ = await raw_request(engine.port, head("GET", "/v1/models", b"Host: proxy.internal:8080"))
    assert status == 200
    status, _, _ = await raw_request(engine.port, head("GET", "/v1/models", b"Host: other.internal"))
    assert status == 403


def test_bound_to_every_interface_ip_literals_pass_and_names_need_allowing():
    from tui_proxy.server.guard import Guard

    guard = Guard(Config(host="0.0.0.0", api_key=KEY, allowed_hosts=("box.lan",)))
    assert guard._host_allowed("192.168.1.20") and guard._host_allowed("fe80::1")
    assert guard._host_allowed("box.lan") and guard._host_allowed("localhost")
    assert not guard._host_allowed("evil.example")  # a rebinding page always uses a name


async def test_web_pages_get_no_cors_and_cannot_call(start_engine, fake_claude_env):
    engine = await start_engine()
    async with aiohttp.ClientSession() as session:
        preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
        async with session.options(engine.url + "/v1/chat/completions", headers=preflight) as response:
            assert response.status >= 400 and "Access-Control-Allow-Origin" not in response.headers
        for origin in ("http://evil.example", "null", "https://localhost.evil.example"):
            async with session.post(engine.url + "/v1/chat/completions", json=CHAT, headers={"Origin": origin}) as response:
                assert response.status == 403 and "Access-Control-Allow-Origin" not in response.headers
                assert (await response.json())["error"]["code"] == "origin_not_allowed"
        # No response of any kind carries a wildcard.
        for method, path in (("GET", "/v1/models"), ("GET", "/health"), ("POST", "/v1/chat/completions"), ("GET", "/nope")):
            async with session.request(method, engine.url + path, json=CHAT if method == "POST" else None) as response:
                assert response.headers.get("Access-Control-Allow-Origin") != "*"
    assert len(recorded_runs(fake_claude_env)) == 1  # only the plain POST without an Origin ran


async def test_a_missing_or_garbled_request_line_never_reaches_a_handler(start_engine, fake_claude_env):
    engine = await start_engine()
    for raw in (b"GET /health HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n"):
        reader, writer = await asyncio.open_connection("127.0.0.1", engine.port)
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert answer == b"" or answer.split(b" ")[1].startswith(b"4"), answer[:100]
    assert recorded_runs(fake_claude_env) == []
    with socket.create_connection(("127.0.0.1", engine.port), timeout=5):
        pass  # still serving
