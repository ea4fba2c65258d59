"""Who may declare unfinished exchanges interrupted.

Every writing process holds a shared lock on `<db>.lock` for its life. A process that
opens the store and can take the lock exclusively knows no other writer is alive, so
rows still marked in progress belong to a dead process. If another writer is alive
(say, a second proxy on another port sharing the data dir), its live rows are left alone.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .files import FILE_MODE


class OwnerLock:
    def __init__(self, db_path: Path) -> None:
        self._fd = os.open(db_path.with_name(db_path.name + ".lock"), os.O_CREAT | os.O_RDWR, FILE_MODE)

    def try_exclusive(self) -> bool:
        """True when no other writer is alive; then hold on to it while recovering."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def share(self) -> None:
        """Hold the shared lock for the rest of this writer's life."""
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        os.close(self._fd)  # closing drops the lock
