"""llm-comply `--format anthropic` in full against the proxy, with the fake CLI playing the model
(`FAKE_CLAUDE_SCENARIO=model`: a tool call when tools are offered, thinking when an effort is
asked for, else an echo). The same suite over the real CLI: tests/test_messages_real_cli.py."""

from __future__ import annotations

import json
import os
import shutil
import sys

from test_conformance import MODEL, proxy, run, tool_or_skip  # noqa: F401 (proxy is a fixture)


async def test_llm_comply_anthropic_passes_in_full(proxy):  # noqa: F811
    llm_comply = tool_or_skip(shutil.which("llm-comply", path=os.path.dirname(sys.executable)) or shutil.which("llm-comply"), "llm-comply")
    code, out, err = await run(llm_comply, "--format", "anthropic", "-u", proxy.url + "/v1", "-k", "KEY", "-m", MODEL, "--timeout", "60", "--json")
    report = json.loads(out)
    results = report["results"] if isinstance(report, dict) else report
    outcomes = {r.get("test_id") or r.get("id"): r.get("status") for r in results}
    assert code == 0, (outcomes, [r.get("errors") for r in results], err[-2000:])
    # Nothing skipped: the thinking test runs for claude-sonnet-4.
    assert set(outcomes.values()) == {"passed"} and len(outcomes) == 9, outcomes
    assert outcomes["anth-tool-calling"] == "passed" and outcomes["anth-image-input"] == "passed"
    assert [w for r in results for w in r.get("warnings") or []] == []
