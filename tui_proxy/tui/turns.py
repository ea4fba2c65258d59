"""The console's heavy steps take turns of the event loop, with a turn for the proxy between.

The console shares the loop with the proxy. Its big jobs are already cut into steps of a
few milliseconds (a paint in parts, a layout, a slice of a document or of the statistics,
a flush of the engine's events into the widgets), but steps that come due together ran in
the same turn of the loop: bench/ui_load.py saw turns of 24 ms made of a document slice,
a paint part and a flush, while every client's stream waited. A loop turn's callbacks run
back to back; asyncio gives no priorities.

So a heavy step first takes the loop's turn (`take`, `when_free`, or `await turn()` in a
loop of slices). At most one step runs per turn, and after it REST_TURNS turns run without
any: the proxy's reads, writes and timers that came due meanwhile run in between. Steps
that find the turn taken wait in line, without polling (a loop that polls never sleeps),
and the first one gets the next free turn. The console then shows a big view a few turns
later; no stream waits for more than one step at a time.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from typing import Callable, Union

#: Turns of the loop left to everything else after a heavy step.
REST_TURNS = 1


class _Turns:
    """One loop's turns (it keeps no reference to the loop: the registry's key dies with it)."""

    def __init__(self) -> None:
        #: A step has this turn, or the turns after it rest, or a woken slice is about to run.
        self.taken = False
        #: Steps waiting for a free turn, first come first served: callbacks, or the futures
        #: of slices (`turn`).
        self.waiting: deque[Union[Callable[[], object], asyncio.Future]] = deque()

    def take(self) -> bool:
        if self.taken:
            return False
        self._took()
        return True

    def _took(self) -> None:
        self.taken = True
        # Queued now, it runs first in the next turn: that turn and the REST_TURNS-1 after
        # it rest; the one after them starts free.
        asyncio.get_running_loop().call_soon(self._rest, REST_TURNS)

    def _rest(self, left: int) -> None:
        if left:
            asyncio.get_running_loop().call_soon(self._rest, left - 1)
            return
        self.taken = False
        while self.waiting:
            waiter = self.waiting.popleft()
            if isinstance(waiter, asyncio.Future):
                if waiter.done():
                    continue  # its task was cancelled meanwhile
                # Its slice runs in the next turn (a woken task does); the turn is held for
                # it until then, and the rest counts from there.
                self.taken = True
                waiter.set_result(None)
            else:
                self._took()
                waiter()
            return

    def when_free(self, callback: Callable[[], object]) -> None:
        if self.take():
            callback()
        else:
            self.waiting.append(callback)

    async def turn(self) -> None:
        await asyncio.sleep(0)  # a slice loop gives the loop back in any case
        if self.take():
            return
        woken = asyncio.get_running_loop().create_future()
        self.waiting.append(woken)
        try:
            await woken
        except asyncio.CancelledError:
            if woken.done() and not woken.cancelled():
                self._took()  # woken, then cancelled before it ran: the turn is given back
            raise
        self._took()


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


def _for_loop() -> _Turns:
    loop = asyncio.get_running_loop()
    turns = _turns.get(loop)
    if turns is None:
        turns = _turns[loop] = _Turns()
    return turns


def take() -> bool:
    """Take this turn of the loop for a heavy step: False if it is not free."""
    return _for_loop().take()


def when_free(callback: Callable[[], object]) -> None:
    """Run `callback`, a heavy step, now if this turn is free, else in the first free one."""
    _for_loop().when_free(callback)


async def turn() -> None:
    """Wait for a turn of the loop of our own (in a loop of slices, instead of `sleep(0)`)."""
    await _for_loop().turn()
