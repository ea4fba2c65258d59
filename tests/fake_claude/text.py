"""Splitting answer text into deltas the way a model stream does."""

from __future__ import annotations

import re

_WORDS = re.compile(r"\S+\s*|\s+")
SHORT_WORDS = ["alpha ", "beta ", "gamma ", "delta ", "echo ", "fox ", "golf ", "hotel ", "india ", "juliet "]


def split_even(text: str, parts: int) -> list[str]:
    """Exactly `parts` chunks of about equal length (fewer if the text is shorter)."""
    parts = max(1, min(parts, len(text) or 1))
    size, extra = divmod(len(text), parts)
    chunks, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        chunks.append(text[start:end])
        start = end
    return chunks


def split_words(text: str, max_parts: int) -> list[str]:
    """At most `max_parts` chunks cut at word boundaries."""
    words = _WORDS.findall(text) or [text]
    if len(words) <= max_parts:
        return words
    per = -(-len(words) // max_parts)
    return ["".join(words[i:i + per]) for i in range(0, len(words), per)]


def short_words(n: int) -> list[str]:
    return [SHORT_WORDS[i % len(SHORT_WORDS)] for i in range(n)]


def filler(size: int) -> str:
    """`size` ASCII characters (so characters == bytes) of readable filler."""
    unit = "lorem ipsum dolor sit amet, "
    return (unit * (size // len(unit) + 1))[:size]
