"""A value that satisfies a JSON schema, the way a model fills in tool arguments or structured output.

Covers what clients send: objects (every property, required or not), enums and consts
(the first choice), strings, numbers, integers, booleans, arrays (one item), nullable
types, anyOf/oneOf (the first branch) and local `$ref`s into `$defs`/`definitions`.
"""

from __future__ import annotations


def value_for(schema, root=None, hint: str = "value"):
    root = schema if root is None else root
    if not isinstance(schema, dict):
        return hint
    if "$ref" in schema:
        return value_for(_resolve(schema["$ref"], root), root, hint)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if schema.get(combinator):
            return value_for(schema[combinator][0], root, hint)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: value_for(sub, root, name) for name, sub in properties.items()}
    if kind == "array":
        return [value_for(schema.get("items") or {}, root, hint)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string_for(hint)


def _string_for(hint: str) -> str:
    # What a model would write for a few common argument names; the name itself otherwise.
    samples = {"location": "San Francisco", "city": "Paris", "value": "CANARY_OK", "status": "ok"}
    return samples.get(hint, hint)


def _resolve(ref: str, root: dict):
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node
