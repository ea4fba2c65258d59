"""Signals and exits, as the real CLI handles them.

* SIGTERM ends the process with exit 143 and no further line (never in the middle of one).
* SIGINT during a turn becomes the `aborted_streaming` story (see run.Run.abort); it is
  delivered as the `Interrupted` exception at the next line boundary or inside a sleep.
* Everything is written with os.write, so os._exit loses nothing.
"""

from __future__ import annotations

import os
import signal
import time


class Interrupted(Exception):
    """SIGINT arrived while a turn was running or while waiting."""


class _State:
    writing = False  # inside a line write: a SIGTERM must wait for the line's end
    waiting = False  # inside a sleep or a stdin read: SIGINT may interrupt right away
    terminate_pending = False
    interrupt_pending = False
    interrupts_enabled = True


_state = _State()


def _on_sigterm(signum, frame) -> None:
    if _state.writing:
        _state.terminate_pending = True
    else:
        os._exit(143)


def _on_sigint(signum, frame) -> None:
    if not _state.interrupts_enabled:
        return
    _state.interrupt_pending = True
    if _state.waiting:
        _state.interrupt_pending = False
        raise Interrupted()


def install() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, _on_sigint)
    # A reader that goes away must not produce a Python traceback.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def disable_interrupts() -> None:
    """While printing the abort story itself, a second SIGINT changes nothing."""
    _state.interrupts_enabled = False


def begin_write() -> None:
    _state.writing = True


def end_write() -> None:
    _state.writing = False
    if _state.terminate_pending:
        os._exit(143)
    if _state.interrupt_pending:
        _state.interrupt_pending = False
        raise Interrupted()


class waiting:
    """Context manager marking a blocking section that SIGINT may break."""

    def __enter__(self) -> None:
        _state.waiting = True
        if _state.interrupt_pending:
            _state.interrupt_pending = False
            _state.waiting = False
            raise Interrupted()

    def __exit__(self, *exc) -> None:
        _state.waiting = False


def sleep(seconds: float) -> None:
    if seconds <= 0:
        return
    with waiting():
        time.sleep(seconds)


def sleep_forever() -> None:
    while True:
        sleep(3600)


def exit_now(code: int) -> None:
    """Leave without interpreter teardown (faster; all output is already written)."""
    os._exit(code)
