"""Exchange and run ids (short, unique, sortable by time, safe in URLs and file names), and the
UUIDs of session files.

Their random part comes from the OS's generator, read 4 KiB at a time: an id names a stored
response a client can fetch or continue (`/v1/responses/{id}`, `previous_response_id`), so it
must not be predictable from others. One `os.urandom` per id cost more than it should here:
measured in the proxy, each getrandom() took 17 µs on average (one call in ten past 16 µs,
against 0.9 µs for another syscall at the same places), and a request made seven.
"""

from __future__ import annotations

import os
import threading
import time

#: Random bytes read from the OS at once; ids take theirs from the front.
_POOL_BYTES = 4096
_lock = threading.Lock()
_pool = b""
_taken = 0


def _random_bytes(count: int) -> bytes:
    global _pool, _taken
    with _lock:
        if _taken + count > len(_pool):
            _pool, _taken = os.urandom(max(_POOL_BYTES, count)), 0
        start = _taken
        _taken += count
        return _pool[start:_taken]


def _forget_pool() -> None:
    # A forked child must not hand out the ids its parent will.
    global _pool, _taken
    _pool, _taken = b"", 0


os.register_at_fork(after_in_child=_forget_pool)


def new_exchange_id(now: float | None = None) -> str:
    """12 hex digits of milliseconds, then 8 random hex digits: `0193c1f2a4b0-5e1f09aa`."""
    ms = int((time.time() if now is None else now) * 1000)
    return f"{ms:012x}-{_random_bytes(4).hex()}"


def short_id(exchange_id: str) -> str:
    """What the console shows: the random tail, enough to tell rows apart."""
    return exchange_id.rsplit("-", 1)[-1][:6]


def new_run_id() -> str:
    """A CLI run's id: `run-` and 8 random hex digits (a run may answer several exchanges)."""
    return f"run-{_random_bytes(4).hex()}"


def new_uuid() -> str:
    """A random (version 4) UUID, as the CLI writes them: session ids, session file records."""
    raw = bytearray(_random_bytes(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def random_hex(digits: int) -> str:
    """`digits` random hex digits (the CLI's message ids: `msg_` and 24 of them)."""
    return _random_bytes((digits + 1) // 2).hex()[:digits]
