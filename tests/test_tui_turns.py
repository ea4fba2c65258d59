"""The console's heavy steps take turns of the loop (tui/turns.py), with a turn between them
left to the proxy."""

from __future__ import annotations

import asyncio

import pytest

from tui_proxy.tui import demo, turns
from tui_proxy.tui.demo import make_demo_app, stage

from tests.tui_fixtures import console_app, settle


class TurnCounter:
    """Counts the loop's turns: a callback that queues itself again in each one."""

    def __init__(self) -> None:
        self.now = 0
        self.running = True
        self.loop = asyncio.get_running_loop()
        self.loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.now += 1
        if self.running:
            self.loop.call_soon(self._tick)


async def until(condition, turns_at_most: int = 200) -> None:
    for _ in range(turns_at_most):  # bounded: each pass is one turn of the loop
        if condition():
            return
        await asyncio.sleep(0)
    assert condition()


async def test_steps_due_in_one_turn_run_in_turns_of_their_own_with_a_rest_between():
    counter = TurnCounter()
    loop = asyncio.get_running_loop()
    ran: list[tuple[str, int]] = []
    for name in "abc":  # three heavy steps come due in the same turn
        loop.call_soon(turns.when_free, lambda name=name: ran.append((name, counter.now)))
    await until(lambda: len(ran) == 3)
    counter.running = False
    assert [name for name, _ in ran] == ["a", "b", "c"]  # in the order they came
    at = [when for _, when in ran]
    assert at[1] - at[0] > turns.REST_TURNS and at[2] - at[1] > turns.REST_TURNS


async def test_slices_of_two_jobs_never_share_a_turn_and_light_callbacks_run_between():
    counter = TurnCounter()
    loop = asyncio.get_running_loop()
    slices: list[int] = []
    light: list[int] = []

    async def job() -> None:
        for _ in range(4):
            await turns.turn()
            slices.append(counter.now)
            loop.call_soon(lambda: light.append(counter.now))  # what the proxy does meanwhile

    await asyncio.gather(job(), job())
    counter.running = False
    assert len(slices) == 8 and len(set(slices)) == 8  # no two slices in one turn
    assert all(later - earlier > turns.REST_TURNS for earlier, later in zip(slices, slices[1:]))
    assert all(any(start < when < end for when in light) for start, end in zip(slices, slices[1:]))


async def test_a_screen_update_put_off_by_another_step_is_painted_in_a_later_turn():
    app = make_demo_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await stage(pilot, select=demo.STREAMING, panel="tokens")
        screen = app.screen
        painted = []
        refresh = screen._compositor_refresh
        screen._compositor_refresh = lambda: (painted.append(1), refresh())
        assert turns.take()  # another heavy step has this turn
        screen.refresh()
        screen._repaint_required = True
        screen._on_timer_update()
        assert not painted and screen._repaint_required  # not in this turn…
        await until(lambda: painted)  # …but soon, in one of its own
        assert not screen._repaint_required


async def test_a_slice_cancelled_while_it_waits_or_once_woken_gives_its_turn_back():
    state = turns._for_loop()
    for wake_first in (False, True):
        await until(lambda: not state.taken)
        state.taken = True  # a long step holds the turn (freed by hand below)
        waiting = asyncio.ensure_future(turns.turn())
        await until(lambda: state.waiting)  # in line for the next free turn
        if wake_first:
            state._rest(0)  # the free turn comes and wakes it, holding the turn for it…
        waiting.cancel()  # …and its view closes before it runs
        if not wake_first:
            state._rest(0)  # the free turn comes: the cancelled slice is passed over
        await asyncio.wait([waiting])
        assert waiting.cancelled()
        ran: list[int] = []
        turns.when_free(lambda: ran.append(1))
        await until(lambda: ran)  # the next step still gets a turn


def test_a_closed_loop_is_not_kept_alive_by_its_turns():
    import gc
    import weakref

    async def step() -> None:
        assert turns.take()

    loop = asyncio.new_event_loop()
    loop.run_until_complete(step())
    assert loop in turns._turns
    loop.close()
    gone = weakref.ref(loop)
    del loop
    gc.collect()
    assert gone() is None


@pytest.mark.usefixtures("fake_claude_env")
async def test_what_an_update_put_off_leaves_for_later_still_happens(tmp_path):
    """Seen under load (a start-up test timing out): an update put off to a turn of its own
    laid out and stopped there, as an update that lays out does, with the update timer
    paused; the paint after it and the `call_after_refresh` callbacks waiting (the detail
    view's preparation among them) waited for good, as no idle screen came to resume it."""
    app = console_app(tmp_path)  # no traffic: nothing else will wake the screen
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: app._detail_screen is not None)
        screen = app.screen
        await pilot.pause()
        ran: list[int] = []
        screen._callbacks.append((lambda: ran.append(1), screen))  # waiting for the next refresh
        screen._layout_required = screen._repaint_required = True
        screen._update_timer.pause()
        screen._update_queued = True
        screen._update_again()  # its own turn: it lays out, and the rest must follow
        for _ in range(500):  # bounded: a few turns of the loop and a tick of the update timer
            if ran and not screen._repaint_required:
                break
            await asyncio.sleep(0.01)
        assert ran and not screen._repaint_required
