"""How big is the capture store? Bytes per 1,000 typical exchanges, and write speed.

    python bench/store_size.py [--exchanges 1000] [--words 150]

Feeds synthetic exchanges (tui_proxy.capture.synthetic: what the engine publishes for
a streamed chat completion) through the real recorder and writer thread into a fresh
store. "Typical" = a ~0.4 kB request body with a system and a user message, the CLI's
stream-json stdin, one stdout line and one SSE chunk per word of a `--words`-word answer
(stream-json lines are ~250 bytes, chunks ~200), the exit and the finish. Also shows
one non-streamed exchange's size, which has no per-token SSE chunks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_proxy.capture import CaptureStore  # noqa: E402
from tui_proxy.capture.synthetic import exchange_events  # noqa: E402
from tui_proxy.events import EventBus  # noqa: E402


def store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.iterdir() if p.name.startswith(path.name))


def fill(path: Path, count: int, *, words: int, stream: bool) -> tuple[float, int]:
    """Seconds to record and commit `count` exchanges; bytes on disk after a checkpoint."""
    sequences = [exchange_events(start=time.time() - count + i, words=words, stream=stream) for i in range(count)]
    events = sum(len(s) for s in sequences)
    with CaptureStore.open(path) as store:
        bus = EventBus()
        store.record(bus)
        start = time.perf_counter()
        for sequence in sequences:
            for event in sequence:
                bus.publish(event)
        publish_seconds = time.perf_counter() - start
        store.flush()
        seconds = time.perf_counter() - start
        print(f"  {events} events published in {publish_seconds * 1000:.0f} ms on the caller's thread "
              f"({publish_seconds / events * 1e6:.1f} µs each)")
    # Closing the last connection checkpoints the WAL into the main file and removes it.
    return seconds, store_bytes(path)


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for stream in (True, False):
            label = "streamed" if stream else "non-streamed"
            print(f"{args.exchanges} {label} exchanges, {args.words}-word answers:")
            seconds, size = fill(Path(tmp) / f"{label}.sqlite3", args.exchanges, words=args.words, stream=stream)
            per_thousand = size / args.exchanges * 1000
            print(f"  written in {seconds:.2f} s ({args.exchanges / seconds:,.0f} exchanges/s)")
            print(f"  {size / 1e6:.2f} MB on disk = {per_thousand / 1e6:.2f} MB per 1,000 exchanges "
                  f"({size / args.exchanges / 1e3:.1f} kB each)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=1000)
    parser.add_argument("--words", type=int, default=150)
    sys.exit(main(parser.parse_args()))
