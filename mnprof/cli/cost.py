"""``mnprof cost``, ``mnprof sweep``, ``mnprof specs`` and ``mnprof schema``."""

from __future__ import annotations

import click

from .. import api
from ..render import Format, to_csv, to_json, to_markdown, to_text, write_output
from ..report import cost_header, cost_tables, cost_to_dict, layer_table, sweep_table, sweep_to_dict
from . import main
from .options import (
    ALPHA_LIST,
    RESOLUTION_LIST,
    alpha_option,
    format_option,
    output_option,
    res_option,
    spec_argument,
    use_color,
)

_ALL = (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN)
_DEFAULT_ALPHAS = "1,0.75,0.5,0.25"
_DEFAULT_RESOLUTIONS = "224,192,160,128"



@main.command()
@spec_argument
@alpha_option
@res_option
@format_option(*_ALL)
@click.option("--layers/--no-layers", default=True, show_default=True,
              help="Include the per-layer table (table and markdown formats).")
@output_option
def cost(spec: str | None, alpha: float, resolution: int | None, fmt: str, layers: bool,
         output: str | None) -> None:
    """Exact MACs, parameters and memory of SPEC, per layer, per type and in total.

    SPEC is a YAML file or a built-in name (see `mnprof specs`); the default is
    mobilenet_v1. csv writes the per-layer rows with exact integers.
    """
    spec_obj = api.load_spec(spec)
    report = api.cost(spec_obj, alpha, resolution)
    if fmt == Format.JSON.value:
        text = to_json(cost_to_dict(report, spec=spec_obj.file))
    elif fmt == Format.CSV.value:
        text = to_csv(layer_table(report))
    elif fmt == Format.MARKDOWN.value:
        text = to_markdown(cost_header(report, spec_obj.file), cost_tables(report, layers=layers))
    else:
        text = to_text(cost_header(report, spec_obj.file),
                            cost_tables(report, layers=layers), color=use_color(output))
    write_output(text, output, protect=[spec_obj.path])


@main.command()
@spec_argument
@click.option("--alpha", "-a", "alphas", type=ALPHA_LIST, default=_DEFAULT_ALPHAS,
              show_default=True, help="Comma-separated width multipliers.")
@click.option("--res", "-r", "resolutions", type=RESOLUTION_LIST, default=_DEFAULT_RESOLUTIONS,
              show_default=True, help="Comma-separated input resolutions.")
@format_option(*_ALL)
@output_option
@click.option("--bench", "with_bench", is_flag=True,
              help="Add onnxruntime median latency columns (times every grid point).")
def sweep(spec: str | None, alphas: list[float], resolutions: list[int], fmt: str,
          output: str | None, with_bench: bool) -> None:
    """MACs and parameters of SPEC over a grid of widths and resolutions.

    The defaults reproduce Tables 6 and 7 of the MobileNetV1 paper in one grid.
    """
    spec_obj = api.load_spec(spec)
    rows = api.sweep(spec_obj, alphas, resolutions)
    table = sweep_table(spec_obj.name, rows)
    data = sweep_to_dict(spec_obj.name, rows, spec=spec_obj.file)
    if with_bench:      # onnxruntime is imported only on this branch
        from ..bench.report import sweep_with_latency
        from .bench import sweep_latencies
        table, data = sweep_with_latency(table, data, *sweep_latencies(spec_obj, rows))
    if fmt == Format.JSON.value:
        text = to_json(data)
    elif fmt == Format.CSV.value:
        text = to_csv(table)
    elif fmt == Format.MARKDOWN.value:
        text = to_markdown("", [table])
    else:
        text = to_text("", [table], color=use_color(output))
    write_output(text, output, protect=[spec_obj.path])


@main.command()
@format_option(Format.TABLE, Format.JSON, Format.MARKDOWN)
def specs(fmt: str) -> None:
    """List the built-in specs, with their cost at alpha 1 and their own resolution."""
    from ..report import specs_table, specs_to_dict
    rows = api.builtin_summaries()
    if fmt == Format.JSON.value:
        text = to_json(specs_to_dict(rows))
    elif fmt == Format.MARKDOWN.value:
        text = to_markdown("", [specs_table(rows)])
    else:
        text = to_text("", [specs_table(rows)], color=use_color(None))
    write_output(text, None)


@main.command()
@output_option
def schema(output: str | None) -> None:
    """Print the JSON Schema of the spec language (what YAML editors validate against)."""
    from ..schema import spec_schema_text
    write_output(spec_schema_text(), output)
