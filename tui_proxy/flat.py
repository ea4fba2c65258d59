"""A flat dataclass (every value a scalar: Usage, ErrorInfo, a quota window) as a dict of its
fields in order: what `dataclasses.asdict` gives for it, without its deep copies (these run
for every captured exchange)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

_NAMES: dict[type, tuple[str, ...]] = {}


def flat_dict(record: object) -> dict[str, Any]:
    names = _NAMES.get(type(record))
    if names is None:
        names = _NAMES[type(record)] = tuple(f.name for f in fields(record))  # type: ignore[arg-type]
    return {name: getattr(record, name) for name in names}
