"""The model catalogue in OpenAI's shape (`GET /v1/models`)."""

from __future__ import annotations

from ..models import CATALOGUE, CREATED, ModelEntry


def model_object(entry: ModelEntry) -> dict:
    return {"id": entry.id, "object": "model", "created": CREATED, "owned_by": entry.owned_by}


def model_list() -> dict:
    return {"object": "list", "data": [model_object(entry) for entry in CATALOGUE]}
