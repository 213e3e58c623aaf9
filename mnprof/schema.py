"""The JSON Schema of the spec language, generated from the layer-kind registry.

The shipped file ``mnprof/schemas/spec.schema.json`` is this function's output
(``mnprof schema -o mnprof/schemas/spec.schema.json`` regenerates it, and a test
checks it is current), so the schema editors see and the validator mnprof runs
come from the same field declarations.
"""

from __future__ import annotations

import json
from typing import Any

from .kinds import KINDS, Field
from .spec import COMMON_FIELDS

SCHEMA_ID = "https://mnprof.invalid/schemas/spec.schema.json"
_EXPR = {"type": "string", "pattern": r"^\$", "description": "an expression: $name or $(...)"}


def _field_schema(f: Field) -> dict[str, Any]:
    if f.type == "int":
        base: dict[str, Any] = {"type": "integer", "minimum": int(f.minimum)}
    elif f.type == "float":
        base = {"type": "number", "minimum": f.minimum}
        if f.maximum is not None:
            base["exclusiveMaximum"] = f.maximum
    elif f.type == "bool":
        base = {"type": "boolean"}
    elif f.type == "scale":
        base = {"enum": [True, False, "no_shrink"]}
    else:
        base = {"enum": list(f.choices)}
    if f.default is None:
        base = {"anyOf": [base, {"type": "null"}]}
    schema = {"anyOf": [base, _EXPR]}
    if f.doc:
        schema["description"] = f.doc
    return schema


def _common() -> dict[str, Any]:
    name = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
    return {
        "name": {**name, "description": "layer name (default: <kind><k>)"},
        "input": {"type": "string", "description": "an earlier layer's name, or 'in'"},
        "inputs": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "repeat": {"anyOf": [{"type": "integer", "minimum": 1}, _EXPR],
                   "description": "build n times; stride applies to the first only"},
        "when": {"anyOf": [{"type": "boolean"}, _EXPR],
                 "description": "omit the layer when false"},
        "type": {"type": "string", "pattern": "^[A-Za-z0-9_]+$",
                 "description": "per-type key for reports (default from the kind)"},
    }


def spec_schema() -> dict[str, Any]:
    assert set(_common()) == set(COMMON_FIELDS)
    kinds = []
    for kind in KINDS.values():
        props = {"kind": {"const": kind.name, "description": kind.doc}, **_common()}
        props.update({f.name: _field_schema(f) for f in kind.fields})
        kinds.append({"type": "object", "properties": props, "additionalProperties": False,
                      "required": ["kind", *[f.name for f in kind.fields if f.required]]})
    block_use = {"type": "object", "required": ["block"],
                 "properties": {"block": {"type": "string"}, **_common()},
                 "not": {"required": ["kind"]},
                 "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                 "description": "a block defined under blocks:, with its parameters"}
    defs = {f"kind_{k['properties']['kind']['const']}": k for k in kinds}
    layer = {"anyOf": [{"$ref": "#/$defs/block_use"}, *[{"$ref": f"#/$defs/{d}"} for d in defs]]}
    defs["block_use"] = block_use
    defs["layer"] = layer
    defs["layers"] = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mnprof architecture spec",
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "layers"],
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "input": {"type": "object", "additionalProperties": False,
                      "required": ["resolution"],
                      "properties": {"resolution": {"type": "integer", "minimum": 1},
                                     "channels": {"type": "integer", "minimum": 1}}},
            "classes": {"type": "integer", "minimum": 1},
            "rounding": {"enum": ["truncate", "multiple_of_8"]},
            "blocks": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False, "required": ["layers"],
                "properties": {
                    "description": {"type": "string"},
                    "type": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                    "params": {"type": "object", "additionalProperties": {
                        "type": ["string", "number", "boolean", "null"]}},
                    "layers": {"$ref": "#/$defs/layers"}}}},
            "layers": {"$ref": "#/$defs/layers"},
        },
        "$defs": defs,
    }


def spec_schema_text() -> str:
    return json.dumps(spec_schema(), indent=2) + "\n"
