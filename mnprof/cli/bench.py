"""``mnprof bench``: onnxruntime latency per layer and per type, against theory.

Also ``sweep_latencies``, which ``mnprof sweep --bench`` calls. onnx and
onnxruntime are imported only when a model is timed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..bench.runner import OptLevel
from ..render import Format, to_json, to_markdown, to_text, write_output
from . import EXIT_INTERRUPTED, fail, main
from .options import (
    alpha_option,
    format_option,
    output_option,
    res_option,
    timing_options,
    use_color,
)

OPT_LEVELS = tuple(o.value for o in OptLevel)
SWEEP_BENCH = {"runs": 20, "warmup": 5, "min_time": 0.5}    # per grid point: a quick look


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr when it is a terminal; otherwise no callback.

    It redraws only when called (at most 5 times a second), never from a thread of
    its own: a refresh thread would compete with onnxruntime's for the cores.
    """
    if not sys.stderr.isatty():
        yield None
        return
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
        task = bar.add_task("starting", total=None)
        last = [0.0]

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=total)
            now = time.monotonic()
            if now - last[0] > 0.2 or done >= total:
                last[0] = now
                bar.refresh()

        yield update


def _is_onnx(target: str | None) -> bool:
    return target is not None and target.lower().endswith(".onnx")


@main.command()
@click.argument("target", required=False, metavar="[SPEC|MODEL.onnx]")
@alpha_option
@res_option
@timing_options(threads_default=None,
                threads_help="onnxruntime intra-op threads (default: this machine's physical "
                             "cores).")
@click.option("--per-layer", is_flag=True,
              help="Also print the per-layer table (JSON always has the layers).")
@click.option("--opt-level", type=click.Choice(OPT_LEVELS), default="all", show_default=True,
              help="onnxruntime graph optimisation level.")
@click.option("--batch", "-b", type=click.IntRange(min=1), default=1, show_default=True,
              help="Images per run.")
@format_option(Format.TABLE, Format.JSON, Format.MARKDOWN)
@output_option
@click.option("--remeasure", is_flag=True,
              help="Measure the machine ceiling (peak GMAC/s, bandwidth) again, not from cache.")
@click.pass_context
def bench(ctx: click.Context, target: str | None, alpha: float, resolution: int | None,
          threads: int | None, runs: int, min_time: float, warmup: int, per_layer: bool,
          opt_level: str, batch: int, fmt: str, output: str | None, remeasure: bool) -> None:
    """Time SPEC (or an ONNX file) with onnxruntime on this CPU, against theory.

    \b
    Prints the end-to-end latency (median, p10, p90, mean, stdev, runs,
    throughput), a per-type table of % MACs vs % time with achieved GMAC/s and
    efficiency against this machine's roofline, the machine ceiling and the
    environment. Per-layer and per-type times come from onnxruntime's profiler
    in a separate pass, scaled to sum to the end-to-end median.

    SPEC is a YAML file or a built-in name (default mobilenet_v1). MODEL.onnx is
    timed end to end only. Ctrl-C prints what was measured so far (exit 130).
    """
    from ..bench import BenchInterrupted, bench_graph, bench_onnx_file

    settings = dict(threads=threads, runs=runs, warmup=warmup, min_time=min_time,
                    opt_level=opt_level, batch=batch, remeasure=remeasure)
    is_onnx = _is_onnx(target)
    if is_onnx:
        for name in ("alpha", "resolution"):
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE:
                raise click.UsageError(f"--{'res' if name == 'resolution' else name} applies "
                                       f"to specs; an ONNX file has its own shape")
        protect = [target]
    else:
        from .. import api
        spec_obj = api.load_spec(target)
        graph = api.build(spec_obj, alpha, resolution)
        protect = [spec_obj.path]
    try:
        with progress_bar() as progress:
            if is_onnx:
                report = bench_onnx_file(Path(str(target)), progress=progress, **settings)
            else:
                report = bench_graph(graph, per_layer=True, progress=progress,
                                     spec=spec_obj.file, **settings)
    except BenchInterrupted as exc:
        if exc.report is None:
            raise
        write_output(render(exc.report, fmt, per_layer, output), output, protect=protect)
        fail(f"{exc}; the report is partial")
        ctx.exit(EXIT_INTERRUPTED)
    write_output(render(report, fmt, per_layer, output), output, protect=protect)


def render(report: Any, fmt: str, per_layer: bool, output: str | None) -> str:
    from ..bench.report import bench_header, bench_tables, bench_to_dict, notes_text

    if fmt == Format.JSON.value:
        return to_json(bench_to_dict(report))
    tables = bench_tables(report, layers=per_layer)
    if fmt == Format.MARKDOWN.value:
        return to_markdown(bench_header(report), tables) + notes_text(report, markdown=True)
    return (to_text(bench_header(report), tables, color=use_color(output))
            + notes_text(report))



def sweep_latencies(spec_obj: Any, rows: Any, *, threads: int | None = None
                    ) -> tuple[list[Any], int]:
    """Median latency of every sweep row (``mnprof sweep --bench``), one model at a time."""
    from .. import api
    from ..bench import measure_latency

    out, used = [], 0
    with progress_bar() as progress:
        for i, row in enumerate(rows):
            if progress:
                progress(f"sweep: alpha {row.alpha:g}, resolution {row.resolution}", i,
                         len(rows))
            graph = api.build(spec_obj, row.alpha, row.resolution)
            r = measure_latency(graph, threads=threads, **SWEEP_BENCH)  # type: ignore[arg-type]
            out.append(r.latency_ms)
            used = r.threads
    return out, used
