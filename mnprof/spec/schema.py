"""The JSON Schema of the spec language, generated from the registries, never hand-written.

The shipped ``mnprof/schemas/spec.schema.json`` is ``spec_schema()``: each kind's
fields write their own fragments (``Field.schema``), so the schema editors see and
the validator mnprof runs come from the same declarations. ``make schema``
regenerates it and a test checks it is current.
"""

from __future__ import annotations

import json
from typing import Any

from ..model.fields import EXPR_SCHEMA
from ..model.kinds import KINDS
from .document import COMMON_FIELDS

SCHEMA_ID = "https://mnprof.invalid/schemas/spec.schema.json"
_EXPR = EXPR_SCHEMA


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
        props.update({f.name: f.schema() for f in kind.fields})
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
            "alpha": {"type": "number", "exclusiveMinimum": 0, "maximum": 10,
                      "description": "the width this spec is built at by default (1)"},
            "depth": {"type": "number", "exclusiveMinimum": 0, "maximum": 10,
                      "description": "the depth multiplier by default (1): every written "
                                     "`repeat` n becomes ceil(n * depth)"},
            "widths": {"type": "array", "minItems": 1, "maxItems": 100, "uniqueItems": True,
                       "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
                       "description": "the widths the spec is defined at (a table of "
                                      "channels rather than a multiplier): what `mnprof "
                                      "sweep` sweeps unless given --alpha"},
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
