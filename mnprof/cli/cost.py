"""``mnprof cost``: exact MACs, parameters and memory of a spec, per layer, type and total."""

from __future__ import annotations

import click

from .. import api
from ..core.render import Format
from . import main
from ._options import (
    by_option,
    emit,
    format_option,
    load_spec,
    model_options,
    output_option,
    precision_option,
    spec_argument,
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
@precision_option("Bytes, intensity and peak activation memory at fp32, or at int8 as "
                  "deployed (1 byte per activation and weight, int32 bias, per-channel "
                  "scale and zero point).")
def cost(spec: str | None, alpha: float | None, depth: float | None, resolution: int | None,
         classes: int | None, fmt: str, layers: bool, by: str, output: str | None,
         precision: str) -> None:
    """Exact MACs, parameters and memory of SPEC, per layer, per type and in total.

    SPEC is a YAML file or a built-in name (see `mnprof specs`); the default is
    mobilenet_v1. csv writes every layer, type and total row with exact integers.
    """
    spec_obj = load_spec(spec)
    report = api.cost(spec_obj, alpha, resolution, depth=depth, classes=classes,
                      precision=precision)
    emit(report, fmt, output, layers=layers, protect=[spec_obj.path], by=by)
