"""stdout lines exactly as the real CLI frames them.

One JSON object per line, written with one os.write loop and no buffering (flushed at
once, like the real CLI even when piped). Non-ASCII stays raw UTF-8, but U+2028,
U+2029, U+0085 and lone surrogates are \\u-escaped; json.dumps already escapes C0
controls. Output formats other than stream-json collect lines and print at the end.
"""

from __future__ import annotations

import json
import os
import re

from . import lifecycle

_ESCAPED = re.compile("[\u2028\u2029\u0085\ud800-\udfff]")


def encode(obj: object) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    text = _ESCAPED.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    return text.encode("utf-8") + b"\n"


def write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:
            lifecycle.exit_now(1)
        view = view[written:]


def stderr(text: str) -> None:
    write_fd(2, (text if text.endswith("\n") else text + "\n").encode("utf-8", "replace"))


class StreamJsonSink:
    """--output-format stream-json: every line goes out as soon as it exists."""

    def line(self, obj: dict) -> None:
        self.raw(encode(obj))

    def raw(self, data: bytes) -> None:
        lifecycle.begin_write()
        try:
            write_fd(1, data)
        finally:
            lifecycle.end_write()

    def finish(self) -> None:
        pass


class _CollectingSink(StreamJsonSink):
    """Formats that print once, at the end of the run."""

    def __init__(self) -> None:
        self.lines: list[dict] = []

    def line(self, obj: dict) -> None:
        self.lines.append(obj)

    def raw(self, data: bytes) -> None:
        pass  # junk lines only exist in the stream-json framing

    def last_result(self) -> dict | None:
        results = [line for line in self.lines if line.get("type") == "result"]
        return results[-1] if results else None

    def print_once(self, data: bytes) -> None:
        self.lines = []
        StreamJsonSink.raw(self, data)


class JsonSink(_CollectingSink):
    """--output-format json: the result object (with --verbose, an array of every message)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def finish(self) -> None:
        payload = self.lines if self.verbose else self.last_result()
        if payload:
            self.print_once(encode(payload))


class TextSink(_CollectingSink):
    """--output-format text: the result text only."""

    def finish(self) -> None:
        result = self.last_result()
        if result is not None:
            text = result["result"] if "result" in result else "; ".join(result.get("errors") or [])
            self.print_once((text + "\n").encode("utf-8"))
