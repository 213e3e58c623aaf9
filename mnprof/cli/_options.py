"""Options and argument types shared by several commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from ..core.errors import MnprofError
from ..core.render import Format
from ..core.values import MAX_CLASSES, check_alpha, check_depth, check_int, check_resolution


def _number(text: str, name: str, check: Callable[[Any], Any], kind: type) -> Any:
    try:
        value = kind(text.strip()) if text.strip().isascii() else None
    except ValueError:
        value = None
    if value is None:
        value = text
    try:
        return check(value)
    except MnprofError as exc:
        raise click.BadParameter(f"{exc}".replace(f"got {value!r:.60}",
                                                  f"got {text!r:.60}")) from None


def parse_alpha(text: str) -> float:
    return _number(text, "alpha", check_alpha, float)


def parse_depth(text: str) -> float:
    return _number(text, "depth", check_depth, float)


def parse_resolution(text: str) -> int:
    return _number(text, "resolution", check_resolution, int)


def parse_classes(text: str) -> int:
    return _number(text, "classes", lambda v: check_int("classes", v, 1, MAX_CLASSES), int)


def parse_seconds(text: str) -> float:
    """0 to MAX_MIN_TIME seconds; nan and inf are refused (click's FloatRange lets nan by)."""
    from ..bench.settings import check_seconds
    return _number(text, "min-time", lambda v: check_seconds("min-time", v), float)


MAX_BUDGET_MINUTES = 24 * 60


def parse_minutes(text: str) -> float:
    """A calibration budget: 0.1 to a day, in minutes; nan and inf are refused (a nan
    budget would never run out)."""
    def check(v: Any) -> float:
        if not isinstance(v, float) or not 0.1 <= v <= MAX_BUDGET_MINUTES:
            raise MnprofError(f"budget must be a number of minutes from 0.1 to "
                              f"{MAX_BUDGET_MINUTES}, got {v!r:.60}")
        return v
    return _number(text, "budget", check, float)


class _Typed(click.ParamType):
    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


class _List(_Typed):
    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = [p.strip() for p in value.split(",")]
        if not all(parts):
            self.fail(f"expected a comma-separated list, got {value!r}", param, ctx)
        return [super(_List, self).convert(p, param, ctx) for p in parts]


def parse_dim(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value.isascii() or not value.isdigit() or int(value) < 1:
        raise click.BadParameter(f"expected NAME=N (a symbolic dimension of an ONNX model "
                                 f"and a positive integer), got {text!r:.60}")
    return name, int(value)


ALPHA = _Typed("ALPHA", parse_alpha)
DIM = _Typed("NAME=N", parse_dim)
DEPTH = _Typed("DEPTH", parse_depth)
RESOLUTION = _Typed("RES", parse_resolution)
CLASSES = _Typed("N", parse_classes)
SECONDS = _Typed("SECONDS", parse_seconds)
MINUTES = _Typed("MINUTES", parse_minutes)
ALPHA_LIST = _List("ALPHAS", parse_alpha)
RESOLUTION_LIST = _List("RESOLUTIONS", parse_resolution)

spec_argument = click.argument("spec", required=False, metavar="[SPEC]")
alpha_option = click.option("--alpha", "-a", type=ALPHA, default=None,
                            help="Width multiplier, > 0 and <= 10 (default: the spec's, 1 "
                                 "for most built-ins).")
res_option = click.option("--res", "-r", "resolution", type=RESOLUTION, default=None,
                          help="Input resolution (default: the spec's, 224 for most "
                               "built-ins).")
output_option = click.option("--output", "-o", type=click.Path(dir_okay=True), default=None,
                             help="Write the report to FILE (atomically) instead of stdout.")


dim_option = click.option("--dim", "dims", type=DIM, multiple=True,
                          help="ONNX models: give a symbolic input dimension a value, e.g. "
                               "--dim batch=1 (repeatable; a symbolic batch is 1 by "
                               "default, --res sets symbolic height and width).")


def dims_of(dims: Any) -> dict[str, int]:
    """``--dim`` pairs as a mapping; a name given twice is a usage error."""
    out: dict[str, int] = {}
    for name, value in dims or ():
        if name in out:
            raise click.UsageError(f"--dim gives {name!r} twice")
        out[name] = value
    return out


def is_onnx(target: str | None) -> bool:
    """Whether a command's target is an ONNX file (a path ending in .onnx)."""
    return target is not None and target.lower().endswith(".onnx")


def spec_only(ctx: click.Context, target: str, *names: str) -> None:
    """A usage error for each spec option given on the command line for an ONNX file."""
    for name in names:
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE:
            own = "widths" if "alpha" in name else "layers"
            raise click.UsageError(f"--{name.rstrip('s')} applies to specs; the ONNX model "
                                   f"{target} has its own {own}")


plot_option = click.option("--plot", metavar="FILE.svg|FILE.png", default=None,
                           help="Also draw the main chart to FILE (.svg or .png, atomically).")


def check_plot(plot: str | None) -> None:
    """A bad --plot path or extension fails now, before any work (exit 2)."""
    if plot is not None:
        from ..viz.plot import check_plot as check
        check(plot)


def emit_plot(report: Any, plot: str | None, *, protect: Any = ()) -> None:
    """Write ``report``'s main chart to ``plot`` (nothing when it is None)."""
    if plot is not None:
        from ..viz.plot import save_plot
        save_plot(report, plot, protect=protect)


def model_options(f: Any) -> Any:
    """--alpha, --depth, --res and --classes, as every command that builds a spec takes."""
    for option in reversed((
            alpha_option,
            click.option("--depth", "-d", type=DEPTH, default=None,
                         help="Depth multiplier: every `repeat` n of the spec becomes "
                              "ceil(n * depth) (default: the spec's, 1 for most)."),
            res_option,
            click.option("--classes", type=CLASSES, default=None,
                         help="Number of classes (default: the spec's, 1000)."))):
        f = option(f)
    return f


def load_spec(spec: str | None) -> Any:
    """The spec (a path or a built-in name), its warnings printed on stderr."""
    from .. import api
    from . import warn
    s = api.load_spec(spec)
    for w in s.warnings:
        warn(w)
    return s


def format_option(*choices: Format) -> Callable[[Any], Any]:
    names = [c.value for c in choices]
    return click.option("--format", "-f", "fmt", type=click.Choice(names), default=names[0],
                        show_default=True, help="Output format.")


def emit(report: Any, fmt: str, output: str | None, *, layers: bool = True,
         protect: Any = (), by: str = "layer") -> None:
    """Render ``report`` (``mnprof.render``) to stdout or, atomically, to ``output``."""
    from ..core.files import write_output
    from ..output import render
    write_output(render(report, fmt, layers=layers, color=use_color(output), by=by), output,
                 protect=protect)


by_option = click.option("--by", type=click.Choice(["layer", "block"]), default="layer",
                         show_default=True,
                         help="Rows per layer, or per block instance (bneck3, fire4): a "
                              "layer outside any block is its own row.")


def use_color(output: str | None) -> bool:
    import os
    return output in (None, "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def timing_options(*, threads_default: int | None, threads_help: str,
                   scope: str = "") -> Callable[[Any], Any]:
    """--threads, --runs, --min-time and --warmup, as `bench` and `check` both take them,
    with the defaults of ``mnprof.timing``."""
    from ..bench import settings as b

    options = [
        click.option("--threads", "-t", type=click.IntRange(min=1, max=b.max_threads()),
                     default=threads_default, show_default=threads_default is not None,
                     help=threads_help),
        click.option("--runs", type=click.IntRange(min=1, max=b.MAX_RUNS),
                     default=b.DEFAULT_RUNS, show_default=True,
                     help=_scoped(scope, "Time at least this many runs ...")),
        click.option("--min-time", type=SECONDS,
                     default=b.DEFAULT_MIN_TIME, show_default=True,
                     help="... and for at least this many seconds."),
        click.option("--warmup", type=click.IntRange(min=0, max=b.MAX_WARMUP),
                     default=b.DEFAULT_WARMUP, show_default=True,
                     help=_scoped(scope, "Untimed runs first.")),
    ]

    def decorate(f: Any) -> Any:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def _scoped(scope: str, text: str) -> str:
    return f"{scope}{text[0].lower()}{text[1:]}" if scope else text


# ---------------------------------------------------------------------------
# Precision: fp32, or int8 through onnxruntime's static quantization

PRECISIONS = ("fp32", "int8")
_QUANT_FLAGS = {"per_channel": "--per-channel/--per-tensor", "reduce_range": "--reduce-range",
                "quant_format": "--quant-format", "calibration": "--calibration",
                "calibration_samples": "--calibration-samples",
                "activation_type": "--activation-type"}


def precision_option(help_text: str) -> Callable[[Any], Any]:
    return click.option("--precision", type=click.Choice(PRECISIONS), default="fp32",
                        show_default=True, help=help_text)


def quant_options(f: Any) -> Any:
    """The int8 quantization options (onnxruntime's quantize_static), with its defaults."""
    from ..onnxio import quantopts as q

    options = [
        click.option("--per-channel/--per-tensor", default=True, show_default=True,
                     help="int8: one weight scale per output channel, or per tensor."),
        click.option("--reduce-range", is_flag=True,
                     help="int8: 7-bit weights (avoids u8 x s8 saturation without VNNI)."),
        click.option("--quant-format", type=click.Choice(q.FORMATS), default="qdq",
                     show_default=True, help="int8: QuantizeLinear/DequantizeLinear pairs "
                     "around float ops (qdq), or QLinear* operators (qoperator)."),
        click.option("--calibration", type=click.Choice(q.CALIBRATIONS), default="minmax",
                     show_default=True, help="int8: how activation ranges are calibrated."),
        click.option("--calibration-samples", type=click.IntRange(1, q.MAX_SAMPLES),
                     default=q.DEFAULT_SAMPLES, show_default=True,
                     help="int8: synthetic calibration images (seeded, nothing downloaded)."),
        click.option("--activation-type", type=click.Choice(q.ACTIVATION_TYPES),
                     default="int8", show_default=True,
                     help="int8: activations int8 (S8S8, onnxruntime's x86 default) or "
                          "uint8 (U8S8); weights are int8."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def quant_of(ctx: click.Context, precision: str, values: dict[str, Any]) -> Any:
    """The QuantOptions of an int8 run (None at fp32, where a quantization flag given on
    the command line is a usage error)."""
    from ..onnxio.quantopts import QuantOptions

    given = [flag for key, flag in _QUANT_FLAGS.items()
             if ctx.get_parameter_source(key) is click.core.ParameterSource.COMMANDLINE]
    if precision != "int8":
        if given:
            raise click.UsageError(f"{given[0]} applies with --precision int8")
        return None
    return QuantOptions(per_channel=values["per_channel"], reduce_range=values["reduce_range"],
                        format=values["quant_format"], calibration=values["calibration"],
                        samples=values["calibration_samples"],
                        activations=values["activation_type"])
