"""Budget files: reading, validation, and the numbers they are written in.

A budget lists the models a team ships and the limits each must keep::

    models:
      - name: v1-0.5-160            # optional label (default: <spec>-<alpha>-<res>)
        spec: mobilenet_v1          # a built-in name, or a path relative to this file
                                    # (or model: net.onnx, an ONNX file, with optional
                                    #  dims: {batch: 1} for its symbolic dimensions)
        alpha: 0.5                  # default: the spec's (1 for most)
        depth: 1.2                  # optional: the depth multiplier (default: the spec's)
        resolution: 160             # default: the spec's own
        baseline: baseline.json     # optional: report(s) that relative limits compare with
        limits:
          macs: 80M                 # the same as {max: 80M}
          params: {max: 1.4M, max_increase: 0%}
          peak_activation_bytes: 1.5MiB
          latency_median_ms: {max: 12, threads: 1, tolerance: 5%}
          latency_p90_ms: {max: 9, precision: int8}   # the model quantized to int8

Numbers are read by ``mnprof.gate.amounts``. ``max_increase`` is a percentage of
the baseline ("1%") or an amount in the metric's unit ("100K"). Every mistake is a
one-line ``SpecError`` naming the file, the line and the field.

This module owns the budget format; ``mnprof.gate.check`` runs a budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.errors import MnprofError, SpecError, Where, did_you_mean
from ..core.values import check_alpha, check_depth, check_resolution
from ..core.yamlsrc import LMap, LSeq, line_of, load_file
from ..spec.builtins import builtin_dir, resolve_spec_path
from ..spec.parse import no_unknown
from .amounts import HINTS, Unit, parse_amount, parse_increase
from .metrics import METRICS
from .settings import (
    COMMAND_LINE,
    RULES,
    BenchSettings,
    PredictSettings,
    known_fields,
    latency_settings,
)

DEFAULT_BUDGET = "mnprof-budget.yaml"



TOP_FIELDS = ("models", "description")
MODEL_FIELDS = ("name", "spec", "model", "dims", "alpha", "depth", "resolution", "baseline",
                "limits")


class Rule(str, Enum):
    MAX = "max"                     # actual <= amount
    MAX_INCREASE = "max_increase"   # actual <= baseline + amount (or baseline * (1 + pct))


@dataclass(frozen=True)
class Limit:
    metric: str
    rule: Rule
    amount: int | float | Fraction  # max: the limit; max_increase: the allowed growth
    percent: bool                   # max_increase given as a percentage of the baseline
    text: str                       # as written, for reports: "80M", "1%"
    line: int | None = None
    field: str = ""                 # where it was written: "models[0].limits.macs"
    tolerance: Fraction | None = None   # latency only: measurement noise allowed
    bench: BenchSettings | None = None  # measured latency only
    predict: PredictSettings | None = None  # predicted latency only


@dataclass(frozen=True)
class ModelBudget:
    name: str | None                # None: <spec>-<alpha>-<resolution> once the spec is read
                                    # (mnprof.check then makes sure no two models share one)
    spec: str                       # a built-in name, or a path (from the cwd; a budget
                                    # file's paths are read from its directory)
    alpha: float | None             # None: the spec's own
    resolution: int | None
    baselines: tuple[str, ...]      # paths, like spec paths
    limits: tuple[Limit, ...]
    where: Where
    depth: float | None = None      # None: the spec's own
    onnx: bool = False              # ``spec`` is an ONNX file (a budget's ``model:``)
    dims: tuple[tuple[str, int], ...] = ()      # its symbolic dimensions' values


@dataclass(frozen=True)
class Budget:
    file: str
    models: tuple[ModelBudget, ...]
    description: str = ""


# ---------------------------------------------------------------------------
# Reading a budget file


def load_budget(path: str | Path | None = None) -> Budget:
    """Read and validate a budget file (default ``mnprof-budget.yaml`` in the cwd)."""
    file = str(path if path is not None else DEFAULT_BUDGET)
    return parse_budget(load_file(file, what="budget"), file=file)


def parse_budget(data: Any, *, file: str) -> Budget:
    top = Where(file, line_of(data), "")
    if not isinstance(data, LMap):
        raise SpecError("a budget must be a mapping with `models:` (a list of models and "
                        "their limits)", file=file, line=line_of(data))
    if "models" not in data and "layers" in data:
        raise SpecError("this is a spec, not a budget (it has `layers`, no `models`): check "
                        "a spec with limits on the command line, e.g. `mnprof check SPEC "
                        "--max-macs 80M`", file=file, line=line_of(data))
    no_unknown(data, TOP_FIELDS, top, "budget")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise top.error(f"must be a string, got {description!r}", "description",
                        line_of(data, "description"))
    raw = data.get("models")
    if not isinstance(raw, LSeq) or not raw:
        raise top.error("required: a non-empty list of models, each with a spec and limits",
                        "models", line_of(data, "models"))
    base_dir = Path(file).parent
    models = tuple(_parse_model(item, Where(file, line_of(raw, i), f"models[{i}]"), base_dir)
                   for i, item in enumerate(raw))
    return Budget(file=file, models=models, description=description)


def _parse_model(raw: Any, where: Where, base_dir: Path) -> ModelBudget:
    if not isinstance(raw, LMap):
        raise where.error("a model must be a mapping such as {spec: mobilenet_v1, alpha: 0.5, "
                          "resolution: 160, limits: {macs: 80M}}")
    no_unknown(raw, MODEL_FIELDS, where, "model")

    def bad(key: str, message: str) -> SpecError:
        return where.error(message, key, line_of(raw, key))

    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()
                             or not name.isprintable()):
        raise bad("name", f"must be a non-empty one-line string, got {name!r}")
    spec, onnx, dims = _subject(raw, where, bad)
    alpha = depth = None
    try:
        if "alpha" in raw:
            alpha = check_alpha(raw["alpha"])
        if "depth" in raw:
            depth = check_depth(raw["depth"])
    except MnprofError as exc:
        key = "alpha" if "alpha" in str(exc)[:6] else "depth"
        raise bad(key, str(exc).removeprefix(f"{key} ")) from None
    resolution = raw.get("resolution")
    if resolution is not None:
        try:
            resolution = check_resolution(resolution)
        except MnprofError as exc:
            raise bad("resolution", str(exc).removeprefix("resolution ")) from None
    baselines = raw.get("baseline", ())
    if isinstance(baselines, str):
        baselines = (baselines,)
    if not isinstance(baselines, (list, tuple)) or not all(
            isinstance(b, str) and b.strip() for b in baselines):
        raise bad("baseline", "must be a path to a saved report (mnprof cost/bench --format "
                              "json --output FILE) or a list of such paths")
    if "limits" not in raw:
        raise where.error("required: a mapping of metric to limit, e.g. {macs: 80M}", "limits")
    limits_raw = raw["limits"]
    if not isinstance(limits_raw, LMap) or not limits_raw:
        raise bad("limits", "must be a non-empty mapping of metric to limit, e.g. "
                            "{macs: 80M, params: 1.4M}")
    lwhere = Where(where.file, line_of(raw, "limits"), f"{where.path}.limits")
    limits: list[Limit] = []
    for metric, value in limits_raw.items():
        limits += parse_limits(metric, value, lwhere, line_of(limits_raw, metric))
    if any(lim.rule is Rule.MAX_INCREASE for lim in limits) and not baselines:
        first = next(lim for lim in limits if lim.rule is Rule.MAX_INCREASE)
        raise SpecError("max_increase needs a `baseline:` report for this model (save one "
                        "with mnprof cost --format json --output baseline.json)",
                        file=where.file, line=first.line, field=first.field)
    return ModelBudget(name=name, spec=str(base_dir / spec) if onnx else
                       _spec_ref(spec, base_dir), alpha=alpha, depth=depth,
                       resolution=resolution,
                       baselines=tuple(str(base_dir / b.strip()) for b in baselines),
                       limits=tuple(limits), where=where, onnx=onnx, dims=dims)


def _subject(raw: Any, where: Where, bad: Any) -> tuple[str, bool, tuple[tuple[str, int], ...]]:
    """What a model entry measures: (spec or ONNX path, whether ONNX, its dims)."""
    if "spec" not in raw and "model" not in raw:
        raise where.error("required: a built-in spec name (e.g. mobilenet_v1) or a path to "
                          "a spec file (or `model:`, an ONNX file)", "spec")
    if "spec" in raw and "model" in raw:
        raise bad("model", "give a spec or an ONNX model, not both")
    if "model" in raw:
        path = raw["model"]
        if not isinstance(path, str) or not path.strip().lower().endswith(".onnx"):
            raise bad("model", f"must be the path of an ONNX file (ending in .onnx), got "
                               f"{path!r:.80}")
        for key, own in (("alpha", "widths"), ("depth", "layers")):
            if key in raw:
                raise bad(key, f"applies to specs; an ONNX model has its own {own}")
        return path.strip(), True, _dims(raw, bad)
    spec = raw["spec"]
    if not isinstance(spec, str) or not spec.strip():
        raise bad("spec", f"must be a built-in spec name or a path, got {spec!r}")
    if spec.strip().lower().endswith(".onnx"):
        raise bad("spec", "is an ONNX file: write it as `model: " + spec.strip() + "`")
    if "dims" in raw:
        raise bad("dims", "applies to ONNX models (`model:`)")
    return spec.strip(), False, ()


def _dims(raw: Any, bad: Any) -> tuple[tuple[str, int], ...]:
    dims = raw.get("dims", {})
    if not isinstance(dims, dict) or not all(
            isinstance(k, str) and k and isinstance(v, int) and not isinstance(v, bool)
            and v >= 1 for k, v in dims.items()):
        raise bad("dims", "must map symbolic dimension names to integers >= 1, e.g. "
                          "{batch: 1}")
    return tuple(dims.items())


def parse_limits(metric: str, value: Any, where: Where, line: int | None) -> list[Limit]:
    """The limits one ``metric: value`` entry sets (a scalar is ``{max: value}``)."""
    field = f"{where.path}.{metric}" if where.path else metric
    if metric not in METRICS:
        raise SpecError(f"unknown metric {metric!r}{did_you_mean(metric, METRICS)}; metrics: "
                        f"{', '.join(METRICS)}", file=where.file, line=line, field=field)
    m = METRICS[metric]
    shorthand = not isinstance(value, LMap)
    if shorthand:
        if isinstance(value, (dict, list)):
            raise SpecError(f"must be a limit ({HINTS[m.unit]}) or a mapping with "
                            f"{' / '.join(RULES)}", file=where.file, line=line, field=field)
        value = LMap({"max": value})
        value.line, value.lines = line, {"max": line}
    known_fields(m, value, where, line, field)
    if not any(r in value for r in RULES):
        raise SpecError("a limit needs max and/or max_increase", file=where.file, line=line,
                        field=field)

    def parsed(key: str, parse: Any, default: Any) -> Any:
        if key not in value:
            return default
        try:
            return parse(value[key])
        except ValueError as exc:
            raise SpecError(str(exc), file=where.file, line=line_of(value, key, line),
                            field=field if shorthand else f"{field}.{key}") from None

    tolerance, bench, predict = latency_settings(m, parsed, where.file)
    out = []
    for rule in RULES:
        if rule not in value:
            continue
        if rule == "max":
            amount: Any = parsed(rule, lambda v: parse_amount(v, m.unit,
                                                              positive=m.unit is Unit.MS), None)
            percent = False
        else:
            amount, percent = parsed(rule, lambda v: parse_increase(v, m.unit), None)
        out.append(Limit(metric=metric, rule=Rule(rule), amount=amount, percent=percent,
                         text=str(value[rule]).strip(), line=line_of(value, rule, line),
                         field=field if shorthand else f"{field}.{rule}",
                         tolerance=tolerance, bench=bench, predict=predict))
    return out


def _spec_ref(text: str, base_dir: Path) -> str:
    """A budget's spec as ``load_spec`` takes it: a built-in's name, or a path from the cwd."""
    try:
        path, _ = resolve_spec_path(text, base_dir=base_dir)
    except SpecError:
        return text         # no such built-in: load_spec says so, naming the budget's model
    return path.stem if path.parent == builtin_dir() else str(path)


def command_line_budget(spec: str, alpha: float | None, resolution: int | None,
                        limits: list[tuple[str, dict[str, Any]]],
                        baselines: tuple[str, ...] = (), depth: float | None = None,
                        dims: tuple[tuple[str, int], ...] = ()) -> Budget:
    """The budget of the one-off form: one model, its limits given as options.

    ``limits`` holds (metric, fields) pairs as a budget file would write them, e.g.
    ``("macs", {"max": "80M"})``; they go through the same validation.
    """
    where = Where(COMMAND_LINE, None, "")
    parsed: list[Limit] = []
    for metric, fields in limits:
        value = LMap(fields)
        value.line, value.lines = None, {}
        parsed += parse_limits(metric, value, where, None)
    if any(lim.rule is Rule.MAX_INCREASE for lim in parsed) and not baselines:
        raise SpecError("--max-increase needs --baseline FILE (a saved mnprof cost or bench "
                        "JSON report)", file=COMMAND_LINE)
    onnx = spec.lower().endswith(".onnx")
    model = ModelBudget(name=None, spec=spec, alpha=alpha, resolution=resolution,
                        baselines=baselines, limits=tuple(parsed),
                        where=Where(COMMAND_LINE, None, "model"), depth=depth, onnx=onnx,
                        dims=dims)
    return Budget(file=COMMAND_LINE, models=(model,))


def is_budget_file(path: str) -> bool:
    """Whether ``path`` reads as a budget (``models:``, no ``layers:``), not a spec."""
    try:
        data = load_file(path, what="budget")
    except Exception:  # noqa: BLE001  not readable as YAML: loading it as a spec says why
        return False
    return isinstance(data, dict) and "models" in data and "layers" not in data


def budget_inputs(budget: Budget) -> list[str]:
    """Files a check's reports must never overwrite: the budget, its specs and baselines."""
    files = [] if budget.file.startswith("<") else [budget.file]
    for m in budget.models:
        files += m.baselines
        if m.onnx:
            files.append(m.spec)
            continue
        try:
            files.append(str(resolve_spec_path(m.spec)[0]))
        except MnprofError:
            pass
    return files
