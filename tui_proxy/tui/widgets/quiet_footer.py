"""Textual's Footer, rebuilt only when the keys it shows change.

Textual's Footer throws away and mounts its ten or so key widgets again on every
bindings update: each focus change, each screen shown, each tab switched in the
detail view, and twice for the screen left underneath when another one opens.
That was 20-40 ms on the loop each time (styling, laying out and drawing new
widgets) while what it showed had not changed at all.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class QuietFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: What the keys shown were built from, at the last compose.
        self._shown: tuple | None = None
        #: What the rebuild asked for and not yet done will show (updates come in twos).
        self._pending: tuple | None = None
        # The keys with the screen, not at its first bindings update: the detail screen
        # composed ahead (app._prepare_detail) then has them laid out before it opens.
        self.set_reactive(Footer._bindings_ready, True)

    def _keys(self, screen: Screen) -> tuple:
        """Everything Footer.compose reads from the bindings, and nothing else."""
        app = screen.app
        shown = tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action, enabled, tooltip, binding.group)
            for (_node, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        )
        palette = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
        palette_key = None if palette is None else (palette[1].key, palette[1].description, palette[2])
        return shown, palette_key, self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE

    def compose(self):
        if self._bindings_ready:
            self._shown = self._keys(self.screen)
            self._pending = None
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            if self._shown is not None and _covered(screen):
                return  # hidden under an opaque screen: checked again when it is back on top
            keys = self._keys(screen)
            if keys == (self._shown if self._pending is None else self._pending):
                return  # the keys shown, or about to be: nothing to rebuild
            self._pending = keys
        super().bindings_changed(screen)


def _covered(screen: Screen) -> bool:
    """True when an opaque screen above this one hides it (a modal shows what is under it)."""
    stack = screen.app.screen_stack
    above = stack[stack.index(screen) + 1 :] if screen in stack else []
    return any(other.styles.background.a >= 1 for other in above)
