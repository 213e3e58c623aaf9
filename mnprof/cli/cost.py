"""``mnprof cost``: exact MACs, parameters and memory of a spec, per layer, type and total."""

from __future__ import annotations

import click

from .. import api
from ..core.render import Format
from . import main
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
    spec_argument,
    spec_only,
)

FORMATS = (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML)


@main.command()
@spec_argument
@model_options
@format_option(*FORMATS)
@click.option("--layers/--no-layers", default=True, show_default=True,
              help="Include the per-layer table (table and markdown formats).")
@by_option
@output_option
@plot_option
@dim_option
@click.pass_context
def cost(ctx: click.Context, spec: str | None, alpha: float | None, depth: float | None,
         resolution: int | None, classes: int | None, fmt: str, layers: bool, by: str,
         output: str | None, plot: str | None, dims: tuple[tuple[str, int], ...]) -> None:
    """Exact MACs, parameters and memory of SPEC, per layer, per type and in total.

    SPEC is a YAML file or a built-in name (see `mnprof specs`); the default is
    mobilenet_v1. It may also be an ONNX file (MODEL.onnx: PyTorch, Keras/tf2onnx or
    mnprof exports), imported layer by layer; --dim and --res bind its symbolic
    dimensions. csv writes every layer, type and total row with exact integers;
    html is a page with charts; --plot draws the per-type chart (Table 2).
    """
    check_plot(plot)
    if is_onnx(spec):
        assert spec is not None
        spec_only(ctx, spec, "alpha", "depth", "classes")
        report = api.cost(spec, resolution=resolution, dims=dims_of(dims))
        emit(report, fmt, output, layers=layers, protect=[spec], by=by)
        emit_plot(report, plot, protect=[spec])
        return
    if dims:
        raise click.UsageError("--dim applies to ONNX models")
    spec_obj = load_spec(spec)
    report = api.cost(spec_obj, alpha, resolution, depth=depth, classes=classes)
    emit(report, fmt, output, layers=layers, protect=[spec_obj.path], by=by)
    emit_plot(report, plot, protect=[spec_obj.path])
