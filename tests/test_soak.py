"""The soak's short run (the full one is `python bench/soak.py`): mixed faults, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_short_soak_leaks_nothing_and_loses_nothing(tmp_path):
    report = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--requests", "150", "--concurrency", "16", "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(report.read_text())
    print(done.stdout)  # the figures, for whoever reads the CI log
    assert figures["requests"] == 150 and figures["ok"] is True
    assert figures["unexpected"] == []
    for must_be_zero in ("children_leaked", "captures_missing", "captures_open", "server_restarts", "shutdown_code"):
        assert figures[must_be_zero] == 0, (must_be_zero, figures[must_be_zero])
    assert len(figures["by_class"]) >= 10  # the whole mix of faults was exercised
