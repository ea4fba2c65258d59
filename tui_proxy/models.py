"""The model catalogue, and how a client's model id becomes the CLI's `--model` value (any face)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProxyError

#: Fixed `created` stamp so the list is stable between calls.
CREATED = 1735689600  # 2025-01-01


@dataclass(frozen=True, slots=True)
class ModelEntry:
    id: str
    #: What is passed to `claude --model`.
    cli_model: str
    owned_by: str = "anthropic"


#: What users of the reference proxy already configure, the CLI's aliases and full ids.
CATALOGUE: tuple[ModelEntry, ...] = (
    ModelEntry("claude-opus-4", "opus"),
    ModelEntry("claude-sonnet-4", "sonnet"),
    ModelEntry("claude-haiku-4", "haiku"),
    ModelEntry("opus", "opus"),
    ModelEntry("sonnet", "sonnet"),
    ModelEntry("haiku", "haiku"),
    ModelEntry("claude-opus-4-1", "claude-opus-4-1"),
    ModelEntry("claude-opus-4-5", "claude-opus-4-5"),
    ModelEntry("claude-sonnet-4-5", "claude-sonnet-4-5"),
    ModelEntry("claude-haiku-4-5", "claude-haiku-4-5"),
)
_BY_ID = {entry.id: entry for entry in CATALOGUE}

#: Prefixes clients put before a model id (LiteLLM-style routing, the reference's own).
_STRIPPED_PREFIXES = ("claude-code-cli/", "claude-max/", "anthropic/")


def resolve(model_id: str) -> ModelEntry:
    """The catalogue entry for `model_id`; any `claude-*` id passes through to the CLI.

    Unknown ids are refused here, before anything is spawned.
    """
    bare = model_id
    for prefix in _STRIPPED_PREFIXES:
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
            break
    entry = _BY_ID.get(bare)
    if entry is not None:
        return ModelEntry(model_id, entry.cli_model)
    if bare.startswith("claude-") and _is_plain_id(bare):
        return ModelEntry(model_id, bare)
    raise ProxyError(
        404,
        f"The model `{model_id}` does not exist or you do not have access to it. "
        "Use one of the ids from GET /v1/models, a CLI alias (opus, sonnet, haiku) or a full claude-* id.",
        code="model_not_found",
        param="model",
        retryable=False,
    )


def _is_plain_id(text: str) -> bool:
    # Passed to the CLI as one argv element; still, keep it to what model ids look like.
    return len(text) <= 100 and all(c.isalnum() or c in "-._:@[]" for c in text)
