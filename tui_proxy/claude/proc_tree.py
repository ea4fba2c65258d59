"""A process's descendants, read from Linux /proc, and killing them safely.

A descendant is named by (pid, start time): a pid alone may be reused by an unrelated
process between the moment it is seen and the moment it is killed.
"""

from __future__ import annotations

import os
import signal


def descendants(pid: int) -> set[tuple[int, int]]:
    """(pid, start time) of every live descendant of `pid` (children, recursively)."""
    found: set[tuple[int, int]] = set()
    stack = [pid]
    seen = {pid}
    while stack:
        for child in _children(stack.pop()):
            if child in seen:
                continue
            seen.add(child)
            start = start_time(child)
            if start is not None:
                found.add((child, start))
                stack.append(child)
    return found


def start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command: state is field 3, starttime field 22 (1-based) of the whole line.
    if fields[0] == b"Z":
        return None
    return int(fields[19])


def kill(processes: set[tuple[int, int]], sig: int = signal.SIGKILL) -> int:
    """Signal each process still alive as the same process; returns how many were."""
    killed = 0
    for pid, start in processes:
        if start_time(pid) != start:
            continue  # gone, or the pid now names another process
        try:
            os.kill(pid, sig)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    return kids
