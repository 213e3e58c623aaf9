"""Has this machine's speed drifted since its profile was calibrated?

A device profile is a snapshot. The same CPU can run slower or faster later (another
tenant on the host, a frequency or power policy, a thermal state, another
onnxruntime build) and every prediction is then off by about the same factor.
Calibration ends by timing three fixed networks of the family (``ANCHORS``: small,
medium and large) end to end and keeps their medians in the profile
(``calibration.anchors``). ``mnprof calibrate --check`` times them again the same way
and reports how much slower or faster the machine runs now, next to what the profile
predicts for them; ``mnprof predict --validate`` times them before and after its
variants, so that a validation's errors are read against the machine's own drift.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..bench.machine import load_average
from ..core.contracts import DRIFT_SCHEMA
from ..core.errors import MnprofError, Terminated
from ..core.progress import Progress
from ..core.render import Column, Table
from ..core.version import __version__
from .device import Device, DeviceProfile

ANCHORS = (("mobilenet_v3_small", 0.75, 160), ("mobilenet_v2", 1.0, 224),
           ("mobilenet_v1", 1.0, 224))
ANCHOR_TIMING = {"runs": 30, "warmup": 10, "min_time": 1.0}
NOTICEABLE = 0.05           # a drift beyond this is reported as one


class AnchorsInterrupted(MnprofError):
    exit_code = 130


@dataclass(frozen=True)
class Timed:
    """One anchor timed end to end: its median and (p90 - p10) / median."""

    spec: str
    alpha: float
    resolution: int
    median_ms: float
    spread: float

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "alpha": self.alpha, "resolution": self.resolution,
                "median_ms": self.median_ms, "spread": self.spread}


def time_anchors(threads: int, *, timing: dict[str, Any] | None = None,
                 progress: Progress | None = None) -> tuple[Timed, ...]:
    """Each anchor timed with the bench's end-to-end loop (AnchorsInterrupted on
    Ctrl-C or SIGTERM)."""
    from ..bench.measure import measure_latency
    from ..spec.build import build

    out = []
    for i, (spec, alpha, res) in enumerate(ANCHORS):
        if progress:
            progress(f"timing anchor {spec} alpha {alpha:g} res {res}", i, len(ANCHORS))
        stop = AnchorsInterrupted("interrupted while timing the anchor networks")
        try:
            m = measure_latency(build(spec, alpha, res), threads=threads,
                                **(timing or ANCHOR_TIMING))
        except (KeyboardInterrupt, Terminated) as exc:
            stop.exit_code = 143 if isinstance(exc, Terminated) else 130
            raise stop from None
        if m.interrupted:
            raise stop
        s = m.latency_ms
        out.append(Timed(spec, alpha, res, s.median,
                         (s.p90 - s.p10) / s.median if s.median else 0.0))
    return tuple(out)


def calibrated_anchors(profile: DeviceProfile) -> dict[tuple[str, float, int], float]:
    """The anchors' medians kept by calibration, by (spec, alpha, resolution): {} for a
    profile without them (or with entries that are not numbers)."""
    out = {}
    for a in profile.calibration.get("anchors") or ():
        try:
            key = (str(a["spec"]), float(a["alpha"]), int(a["resolution"]))
            ms = float(a["median_ms"])
        except (TypeError, KeyError, ValueError):
            continue
        if 0 < ms < 1e7:                        # nan and inf fail this too
            out[key] = ms
    return out


@dataclass(frozen=True)
class Anchor:
    timed: Timed                    # now
    calibrated_ms: float | None     # when the profile was calibrated
    predicted_ms: float             # what the profile predicts

    @property
    def drift(self) -> float | None:
        """Now against calibration: +0.2 runs 20% slower."""
        return None if not self.calibrated_ms else self.timed.median_ms / self.calibrated_ms - 1

    @property
    def error(self) -> float:
        return self.predicted_ms / self.timed.median_ms - 1


def median_drift(anchors: Sequence[Anchor]) -> float | None:
    drifts = [a.drift for a in anchors if a.drift is not None]
    return statistics.median(drifts) if drifts else None


def compare_anchors(profile: DeviceProfile, here: Device, timed: Sequence[Timed]
                    ) -> tuple[Anchor, ...]:
    """Each anchor timed now, against calibration and against its prediction."""
    from ..spec.build import build
    from .predictor import predict_graph

    kept = calibrated_anchors(profile)
    return tuple(Anchor(t, kept.get((t.spec, t.alpha, t.resolution)),
                        predict_graph(build(t.spec, t.alpha, t.resolution), profile,
                                      here=here).median_ms) for t in timed)


@dataclass(frozen=True)
class DriftReport:
    device: Device
    profile_path: str
    calibrated_at: str
    anchors: tuple[Anchor, ...]
    load_start: float | None
    load_end: float | None

    @property
    def drift(self) -> float | None:
        return median_drift(self.anchors)


def check_drift(profile: DeviceProfile, here: Device, *,
                progress: Progress | None = None) -> DriftReport:
    """Time the anchors on this machine now (``mnprof calibrate --check``)."""
    if not (profile.device.same_machine(here) and profile.device.threads == here.threads):
        raise MnprofError(f"{profile.path}: a profile of {profile.device.describe()}; the "
                          f"check times this machine ({here.describe()})")
    if not calibrated_anchors(profile):
        raise MnprofError(f"{profile.path}: this profile keeps no anchor timings (it was "
                          f"calibrated before mnprof kept them): run `mnprof calibrate "
                          f"--threads {here.threads} --restart` to make one that does")
    load = load_average()
    timed = time_anchors(here.threads, progress=progress)
    return DriftReport(profile.device, profile.path,
                       str(profile.calibration.get("calibrated_at", "")),
                       compare_anchors(profile, here, timed), load, load_average())


def verdict(drift: float | None) -> str:
    if drift is None:
        return "no anchor timings to compare with"
    if abs(drift) <= NOTICEABLE:
        return f"the machine runs as when calibrated ({100 * drift:+.1f}%)"
    way = "longer" if drift > 0 else "less time"
    return (f"the machine takes {100 * abs(drift):.0f}% {way} than when calibrated: "
            f"predictions read about {100 * abs(drift) / (1 + drift):.0f}% "
            f"{'low' if drift > 0 else 'high'}; re-run `mnprof calibrate` on a steady "
            "machine, or read predictions as relative")


def drift_to_dict(r: DriftReport) -> dict[str, Any]:
    return {"schema": DRIFT_SCHEMA, "mnprof_version": __version__,
            "device": {**r.device.__dict__, "profile": r.profile_path},
            "calibrated_at": r.calibrated_at, "drift": r.drift, "verdict": verdict(r.drift),
            "load_average": {"start": r.load_start, "end": r.load_end},
            "anchors": [{**a.timed.to_dict(), "calibrated_ms": a.calibrated_ms,
                         "predicted_ms": a.predicted_ms, "drift": a.drift,
                         "prediction_error": a.error} for a in r.anchors],
            "units": {"median_ms": "milliseconds, now", "drift": "now / calibrated - 1",
                      "prediction_error": "predicted / now - 1"}}


def drift_header(r: DriftReport) -> str:
    load = "" if r.load_start is None else f" · load {r.load_start:.2f} -> {r.load_end:.2f}"
    return (f"Drift since calibration ({r.calibrated_at or 'unknown'}) · "
            f"{r.device.describe()}{load} · {verdict(r.drift)}")


def _ms(v: float | None) -> str:
    return "" if v is None else f"{v:.3f}"


def _signed(v: float | None) -> str:
    return "" if v is None else f"{100 * v:+.1f}%"


def drift_tables(r: DriftReport) -> list[Table]:
    cols = (Column("anchor", numeric=False), Column("calibrated ms", _ms, "calibrated_ms"),
            Column("now ms", _ms, "median_ms"), Column("drift", _signed),
            Column("predicted ms", _ms, "predicted_ms"),
            Column("prediction error", _signed, "prediction_error"),
            Column("spread", lambda v: f"{100 * v:.1f}%"))
    rows = tuple((f"{a.timed.spec} {a.timed.alpha:g} @ {a.timed.resolution}", a.calibrated_ms,
                  a.timed.median_ms, a.drift, a.predicted_ms, a.error, a.timed.spread)
                 for a in r.anchors)
    return [Table("Anchor networks, timed end to end", cols, rows,
                  note="drift: median now / median at calibration - 1 (median of the "
                       "anchors in the header); spread: (p90 - p10) / median now")]


__all__ = ["ANCHORS", "Anchor", "DriftReport", "Timed", "calibrated_anchors", "check_drift",
           "compare_anchors", "drift_tables", "drift_to_dict", "median_drift", "time_anchors",
           "verdict"]
