"""The JSON Schema of budget files, generated from ``mnprof.gate.budget``, never hand-written.

The shipped ``mnprof/schemas/budget.schema.json`` is ``budget_schema()``, built from
the budget format's metrics, number grammar and defaults. ``make schema``
regenerates it and a test checks it is current.
"""

from __future__ import annotations

import json
import re
from typing import Any

BUDGET_SCHEMA_ID = "https://mnprof.invalid/schemas/budget.schema.json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _amount(unit: Any) -> dict[str, Any]:
    from . import amounts as u
    suffixes = sorted((x for x in u.SUFFIXES[unit] if x), key=lambda x: (-len(x), x))
    text = {"type": "string", "pattern": rf"^\s*{u.NUMBER}\s*(?:"
            + "|".join(map(re.escape, suffixes)) + r")?\s*$"}
    number = {"type": "number" if unit is u.Unit.MS else "integer", "minimum": 0}
    return {"description": u.HINTS[unit], "anyOf": [number, text]}


def _predicted_limit() -> dict[str, Any]:
    from . import settings as b
    fields: dict[str, Any] = {
        "max": {**_ref("ms"), "description": "the limit: predicted <= max"},
        "max_increase": {"anyOf": [_ref("percent"), _ref("ms")],
                         "description": "growth allowed over the baseline (a saved mnprof "
                                        "predict report): a percentage (1%) or an amount"},
        "tolerance": {**_ref("percent"), "description": "predicted up to max * (1 + "
                                                         "tolerance) still passes (default: "
                                                         "none; a prediction does not vary)"},
        "threads": {"type": "integer", "minimum": 1, "default": b.DEFAULT_THREADS,
                    "description": "intra-op threads of the device profile"},
        "device": {"type": "string", "pattern": r"\S",
                   "description": "a device profile file, relative to the budget (default: "
                                  "this machine's, from mnprof calibrate)"}}
    assert tuple(fields) == b.PREDICTED_FIELDS
    return {"anyOf": [_ref("ms"), {
        "type": "object", "additionalProperties": False, "properties": fields,
        "anyOf": [{"required": [rule]} for rule in b.RULES]}]}


def _limit(unit: Any) -> dict[str, Any]:
    from ..bench import settings as bs
    from . import amounts as u
    from . import settings as b
    fields: dict[str, Any] = {
        "max": {**_ref(unit.value), "description": "the limit: actual <= max"},
        "max_increase": {"anyOf": [_ref("percent"), _ref(unit.value)],
                         "description": "growth allowed over the baseline report: a "
                                        "percentage (1%) or an amount"}}
    if unit is u.Unit.MS:
        fields.update({
            "tolerance": {**_ref("percent"), "default": _percent(b.DEFAULT_TOLERANCE),
                          "description": "measured up to max * (1 + tolerance) still passes"},
            "threads": {"type": "integer", "minimum": 1, "default": b.DEFAULT_THREADS,
                        "description": "onnxruntime intra-op threads (at most 4 per CPU)"},
            "runs": {"type": "integer", "minimum": 1, "maximum": bs.MAX_RUNS,
                     "default": b.DEFAULT_RUNS, "description": "timed runs, at least"},
            "warmup": {"type": "integer", "minimum": 0, "maximum": bs.MAX_WARMUP,
                       "default": b.DEFAULT_WARMUP, "description": "untimed runs first"},
            "min_time": {"type": "number", "minimum": 0, "maximum": bs.MAX_MIN_TIME,
                         "default": b.DEFAULT_MIN_TIME,
                         "description": "seconds of timed runs, at least"},
            "precision": {"enum": list(b.PRECISIONS), "default": "fp32",
                          "description": "the model timed: fp32, or int8 (quantized by "
                                         "onnxruntime: QDQ, per-channel, S8S8)"}})
    assert tuple(fields) == (b.LATENCY_FIELDS if unit is u.Unit.MS else b.RULES)
    return {"anyOf": [_ref(unit.value), {
        "type": "object", "additionalProperties": False, "properties": fields,
        "anyOf": [{"required": [rule]} for rule in b.RULES]}]}


def _model() -> dict[str, Any]:
    from . import budget as b
    text = {"type": "string", "pattern": r"\S"}
    model = {
        "name": {**text, "description": "label in reports (default: "
                                        "<spec name>-<alpha>-<resolution>)"},
        "spec": {**text, "description": "a built-in spec name, or a path relative to the "
                                        "budget file"},
        "model": {"type": "string", "pattern": r"\.[oO][nN][nN][xX]\s*$",
                  "description": "instead of spec: an ONNX file (a path relative to the "
                                 "budget file), imported layer by layer"},
        "dims": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                 "description": "model only: values of the ONNX input's symbolic "
                                "dimensions, e.g. {batch: 1}"},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "maximum": 10,
                  "description": "width multiplier (default: the spec's, 1 for most)"},
        "depth": {"type": "number", "exclusiveMinimum": 0, "maximum": 10,
                  "description": "depth multiplier (default: the spec's, 1 for most)"},
        "resolution": {"type": "integer", "minimum": 1, "maximum": 16384,
                       "description": "input resolution (default: the spec's)"},
        "baseline": {"anyOf": [text, {"type": "array", "items": text}],
                     "description": "saved report(s) for max_increase: mnprof "
                                    "cost/sweep/bench --format json --output FILE"},
        "limits": {"type": "object", "minProperties": 1, "additionalProperties": False,
                   "properties": {m.name: {**_ref("predicted_limit" if m.predicted
                                                   else f"{m.unit.value}_limit"),
                                           "description": m.doc}
                                  for m in b.METRICS.values()}},
    }
    assert tuple(model) == b.MODEL_FIELDS
    return model


def budget_schema() -> dict[str, Any]:
    from . import amounts as u
    from . import budget as b
    defs: dict[str, Any] = {
        "model": {"type": "object", "additionalProperties": False,
                  "required": ["limits"], "properties": _model(),
                  "oneOf": [{"required": ["spec"]},
                            {"required": ["model"],
                             "not": {"anyOf": [{"required": ["alpha"]},
                                               {"required": ["depth"]}]}}]},
        "percent": {"type": "string", "pattern": u.PERCENT_RE.pattern,
                    "description": "a percentage: 1%, 0.5%"},
    }
    for unit in u.Unit:
        defs[unit.value] = _amount(unit)
        defs[f"{unit.value}_limit"] = _limit(unit)
    defs["predicted_limit"] = _predicted_limit()
    top = {"models": {"type": "array", "minItems": 1, "items": _ref("model")},
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
