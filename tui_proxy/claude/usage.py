"""The CLI's token counts in OpenAI terms."""

from __future__ import annotations

from ..events import Usage


def usage_from_cli(usage: dict, cost_usd: float | None = None, *, completion_override: int | None = None) -> Usage:
    """Cache reads and writes are prompt tokens too (the reference proxy forgets them)."""
    input_tokens = _int(usage.get("input_tokens"))
    cache_read = _int(usage.get("cache_read_input_tokens"))
    cache_write = _int(usage.get("cache_creation_input_tokens"))
    output = _int(usage.get("output_tokens"))
    details = usage.get("output_tokens_details")
    thinking = _int(details.get("thinking_tokens")) if isinstance(details, dict) else 0
    return Usage(
        prompt_tokens=input_tokens + cache_read + cache_write,
        completion_tokens=output if completion_override is None else completion_override,
        cached_tokens=cache_read,
        cache_creation_tokens=cache_write,
        reasoning_tokens=thinking,
        cost_usd=cost_usd,
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
