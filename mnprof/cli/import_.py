"""``mnprof import``: an ONNX model written as a flat spec (every layer explicit)."""

from __future__ import annotations

import click

from .. import api
from . import main
from ._options import dim_option, dims_of, res_option


@main.command("import")
@click.argument("model", metavar="MODEL.onnx")
@click.option("--output", "-o", type=click.Path(dir_okay=True), default=None,
              help="Write the spec to FILE (atomically; never over the model) instead of "
                   "stdout.")
@res_option
@dim_option
def import_(model: str, output: str | None, resolution: int | None,
            dims: tuple[tuple[str, int], ...]) -> None:
    """Write MODEL.onnx as a flat spec: every layer explicit, named after its ONNX node.

    `mnprof cost SPEC` then gives the totals and per-type rows of `mnprof cost
    MODEL.onnx`. A model with an op mnprof does not model, or a non-square input,
    cannot be a spec (exit 2).
    """
    from ..core.files import write_output

    if not api.is_onnx_path(model):
        raise click.UsageError(f"{model!r:.80} is not an ONNX file (MODEL.onnx)")
    text = api.import_spec(model, dims=dims_of(dims), resolution=resolution)
    write_output(text, output, protect=[model])
    if output not in (None, "-"):
        click.echo(f"mnprof import: wrote {output}", err=True)
