"""What the library API calls for calibration, profile files and predicted sweeps
(kept here so that ``mnprof.api`` stays a list of thin entry points)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..analysis.report import SweepReport
from ..core.errors import MnprofError
from ..core.progress import Progress
from ..core.values import check_grid
from ..model.graph import Graph
from ..spec.build import build
from ..spec.document import Spec
from .summary import CalibrationReport


def predicted_sweep(s: Spec, alphas: list[float], resolutions: list[int], *,
                    depth: float | None, classes: int | None, threads: int | None,
                    device: str | None) -> SweepReport:
    """The sweep grid with every point's latency predicted (``mnprof sweep --predict``)."""
    from ..analysis.grid import Spatial, grid_rows
    from .device import resolve_profile
    from .grid import predict_grid

    profile, _ = resolve_profile(threads, device)
    check_grid(len(alphas), len(resolutions))

    def builder(a: float, r: int) -> Graph:
        return build(s, a, r, depth=depth, classes=classes)

    widths: list[Graph] = []

    def each_width() -> Iterator[Graph]:     # built in order: errors as point by point
        for a in alphas:
            widths.append(builder(a, resolutions[0]))
            yield widths[-1]

    spatial = Spatial(resolutions)
    rows, _ = grid_rows(builder, each_width(), spatial)
    latencies, note = predict_grid(builder, widths, spatial, profile)
    info = {"device": profile.device.describe(), "profile": profile.path,
            "threads": profile.device.threads, "note": note}
    return SweepReport(s.name, s.file, tuple(rows), depth=s.depth if depth is None else depth,
                       latencies=tuple(latencies), latency_threads=profile.device.threads,
                       latency_kind="predicted", prediction=info)


def calibrate_here(*, threads: int | None, budget_minutes: float, restart: bool, seed: int,
                   export: str | Path | None, blocks: Iterable[str] | None,
                   progress: Progress | None) -> CalibrationReport:
    """Calibrate this machine (see ``mnprof.predict.calibrate``); save its profile."""
    from ..bench.machine import default_threads
    from .calibrate import run_calibration
    from .device import save_profile, this_device
    from .synth import BLOCKS

    if not (isinstance(budget_minutes, (int, float)) and 0.1 <= budget_minutes <= 24 * 60):
        raise MnprofError(f"budget_minutes must be a number of minutes from 0.1 to 1440, got "
                          f"{budget_minutes!r:.40}")     # nan too: it would never run out
    chosen = tuple(blocks) if blocks else BLOCKS
    unknown = sorted(set(chosen) - set(BLOCKS))
    if unknown:
        raise MnprofError(f"unknown calibration block kind(s) {', '.join(unknown)}; kinds: "
                          f"{', '.join(BLOCKS)}")
    here = this_device(default_threads() if threads is None else threads)
    profile = run_calibration(here, budget_s=60.0 * budget_minutes, seed=seed,
                              restart=restart, progress=progress, blocks=chosen)
    saved = str(save_profile(profile))
    out = str(save_profile(profile, export)) if export is not None else ""
    return CalibrationReport(profile, saved, out)


def profile_io(*, import_from: str | Path | None, export_to: str | Path | None,
               threads: int | None) -> str:
    """Install a profile file (of this CPU) into the cache, or export this machine's."""
    from ..bench.machine import default_threads
    from .device import find_profile, import_profile, save_profile, this_device

    here = this_device(default_threads() if threads is None else threads)
    if import_from is not None:
        return str(import_profile(import_from, here))
    if export_to is None:
        raise MnprofError("nothing to import or export")
    return str(save_profile(find_profile(here), export_to))


__all__ = ["calibrate_here", "predicted_sweep", "profile_io"]
