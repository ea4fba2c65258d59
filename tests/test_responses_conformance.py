"""llm-comply `--format open-responses` in full against the proxy's `/v1/responses`, with the fake
CLI playing the model (`FAKE_CLAUDE_SCENARIO=model`: a tool call when tools are offered, else an
echo). See tests/test_conformance.py for the chat suites and how the tools are found."""

from __future__ import annotations

import json
import os
import shutil
import sys

from test_conformance import MODEL, proxy, run, tool_or_skip  # noqa: F401  (`proxy` is a fixture)

#: Advisory tests of an endpoint the proxy does not have (`/v1/responses/compact`): the suite
#: accepts a 404 for them.
COMPACTION = {"compact-response", "compact-missing-model"}


def llm_comply() -> str:
    return tool_or_skip(shutil.which("llm-comply", path=os.path.dirname(sys.executable)) or shutil.which("llm-comply"), "llm-comply")


async def run_open_responses(url: str) -> tuple[int, dict, list, str]:
    code, out, err = await run(llm_comply(), "--format", "open-responses", "-u", url, "-k", "KEY", "-m", MODEL, "--timeout", "60", "--json")
    report = json.loads(out)
    results = report["results"] if isinstance(report, dict) else report
    outcomes = {r.get("test_id") or r.get("id"): r.get("status") for r in results}
    return code, outcomes, results, err


async def test_llm_comply_open_responses_passes_in_full(proxy):  # noqa: F811
    code, outcomes, results, err = await run_open_responses(proxy.url + "/v1")
    assert code == 0, (outcomes, err[-2000:])
    assert {status for status in outcomes.values()} <= {"passed", "skipped"}, outcomes
    assert outcomes["tool-calling"] == "passed" and outcomes["image-input"] == "passed"
    assert outcomes["streaming-response"] == "passed" and outcomes["error-handling"] == "passed"
    warnings = {r.get("test_id") or r.get("id"): r.get("warnings") for r in results if r.get("warnings")}
    assert warnings.keys() <= COMPACTION, warnings


async def test_llm_comply_reasoning_summary_passes(start_engine, monkeypatch):
    # The suite runs this test only for model names holding o1/o3/o4/gpt-5: a claude-* id
    # that holds one passes through to the CLI as is; the fake CLI thinks, then answers.
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "thinking")
    engine = await start_engine()
    code, out, err = await run(llm_comply(), "--format", "open-responses", "-u", engine.url + "/v1", "-k", "KEY", "-m", "claude-o3-stand-in", "-f", "reasoning-summary", "--json")
    (result,) = json.loads(out)["results"]
    assert (code, result["status"], result.get("warnings")) == (0, "passed", None), (result, err[-2000:])
