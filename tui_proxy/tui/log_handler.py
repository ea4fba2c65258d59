"""Routes `logging` records into the console while it owns the terminal.

Textual captures stdout/stderr; a StreamHandler made before it started would still
write to the real terminal and tear the screen. Warnings and errors become Notice
events instead (errors panel and toasts), from any thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from ..events import Event, Notice


class ConsoleLogHandler(logging.Handler):
    def __init__(self, loop: asyncio.AbstractEventLoop, sink: Callable[[Event], None], level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.loop = loop
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "error" if record.levelno >= logging.ERROR else "warning"
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            notice = Notice(exchange_id="", at=record.created or time.time(), level=level, message=f"{record.name}: {message}")
            self.loop.call_soon_threadsafe(self.sink, notice)
        except RuntimeError:  # the loop is closed: the console is gone
            pass
