"""Each run's private folder: an empty working directory, its own TMPDIR, the system prompt file."""

from __future__ import annotations

import os
import tempfile


def make_run_dir(runs_dir: str, system_prompt: str | None) -> str:
    """A fresh 0700 folder under `runs_dir` with `cwd/`, `tmp/` and a 0600 `system-prompt.txt`."""
    # Made again if it went (a data folder deleted under a running proxy): serving goes on.
    os.makedirs(runs_dir, mode=0o700, exist_ok=True)
    path = tempfile.mkdtemp(prefix="run-", dir=runs_dir)  # 0700
    os.mkdir(os.path.join(path, "cwd"), 0o700)
    os.mkdir(os.path.join(path, "tmp"), 0o700)
    if system_prompt is not None:
        fd = os.open(os.path.join(path, "system-prompt.txt"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(system_prompt)
    return path
