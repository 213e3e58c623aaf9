"""``mnprof predict --validate N``: predictions against the bench, on random variants.

N configurations are drawn (seeded): a built-in spec, a width in [0.25, 1.4], a
resolution in [96, 288] and, for a spec with repeated blocks, a depth in
[0.5, 1.5]; each is predicted with the device profile and measured end to end
with the bench's timing loop (``measure_latency``, the bench's session options).

Every configuration is measured in ``passes`` passes over the whole list (the
second in reverse order), minutes apart; its measured latency is the mean of the
passes' medians. How often two passes agree within 5% and 10% is the yardstick a
prediction is read against: on a machine whose speed drifts, no predictor can
agree with one measurement more often than two measurements agree with each
other. The report gives the share within 5% and 10%, the mean absolute percentage
error, Kendall's rank correlation of predicted against measured, the worst cases,
and the same per spec. Ctrl-C stops it with the points measured so far.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..bench.machine import load_average
from ..core.contracts import VALIDATION_SCHEMA
from ..core.errors import MnprofError, Terminated
from ..core.progress import Progress
from ..core.render import Column, Table
from ..core.version import __version__
from ..spec.build import build
from ..spec.builtins import builtin_names, load_spec
from ..spec.document import Spec
from .device import Device, DeviceProfile
from .predictor import predict_graph

ALPHAS = (0.25, 1.4)
RESOLUTIONS = (96, 288)
DEPTHS = (0.5, 1.5)
VALIDATE_TIMING = {"runs": 30, "warmup": 10, "min_time": 1.0}


@dataclass(frozen=True)
class Point:
    spec: str
    alpha: float
    resolution: int
    depth: float
    predicted_ms: float
    measured_ms: float                # the mean of the passes' medians
    spread: float                     # measured (p90 - p10) / median, the widest pass
    passes: tuple[float, ...] = ()    # each pass's median

    @property
    def error(self) -> float:
        return self.predicted_ms / self.measured_ms - 1.0

    @property
    def repeat_error(self) -> float | None:
        """The second pass's median against the first's (None: measured once)."""
        return self.passes[1] / self.passes[0] - 1.0 if len(self.passes) > 1 else None


@dataclass(frozen=True)
class ValidationReport:
    device: Device
    profile_path: str
    points: tuple[Point, ...]
    seed: int
    requested: int
    load_start: float | None
    load_end: float | None
    interrupted: bool = False
    # the machine's drift since calibration (``predict.drift``), timed on the anchor
    # networks before and after the variants (None: the profile keeps no anchors)
    drift_start: float | None = None
    drift_end: float | None = None

    @property
    def drift(self) -> float | None:
        known = [d for d in (self.drift_start, self.drift_end) if d is not None]
        return sum(known) / len(known) if known else None

    def drift_adjusted(self) -> tuple[Point, ...]:
        """The points with each prediction scaled by the machine's drift: what the
        error would be on a machine as fast as when calibrated."""
        d = self.drift
        return () if d is None else tuple(replace(p, predicted_ms=p.predicted_ms * (1 + d))
                                          for p in self.points)


def family() -> list[str]:
    """The MobileNet-family built-ins (their names start with ``mobilenet``)."""
    return [n for n in builtin_names() if n.startswith("mobilenet")]


def has_depth(spec: Spec) -> bool:
    entries = list(spec.layers) + [e for b in spec.blocks.values() for e in b.layers]
    return any(e.repeat not in (None, 1) for e in entries)


def configurations(n: int, specs: Sequence[str], seed: int) -> list[tuple[str, float, int, float]]:
    """``n`` random (spec, alpha, resolution, depth), seeded."""
    rng = random.Random(seed)
    loaded = {s: load_spec(s) for s in specs}
    out = []
    for _ in range(n):
        name = rng.choice(list(specs))
        depth = round(rng.uniform(*DEPTHS), 3) if has_depth(loaded[name]) else 1.0
        out.append((name, round(rng.uniform(*ALPHAS), 3), rng.randint(*RESOLUTIONS), depth))
    return out


def validate(profile: DeviceProfile, here: Device, n: int, *, specs: Sequence[str] | None = None,
             seed: int = 0, progress: Progress | None = None,
             timing: dict[str, Any] | None = None, passes: int = 2) -> ValidationReport:
    """Predict and measure ``n`` random configurations on this machine, in ``passes``
    passes (the second in reverse order)."""
    if not (profile.device.same_machine(here) and profile.device.threads == here.threads):
        raise MnprofError(f"{profile.path}: a profile of {profile.device.describe()}; "
                          f"validation measures this machine ({here.describe()})")
    configs = configurations(n, list(specs or family()), seed)
    specs_of = {name: load_spec(name) for name in dict.fromkeys(c[0] for c in configs)}

    def graph(i: int) -> Any:           # built when needed: N graphs at once could be GBs
        name, alpha, res, depth = configs[i]
        return build(specs_of[name], alpha, res, depth=depth)

    predicted = [predict_graph(graph(i), profile, here=here).median_ms for i in range(n)]
    medians: list[list[float]] = [[] for _ in configs]
    spread = [0.0] * len(configs)
    load0 = load_average()
    drift_start = _drift_now(profile, here, progress)
    interrupted = False
    order = [i for p in range(passes) for i in (range(n) if p % 2 == 0 else reversed(range(n)))]
    for step, i in enumerate(order):
        if progress:
            name, alpha, res, _ = configs[i]
            progress(f"validating (pass {step // n + 1} of {passes}): {name} alpha {alpha:g} "
                     f"res {res}", step, len(order))
        s = _measure(graph(i), here.threads, timing)
        if s is None:
            interrupted = True
            break
        medians[i].append(s.median)
        spread[i] = max(spread[i], (s.p90 - s.p10) / s.median if s.median else 0.0)
    points = tuple(Point(*configs[i], predicted[i], sum(m) / len(m), spread[i], tuple(m))
                   for i, m in enumerate(medians) if m)
    drift_end = None if interrupted else _drift_now(profile, here, progress)
    return ValidationReport(profile.device, profile.path, points, seed, n, load0,
                            load_average(), interrupted, drift_start, drift_end)


def _drift_now(profile: DeviceProfile, here: Device, progress: Progress | None
               ) -> float | None:
    """The machine's drift since calibration, on the anchors (None: the profile keeps
    no anchor timings, or Ctrl-C)."""
    from .drift import (
        AnchorsInterrupted,
        calibrated_anchors,
        compare_anchors,
        median_drift,
        time_anchors,
    )
    if not calibrated_anchors(profile):
        return None
    try:
        timed = time_anchors(here.threads, progress=progress)
    except AnchorsInterrupted:
        return None
    return median_drift(compare_anchors(profile, here, timed))


def _measure(graph: Any, threads: int, timing: dict[str, Any] | None) -> Any:
    """The bench's end-to-end stats of ``graph`` (None: interrupted)."""
    from ..bench.measure import measure_latency
    try:
        m = measure_latency(graph, threads=threads, **(timing or VALIDATE_TIMING))
    except (KeyboardInterrupt, Terminated):
        return None
    return None if m.interrupted else m.latency_ms


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b of two sequences (None with fewer than two points)."""
    import numpy as np

    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) < 2:
        return None
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    iu = np.triu_indices(len(a), 1)
    s, ta, tb = (da * db)[iu].sum(), (da[iu] != 0).sum(), (db[iu] != 0).sum()
    return float(s / np.sqrt(ta * tb)) if ta and tb else None


def summary(points: Sequence[Point]) -> dict[str, Any]:
    import numpy as np

    if not points:
        return {"points": 0}
    err = np.abs([p.error for p in points])
    return {"points": len(points), "within_5pct": float(np.mean(err <= 0.05)),
            "within_10pct": float(np.mean(err <= 0.10)),
            "mape_pct": float(100 * np.mean(err)),
            "median_ape_pct": float(100 * np.median(err)),
            # signed: a machine that drifted since calibration shows here as a shift
            "median_error_pct": float(100 * np.median([p.error for p in points])),
            "max_ape_pct": float(100 * np.max(err)),
            "kendall_tau": kendall_tau([p.predicted_ms for p in points],
                                       [p.measured_ms for p in points]),
            "repeatability": repeatability(points)}


def repeatability(points: Sequence[Point]) -> dict[str, Any] | None:
    """How often two measurements of one configuration agree: the ceiling of any
    predictor's agreement with a measurement on this machine (None: measured once)."""
    import numpy as np

    rep = [abs(p.repeat_error) for p in points if p.repeat_error is not None]
    if not rep:
        return None
    err = np.asarray(rep)
    return {"points": len(rep), "within_5pct": float(np.mean(err <= 0.05)),
            "within_10pct": float(np.mean(err <= 0.10)),
            "mape_pct": float(100 * np.mean(err))}


