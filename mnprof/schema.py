"""JSON Schemas of the spec language and of budget files, generated, never hand-written.

The shipped ``mnprof/schemas/spec.schema.json`` is ``spec_schema()``, built from
the layer-kind registry; ``mnprof/schemas/budget.schema.json`` is
``budget_schema()``, built from ``mnprof.budget``'s metrics, number grammar and
defaults. ``make schema`` regenerates both and a test checks they are current, so
the schema editors see and the validator mnprof runs come from the same
declarations.
"""

from __future__ import annotations

import json
import re
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


# ---------------------------------------------------------------------------
# Budgets (mnprof check)

BUDGET_SCHEMA_ID = "https://mnprof.invalid/schemas/budget.schema.json"


def budget_schema() -> dict[str, Any]:
    from . import budget as b  # here, not at the top: `mnprof schema` never loads it

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/$defs/{name}"}

    def amount(unit: Any) -> dict[str, Any]:
        suffixes = sorted((x for x in b.SUFFIXES[unit] if x), key=lambda x: (-len(x), x))
        text = {"type": "string", "pattern": rf"^\s*{b.NUMBER}\s*(?:"
                + "|".join(map(re.escape, suffixes)) + r")?\s*$"}
        number = {"type": "number" if unit is b.Unit.MS else "integer", "minimum": 0}
        return {"description": b.HINTS[unit], "anyOf": [number, text]}

    def limit(unit: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "max": {**ref(unit.value), "description": "the limit: actual <= max"},
            "max_increase": {"anyOf": [ref("percent"), ref(unit.value)],
                             "description": "growth allowed over the baseline report: a "
                                            "percentage (1%) or an amount"}}
        if unit is b.Unit.MS:
            fields.update({
                "tolerance": {**ref("percent"), "default": _percent(b.DEFAULT_TOLERANCE),
                              "description": "measured up to max * (1 + tolerance) still "
                                             "passes"},
                "threads": {"type": "integer", "minimum": 1, "default": b.DEFAULT_THREADS,
                            "description": "onnxruntime intra-op threads"},
                "runs": {"type": "integer", "minimum": 1, "default": b.DEFAULT_RUNS,
                         "description": "timed runs, at least"},
                "warmup": {"type": "integer", "minimum": 0, "default": b.DEFAULT_WARMUP,
                           "description": "untimed runs first"},
                "min_time": {"type": "number", "minimum": 0, "default": b.DEFAULT_MIN_TIME,
                             "description": "seconds of timed runs, at least"}})
        assert tuple(fields) == (b.LATENCY_FIELDS if unit is b.Unit.MS else b.RULES)
        return {"anyOf": [ref(unit.value), {
            "type": "object", "additionalProperties": False, "properties": fields,
            "anyOf": [{"required": [rule]} for rule in b.RULES]}]}

    text = {"type": "string", "pattern": r"\S"}
    model = {
        "name": {**text, "description": "label in reports (default: "
                                        "<spec name>-<alpha>-<resolution>)"},
        "spec": {**text, "description": "a built-in spec name, or a path relative to the "
                                        "budget file"},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "default": 1,
                  "description": "width multiplier"},
        "resolution": {"type": "integer", "minimum": 1,
                       "description": "input resolution (default: the spec's)"},
        "baseline": {"anyOf": [text, {"type": "array", "items": text}],
                     "description": "saved report(s) for max_increase: mnprof "
                                    "cost/sweep/bench --format json --output FILE"},
        "limits": {"type": "object", "minProperties": 1, "additionalProperties": False,
                   "properties": {m.name: {**ref(f"{m.unit.value}_limit"),
                                           "description": m.doc}
                                  for m in b.METRICS.values()}},
    }
    assert tuple(model) == b.MODEL_FIELDS
    defs: dict[str, Any] = {
        "model": {"type": "object", "additionalProperties": False,
                  "required": ["spec", "limits"], "properties": model},
        "percent": {"type": "string", "pattern": b.PERCENT_RE.pattern,
                    "description": "a percentage: 1%, 0.5%"},
    }
    for unit in b.Unit:
        defs[unit.value] = amount(unit)
        defs[f"{unit.value}_limit"] = limit(unit)
    top = {"models": {"type": "array", "minItems": 1, "items": ref("model")},
           "description": {"type": "string"}}
    assert tuple(top) == b.TOP_FIELDS
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BUDGET_SCHEMA_ID,
        "title": "mnprof budget (mnprof check)",
        "description": "Models and the limits each must keep. mnprof checks the same rules "
                       "and more (exact whole numbers, unique names, baselines, specs), "
                       "with a one-line error naming file, line and field.",
        "type": "object",
        "additionalProperties": False,
        "required": ["models"],
        "properties": top,
        "$defs": defs,
    }


def _percent(fraction: Any) -> str:
    return f"{float(100 * fraction):g}%"


def budget_schema_text() -> str:
    return json.dumps(budget_schema(), indent=2) + "\n"
