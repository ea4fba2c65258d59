"""Screens that restyle, lay out and paint in separate turns of the event loop.

Textual does all three in one callback when a screen is shown, and lays out and paints in
one callback when a widget changes size. At 200x50 on a 2-core machine that is 40-50 ms of
CPU, during which no client's stream moves (the proxy shares the loop). Each step alone is
7-30 ms. These screens give the loop back between the steps; what the user sees is the same
frame, a few milliseconds later.

Written against Textual 8.2's `Screen._on_screen_resume` and `Screen._on_timer_update`
(pyproject pins textual < 9); the console's snapshot tests draw every screen through them.
"""

from __future__ import annotations

import asyncio

from textual import events
from textual.screen import Screen


class SteppedScreen(Screen):
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
            await asyncio.sleep(0)
        self.refresh()

    def _on_timer_update(self) -> None:
        if self._layout_required and self.is_current and not self.app._batch_count:
            # This turn lays out; the paint is queued, and the next tick sees to the rest.
            self._update_timer.pause()
            self._lay_out(None, scroll=self._scroll_required)
            self._layout_required = False
            self._scroll_required = False
            self._dirty_widgets.clear()  # the queued paint covers what the layout moved
            return
        super()._on_timer_update()

    def _lay_out(self, size, scroll: bool = False) -> None:
        """Lay out now and queue the paint (in a batch, `_refresh_layout` queues it)."""
        app = self.app
        app._begin_batch()
        try:
            self._refresh_layout(size, scroll=scroll)
        finally:
            app._end_batch()