def _point_dict(p: Point) -> dict[str, Any]:
    return {"spec": p.spec, "alpha": p.alpha, "resolution": p.resolution, "depth": p.depth,
            "predicted_ms": p.predicted_ms, "measured_ms": p.measured_ms,
            "error_pct": 100 * p.error, "measured_spread": p.spread,
            "measured_passes_ms": list(p.passes)}


def validation_to_dict(r: ValidationReport) -> dict[str, Any]:
    specs = dict.fromkeys(p.spec for p in r.points)
    return {"schema": VALIDATION_SCHEMA, "mnprof_version": __version__,
            "device": {**r.device.__dict__, "profile": r.profile_path},
            "seed": r.seed, "requested": r.requested, "interrupted": r.interrupted,
            "load_average": {"start": r.load_start, "end": r.load_end},
            "summary": summary(r.points),
            "machine_drift": {"start": r.drift_start, "end": r.drift_end},
            "summary_drift_adjusted": summary(r.drift_adjusted()) if r.drift is not None
            else None,
            "by_spec": {s: summary([p for p in r.points if p.spec == s]) for s in specs},
            "points": [_point_dict(p) for p in r.points],
            "units": {"predicted_ms": "milliseconds", "measured_ms": "milliseconds, median",
                      "error_pct": "100 x (predicted / measured - 1)"}}


