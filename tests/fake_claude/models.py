"""Model aliases as 2.1.328 resolves them (claude-cli.md §2.2) and list prices for cost."""

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
CONTEXT_WINDOW = 200_000
MAX_OUTPUT_TOKENS = 128_000

# USD per million tokens: (input, output); cache reads cost 0.1x input, cache writes 1.25x.
_PRICES = {"opus": (5.0, 25.0), "sonnet": (3.0, 15.0), "haiku": (1.0, 5.0)}


def resolve(flag: str | None) -> str:
    if not flag:
        return DEFAULT
    return ALIASES.get(flag, flag)


def is_recognized(flag: str | None) -> bool:
    """Unrecognized names still run (echoed), with a stderr notice."""
    return not flag or flag in ALIASES or flag.startswith("claude-")


def cost_usd(model: str, usage: dict) -> float:
    price_in, price_out = next((p for key, p in _PRICES.items() if key in model), _PRICES["sonnet"])
    millions = (usage["input_tokens"] * price_in
                + usage["output_tokens"] * price_out
                + usage["cache_read_input_tokens"] * price_in * 0.1
                + usage["cache_creation_input_tokens"] * price_in * 1.25)
    return round(millions / 1_000_000, 8)
