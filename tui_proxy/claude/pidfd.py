"""Seeing a process exit on the event loop, through a pidfd (Linux 5.3+): no thread, no signal."""

from __future__ import annotations

import asyncio
import os
from typing import Callable


def when_exited(loop: asyncio.AbstractEventLoop, pid: int, callback: Callable[[], None]) -> bool:
    """Call `callback` on `loop` once `pid` has exited (at once if it is already gone). False
    where there is no pidfd: the caller watches it its own way."""
    try:
        pidfd = os.pidfd_open(pid)  # type: ignore[attr-defined]
    except ProcessLookupError:
        loop.call_soon(callback)
        return True
    except (AttributeError, OSError):
        return False

    def readable() -> None:
        loop.remove_reader(pidfd)
        os.close(pidfd)
        callback()

    loop.add_reader(pidfd, readable)
    return True