def validation_header(r: ValidationReport) -> str:
    load = "" if r.load_start is None else f" · load {r.load_start:.2f} -> {r.load_end:.2f}"
    drift = "" if r.drift is None else (
        f" · machine {100 * r.drift:+.1f}% against calibration (anchors: "
        f"{_signed(r.drift_start)} before, {_signed(r.drift_end)} after)")
    return (f"Predicted vs measured · {r.device.describe()} · {len(r.points)} of "
            f"{r.requested} configurations (seed {r.seed}){load}{drift}"
            + (" · INTERRUPTED" if r.interrupted else ""))


def _signed(v: float | None) -> str:
    return "?" if v is None else f"{100 * v:+.1f}%"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}%"


def validation_tables(r: ValidationReport) -> list[Table]:
    cols = (Column("specs", numeric=False, key="spec"), Column("points"),
            Column("within 5%", _pct, "within_5pct"), Column("within 10%", _pct,
                                                              "within_10pct"),
            Column("MAPE", _pct, "mape_pct"), Column("worst", _pct, "max_ape_pct"),
            Column("median error", lambda v: f"{v:+.1f}%", "median_error_pct"),
            Column("Kendall tau", lambda v: f"{v:.3f}", "kendall_tau"),
            Column("passes agree 10%", _pct, "repeat_within_10pct"))

    def row(name: str, s: dict[str, Any]) -> tuple[Any, ...]:
        if not s["points"]:
            return (name, 0, None, None, None, None, None, None, None)
        rep = s["repeatability"]
        return (name, s["points"], 100 * s["within_5pct"], 100 * s["within_10pct"],
                s["mape_pct"], s["max_ape_pct"], s["median_error_pct"], s["kendall_tau"],
                100 * rep["within_10pct"] if rep else None)

    specs = dict.fromkeys(p.spec for p in r.points)
    rows = tuple(row(s, summary([p for p in r.points if p.spec == s])) for s in specs)
    adjusted = r.drift_adjusted()
    if adjusted:
        rows += (row("all, drift-adjusted", summary(adjusted)),)
    first = Table("Error distribution (predicted / measured - 1)", cols, rows,
                  row("all", summary(r.points)),
                  note="passes agree 10%: how often two measurements of one configuration, "
                       "minutes apart, agree within 10%; no prediction can agree with a "
                       "measurement more often than measurements agree with each other"
                       + ("; drift-adjusted: each prediction scaled by the machine's drift "
                          "since calibration, timed on the anchor networks" if adjusted
                          else ""))
    worst = sorted(r.points, key=lambda p: -abs(p.error))
    pcols = (Column("spec", numeric=False), Column("alpha", lambda v: f"{v:g}"),
             Column("res", key="resolution"), Column("depth", lambda v: f"{v:g}"),
             Column("predicted ms", lambda v: f"{v:.3f}", "predicted_ms"),
             Column("measured ms", lambda v: f"{v:.3f}", "measured_ms"),
             Column("error", lambda v: f"{v:+.1f}%", "error_pct"),
             Column("spread", _pct, "measured_spread"))
    prow = tuple((p.spec, p.alpha, p.resolution, p.depth, p.predicted_ms, p.measured_ms,
                  100 * p.error, 100 * p.spread) for p in worst)
    return [first, Table("Every configuration, worst first", pcols, prow,
                         note="measured: the mean of the passes' medians; spread: (p90 - "
                              "p10) / median of the measured runs, the widest pass; a large "
                              "one means the machine was busy")]
