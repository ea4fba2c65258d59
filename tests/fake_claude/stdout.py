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


class JsonSink(StreamJsonSink):
    """--output-format json: the result object (or, with --verbose, an array of all lines)."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.lines: list[dict] = []

    def line(self, obj: dict) -> None:
        self.lines.append(obj)

    def raw(self, data: bytes) -> None:
        pass  # junk lines only exist in the stream-json framing

    def finish(self) -> None:
        if self.verbose:
            payload = self.lines
        else:
            results = [line for line in self.lines if line.get("type") == "result"]
            if not results:
                return
            payload = results[-1]
        data = encode(payload)
        self.lines = []
        StreamJsonSink.raw(self, data)


class TextSink(JsonSink):
    """--output-format text: the result text only."""

    def __init__(self) -> None:
        super().__init__(verbose=False)

    def finish(self) -> None:
        results = [line for line in self.lines if line.get("type") == "result"]
        self.lines = []
        if results:
            text = results[-1].get("result")
            if text is None:
                text = "; ".join(results[-1].get("errors") or [])
            StreamJsonSink.raw(self, (text + "\n").encode("utf-8"))
