"""The overhead bench's short run (the full one is `python bench/overhead.py --floor`): its three
kinds of run and the floor answer, the streams are read to their end, and the direct runs'
session files are removed. Figures are printed, never judged: timings fail no test."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_a_short_overhead_run_measures_every_run_and_leaves_no_session_file(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "CLAUDE_CONFIG_DIR"} | {"HOME": str(home)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "overhead.py"), "--rounds", "3", "--tokens", "5", "--floor"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stdout)  # the figures, for whoever reads the CI log
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("ttft_ratio", "ttft_ratio_plain", "floor_ttft_ratio", "proxy_cpu_ms_one_delta", "floor_cpu_ms_one_delta"):
        assert figures[key] > 0, key
    # The direct runs resumed session files in the CLI's projects folder: all removed, with it.
    projects = home / ".claude" / "projects"
    assert not projects.exists() or list(projects.iterdir()) == []
