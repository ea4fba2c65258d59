"""Continue's CLI (npm `@continuedev/cli`, pinned in scripts/test) in headless mode, `cn -p`, with
the README's config.yaml: it streams chat completions with its own tools, and the fake CLI
playing the model calls its Write tool; Continue writes the file and sends the result back.

Installed outside the package (`npm install --prefix .cache/npm-continue @continuedev/cli@1.5.47`)
and found through $CONTINUE_BIN or that folder; missing, the test is skipped locally and fails in CI.
The other clients (aider, OpenCode, Cline, OpenClaw) are too big to install in CI:
`python bench/clients.py` runs them the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.clients import CONTINUE, CONTINUE_CONFIG, Sandbox, marker_call, run
from test_conformance import tool_or_skip


async def test_continue_cli_writes_a_file_with_its_tool_through_the_proxy(engine, tmp_path: Path):
    cn = tool_or_skip(os.environ.get("CONTINUE_BIN") or str(CONTINUE), "cn (npm @continuedev/cli)")
    box = Sandbox.make(tmp_path, "continue")
    config = box.home / "config.yaml"
    config.write_text(CONTINUE_CONFIG.format(url=engine.url))
    call = marker_call("Write", {"filepath": "out.txt", "content": "written by continue\n"})

    code, out, err = await run([cn, "-p", "--auto", "--config", str(config), f"Write out.txt. {call}"], box, box.env(), timeout=180)

    assert code == 0, (out[-2000:], err[-2000:])
    assert (box.work / "out.txt").read_text() == "written by continue\n"  # Continue ran its tool
    assert out.strip() == "The tool returned: Successfully created file: out.txt", out[-2000:]
    summaries = sorted((s for s in await engine.store.alist(limit=10) if s.path == "/v1/chat/completions"), key=lambda s: s.started_at)
    assert [(s.status, s.finish_reason) for s in summaries] == [(200, "tool_calls"), (200, "stop")]
    first = json.loads((await engine.store.aget(summaries[0].id)).request_body)
    assert first["model"] == "claude-sonnet-4" and first["stream"] is True and "Write" in {t["function"]["name"] for t in first["tools"]}
    followup = json.loads((await engine.store.aget(summaries[1].id)).request_body)
    results = [m for m in followup["messages"] if m["role"] == "tool"]
    assert len(results) == 1 and results[0]["tool_call_id"] == followup["messages"][-2]["tool_calls"][0]["id"]
