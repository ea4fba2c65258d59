"""schemathesis in negative mode against a running headless proxy over the fake CLI, with the
OpenAI spec that ships inside llm-comply (docs/openai-contract.md §11).

Every schema-violating request must get a well-formed 4xx (never a 5xx), and nothing
malformed may reach the CLI: every run the fake CLI recorded got the fixed, safe argv and
one JSON user line on stdin. The proxy must still be up and have no child left after.

Excluded checks: `status_code_conformance` (the spec documents only 200) and
`positive_data_acceptance` (the spec's own examples use features we refuse on purpose
with a 400, such as `audio` output and `n` > 1: docs/openai-contract.md §2.3).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench.soak import Headless, leaked_children, recorded_runs

KEY = "schemathesis-key"
#: CI budget for the fuzzing run (schemathesis stops on its own at this bound).
MAX_TIME = int(os.environ.get("SCHEMATHESIS_MAX_TIME", "60"))

schemathesis_cli = shutil.which("schemathesis", path=os.path.dirname(sys.executable)) or shutil.which("schemathesis")
try:
    import llm_comply

    SPEC = Path(llm_comply.__file__).parent / "specs" / "openai_chat.json"
except ImportError:  # pragma: no cover - the test extra installs it
    SPEC = None

pytestmark = pytest.mark.skipif(
    schemathesis_cli is None or SPEC is None or not SPEC.is_file(),
    reason="needs `pip install schemathesis llm-comply` (the test extra)",
)


def test_negative_fuzzing_gets_only_4xx_and_never_reaches_the_cli(tmp_path):
    record_dir = tmp_path / "fake-runs"
    record_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKE_CLAUDE_", "ANTHROPIC_API_KEY"))}
    env["FAKE_CLAUDE_RECORD_DIR"] = str(record_dir)
    proxy = Headless(tmp_path, "--api-key", KEY, env=env).start()
    try:
        command = [
            schemathesis_cli, "run", str(SPEC),
            "--url", proxy.url + "/v1",
            "-H", f"Authorization: Bearer {KEY}",
            "--include-path-regex", r"^/(models|models/\{model\}|chat/completions)$",
            "--exclude-method", "DELETE",
            "--mode", "negative",
            "-n", "25",
            "--phases", "examples,fuzzing",
            "--exclude-checks", "status_code_conformance,positive_data_acceptance",
            "--max-time", str(MAX_TIME),
            "--seed", "20261125",
            "--no-color",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=MAX_TIME + 120)
        report = result.stdout + result.stderr
        assert result.returncode == 0, report[-6000:]
        generated = re.search(r"(\d+) generated", report)
        assert generated and int(generated.group(1)) >= 100, report[-2000:]  # it really fuzzed

        # The proxy is still up and healthy after the onslaught.
        with urllib.request.urlopen(urllib.request.Request(proxy.url + "/health", headers={"Authorization": f"Bearer {KEY}"}), timeout=10) as response:
            assert json.loads(response.read())["status"] == "ok"
        assert proxy.alive()
    finally:
        code, _ = proxy.stop(signal.SIGTERM)
    assert code == 0

    # No 5xx, as the proxy itself logged every request.
    statuses = re.findall(r"^\S+ \S+  \S+  .*?  (?:json|stream)  (\d{3})", proxy.output(), re.M)
    assert statuses and not [s for s in statuses if s.startswith("5")], statuses
    # Nothing malformed reached the CLI: whatever ran got the fixed argv and one valid line, or
    # (the history as native messages) no line and a session file it could read, ending in a user message.
    for run in recorded_runs(record_dir):
        argv = run["argv"]
        assert {"--tools=", "--strict-mcp-config", "--setting-sources="} <= set(argv)
        assert "--no-session-persistence" in argv or "--resume" in argv
        lines = [json.loads(line) for line in run["stdin"].splitlines()]
        if "--resume" in argv:
            assert lines == [] and [r for r in run["resumed"] if r.get("type") in ("user", "assistant")][-1]["type"] == "user"
            model = argv[argv.index("--model") + 1]
            assert re.fullmatch(r"[A-Za-z0-9._:@\[\]-]+", model) and not model.startswith("-")
            continue
        if not lines:
            continue  # a CLI started ahead that no request took (runs/pool.py)
        if all(line.get("type") == "control_request" and line["request"].get("subtype") == "get_usage" for line in lines):
            continue  # the CLI kept for the plan's usage windows (runs/usage_cli.py): asked nothing else
        # Control requests (a CLI started ahead is told its model), then exactly one user line.
        *control, user = lines
        assert user["type"] == "user" and all(c["type"] == "control_request" for c in control)
        models = [c["request"]["model"] for c in control if c["request"]["subtype"] == "set_model"]
        model = models[0] if models else argv[argv.index("--model") + 1]
        assert re.fullmatch(r"[A-Za-z0-9._:@\[\]-]+", model) and not model.startswith("-")
    assert leaked_children(record_dir) == []
