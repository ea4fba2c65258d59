"""Render the README screenshots from the demo scene: SVG (Textual) and PNG (rsvg-convert).

    python scripts/screenshots.py [--out screenshots]

The scene, clock and ids are the ones the snapshot tests use, so the pictures show
exactly what the tests pin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_proxy.tui import demo  # noqa: E402
from tui_proxy.tui.demo import DemoCliStatus, make_demo_app, press_and_draw, scene_replay_diff, stage  # noqa: E402
from tui_proxy.tui.screens.replay_diff import ReplayDiffScreen  # noqa: E402

# (file name, terminal size, row to select, bottom panel, keys pressed after)
SHOTS = [
    ("console", (150, 42), demo.DONE_WITH_THINKING, "tokens", ()),
    ("console-streaming", (150, 42), demo.STREAMING, "tokens", ()),
    ("console-cli", (150, 42), demo.DONE_WITH_THINKING, "cli", ()),
    ("console-errors", (150, 42), demo.RATE_LIMITED, "errors", ()),
    ("console-80x24", (80, 24), demo.STREAMING, "tokens", ()),
    ("console-tools", (150, 42), demo.TOOL_CALLS, "tokens", ()),
    ("detail-request", (130, 40), demo.NOT_STREAMING, None, ("enter", "1")),
    ("detail-response", (130, 40), demo.DONE_WITH_THINKING, None, ("enter", "2")),
    ("detail-stream", (130, 40), demo.DONE_WITH_THINKING, None, ("enter", "3")),
    ("detail-cli", (130, 40), demo.DONE_WITH_THINKING, None, ("enter", "4")),
    ("detail-timings", (130, 40), demo.DONE_WITH_THINKING, None, ("enter", "5")),
    ("detail-error", (130, 40), demo.RATE_LIMITED, None, ("enter", "6")),
    ("detail-tools", (130, 40), demo.TOOL_CALLS, None, ("enter", "2")),
    ("help", (130, 40), None, None, ("question_mark",)),
]


async def shoot(name: str, size: tuple[int, int], select, panel, keys, out: Path, scene: bool = True, screen=None, **app_kwargs) -> Path:
    """`screen(app)`, when given, makes a screen pushed over the staged console."""
    app = make_demo_app(**app_kwargs)
    async with app.run_test(size=size) as pilot:
        await stage(pilot, select=select, panel=panel, scene=scene)
        if screen is not None:
            await app.push_screen(screen(app))
        await press_and_draw(pilot, *keys)
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
    return path


def to_png(svg: Path) -> Path | None:
    """rsvg-convert drops leading no-break spaces unless told to keep whitespace."""
    converter = shutil.which("rsvg-convert")
    if converter is None:
        return None
    fixed = svg.with_suffix(".tmp.svg")
    fixed.write_text(svg.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1))
    png = svg.with_suffix(".png")
    subprocess.run([converter, "--zoom", "1", str(fixed), "-o", str(png)], check=True)
    fixed.unlink()
    return png


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    svgs = [await shoot(*shot, out) for shot in SHOTS]
    svgs.append(await shoot("error-state", (100, 24), None, "tokens", (), out, scene=False, start_error=OSError(98, "Address already in use"), cli_status=DemoCliStatus(logged_in=False)))
    svgs.append(await shoot("replay-diff", (130, 40), demo.DONE_WITH_THINKING, "tokens", (), out, screen=lambda app: ReplayDiffScreen(scene_replay_diff(app))))
    svgs.append(await shoot("console-retry", (160, 45), demo.RETRYING, "tokens", (), out))
    svgs.append(await shoot("console-retry-80x24", (80, 24), demo.RETRYING, "tokens", (), out))
    svgs.append(await shoot("detail-usage", (130, 40), demo.TOOL_CALLS, None, ("enter", "5"), out))
    svgs.append(await shoot("stats", (150, 50), None, None, ("s",), out, history=True))
    for svg in svgs:
        png = to_png(svg)
        print(svg, png or "(no rsvg-convert: apt-get install librsvg2-bin for PNGs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"  # scene times print as in the snapshots
    time.tzset()
    asyncio.run(main(args.out))
