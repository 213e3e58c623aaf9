"""Saved reports that relative limits (``max_increase``) compare with.

A baseline is a ``mnprof cost``, ``sweep`` or ``bench`` JSON report of the *same*
model at the same alpha and resolution (a report of another model, or of another
configuration, is an error, never a silent comparison). Each is read once, bounded
in size, and its figures are checked to be numbers a report may hold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.contracts import BENCH_SCHEMA, COST_SCHEMA, PREDICT_SCHEMA, SWEEP_SCHEMA
from ..core.errors import MnprofError, SpecError
from ..core.files import read_text
from ..core.values import MAX_INT
from ..model.graph import Graph
from .amounts import Unit
from .budget import METRICS, Limit, ModelBudget

MAX_REPORT_BYTES = 64 << 20     # a saved report's cap (a spec's is 1 MiB)


@dataclass(frozen=True)
class BaselineValue:
    file: str
    value: int | float


@dataclass(frozen=True)
class SavedReport:
    file: str
    values: Mapping[str, int | float]           # metric -> value
    threads: int | None                         # a bench report's thread count
    precision: str | None = None                # a bench report's: fp32 | int8


def baseline_for(limit: Limit, reports: list[SavedReport], model: ModelBudget) -> BaselineValue:
    for r in reports:
        if limit.metric in r.values:
            if limit.bench and r.threads is not None and r.threads != limit.bench.threads:
                raise SpecError(f"{r.file} was measured with {r.threads} threads; this limit "
                                f"runs with {limit.bench.threads}", file=model.where.file,
                                line=limit.line, field=limit.field)
            if limit.bench and r.precision is not None and \
                    r.precision != limit.bench.precision:
                raise SpecError(f"{r.file} times the {r.precision} model; this limit times "
                                f"the {limit.bench.precision} one", file=model.where.file,
                                line=limit.line, field=limit.field)
            return BaselineValue(r.file, r.values[limit.metric])
    m = METRICS[limit.metric]
    saved_by = "mnprof predict" if m.predicted else "mnprof bench" if m.unit is Unit.MS \
        else "mnprof cost"
    raise SpecError(f"no baseline report of this model gives {m.baseline_key} (save one with "
                    f"{saved_by} --format json --output FILE)", file=model.where.file,
                    line=limit.line, field=limit.field)


def _read_json(path: str, bad: Callable[[str], SpecError]) -> dict[str, Any]:
    """A saved report's JSON object, bounded; a one-line error naming the baseline."""
    try:
        data = json.loads(read_text(path, what="baseline", max_bytes=MAX_REPORT_BYTES),
                          parse_constant=_no_constant)
    except RecursionError:
        raise bad("not valid JSON (nested too deeply)") from None
    except MnprofError as exc:
        raise bad(str(exc).removeprefix(f"{path}: ")) from None
    except json.JSONDecodeError as exc:
        raise bad(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:
        raise bad(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("schema"), str):
        raise bad("not an mnprof report (no `schema` field); save one with mnprof cost "
                  "--format json --output FILE")
    return data


def read_report(path: str, model: ModelBudget, graph: Graph) -> SavedReport:
    def bad(message: str) -> SpecError:
        return model.where.error(f"{path}: {message}", "baseline")

    data = _read_json(path, bad)
    schema = data["schema"]
    if isinstance(data.get("model"), str) and data["model"] != graph.model:
        raise bad(f"is a report of model {data['model']!r:.60}; this model is "
                  f"{graph.model!r} (a baseline must be of the same model)")
    values: dict[str, int | float] = {}
    if schema == SWEEP_SCHEMA:
        rows = data.get("rows")
        row = next((r for r in rows if isinstance(r, dict) and r.get("alpha") == graph.alpha
                    and r.get("resolution") == graph.resolution), None) \
            if isinstance(rows, list) else None
        if row is None:
            raise bad(f"the sweep has no row for alpha {graph.alpha:g}, resolution "
                      f"{graph.resolution}")
        for m in METRICS.values():
            if m.unit is not Unit.MS and m.name in row:
                values[m.name] = _count(row[m.name], f"rows[].{m.name}", bad)
        return SavedReport(path, values, None)
    if schema not in (COST_SCHEMA, BENCH_SCHEMA, PREDICT_SCHEMA):
        raise bad(f"unsupported report schema {schema!r}; a baseline is a {COST_SCHEMA}, "
                  f"{SWEEP_SCHEMA}, {BENCH_SCHEMA} or {PREDICT_SCHEMA} report")
    alpha, res = data.get("alpha"), data.get("resolution")
    if graph.source == "onnx" and alpha is None:    # a bench of an ONNX file has no alpha
        alpha = graph.alpha
    if alpha != graph.alpha or res != graph.resolution:
        raise bad(f"is a report at alpha {alpha}, resolution {res}; this model is at alpha "
                  f"{graph.alpha:g}, resolution {graph.resolution}")
    values.update(_figures(data, schema, bad))
    threads = None
    if schema == BENCH_SCHEMA:
        env = data.get("environment")
        got = env.get("threads") if isinstance(env, dict) else None
        threads = got if isinstance(got, int) and not isinstance(got, bool) else None
        precision = data.get("precision", "fp32")
        return SavedReport(path, values, threads,
                           precision if precision in ("fp32", "int8") else None)
    return SavedReport(path, values, threads)


def _figures(data: dict[str, Any], schema: str, bad: Callable[[str], SpecError]
             ) -> dict[str, int | float]:
    """The metrics a cost, bench or predict report holds (a measured latency never stands
    for a predicted one, nor the other way round)."""
    section = "totals" if schema == COST_SCHEMA else "latency_ms"
    figures = data.get(section)
    if not isinstance(figures, dict):
        raise bad(f"has no `{section}` object")
    values: dict[str, int | float] = {}
    for m in METRICS.values():
        top, _, key = m.baseline_key.partition(".")
        if m.unit is Unit.MS and m.predicted != (schema == PREDICT_SCHEMA):
            continue
        if top == section and key in figures:
            read = _ms if m.unit is Unit.MS else _count
            values[m.name] = read(figures[key], m.baseline_key, bad)
    return values


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a report may hold")


def _count(value: Any, key: str, bad: Callable[[str], SpecError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise bad(f"{key} must be a whole number >= 0, got {value!r}")
    return value


def _ms(value: Any, key: str, bad: Callable[[str], SpecError]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise bad(f"{key} must be a number of milliseconds > 0, got {value!r}")
    return float(value)


