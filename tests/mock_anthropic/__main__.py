"""Run the mock standalone: `python -m tests.mock_anthropic --port 8765`.

Handy for pointing a hand-run `claude` (ANTHROPIC_BASE_URL=http://127.0.0.1:8765)
or the proxy at it while developing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from .server import MockAnthropic


async def serve(host: str, port: int) -> None:
    mock = await MockAnthropic(host, port).start()
    print(f"mock Anthropic API listening on {mock.base_url}", flush=True)
    seen = 0
    try:
        while True:
            await asyncio.sleep(0.2)
            for request in mock.requests[seen:]:
                print(f"{request.method} {request.path} scenario={request.scenario}", file=sys.stderr, flush=True)
            seen = len(mock.requests)
    finally:
        await mock.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.mock_anthropic", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on startup)")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
