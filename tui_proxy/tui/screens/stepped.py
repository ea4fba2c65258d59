"""Screens that restyle, lay out and paint in separate turns of the event loop.

Textual does all three in one callback when a screen is shown, and lays out and paints in
one callback when a widget changes size. At 200x50 on a 2-core machine that is 40-50 ms of
CPU, during which no client's stream moves (the proxy shares the loop). Each step alone is
7-40 ms, the paint of a whole screen the most. These screens give the loop back between
the steps, and paint a big update in parts from the top, one per turn: the user sees the
same frame, a few milliseconds later.

Written against Textual 8.2's `Screen._on_screen_resume`, `_on_timer_update` and
`_compositor_refresh` (pyproject pins textual < 9); the console's snapshot tests draw every
screen through them.
"""

from __future__ import annotations

import asyncio

from textual import events
from textual._compositor import Compositor
from textual.geometry import Region
from textual.screen import Screen

from .. import turns


#: Cells Textual may paint in one turn of the loop; a bigger update is painted in parts,
#: from the top, one part per turn. Textual renders every widget's lines across the box
#: around all the changed regions: at 200 columns on a 2-core machine 2,600 cells of the
#: detail view took ~20 ms, and a header, a row and a status line changed together (a
#: box of most of the screen) 35 ms.
TURN_CELLS = 1_200


