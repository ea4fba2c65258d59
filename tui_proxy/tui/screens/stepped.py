"""Screens that restyle, lay out and paint in separate turns of the event loop.

Textual does all three in one callback when a screen is shown, and lays out and paints in
one callback when a widget changes size. At 200x50 on a 2-core machine that is 40-50 ms of
CPU, during which no client's stream moves (the proxy shares the loop). Each step alone is
7-40 ms, the paint of a whole screen the most. These screens give the loop back between
the steps, and paint a screen that is mostly new in bands from the top: the user sees the
same frame, a few milliseconds later.

Written against Textual 8.2's `Screen._on_screen_resume`, `_on_timer_update` and
`_compositor_refresh` (pyproject pins textual < 9); the console's snapshot tests draw every
screen through them.
"""

from __future__ import annotations

import asyncio

from textual import events
from textual.geometry import Region
from textual.screen import Screen


#: A screen that is mostly new is painted in this many bands, one per turn of the loop
#: (a quarter of 200x50 takes 5-15 ms).
BANDS = 4


class SteppedScreen(Screen):
    #: Set while laying out: the paint that follows a layout goes to the next turn.
    _paint_later = False
    #: What a paint in bands has still to paint (the next turn sees to it).
    _unpainted: list[Region] = []

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
            self.update_node_styles(animate=False)
            await asyncio.sleep(0)
        if self._size != app.size:
            self._lay_out(app.size)
        self.refresh()

    def _screen_resized(self, size) -> None:
        if self.stack_updates and self.is_attached:
            self._lay_out(size)

    def _on_timer_update(self) -> None:
        if self._layout_required and self.is_current and not self.app._batch_count:
            # This turn lays out, the next one paints; the next tick sees to the rest.
            self._update_timer.pause()
            self._lay_out(None, scroll=self._scroll_required)
            self._layout_required = False
            self._scroll_required = False
            self._dirty_widgets.clear()  # the queued paint covers what the layout moved
            return
        super()._on_timer_update()

    def _lay_out(self, size, scroll: bool = False) -> None:
        """Lay out now; the paint `_refresh_layout` does at its end waits for the next turn."""
        self._paint_later = True
        try:
            self._refresh_layout(size, scroll=scroll)
        finally:
            self._paint_later = False

    def _compositor_refresh(self) -> None:
        if self._paint_later:
            asyncio.get_running_loop().call_soon(self._paint_next_turn)
            return
        compositor = self._compositor
        dirty = compositor._dirty_regions
        size = compositor.size
        app = self.app
        on_top = self is app.screen
        if self._unpainted and on_top:
            # The rest of a banded paint, cut to the screen as it is now (a resize may have
            # come in between: regions past its edge would fail the paint). Kept while
            # another screen covers this one.
            dirty.update(part for part in (region.intersection(size.region) for region in self._unpainted) if part)
            self._unpainted = []
        band = max(1, -(-size.height // BANDS))
        if not on_top or app.is_inline or self.styles.background.a < 1 or sum(r.area for r in dirty) * BANDS <= size.area:
            super()._compositor_refresh()
            return
        # Much of the screen: its top band now, the rest at the next turn (and so on).
        top = min(region.y for region in dirty)
        now, later = Region(0, top, size.width, band), Region(0, top + band, size.width, size.height)
        regions = list(dirty)
        dirty.clear()
        dirty.update(part for part in (region.intersection(now) for region in regions) if part)
        super()._compositor_refresh()
        self._unpainted = [part for part in (region.intersection(later) for region in regions) if part]
        asyncio.get_running_loop().call_soon(self._paint_next_turn)

    def _paint_next_turn(self) -> None:
        if self.is_attached:  # not a screen closed meanwhile (or an app quitting)
            self._compositor_refresh()
