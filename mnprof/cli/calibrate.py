"""``mnprof calibrate``: this CPU's kernel models, saved as a device profile."""

from __future__ import annotations

import click

from .. import api
from ..bench import settings as b
from ..core.render import Format
from . import main, warn
from ._options import MINUTES, emit, format_option, output_option
from ._progress import progress_bar


@main.command()
@click.option("--threads", "-t", type=click.IntRange(min=1, max=b.max_threads()), default=None,
              help="onnxruntime intra-op threads the profile is for (default: this machine's "
                   "physical cores).")
@click.option("--budget", type=MINUTES, default=10.0,
              show_default=True, help="Minutes to spend measuring and fitting (more: more "
                                      "samples, better models).")
@click.option("--restart", is_flag=True,
              help="Discard an interrupted calibration instead of resuming it.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the random calibration networks.")
@click.option("--blocks", default=None, metavar="KINDS",
              help="Draw networks from these block kinds only (comma-separated: separable, "
                   "inverted, plain, fused, branches, pool): a quick, partial profile.")
@click.option("--import", "import_from", type=click.Path(dir_okay=False), default=None,
              help="Install a profile FILE (of this CPU and onnxruntime) instead of "
                   "calibrating.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False), default=None,
              help="Copy this machine's profile (at --threads) to FILE instead of "
                   "calibrating.")
@click.option("--check", "check", is_flag=True,
              help="Calibrate nothing: time the three anchor networks now and report how "
                   "far this machine's speed drifted since its profile was made.")
@format_option(Format.TABLE, Format.JSON, Format.MARKDOWN)
@output_option
@click.pass_context
def calibrate(ctx: click.Context, threads: int | None, budget: float, restart: bool, seed: int,
              blocks: str | None, import_from: str | None, export_to: str | None,
              check: bool, fmt: str, output: str | None) -> None:
    """Measure this CPU's kernels as onnxruntime runs them and fit a device profile.

    \b
    Random networks drawn from the MobileNet family's blocks and shapes are
    profiled kernel by kernel (same session options as `mnprof bench`), then more
    networks are drawn near the kernels predicted worst, within --budget minutes.
    The profile goes to the user cache ($XDG_CACHE_HOME/mnprof/devices/), where
    `mnprof predict` and `mnprof sweep --predict` find it. Ctrl-C keeps what was
    measured: run the same command again to resume. Calibrate on an idle machine.
    Calibration ends by timing three anchor networks; --check times them again
    later and says how much slower or faster the machine runs than when calibrated.
    """
    if sum(map(bool, (import_from, export_to, check))) > 1:
        raise click.UsageError("give one of --import, --export and --check")
    if check:
        given = [f"--{n}" for n in ("budget", "restart", "seed", "blocks")
                 if ctx.get_parameter_source(n) is click.core.ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"--check calibrates nothing: {', '.join(given)} do not "
                                   "apply")
        with progress_bar() as progress:
            emit(api.check_drift(threads=threads, progress=progress), fmt, output)
        return
    if import_from or export_to:
        path = api.device_profile_io(import_from=import_from, export_to=export_to,
                                     threads=threads)
        click.echo(f"device profile {'installed as' if import_from else 'written to'} {path}")
        return
    from ..bench.machine import is_busy, load_average
    load = load_average()
    if is_busy(load):
        warn(f"the load average is {load:.2f}: other work shares the cores, so kernel times "
             "will be noisy; calibrate on an idle machine")
    with progress_bar() as progress:
        report = api.calibrate(threads=threads, budget_minutes=budget, restart=restart,
                               seed=seed, progress=progress,
                               blocks=[b.strip() for b in blocks.split(",") if b.strip()]
                               if blocks else None)
    emit(report, fmt, output)
