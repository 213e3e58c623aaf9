"""``mnprof export``: write the ONNX model of a spec (onnx is imported only when it runs)."""

from __future__ import annotations

from typing import Any

import click

from .. import api
from ..core.units import human_bytes
from ..onnxio.opsets import DEFAULT_OPSET, MIN_OPSET
from . import main
from ._options import (
    load_spec,
    model_options,
    precision_option,
    quant_of,
    quant_options,
    spec_argument,
)


@main.command()
@spec_argument
@model_options
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=True),
              help="The .onnx file to write (atomically).")
@click.option("--opset", type=int, default=DEFAULT_OPSET, show_default=True,
              help=f"ONNX opset of the default domain ({MIN_OPSET} up to the newest the "
                   "installed onnx and onnxruntime both run).")
@click.option("--batch", "-b", type=click.IntRange(min=1, max=4096), default=1,
              show_default=True, help="Batch size of the input.")
@click.option("--dynamic-batch", is_flag=True,
              help="A symbolic batch dimension named 'batch' instead of --batch.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0,
              show_default=True,
              help="Seed of the synthetic weights (deterministic; nothing is downloaded).")
@click.option("--fold-bn", is_flag=True,
              help="Fold batch-norm into the preceding conv / fc weights and biases "
                   "instead of writing BatchNormalization nodes.")
@precision_option("fp32, or int8: the float model quantized by onnxruntime's "
                  "quantize_static, calibrated on synthetic inputs (the options below).")
@quant_options
@click.pass_context
def export(ctx: click.Context, spec: str | None, alpha: float | None, depth: float | None,
           resolution: int | None, classes: int | None, output: str, opset: int, batch: int,
           dynamic_batch: bool, seed: int, fold_bn: bool, precision: str, **quant: Any) -> None:
    """Write the ONNX model of SPEC (float32, NCHW, synthetic weights) to OUTPUT.

    The input is `input` [batch, C, R, R] and the output `output`; node and
    initializer names follow the spec's layer names. A one-line summary goes to
    stderr. With --precision int8 the model is quantized by onnxruntime (default
    QDQ, per-channel weights, S8S8, MinMax on 16 synthetic images); the summary
    adds the settings, the CPU's int8 instruction sets and how close the int8
    outputs stay to fp32.
    """
    from click.core import ParameterSource
    if dynamic_batch and ctx.get_parameter_source("batch") is not ParameterSource.DEFAULT:
        raise click.UsageError("--batch and --dynamic-batch exclude each other")
    from ..core.files import check_target
    check_target(output)            # before generating weights
    options = quant_of(ctx, precision, quant)
    summary = api.export_onnx(load_spec(spec), output, alpha=alpha, resolution=resolution,
                              depth=depth, classes=classes, opset=opset, seed=seed,
                              fold_bn=fold_bn, batch=None if dynamic_batch else batch,
                              precision=precision, quant=options)
    click.echo(f"wrote {summary.path}: {summary.model} alpha {summary.alpha:g} resolution "
               f"{summary.resolution}, opset {summary.opset}, {summary.precision}, "
               f"{summary.nodes} nodes, {summary.initializers} initializers, "
               f"{human_bytes(summary.bytes)}", err=True)
    for line in summary.notes:
        click.echo(f"  {line}", err=True)
