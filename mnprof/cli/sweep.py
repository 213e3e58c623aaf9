"""``mnprof sweep``: totals over a grid of widths and resolutions, optionally timed."""

from __future__ import annotations

from typing import Any

import click

from .. import api
from ..core.render import Format
from . import EXIT_INTERRUPTED, fail, main
from ._options import (
    ALPHA_LIST,
    DEPTH,
    RESOLUTION_LIST,
    check_plot,
    dim_option,
    dims_of,
    emit,
    emit_plot,
    format_option,
    is_onnx,
    load_spec,
    output_option,
    plot_option,
    precision_option,
    quant_of,
    quant_options,
    spec_argument,
    spec_only,
    timing_options,
)
from ._progress import progress_bar

_DEFAULT_ALPHAS = "1,0.75,0.5,0.25"
_DEFAULT_RESOLUTIONS = "224,192,160,128"
SWEEP_BENCH = {"runs": 20, "warmup": 5, "min_time": 0.5}    # per grid point: a quick look


@main.command()
@spec_argument
@click.option("--alpha", "-a", "alphas", type=ALPHA_LIST, default=_DEFAULT_ALPHAS,
              show_default=True, help="Comma-separated width multipliers (default for a "
                                      "spec with `widths`: those).")
@click.option("--res", "-r", "resolutions", type=RESOLUTION_LIST, default=_DEFAULT_RESOLUTIONS,
              show_default=True, help="Comma-separated input resolutions.")
@click.option("--depth", "-d", type=DEPTH, default=None, help="Depth multiplier (default: "
              "the spec's).")
@format_option(Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML)
@output_option
@plot_option
@click.option("--bench", "with_bench", is_flag=True,
              help="Add onnxruntime median latency columns (times every grid point).")
@click.option("--predict", "with_predict", is_flag=True,
              help="Add a predicted-latency column (this CPU's device profile; nothing runs).")
@click.option("--device", type=click.Path(dir_okay=False), default=None,
              help="--predict: a device profile FILE instead of this machine's.")
@timing_options(threads_default=None, threads_help="--bench: onnxruntime intra-op threads "
                "(default: physical cores).", scope="--bench: ")
@dim_option
@precision_option("--bench: time the fp32 model, or the int8 one quantized by onnxruntime "
                  "(the options below).")
@quant_options
@click.pass_context
def sweep(ctx: click.Context, spec: str | None, alphas: list[float], resolutions: list[int],
          depth: float | None, fmt: str, output: str | None, plot: str | None,
          with_bench: bool, with_predict: bool, device: str | None,
          threads: int | None, runs: int, min_time: float, warmup: int,
          dims: tuple[tuple[str, int], ...], precision: str, **quant: Any) -> None:
    """MACs and parameters of SPEC over a grid of widths and resolutions.

    The defaults reproduce Tables 6 and 7 of the MobileNetV1 paper in one grid.
    With --bench every point is timed (by default 20 runs and 0.5 s each, after 5
    warm-up runs: a quick look; the timing options change that). With --predict
    every point's latency is predicted from the device profile (`mnprof calibrate`)
    instead (a 10,000-point grid takes a few seconds, exact rows included). An
    ONNX file (MODEL.onnx) with
    symbolic height and width sweeps over --res only. --plot draws the Pareto front
    of MACs against the latency (--bench) or the params.
    """
    check_plot(plot)
    if with_bench and with_predict:
        raise click.UsageError("give --bench (measure) or --predict (predict), not both")
    if device and not with_predict:
        raise click.UsageError("--device applies to --predict")
    predict = {"threads": threads, "device": device} if with_predict else None
    bench = bench_options(ctx, with_bench, threads, precision, quant, runs=runs,
                          warmup=warmup, min_time=min_time)
    report, protect = _sweep(ctx, spec, alphas, resolutions, depth, dims, bench, predict)
    emit(report, fmt, output, protect=[protect])
    emit_plot(report, plot, protect=[protect])
    if report.interrupted:
        fail("interrupted; the sweep is partial (see its INTERRUPTED note)")
        ctx.exit(EXIT_INTERRUPTED)


def _sweep(ctx: click.Context, spec: str | None, alphas: list[float], resolutions: list[int],
           depth: float | None, dims: tuple[tuple[str, int], ...],
           bench: dict[str, Any] | None,
           predict: dict[str, Any] | None) -> tuple[Any, str]:
    """The sweep report of a spec or an ONNX file, and the file it must not overwrite."""
    if is_onnx(spec):
        assert spec is not None
        spec_only(ctx, spec, "alphas", "depth")
        if bench and bench.get("precision", "fp32") != "fp32":
            raise click.UsageError("--precision int8 applies to specs: an ONNX file is timed "
                                   "as it is")
        if predict:
            raise click.UsageError("--predict sweeps specs; predict an ONNX file at one "
                                   "resolution with `mnprof predict MODEL.onnx --res R`")
        with progress_bar() as progress:
            return api.sweep(spec, None, resolutions, dims=dims_of(dims), bench=bench,
                             progress=progress), spec
    if dims:
        raise click.UsageError("--dim applies to ONNX models")
    spec_obj = load_spec(spec)
    if spec_obj.widths and ctx.get_parameter_source("alphas") is not \
            click.core.ParameterSource.COMMANDLINE:
        alphas = list(spec_obj.widths)       # a spec defined at a table of widths
    with progress_bar() as progress:
        return api.sweep(spec_obj, alphas, resolutions, depth=depth, bench=bench,
                         progress=progress, predict=predict), spec_obj.path


def bench_options(ctx: click.Context, with_bench: bool, threads: int | None, precision: str,
                  quant: dict[str, Any], **timing: Any) -> dict[str, Any] | None:
    """What ``--bench`` times each row with (None without it): threads, the quick timing
    unless given, the precision and quantization (``sweep`` and ``compare`` alike)."""
    options = quant_of(ctx, precision, quant)
    if precision != "fp32" and not with_bench:
        raise click.UsageError("--precision applies to --bench (the measured latency); for "
                               "int8 bytes, see mnprof cost --precision int8")
    if not with_bench:
        return None
    bench = {"threads": threads, **timing_of(ctx, **timing)}
    if precision != "fp32":
        bench.update(precision=precision, quant=options)
    return bench


def timing_of(ctx: click.Context, **given: Any) -> dict[str, Any]:
    """The quick per-point defaults, unless an option was given on the command line."""
    return {k: v if ctx.get_parameter_source(k) is click.core.ParameterSource.COMMANDLINE
            else SWEEP_BENCH[k] for k, v in given.items()}
