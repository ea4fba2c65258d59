"""Third-party conformance suites against the proxy (docs/openai-contract.md §11), with the fake CLI
playing the model (`FAKE_CLAUDE_SCENARIO=model`: structured output for a schema, a tool call
when tools are offered, else an echo). Every test must pass; skipped ones are only those the
suite itself skips for non-reasoning model names.

* llm-comply (PyPI): `pip install llm-comply==0.5.0`; offline, never `update-spec`.
* compatcanary (npm): installed outside the package, e.g. `npm install --prefix .cache/npm-conformance
  compatcanary@0.2.2`; found through $COMPATCANARY_BIN or that folder. Missing: skipped locally,
  a failure in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPATCANARY_DEFAULT = ROOT / ".cache" / "npm-conformance" / "node_modules" / ".bin" / "compatcanary"
MODEL = "claude-sonnet-4"


@pytest.fixture
async def proxy(start_engine, monkeypatch):
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "model")
    return await start_engine()


async def run(*argv: str, env: dict | None = None, timeout: float = 300) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), err.decode()


def tool_or_skip(path: str | None, what: str) -> str:
    if path and os.access(path, os.X_OK):
        return path
    reason = f"{what} is not installed (see this module's docstring)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


async def test_llm_comply_openai_chat_passes_in_full(proxy):
    # Beside this interpreter first: scripts/test runs the venv's python without activating it.
    llm_comply = tool_or_skip(shutil.which("llm-comply", path=os.path.dirname(sys.executable)) or shutil.which("llm-comply"), "llm-comply")
    code, out, err = await run(llm_comply, "--format", "openai-chat", "-u", proxy.url + "/v1", "-k", "KEY", "-m", MODEL, "--timeout", "60", "--json")
    report = json.loads(out)
    results = report["results"] if isinstance(report, dict) else report
    outcomes = {r.get("test_id") or r.get("id"): r.get("status") for r in results}
    assert code == 0, (outcomes, err[-2000:])
    assert {status for status in outcomes.values()} <= {"passed", "skipped"}, outcomes
    assert outcomes["chat-tool-calling"] == "passed" and outcomes["chat-image-input"] == "passed"
    warnings = [w for r in results for w in r.get("warnings") or []]
    assert warnings == [], warnings


async def test_compatcanary_chat_profile_passes_in_full(proxy, tmp_path):
    binary = tool_or_skip(os.environ.get("COMPATCANARY_BIN") or str(COMPATCANARY_DEFAULT), "compatcanary")
    report_path = tmp_path / "compatcanary.json"
    env = {**os.environ, "OPENAI_API_KEY": "KEY"}
    argv = [binary, "scan", "--base-url", proxy.url + "/v1", "--model", MODEL, "--profile", "chat", "--timeout", "60", "--format", "json", "--output", str(report_path), "--fail-on", "required"]
    code, out, err = await run(*argv, env=env)
    report = json.loads(report_path.read_text())
    statuses = {probe["id"]: probe["status"] for probe in report["results"]}
    assert code == 0, (statuses, out[-2000:], err[-2000:])
    assert set(statuses.values()) == {"pass"}, statuses
    assert {"chat.tool_call", "chat.structured_output"} <= statuses.keys()
    assert report["score"] == 100
