"""``mnprof bench``: onnxruntime latency per layer and per type, against theory."""

from __future__ import annotations

import click

from .. import api
from ..bench.runner import OptLevel
from ..core.render import Format
from . import EXIT_INTERRUPTED, fail, main
from ._options import (
    by_option,
    check_plot,
    dim_option,
    dims_of,
    emit,
    emit_plot,
    format_option,
    is_onnx,
    load_spec,
    model_options,
    output_option,
    plot_option,
    spec_only,
    timing_options,
)
from ._progress import progress_bar

OPT_LEVELS = tuple(o.value for o in OptLevel)


@main.command()
@click.argument("target", required=False, metavar="[SPEC|MODEL.onnx]")
@model_options
@timing_options(threads_default=None,
                threads_help="onnxruntime intra-op threads (default: this machine's physical "
                             "cores).")
@click.option("--per-layer", is_flag=True,
              help="Also print the per-layer table (JSON always has the layers).")
@by_option
@click.option("--opt-level", type=click.Choice(OPT_LEVELS), default="all", show_default=True,
              help="onnxruntime graph optimisation level.")
@click.option("--batch", "-b", type=click.IntRange(min=1, max=4096), default=None,
              help="Images per run [default: 1, or the batch an ONNX file fixes].")
@format_option(Format.TABLE, Format.JSON, Format.MARKDOWN, Format.HTML)
@output_option
@plot_option
@click.option("--remeasure", is_flag=True,
              help="Measure the machine ceiling (peak GMAC/s, bandwidth) again, not from cache.")
@dim_option
@click.pass_context
def bench(ctx: click.Context, target: str | None, alpha: float | None, depth: float | None,
          resolution: int | None, classes: int | None, threads: int | None, runs: int,
          min_time: float, warmup: int, per_layer: bool, by: str, opt_level: str,
          batch: int | None, fmt: str, output: str | None, plot: str | None, remeasure: bool,
          dims: tuple[tuple[str, int], ...]) -> None:
    """Time SPEC (or an ONNX file) with onnxruntime on this CPU, against theory.

    \b
    Prints the end-to-end latency (median, p10, p90, mean, stdev, runs,
    throughput), a per-type table of % MACs vs % time with achieved GMAC/s and
    efficiency against this machine's roofline, the machine ceiling and the
    environment. Per-layer and per-type times come from onnxruntime's profiler
    in a separate pass, scaled to sum to the end-to-end median.

    SPEC is a YAML file or a built-in name (default mobilenet_v1). MODEL.onnx is
    timed as it is; its per-layer and per-type rows come from the graph mnprof
    imports from it (--per-layer requires them; --dim and --res bind symbolic
    dimensions). Ctrl-C prints what was measured so far (exit 130). --plot draws
    the roofline (every layer under the compute and memory roofs).
    """
    from ..bench.result import BenchInterrupted
    from ..core.files import check_target

    settings = dict(threads=threads, runs=runs, warmup=warmup, min_time=min_time,
                    opt_level=opt_level, remeasure=remeasure)
    if is_onnx(target):
        assert target is not None
        spec_only(ctx, target, "alpha", "depth", "classes")
        subject, protect = str(target), [str(target)]
        settings.update(batch=batch, per_layer=True if per_layer else None,
                        dims=dims_of(dims), resolution=resolution)
    else:
        if dims:
            raise click.UsageError("--dim applies to ONNX models")
        spec_obj = load_spec(target)
        subject = api.build(spec_obj, alpha, resolution, depth=depth, classes=classes)
        protect = [spec_obj.path]
        settings.update(batch=batch or 1, per_layer=True)
    if output not in (None, "-"):
        check_target(output)        # before a run that may take a while
    check_plot(plot)
    try:
        with progress_bar() as progress:
            report = api.benchmark(subject, progress=progress, **settings)  # type: ignore
    except BenchInterrupted as exc:
        if exc.report is None:
            raise
        emit(exc.report, fmt, output, layers=per_layer, protect=protect, by=by)
        emit_plot(exc.report, plot, protect=protect)
        fail(f"{exc}; the report is partial")
        ctx.exit(EXIT_INTERRUPTED)
    emit(report, fmt, output, layers=per_layer, protect=protect, by=by)
    emit_plot(report, plot, protect=protect)
