"""``mnprof check``: the CI gate on a model budget (exit 0 pass, 1 exceeded, 2 bad input)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .. import api, budgets
from ..core.errors import MnprofError
from ..core.files import check_target, write_output
from ..core.render import Format
from ..gate.amounts import Unit, parse_amount, parse_increase, parse_percent
from ..gate.budget import DEFAULT_BUDGET, METRICS, Budget
from ..gate.settings import DEFAULT_THREADS, DEFAULT_TOLERANCE
from ..output import render
from . import main
from ._options import (
    DEPTH,
    _Typed,
    alpha_option,
    dim_option,
    dims_of,
    format_option,
    output_option,
    res_option,
    timing_options,
    use_color,
)

EXIT_PASS, EXIT_EXCEEDED = 0, 1
_FORMATS = (Format.TABLE, Format.JSON, Format.MARKDOWN, Format.JUNIT, Format.HTML)


def _typed(name: str, parse: Any) -> click.ParamType:
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return _Typed(name, checked)


def _keep(unit: Unit, *, positive: bool = False) -> Any:
    """Validate now (a clear option error), pass the text on as a budget file would."""
    def parse(text: str) -> str:
        parse_amount(text, unit, positive=positive)
        return text
    return parse


def _keep_percent(text: str) -> str:
    parse_percent(text)
    return text


def _increase(text: str) -> tuple[str, str]:
    metric, sep, amount = text.partition("=")
    metric = metric.strip()
    if not sep or metric not in METRICS:
        raise ValueError(f"expected METRIC=AMOUNT with METRIC one of {', '.join(METRICS)}, "
                         f"got {text!r}")
    parse_increase(amount, METRICS[metric].unit)
    return metric, amount


def _report_target(text: str) -> tuple[str, str]:
    fmt, sep, path = text.partition("=")
    if not sep or fmt not in [f.value for f in _FORMATS] or not path or path == "-":
        raise ValueError(f"expected FORMAT=FILE with FORMAT one of "
                         f"{', '.join(f.value for f in _FORMATS)}, got {text!r}")
    return fmt, path


COUNT, BYTES = _typed("COUNT", _keep(Unit.COUNT)), _typed("BYTES", _keep(Unit.BYTES))
MS = _typed("MS", _keep(Unit.MS, positive=True))
PERCENT = _typed("PCT", _keep_percent)
INCREASE = _typed("METRIC=AMOUNT", _increase)
REPORT = _typed("FORMAT=FILE", _report_target)

# option name -> (metric, its --max-* help)
_MAX_OPTIONS = {
    "max_macs": "macs", "max_params": "params", "max_params_framework": "params_framework",
    "max_activations": "activations", "max_peak_bytes": "peak_activation_bytes",
    "max_latency_ms": "latency_median_ms", "max_p90_ms": "latency_p90_ms",
    "max_predicted_ms": "predicted_latency_ms",
}
_ONE_OFF_ONLY = {"alpha": "--alpha", "depth": "--depth", "resolution": "--res",
                 "threads": "--threads", "precision": "--precision", "device": "--device",
                 "tolerance": "--tolerance", "runs": "--runs", "min_time": "--min-time",
                 "warmup": "--warmup", "baselines": "--baseline", "dims": "--dim"}


@main.command(epilog="See docs/ci.md for the budget file format and a GitHub Actions example.")
@click.argument("target", required=False, metavar="[BUDGET | SPEC | MODEL.onnx]")
@click.option("--max-macs", type=COUNT, help="One-off form: limit on MACs (e.g. 80M).")
@click.option("--max-params", type=COUNT, help="Limit on params, conv + fc weights (1.4M).")
@click.option("--max-params-framework", type=COUNT,
              help="Limit on params with biases and batch-norm scale/shift.")
@click.option("--max-activations", type=COUNT, help="Limit on activations (output elements).")
@click.option("--max-peak-bytes", type=BYTES,
              help="Limit on peak fp32 activation memory (e.g. 1.5MiB).")
@click.option("--max-latency-ms", type=MS, help="Limit on the median latency (runs the bench).")
@click.option("--max-p90-ms", type=MS, help="Limit on the p90 latency (runs the bench).")
@click.option("--max-predicted-ms", type=MS,
              help="Limit on the latency predicted from the device profile (runs nothing; "
                   "`mnprof calibrate` makes the profile).")
@click.option("--device", type=click.Path(dir_okay=False), default=None,
              help="--max-predicted-ms: a device profile FILE instead of this machine's.")
@click.option("--max-increase", "increases", type=INCREASE, multiple=True,
              help="Relative limit against --baseline, e.g. macs=1% or params=10K (repeatable).")
@click.option("--baseline", "baselines", type=click.Path(dir_okay=False), multiple=True,
              help="A saved `mnprof cost/bench --format json` report (repeatable).")
@alpha_option
@click.option("--depth", "-d", type=DEPTH, default=None,
              help="One-off form: depth multiplier (default: the spec's).")
@res_option
@dim_option
@click.option("--tolerance", type=PERCENT, default=None,
              help="Latency measured up to this much over the limit still passes "
                   f"[default: {float(100 * DEFAULT_TOLERANCE):g}%].")
@timing_options(threads_default=DEFAULT_THREADS, threads_help="Threads for latency limits.",
                scope="Latency limits: ")
@click.option("--precision", type=click.Choice(["fp32", "int8"]), default="fp32",
              show_default=True, help="Latency limits: time the fp32 model, or the int8 one "
                                      "quantized by onnxruntime (QDQ, per-channel, S8S8).")
@format_option(*_FORMATS)
@output_option
@click.option("--report", "reports", type=REPORT, multiple=True,
              help="Also write the report as FORMAT to FILE, e.g. junit=check.xml "
                   "(repeatable; one run, one set of figures).")
@click.pass_context
def check(ctx: click.Context, target: str | None, increases: tuple[tuple[str, str], ...],
          baselines: tuple[str, ...], alpha: float | None, depth: float | None,
          resolution: int | None, dims: tuple[tuple[str, int], ...], device: str | None,
          threads: int, tolerance: str | None, runs: int, min_time: float, warmup: int,
          precision: str, fmt: str,
          output: str | None,
          reports: tuple[tuple[str, str], ...], **max_limits: str | None) -> int:
    """Check a model budget: exit 0 if every limit holds, 1 if one is exceeded.

    \b
    Budget form:   mnprof check [BUDGET]        (default: ./mnprof-budget.yaml)
    One-off form:  mnprof check [SPEC] --alpha 0.5 --res 160 --max-macs 80M --max-params 1.4M
                   mnprof check model.onnx --max-macs 80M

    Any --max-* or --max-increase option selects the one-off form, where the argument
    is a spec (a built-in name or a YAML file; default mobilenet_v1); without one it
    is a budget file (YAML with a top-level `models:` list). Counts take K/M/G/T
    suffixes (exact: 1.4M is 1400000); bytes also KiB/MiB/GiB; latencies are in ms.

    \b
    Exit status:
      0  every limit holds
      1  at least one limit is exceeded
      2  bad input or usage (malformed budget, unknown metric, missing spec or
         baseline, unreadable file): the gate did not run, which is neither a
         pass nor a budget failure
    """
    given = {k: v for k, v in max_limits.items() if v is not None}
    one_off = bool(given or increases)
    if one_off:
        latency = {"threads": threads, "runs": runs, "min_time": min_time, "warmup": warmup,
                   "precision": precision,
                   **({"tolerance": tolerance} if tolerance is not None else {})}
        predicted = {"threads": threads, **({"device": device} if device else {}),
                     **({"tolerance": tolerance} if tolerance is not None else {})}
        budget = _one_off(target, alpha, resolution, given, increases, baselines,
                          {"latency": latency, "predicted": predicted}, depth, dims_of(dims))
    else:
        budget = _budget_file(ctx, target)
    targets = [(fmt, output), *reports]
    paths = [p for _, p in targets if p not in (None, "-")]
    if len(set(paths)) != len(paths):
        raise click.UsageError("two reports would be written to the same file")
    for p in paths:
        check_target(p)         # before a run that may take minutes
    try:
        report = budgets.check_budget(budget, progress=_progress)
    except MnprofError:
        if one_off and target and budgets.is_budget_file(target):  # probed only on failure
            raise click.UsageError(f"{target} is a budget file: run `mnprof check {target}` "
                                   "without --max-* options (those check a spec)") from None
        raise
    _write(report, fmt, output, reports, budgets.budget_inputs(budget))
    return EXIT_PASS if report.passed else EXIT_EXCEEDED


def _budget_file(ctx: click.Context, target: str | None) -> Budget:
    for name, opt in _ONE_OFF_ONLY.items():
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
            raise click.UsageError(f"{opt} belongs to the one-off form (SPEC with --max-* "
                                   "limits); a budget file sets it per model")
    if target and target in api.builtin_names() and not Path(target).exists():
        raise click.UsageError(f"{target!r} is a built-in spec, not a budget file: give "
                               "limits such as --max-macs 80M to check it")
    return budgets.load_budget(target or DEFAULT_BUDGET)


def _write(report: Any, fmt: str, output: str | None, reports: tuple[tuple[str, str], ...],
           protect: list[str]) -> None:
    for f, p in reports:
        write_output(render(report, f), p, protect=protect)
    try:
        write_output(render(report, fmt, color=use_color(output)), output, protect=protect)
    except BrokenPipeError:     # `mnprof check | head`: the verdict still decides the status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if output not in (None, "-") or reports:
        click.echo(f"mnprof check: {budgets.verdict(report)}", err=True)


def _progress(label: str, done: int, total: int) -> None:
    click.echo(f"mnprof check: {label} ...", err=True)


def _one_off(target: str | None, alpha: float | None, resolution: int | None,
             given: dict[str, str], increases: tuple[tuple[str, str], ...],
             baselines: tuple[str, ...], settings: dict[str, dict[str, Any]],
             depth: float | None, dims: dict[str, int]) -> Budget:
    fields: dict[str, dict[str, Any]] = {}
    for option, text in given.items():
        fields.setdefault(_MAX_OPTIONS[option], {})["max"] = text
    for metric, amount in increases:
        if "max_increase" in fields.get(metric, {}):
            raise click.UsageError(f"--max-increase gives {metric} twice")
        fields.setdefault(metric, {})["max_increase"] = amount
    if "device" in settings["predicted"] and "predicted_latency_ms" not in fields:
        raise click.UsageError("--device applies to --max-predicted-ms")

    def extra(metric: str) -> dict[str, Any]:
        if METRICS[metric].predicted:
            return settings["predicted"]
        return settings["latency"] if METRICS[metric].unit is Unit.MS else {}

    limits = [(m, {**f, **extra(m)}) for m, f in fields.items()]
    return budgets.one_off_budget(target, alpha, resolution, limits, baselines, depth=depth,
                              dims=dims)
