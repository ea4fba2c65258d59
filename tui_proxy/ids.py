"""Exchange, run and session ids: short, unique, sortable by time, safe in URLs and file names.

None of them is a secret (files they name are in private folders; an exchange id goes back to
its client), so they come from a generator seeded once from the OS rather than from
`os.urandom` per id: measured in the proxy, each getrandom() took 17 µs on average (a tail of
slow calls past 16 µs one time in ten), against about 1 µs for a generated id, and a request
made seven.
"""

from __future__ import annotations

import random
import time
import uuid

#: Our own generator, seeded from os.urandom: tests that seed the `random` module (hypothesis
#: does) cannot make two exchanges share an id.
_random = random.Random()


def new_exchange_id(now: float | None = None) -> str:
    """12 hex digits of milliseconds, then 8 random hex digits: `0193c1f2a4b0-5e1f09aa`."""
    ms = int((time.time() if now is None else now) * 1000)
    return f"{ms:012x}-{_random.getrandbits(32):08x}"


def short_id(exchange_id: str) -> str:
    """What the console shows: the random tail, enough to tell rows apart."""
    return exchange_id.rsplit("-", 1)[-1][:6]


def new_run_id() -> str:
    """A CLI run's id: `run-` and 8 random hex digits (a run may answer several exchanges)."""
    return f"run-{_random.getrandbits(32):08x}"


def new_uuid() -> str:
    """A random (version 4) UUID, as the CLI writes them: session ids, session file records."""
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


def random_hex(digits: int) -> str:
    """`digits` random hex digits (the CLI's message ids: `msg_` and 24 of them)."""
    return f"{_random.getrandbits(4 * digits):0{digits}x}"
