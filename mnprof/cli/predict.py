"""``mnprof predict``: latency without running the model, from a device profile."""

from __future__ import annotations

import click

from .. import api
from ..bench import settings as b
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
    load_spec,
    model_options,
    output_option,
    plot_option,
)
from ._progress import progress_bar


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


@main.command()
@click.argument("target", required=False, metavar="[SPEC|MODEL.onnx]")
@model_options
@click.option("--threads", "-t", type=click.IntRange(min=1, max=b.max_threads()), default=None,
              help="Intra-op threads to predict for (default: this machine's physical cores).")
@click.option("--device", type=click.Path(dir_okay=False), default=None,
              help="A device profile FILE (of any CPU) instead of this machine's.")
@click.option("--per-layer", is_flag=True, help="Also print the per-layer table.")
@by_option
@click.option("--validate", type=click.IntRange(min=1, max=10_000), default=None,
              metavar="N", help="Measure N random built-in variants with the bench and "
                                "print the prediction error distribution.")
@click.option("--specs", default=None, help="--validate: comma-separated built-ins (default: "
                                            "the MobileNet family).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="--validate: seed of the random variants.")
@click.option("--passes", type=click.IntRange(min=1, max=5), default=2, show_default=True,
              help="--validate: measure every variant this many times, minutes apart (how "
                   "often they agree is the yardstick of the predictions).")
@dim_option
@format_option(Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML)
@output_option
@plot_option
def predict(target: str | None, alpha: float | None, depth: float | None,
            resolution: int | None, classes: int | None, threads: int | None,
            device: str | None, per_layer: bool, by: str, validate: int | None,
            specs: str | None, seed: int, passes: int, dims: tuple[tuple[str, int], ...], fmt: str,
            output: str | None, plot: str | None) -> None:
    """Predicted latency of SPEC (or MODEL.onnx) on this CPU, per layer, per type and
    end to end.

    \b
    Nothing is run: the kernels onnxruntime would run are worked out from the
    model, and each one's time comes from this CPU's device profile (made by
    `mnprof calibrate`), plus the per-node overhead. --validate N measures N
    random variants of the built-ins and compares. --plot draws % MACs against
    % predicted time per type (with --validate: predicted against measured).
    """
    check_plot(plot)
    if specs is not None and (validate is None or not _names(specs)):
        raise click.UsageError("--specs names the built-ins --validate draws from, e.g. "
                               "--validate 20 --specs mobilenet_v2,mobilenet_v3_small")
    if validate is not None:
        if target is not None:
            raise click.UsageError("--validate draws its own variants; give no SPEC")
        with progress_bar() as progress:
            report = api.validate_predictions(validate, threads=threads, device=device,
                                              specs=_names(specs), seed=seed,
                                              progress=progress, passes=passes)
        emit(report, fmt, output)
        emit_plot(report, plot)
        return
    if target is not None and target.lower().endswith(".onnx"):
        subject, protect = target, [target]
    else:
        spec_obj = load_spec(target)
        subject, protect = spec_obj, [spec_obj.path]
    report = api.predict_latency(subject, alpha, resolution, depth=depth, classes=classes,
                                 threads=threads, device=device, dims=dims_of(dims))
    emit(report, fmt, output, layers=per_layer, protect=protect, by=by)
    emit_plot(report, plot, protect=protect)
