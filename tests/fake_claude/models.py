"""Model aliases as 2.1.328 resolves them (docs/claude-cli.md §2.2) and list prices for cost."""

from __future__ import annotations

ALIASES = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "default": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
    "fable": "claude-fable-5-2",
    "opusplan": "claude-sonnet-5-5",
}
DEFAULT = "claude-opus-5-5"
CONTEXT_WINDOW = 1_000_000  # what 2.1.328 reports for claude-sonnet-5-5
MAX_OUTPUT_TOKENS = 128_000

# USD per million tokens: input, output, cache read, cache write. The sonnet row reproduces
# the costUSD of the real transcripts; the others only keep the usual ratios.
_PRICES = {
    "opus": (5.0, 25.0, 0.5, 6.25),
    "sonnet": (2.0, 10.0, 0.1, 2.5),
    "haiku": (1.0, 5.0, 0.1, 1.25),
}


def resolve(flag: str | None) -> str:
    if not flag:
        return DEFAULT
    return ALIASES.get(flag, flag)


def is_recognized(flag: str | None) -> bool:
    """Unrecognized names still run (echoed), with a stderr notice."""
    return not flag or flag in ALIASES or flag.startswith("claude-")


def cost_usd(model: str, usage: dict) -> float:
    price_in, price_out, price_read, price_write = next(
        (p for key, p in _PRICES.items() if key in model), _PRICES["sonnet"])
    return (usage["input_tokens"] * price_in + usage["output_tokens"] * price_out
            + usage["cache_read_input_tokens"] * price_read
            + usage["cache_creation_input_tokens"] * price_write) / 1_000_000
