"""Many timed pieces of text in one `parts` row, packed cheaply.

Hundreds of stdout lines and SSE chunks per exchange cost a row each otherwise; and
JSON-encoding them (they are mostly JSON themselves, so full of quotes to escape) was the
writer thread's largest cost. So: the times as little-endian float64s, the lengths (in
characters) as little-endian uint32s, the texts joined as one string.
"""

from __future__ import annotations

import sys
from array import array

from .model import TimedLine

_SWAP = sys.byteorder != "little"


def pack(times: list[float], texts: list[str]) -> tuple[bytes, bytes, str]:
    return _bytes(array("d", times)), _bytes(array("I", map(len, texts))), "".join(texts)


def unpack(times: bytes, lengths: bytes, texts: str) -> list[TimedLine]:
    lines: list[TimedLine] = []
    start = 0
    for at, length in zip(_array("d", times), _array("I", lengths)):
        lines.append(TimedLine(at, texts[start : start + length]))
        start += length
    return lines


def _bytes(values: array) -> bytes:
    if _SWAP:
        values.byteswap()
    return values.tobytes()


def _array(typecode: str, data: bytes) -> array:
    values = array(typecode)
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values
