"""Options and argument types shared by several commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from ..render import Format


def parse_alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise click.BadParameter(f"alpha must be a number > 0, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise click.BadParameter(f"alpha must be a number > 0, got {text!r}")
    return value


def parse_resolution(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise click.BadParameter(f"resolution must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise click.BadParameter(f"resolution must be an integer >= 1, got {text!r}")
    return value


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


ALPHA = _Typed("ALPHA", parse_alpha)
RESOLUTION = _Typed("RES", parse_resolution)
ALPHA_LIST = _List("ALPHAS", parse_alpha)
RESOLUTION_LIST = _List("RESOLUTIONS", parse_resolution)

spec_argument = click.argument("spec", required=False, metavar="[SPEC]")
alpha_option = click.option("--alpha", "-a", type=ALPHA, default=1.0, show_default=True,
                            help="Width multiplier (> 0; 1.4 is fine).")
res_option = click.option("--res", "-r", "resolution", type=RESOLUTION, default=None,
                          help="Input resolution (default: the spec's, 224 for the built-ins).")
output_option = click.option("--output", "-o", type=click.Path(dir_okay=True), default=None,
                             help="Write the report to FILE (atomically) instead of stdout.")


def format_option(*choices: Format) -> Callable[[Any], Any]:
    names = [c.value for c in choices]
    return click.option("--format", "-f", "fmt", type=click.Choice(names), default=names[0],
                        show_default=True, help="Output format.")


def use_color(output: str | None) -> bool:
    import os
    return output in (None, "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def timing_options(*, threads_default: int | None, threads_help: str,
                   scope: str = "") -> Callable[[Any], Any]:
    """--threads, --runs, --min-time and --warmup, as `bench` and `check` both take them,
    with the defaults of ``mnprof.timing``."""
    from ..timing import DEFAULT_MIN_TIME as min_time
    from ..timing import DEFAULT_RUNS as runs
    from ..timing import DEFAULT_WARMUP as warmup

    options = [
        click.option("--threads", "-t", type=click.IntRange(min=1), default=threads_default,
                     show_default=threads_default is not None, help=threads_help),
        click.option("--runs", type=click.IntRange(min=1), default=runs, show_default=True,
                     help=_scoped(scope, "Time at least this many runs ...")),
        click.option("--min-time", type=click.FloatRange(min=0), default=min_time,
                     show_default=True, help="... and for at least this many seconds."),
        click.option("--warmup", type=click.IntRange(min=0), default=warmup,
                     show_default=True, help=_scoped(scope, "Untimed runs first.")),
    ]

    def decorate(f: Any) -> Any:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def _scoped(scope: str, text: str) -> str:
    return f"{scope}{text[0].lower()}{text[1:]}" if scope else text