def plan_paint(regions: list[Region], width: int, budget: int = TURN_CELLS) -> tuple[list[list[Region]], list[Region]]:
    """Split changed regions into the parts to paint now (one box each) and the rest.

    Regions on overlapping or touching rows make one part (one box around them); parts are
    taken from the top while they fit the budget, the first one always, cut to its top
    rows if it alone is bigger.
    """
    parts: list[list[Region]] = []
    bottom = -1
    for region in sorted(regions, key=lambda region: region.y):
        if parts and region.y <= bottom:
            parts[-1].append(region)
            bottom = max(bottom, region.bottom)
        else:
            parts.append([region])
            bottom = region.bottom
    now: list[list[Region]] = []
    later: list[Region] = []
    spent = 0
    for part in parts:
        if later:
            later.extend(part)
            continue
        box = Region.from_union(part)
        if now and spent + box.area > budget:
            later.extend(part)
        elif box.area > budget:
            rows = max(1, budget // box.width)
            top, rest = Region(0, box.y, width, rows), Region(0, box.y + rows, width, box.bottom - box.y - rows)
            now.append([cut for cut in (region.intersection(top) for region in part) if cut])
            later.extend(cut for cut in (region.intersection(rest) for region in part) if cut)
        else:
            now.append(part)
            spent += box.area
    return now, later


class RowsCompositor(Compositor):
    """Renders a widget's lines only on the rows of the update it paints.

    Textual's compositor renders every line of each widget the update touches, on any row,
    and keeps what it does not paint: a part one row high across the requests table drew
    all of the table's changed rows, so a paint in parts cost the whole paint in its first
    part. The lines left out stay marked for redrawing (Textual's styles cache keeps them
    dirty) and are drawn when a part covers them: what reaches the screen is the same.
    """

    def _get_renders(self, crop: Region | None = None):
        if crop is None:
            yield from super()._get_renders(crop)
            return
        for widget, (region, clip) in self.visible_widgets.items():
            if not crop.overlaps(clip):
                continue
            rows = clip.intersection(Region(clip.x, crop.y, clip.width, crop.height))
            x, y, width, height = region.intersection(rows)
            if width and height:
                yield region, rows, widget.render_lines(Region(x - region.x, y - region.y, width, height))


class SteppedScreen(Screen):
    #: Set while laying out: the paint that follows a layout goes to the next turn.
    _paint_later = False
    #: What a paint in parts has still to paint (the next turn sees to it).
    _unpainted: list[Region] = []
    #: A paint is queued for the next turn: one at a time, or two could run in one turn
    #: (each a part's worth) when the update timer paints meanwhile.
    _paint_queued = False
    #: An update put off to a turn of its own is queued.
    _update_queued = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._compositor = RowsCompositor()

    async def _on_screen_resume(self, event: events.ScreenResume) -> None:
        event.prevent_default()  # Textual's own handler would do every step at once
        app = self.app
        if app.SUSPENDED_SCREEN_CLASS:
            self.remove_class(app.SUSPENDED_SCREEN_CLASS)
        self.stack_updates += 1
        app._refresh_notifications()
        self._update_auto_focus()
        if not self.is_attached:
            return
        if event.refresh_styles:
            await turns.turn()
            if not self.is_attached:
                return
            self.update_node_styles(animate=False)
        if self._size != app.size:
            await turns.turn()
            if not self.is_attached:
                return
            self._lay_out(app.size)
        self.refresh()

    def _screen_resized(self, size) -> None:
        if self.stack_updates and self.is_attached:
            self._lay_out(size)

    def _on_timer_update(self) -> None:
        if self._has_updates() and not turns.take():
            # Another heavy step has this turn: try again at the next one.
            self._update_timer.pause()
            if not self._update_queued:
                self._update_queued = True
                turns.when_free(self._update_again)
            return
        self._update()

    def _update(self) -> None:
        if self._layout_required and self.is_current and not self.app._batch_count:
            # This turn lays out, the next one paints; the next tick sees to the rest.
            self._update_timer.pause()
            self._lay_out(None, scroll=self._scroll_required)
            self._layout_required = False
            self._scroll_required = False
            self._dirty_widgets.clear()  # the queued paint covers what the layout moved
            return
        super()._on_timer_update()

    def _has_updates(self) -> bool:
        """A layout or a paint to do (what makes `_on_timer_update` a heavy step)."""
        return bool(self.is_current and not self.app._batch_count and (self._layout_required or self._scroll_required or self._repaint_required or self._dirty_widgets))

    def _update_again(self) -> None:
        """In a turn of its own (taken for it): the update put off."""
        self._update_queued = False
        if self.is_attached:
            self._update()
            # What is left (a paint after a layout, callbacks waiting for a refresh) needs the
            # update timer again, and an idle screen is what resumes it: this ran outside the
            # screen's messages, so no idle would come of it (seen: `call_after_refresh`
            # callbacks left waiting for good under load).
            self.check_idle()

    def _lay_out(self, size, scroll: bool = False) -> None:
        """Lay out now; the paint `_refresh_layout` does at its end waits for the next turn."""
        self._paint_later = True
        try:
            self._refresh_layout(size, scroll=scroll)
        finally:
            self._paint_later = False

    def _compositor_refresh(self) -> None:
        if self._paint_later:
            self._queue_paint()
            return
        compositor = self._compositor
        dirty = compositor._dirty_regions
        size = compositor.size
        app = self.app
        on_top = self is app.screen
        if self._unpainted and on_top:
            # The rest of a paint in parts, cut to the screen as it is now (a resize may have
            # come in between: regions past its edge would fail the paint). Kept while
            # another screen covers this one.
            dirty.update(part for part in (region.intersection(size.region) for region in self._unpainted) if part)
            self._unpainted = []
        if not on_top or app.is_inline or self.styles.background.a < 1:
            super()._compositor_refresh()
            return
        regions = list(dirty)
        now, later = plan_paint(regions, size.width)
        if not later and len(now) <= 1:
            super()._compositor_refresh()
            return
        for part in now:
            dirty.clear()
            dirty.update(part)
            super()._compositor_refresh()
        self._unpainted = later
        if later:
            self._queue_paint()

    def _queue_paint(self) -> None:
        if not self._paint_queued:
            self._paint_queued = True
            asyncio.get_running_loop().call_soon(turns.when_free, self._paint_next_turn)

    def _paint_next_turn(self) -> None:
        self._paint_queued = False
        if self.is_attached:  # not a screen closed meanwhile (or an app quitting)
            self._compositor_refresh()
