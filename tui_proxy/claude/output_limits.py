"""`stop` and `max_tokens` emulated on the CLI's output, which has neither.

Stop sequences: text is held back just long enough to see a sequence that spans two
deltas, then cut before it. Max tokens: output is counted with an estimate (the CLI's
real count only arrives at the end) and cut at the limit. Either way the engine then
stops the CLI, so no tokens are spent past the cut.
"""

from __future__ import annotations

import re

#: Word pieces: a run of letters/digits (long ones count as several tokens), or one
#: other visible character. Close to real tokenizers on prose and code.
_PIECE = re.compile(r"\w+|[^\w\s]")
CHARS_PER_WORD_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return sum(-(-len(m) // CHARS_PER_WORD_TOKEN) for m in _PIECE.findall(text))


class OutputLimiter:
    """Feed text deltas in order; get back what may be sent and whether to stop."""

    __slots__ = ("stop", "max_tokens", "active", "_held", "_hold", "_tokens", "finish_reason", "matched")

    def __init__(self, stop: tuple[str, ...] = (), max_tokens: int | None = None) -> None:
        self.stop = stop
        self.max_tokens = max_tokens
        self._held = ""
        self._hold = max((len(s) for s in stop), default=1) - 1
        self._tokens = 0
        #: "stop" or "length" once a limit was hit; then nothing more is sent.
        self.finish_reason: str | None = None
        #: The stop sequence that cut the answer (Anthropic's `stop_sequence`).
        self.matched: str | None = None
        #: A limit is set: without one, `feed` passes everything (the reader skips it then).
        self.active = bool(stop) or max_tokens is not None

    def feed(self, text: str) -> str:
        if self.finish_reason is not None:
            return ""
        if self.stop:
            text = self._held + text
            cut, matched = min(((i, s) for s, i in ((s, text.find(s)) for s in self.stop) if i >= 0), default=(-1, None))
            if cut >= 0:
                self.finish_reason = "stop"
                self.matched = matched
                return self._count(text[:cut])
            keep = len(text) - self._hold
            self._held = text[keep:] if self._hold else ""
            text = text[:keep] if self._hold else text
        return self._count(text)

    def flush(self) -> str:
        """What is still held back when the output ends normally."""
        held, self._held = self._held, ""
        return self._count(held) if self.finish_reason is None else ""

    def _count(self, text: str) -> str:
        if self.max_tokens is None or not text:
            return text
        room = self.max_tokens - self._tokens
        tokens = estimate_tokens(text)
        if tokens <= room:
            self._tokens += tokens
            return text
        # Cut at the piece where the budget runs out.
        used = 0
        end = 0
        for m in _PIECE.finditer(text):
            cost = -(-len(m.group()) // CHARS_PER_WORD_TOKEN)
            if used + cost > room:
                break
            used += cost
            end = m.end()
        self._tokens += used
        self.finish_reason = "length"
        return text[:end]

    @property
    def tokens(self) -> int:
        return self._tokens
