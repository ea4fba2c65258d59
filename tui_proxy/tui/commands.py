"""Command palette entries (ctrl+p), named `category: verb` like Posting's."""

from __future__ import annotations

from typing import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (name, help, action string run on the app)
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("request: open detail", "Open the selected request's detail view", "open_detail"),
    ("request: kill", "Stop the selected run; its client gets an error", "kill"),
    ("request: replay", "Send the selected request again through the proxy", "replay"),
    ("export: copy as curl", "Copy the selected request as a curl command", "copy_curl"),
    ("export: copy answer", "Copy the answer text", "copy('answer')"),
    ("export: copy response JSON", "Copy the response JSON (the SSE chunks when streamed)", "copy('response')"),
    ("export: copy SSE chunk", "Copy the SSE chunk the detail search stands on, else the last", "copy('chunk')"),
    ("export: copy argv", "Copy the CLI argv as a shell command", "copy('argv')"),
    ("view: sort by next column", "Sort the list by the next column (o); O reverses", "sort(1)"),
    ("view: reverse sort", "Reverse the list's order", "sort(0)"),
    ("view: undo clear", "Bring back what the last clear forgot", "undo_clear"),
    ("app: screenshot", "Save an SVG screenshot with the captures", "screenshot"),
    ("view: follow newest", "Select the newest request and follow new ones", "follow"),
    ("view: clear finished", "Forget finished requests and errors", "clear"),
    ("view: tokens panel", "Show the streaming tokens of the selection", "panel('tokens')"),
    ("view: CLI panel", "Show the CLI transcript of the selection", "panel('cli')"),
    ("view: errors panel", "Show every error", "panel('errors')"),
    ("view: statistics", "Time to first token, tokens/s, requests and errors over time, per model, the plan's windows", "stats"),
    ("view: pretty CLI JSON", "Switch CLI lines between raw and pretty JSON", "pretty"),
    ("filter: edit", "Type a filter for the requests list", "filter"),
    ("filter: errors only", "Show only failed requests", "set_filter('error')"),
    ("filter: running only", "Show only requests in flight", "set_filter('live')"),
    ("filter: streaming only", "Show only streaming requests", "set_filter('stream')"),
    ("filter: clear", "Show every request", "set_filter('')"),
    ("help: keys", "Every key, its binding id and what it does", "help"),
    ("app: quit", "Stop the server, reap every child and leave", "quit"),
)


class ConsoleCommands(Provider):
    def _runner(self, action: str) -> Callable[[], object]:
        app = self.app  # any App: the actions are named, not imported (no cycle with app.py)

        def run() -> object:
            return app.run_action(action)

        return run

    async def discover(self) -> Hits:
        for name, help_text, action in COMMANDS:
            yield DiscoveryHit(name, self._runner(action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), self._runner(action), help=help_text)
