"""A capture (or a summary) as plain JSON-able data: `captures show --json`, `export --format json`."""

from __future__ import annotations

import base64
import dataclasses
from enum import Enum
from typing import Any

from .model import Capture, CaptureSummary

FORMAT_VERSION = 1


def summary_to_dict(summary: CaptureSummary) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(CaptureSummary)}
    data = {name: to_plain(getattr(summary, name)) for name in fields}
    data["complete"] = summary.complete
    return data


def capture_to_dict(capture: Capture) -> dict[str, Any]:
    data: dict[str, Any] = {"format_version": FORMAT_VERSION}
    for field in dataclasses.fields(capture):
        data[field.name] = to_plain(getattr(capture, field.name))
    data["complete"] = capture.complete
    # Bodies are usually JSON text; anything else survives as base64.
    try:
        data["request_body"] = capture.request_body.decode("utf-8")
    except UnicodeDecodeError:
        del data["request_body"]
        data["request_body_base64"] = base64.b64encode(capture.request_body).decode("ascii")
    data["response_body"] = capture.response_body
    return data


def to_plain(value: Any) -> Any:
    """Dataclasses, enums, tuples and bytes as JSON-able values."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
