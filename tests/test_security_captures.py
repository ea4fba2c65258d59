"""Captures are private to the user: checked through a running headless proxy started with a
permissive umask, after real requests (the store's files, WAL and lock included)."""

from __future__ import annotations

import json
import os
import signal
import stat
import urllib.request

from bench.soak import Headless


def modes(root) -> dict[str, int]:
    found = {str(root): stat.S_IMODE(os.stat(root).st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            found[path] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def test_capture_files_are_owner_only_even_with_a_permissive_umask(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_CLAUDE_")}
    old_umask = os.umask(0o000)  # inherited by the proxy: everything it creates would be 0666/0777
    try:
        proxy = Headless(tmp_path, env=env).start()
    finally:
        os.umask(old_umask)
    try:
        body = json.dumps({"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] secret 42"}]}).encode()
        request = urllib.request.Request(proxy.url + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        while_running = modes(proxy.data_dir)
    finally:
        code, _ = proxy.stop(signal.SIGTERM)
    assert code == 0
    after = modes(proxy.data_dir)
    for found in (while_running, after):
        assert any(path.endswith("captures.sqlite3") for path in found)
        for path, mode in found.items():
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}: readable by other users"
    assert stat.S_IMODE(os.stat(proxy.data_dir).st_mode) == 0o700
    # The capture really holds the prompt: this is what the modes protect.
    with open(proxy.data_dir / "captures.sqlite3", "rb") as f:
        assert b"secret 42" in f.read() or any(
            b"secret 42" in open(p, "rb").read() for p in after if p.endswith(("-wal",)) and os.path.isfile(p)
        )


async def test_non_utf8_header_bytes_are_captured_not_lost(start_engine):
    """Header bytes that are not UTF-8 (a hostile or broken client) must not make the capture
    drop the request: they are stored as U+FFFD."""
    import asyncio

    engine = await start_engine()
    body = json.dumps({"model": "sonnet", "messages": [{"role": "user", "content": "[[fake:echo]] hi"}]}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", engine.port)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nUser-Agent: agent\xff\xfe\r\n"
        b"X-Odd: \xc3\x28\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    assert (await reader.read()).startswith(b"HTTP/1.1 200")
    writer.close()
    for _ in range(100):
        await asyncio.to_thread(engine.store.flush)
        rows = await engine.store.alist()
        if rows and rows[0].complete:
            break
        await asyncio.sleep(0.05)
    (row,) = rows
    assert row.client == "agent\ufffd\ufffd"
    capture = await engine.store.aget(row.id)
    assert capture.request_body == body
    assert dict(capture.request_headers)["X-Odd"] == "\ufffd("
