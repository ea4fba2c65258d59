"""A turn's text as streamed, so that the CLI's retries are not sent twice."""

from __future__ import annotations

from .run_events import Restart


class TurnText:
    """The current turn's text as streamed, so that a retried message is not sent twice.

    After a failed stream the CLI retries the turn, streaming it again from the start (a
    dropped connection) or writing it whole without deltas (an error event). Repeats of
    what was sent are skipped; an answer that differs from it voids the turn (`Restart`).
    """

    __slots__ = ("_sent", "_unjoined", "replay", "message_count", "diverged", "emitted", "turn_start")

    def __init__(self) -> None:
        self._sent = ""  # this turn's text already passed on (see `sent`)
        #: Deltas not yet joined to `_sent`: a long answer must not copy its text at every delta.
        self._unjoined: list[str] = []
        self.replay: str | None = None  # the retried message's text so far
        self.message_count = 0
        self.diverged = False
        self.emitted = 0  # characters of output passed on, all turns
        self.turn_start = 0  # where this turn's output began

    @property
    def sent(self) -> str:
        if self._unjoined:
            self._sent += "".join(self._unjoined)
            self._unjoined.clear()
        return self._sent

    @sent.setter
    def sent(self, text: str) -> None:
        self._sent = text
        self._unjoined.clear()

    def add(self, delta: str) -> str:
        if self.replay is None:
            self._unjoined.append(delta)
            return delta
        self.replay += delta
        if self.sent.startswith(self.replay):
            return ""  # still repeating what was sent
        if self.replay.startswith(self.sent):
            new = self.replay[len(self.sent) :]
            self.sent, self.replay = self.replay, None
            return new
        # The retry wrote something else: the turn starts over with the retry's text.
        self.diverged = True
        text, self.sent, self.replay = self.replay, self.replay, None
        return text

    def retry(self) -> None:
        self.replay = ""

    def restart(self) -> Restart:
        self.diverged = False
        self.emitted = self.turn_start
        return Restart(self.turn_start)

    def next_turn(self, *, separate: bool) -> str:
        sep = "\n\n" if separate and self.sent and not self.sent.endswith("\n\n") else ""
        self.sent = ""
        self.replay = None
        return sep

    def missing_from(self, final: str) -> str:
        """What of the CLI's final text was never streamed (its fallback writes it whole)."""
        if final.startswith(self.sent):
            new = final[len(self.sent) :]
        else:
            self.diverged = bool(self.sent)
            new = final
        self.sent = final
        return new
