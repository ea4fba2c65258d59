"""Codex CLI (npm `@openai/codex`, pinned in scripts/test) runs a task needing one function call
through the proxy's `/v1/responses`, with the fake CLI playing the model.

Codex is installed outside the package (`npm install --prefix .cache/npm-codex @openai/codex@0.171.0`)
and found through $CODEX_BIN or that folder; missing, the test is skipped locally and fails in CI.
Its provider is the README's `config.toml` entry, in a temporary CODEX_HOME.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from test_conformance import ROOT, run, tool_or_skip

CODEX_DEFAULT = ROOT / ".cache" / "npm-codex" / "node_modules" / ".bin" / "codex"
CONFIG = """\
model = "claude-sonnet-4"
model_provider = "claude-max-tui"
# Codex offers the model OpenAI's hosted web search by default; the CLI cannot run it.
web_search = "disabled"

[model_providers.claude-max-tui]
name = "claude-max-tui"
base_url = "{url}/v1"
env_key = "CLAUDE_MAX_TUI_API_KEY"
wire_api = "responses"
"""
TASK = 'Run `echo hello-from-codex` and report its output. [[fake:tool_call tool=exec_command args="{\\"cmd\\":\\"echo hello-from-codex\\"}"]]'


async def codex_exec(url: str, tmp_path: Path, task: str) -> str:
    """`codex exec TASK` with the README's provider pointing at `url`; its last message.
    No sandbox: the fake model's command is fixed, and sandboxes depend on the host."""
    codex = tool_or_skip(os.environ.get("CODEX_BIN") or str(CODEX_DEFAULT), "codex (npm @openai/codex)")
    home, work = tmp_path / "codex-home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(CONFIG.format(url=url))
    last = tmp_path / "last-message.txt"
    env = {**os.environ, "CODEX_HOME": str(home), "CLAUDE_MAX_TUI_API_KEY": "unused"}
    argv = [codex, "exec", "--skip-git-repo-check", "--sandbox", "danger-full-access", "-C", str(work), "--output-last-message", str(last), task]
    code, out, err = await run(*argv, env=env, timeout=180)
    assert code == 0, (out[-2000:], err[-3000:])
    return last.read_text()


async def test_codex_exec_completes_a_task_with_one_function_call(engine, tmp_path: Path):
    answer = await codex_exec(engine.url, tmp_path, TASK)
    assert answer.startswith("The tool returned:") and "hello-from-codex" in answer  # the command's real output came back

    summaries = [s for s in await engine.store.alist(limit=10) if s.path == "/v1/responses"]
    first, second = sorted(summaries, key=lambda s: s.started_at)
    assert (first.status, first.finish_reason, second.status, second.finish_reason) == (200, "tool_calls", 200, "stop")
    # What Codex sends (kept in the capture): streaming, store off, include, its function tools.
    body = json.loads((await engine.store.aget(first.id)).request_body)
    assert body["stream"] is True and body["store"] is False and "reasoning.encrypted_content" in body["include"]
    assert "exec_command" in {tool.get("name") for tool in body["tools"]}
    followup = json.loads((await engine.store.aget(second.id)).request_body)
    outputs = [item for item in followup["input"] if item.get("type") == "function_call_output"]
    assert len(outputs) == 1 and "hello-from-codex" in json.dumps(outputs[0])
