"""``mnprof compare``: models side by side (the V1 paper's Tables 8 and 9), optionally timed."""

from __future__ import annotations

import re
from typing import Any

import click

from .. import api
from ..core.render import Format
from . import EXIT_INTERRUPTED, fail, main
from ._options import (
    emit,
    format_option,
    is_onnx,
    load_spec,
    model_options,
    output_option,
    parse_alpha,
    parse_classes,
    parse_depth,
    parse_resolution,
    timing_options,
)
from ._progress import progress_bar
from .sweep import timing_of

_SETTING = re.compile(r"^(.*):((?:(?:alpha|res|depth|classes)=[^,=:]+,?)+)$")
_PARSE = {"alpha": ("alpha", parse_alpha), "res": ("resolution", parse_resolution),
          "depth": ("depth", parse_depth), "classes": ("classes", parse_classes)}


def parse_model(text: str, defaults: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``NAME`` or ``NAME:alpha=0.5,res=160`` (any of alpha, res, depth, classes)."""
    m = _SETTING.match(text)
    name, settings = (m.group(1), m.group(2)) if m else (text, "")
    given = dict(defaults)
    for item in filter(None, settings.split(",")):
        key, _, value = item.partition("=")
        field, parse = _PARSE[key]
        try:
            given[field] = parse(value)
        except click.BadParameter as exc:
            raise click.BadParameter(f"{text}: {exc.message}") from None
    given["label"] = text
    return name, given


@main.command()
@click.argument("models", nargs=-1, required=True, metavar="MODEL[:alpha=A,res=R] ...")
@model_options
@format_option(Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML)
@output_option
@click.option("--bench", "with_bench", is_flag=True,
              help="Add each model's measured median latency and its ratio to the first.")
@timing_options(threads_default=None, threads_help="--bench: onnxruntime intra-op threads "
                "(default: physical cores).", scope="--bench: ")
@click.pass_context
def compare(ctx: click.Context, models: tuple[str, ...], alpha: float | None,
            depth: float | None, resolution: int | None, classes: int | None, fmt: str,
            output: str | None, with_bench: bool, threads: int | None, runs: int,
            min_time: float, warmup: int) -> None:
    """Models side by side: MACs, parameters, memory, and ratios to the first model.

    \b
    mnprof compare mobilenet_v1 googlenet vgg16          (the V1 paper's Table 8)
    mnprof compare mobilenet_v1:alpha=0.5,res=160 squeezenet1_0 alexnet     (Table 9)

    --alpha, --depth, --res and --classes set every model's default; `:key=value`
    after a model sets its own. A model is a built-in name, a spec file, or an ONNX
    file (MODEL.onnx; only `res` applies, for symbolic height and width).
    """
    defaults = {k: v for k, v in (("alpha", alpha), ("depth", depth),
                                  ("resolution", resolution), ("classes", classes))
                if v is not None}
    items = []
    for text in models:
        name, given = parse_model(text, defaults)
        items.append((name if is_onnx(name) else load_spec(name), given))
    bench = None
    if with_bench:
        bench = {"threads": threads, **timing_of(ctx, runs=runs, warmup=warmup,
                                                 min_time=min_time)}
    with progress_bar() as progress:
        report = api.compare(items, bench=bench, progress=progress)
    emit(report, fmt, output, protect=[s if isinstance(s, str) else s.path for s, _ in items])
    if report.interrupted:
        fail("interrupted; the comparison is partial (models without a latency were not "
             "timed)")
        ctx.exit(EXIT_INTERRUPTED)
