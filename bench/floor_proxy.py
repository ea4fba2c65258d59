"""The floor: the least a Python proxy on aiohttp can do per request, for bench/overhead.py
to measure beside the real one (`--floor`).

It answers POST /v1/chat/completions (streaming) by spawning the CLI the plain way (`claude -p`,
the prompt on stdin, `posix_spawn` in a session of its own), reading its stdout as the pipe
fills, reading each line (the proxy's shortcut for text deltas, `json.loads` for the others),
and writing one SSE chunk per read with the text deltas of
that read, then the finish chunk and `[DONE]` at the result. Nothing else: no capture, no
events, no console, no limits, no errors in any wire shape, no session file, no launcher, no
timeouts. It is not a product; it shows what the interpreter, asyncio, aiohttp and this machine
cost before any of the proxy's own work.

    python bench/floor_proxy.py CLAUDE   (prints "listening on http://127.0.0.1:PORT/v1")
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_proxy.claude.argv import RunOptions, build_argv, build_env  # noqa: E402
from tui_proxy.claude.lines import text_delta_text  # noqa: E402
from tui_proxy.claude.prompt import render_prompt  # noqa: E402
from tui_proxy.conversation import Conversation, TextPart, Turn  # noqa: E402


def chunk(request_id: str, created: int, model: str, delta: dict, finish: str | None) -> str:
    body = {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return "data: " + json.dumps(body, separators=(",", ":")) + "\n\n"


class Floor:
    def __init__(self, cli: str) -> None:
        self.cli = cli
        self.cwd = tempfile.mkdtemp(prefix="floor-")
        self.env = build_env(os.environ, tmpdir=self.cwd)
        self.served = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        data = json.loads(await request.read())
        model = data["model"]
        prompt = render_prompt(Conversation(None, (Turn("user", (TextPart(data["messages"][-1]["content"]),)),))).stdin_line().encode()
        argv = build_argv(self.cli, RunOptions(model=model))
        out_r, out_w = os.pipe()
        in_r, in_w = os.pipe()
        actions = [(os.POSIX_SPAWN_DUP2, in_r, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
        pid = os.posix_spawn(argv[0], argv, self.env, file_actions=actions, setsid=True)
        for fd in (in_r, out_w):
            os.close(fd)
        os.write(in_w, prompt)  # one line, far below the pipe's buffer
        os.close(in_w)
        exited = asyncio.get_running_loop().create_future()
        pidfd = os.pidfd_open(pid)
        loop = asyncio.get_running_loop()

        def on_exit() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            exited.set_result(os.waitpid(pid, 0)[1])

        loop.add_reader(pidfd, on_exit)
        reads: asyncio.Queue[bytes] = asyncio.Queue()
        os.set_blocking(out_r, False)

        def on_stdout() -> None:
            block = os.read(out_r, 262144)
            if not block:
                loop.remove_reader(out_r)
            reads.put_nowait(block)

        loop.add_reader(out_r, on_stdout)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        self.served += 1
        request_id, created = f"chatcmpl-floor{self.served}", int(time.time())
        pending = b""
        opening = chunk(request_id, created, model, {"role": "assistant", "content": ""}, None)
        try:
            while block := await reads.get():
                *lines, pending = (pending + block).split(b"\n")
                texts: list[str] = []
                end = None
                for line in map(bytes.decode, lines):
                    text = text_delta_text(line)  # the proxy's own shortcut for delta lines
                    if text is not None:
                        texts.append(text)
                    elif json.loads(line).get("type") == "result":
                        end = chunk(request_id, created, model, {}, "stop") + "data: [DONE]\n\n"
                out = opening + (chunk(request_id, created, model, {"content": "".join(texts)}, None) if texts else "")
                opening = ""
                if end is not None:
                    await response.write_eof((out + end).encode())
                    return response
                if out:
                    await response.write(out.encode())
            await response.write_eof()
            return response
        finally:
            loop.remove_reader(out_r)
            os.close(out_r)
            await exited


async def main(cli: str) -> None:
    floor = Floor(cli)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", floor.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"listening on http://127.0.0.1:{port}/v1", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
