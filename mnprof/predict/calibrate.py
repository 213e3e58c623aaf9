"""``mnprof calibrate``: measure this CPU's kernels and fit its device profile.

Within a time budget (default 10 minutes):

1. probe onnxruntime's NCHWc layout on this CPU (``probe``);
2. explore (to ``EXPLORE`` of the budget): random family-like networks
   (``synth``), each profiled in context and timed end to end (``measure``);
3. refine (to ``REFINE``): fit, find the kernels predicted worst by models that
   never saw their network, and measure networks built around them (nn-Meter's
   adaptive sampling);
4. fit the final models and the overhead model, score the profile on held-out
   networks, and save it.

Every measured network is appended at once to a state file beside the profile,
so Ctrl-C or SIGTERM loses at most the network being measured; the next
``mnprof calibrate`` with the same device resumes from it (``restart`` discards
it). Networks are drawn from a seeded sequence, so a resumed calibration draws the
networks an uninterrupted one would have.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..bench.machine import load_average
from ..core.errors import MnprofError, Terminated
from ..core.files import atomic_write
from ..core.progress import Progress
from .device import Device, DeviceProfile, profile_path, save_profile
from .features import raw_row
from .fitting import Samples, fit_models, fit_overhead, held_out_kernel_errors
from .fusion import Layout
from .synth import BLOCKS, Target, calibration_graph

STATE_SCHEMA = "mnprof.calibration-state/3"   # /2: built-ins; /3: log-uniform widths
EXPLORE = 0.6
REFINE = 0.88
MAX_MACS = 1_000_000_000
HEAVY_MACS = 4_000_000_000
FINAL_TREES = 250
FAMILY_SHARE = 0.3      # explored networks that are built-ins of the family (see family_graph)


class CalibrationInterrupted(MnprofError):
    exit_code = 130


@dataclass
class State:
    """What calibration measured so far (mirrors the state file)."""

    device: Device
    layout: Layout
    seed: int
    samples: Samples
    networks: list[dict[str, Any]]          # per network: nodes, sums, e2e, phase, load
    elapsed_s: float = 0.0
    blocks: tuple[str, ...] = BLOCKS        # the block kinds networks are drawn from

    @property
    def count(self) -> int:
        return len(self.networks)


def state_path(device: Device) -> Path:
    return profile_path(device, ".partial.jsonl")


def _header(state: State) -> dict[str, Any]:
    return {"schema": STATE_SCHEMA, "device": state.device.key, "seed": state.seed,
            "layout": [state.layout.block, state.layout.align], "blocks": list(state.blocks)}


def load_state(device: Device, path: Path, blocks: tuple[str, ...] = BLOCKS,
               seed: int = 0) -> State | None:
    """The partial calibration of ``device`` at ``path`` (drawn from the same blocks
    and seed), or None (absent, unusable, or another calibration's)."""
    try:
        lines = path.read_text().splitlines()
        head = json.loads(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not isinstance(head, dict) or head.get("schema") != STATE_SCHEMA \
            or head.get("device") != device.key or head.get("seed") != seed \
            or tuple(head.get("blocks", ())) != tuple(blocks):
        return None
    state = State(device, Layout(*head["layout"]), seed, Samples.empty(), [],
                  blocks=tuple(blocks))
    for line in lines[1:]:
        try:
            rec = json.loads(line)
        except ValueError:
            break                           # a line cut short by a kill: ignore the rest
        _absorb(state, rec)
    return state


def _absorb(state: State, rec: dict[str, Any]) -> None:
    i = len(state.networks)
    for kind, raw, t in rec["kernels"]:
        state.samples.add(kind, raw, t, i)
    state.networks.append({k: v for k, v in rec.items() if k != "kernels"})
    state.elapsed_s = max(state.elapsed_s, float(rec.get("elapsed_s", 0.0)))


def _append(path: Path, state: State, rec: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        if state.count == 0 and fh.tell() == 0:
            fh.write(json.dumps(_header(state)) + "\n")
        fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
        fh.flush()
    _absorb(state, rec)


def _targets(state: State, how_many: int) -> list[Target]:
    """Kernels predicted worst (held-out error weighted by their time), as targets."""
    import numpy as np

    err = held_out_kernel_errors(state.samples)
    times = np.asarray(state.samples.times_us)
    weight = np.where(np.isfinite(err), np.abs(err) * np.log2(2 + times), 0.0)
    out = []
    for i in np.argsort(-weight)[:how_many]:
        if weight[i] <= 0.1:                # within ~7%: nothing to refine
            break
        kind = state.samples.kinds[i]
        raw = state.samples.raw[i]
        if kind.startswith(("pw", "dw", "conv", "gconv")):
            out.append(Target(kind, int(raw[14]), int(raw[15]), int(raw[6]), int(raw[2]),
                              int(raw[4])))
    return out


def _network(state: State, phase: str, targets: list[Target]) -> Any:
    """The next network of the seeded sequence (explore) or around a target (refine).

    A target no network within the MAC limits can hold (a wide kernel at a large
    size) gives way to an untargeted network: refinement never stops calibration."""
    i = state.count
    rng = random.Random(state.seed * 1_000_003 + i)
    target = targets[i % len(targets)] if phase == "refine" and targets else None
    if target is None and state.blocks == BLOCKS and rng.random() < FAMILY_SHARE:
        return family_graph(rng)
    heavy = target is not None or rng.random() < 0.1
    try:
        return calibration_graph(rng, target, max_macs=HEAVY_MACS if heavy else MAX_MACS,
                                 blocks=state.blocks)
    except MnprofError:
        if target is None:
            raise
        return calibration_graph(rng, None, max_macs=MAX_MACS, blocks=state.blocks)


def family_graph(rng: random.Random) -> Any:
    """A MobileNet-family built-in at a random width, resolution and depth (the ranges
    predictions are validated on, never the same draw: validation seeds its own), so
    kernels are also measured in the contexts users predict: the family's real block
    sequences, channel roundings and layouts. The width is drawn log-uniformly, so
    small networks, whose time is mostly per-node overhead, are well represented. At
    most ``HEAVY_MACS``."""
    from ..analysis.cost import analyze
    from ..spec.build import build
    from ..spec.builtins import load_spec
    from .validate import ALPHAS, DEPTHS, RESOLUTIONS, family, has_depth

    names = family()
    for _ in range(100):
        spec = load_spec(rng.choice(names))
        depth = round(rng.uniform(*DEPTHS), 3) if has_depth(spec) else 1.0
        alpha = round(math.exp(rng.uniform(*(math.log(a) for a in ALPHAS))), 3)
        graph = build(spec, alpha, rng.randint(*RESOLUTIONS), depth=depth)
        if analyze(graph).totals.macs <= HEAVY_MACS:
            return graph
    raise MnprofError("could not draw a built-in within the MAC limit")


def _measure_one(state: State, path: Path, phase: str, targets: list[Target],
                 started: float, base_elapsed: float) -> None:
    from .measure import measure_network

    graph = _network(state, phase, targets)
    load = load_average()
    sample = measure_network(graph, threads=state.device.threads, layout=state.layout)
    rec = {"phase": phase, "model": graph.model, "nodes": sample.nodes,
           "unmatched": sample.unmatched, "kernel_sum_us": sample.kernel_sum_us,
           "e2e_ms": sample.e2e_ms, "load": load,
           "elapsed_s": base_elapsed + time.monotonic() - started,
           "kernels": [[k.kind, raw_row(k), t] for k, t in zip(sample.kernels,
                                                                sample.times_us, strict=True)]}
    _append(path, state, rec)


def run_calibration(device: Device, *, budget_s: float, seed: int = 0, restart: bool = False,
                    progress: Progress | None = None, blocks: tuple[str, ...] = BLOCKS,
                    probe: Callable[[int], Layout] | None = None) -> DeviceProfile:
    """Calibrate ``device`` (this machine) within ``budget_s`` seconds from networks of
    ``blocks``; save the profile."""
    path = state_path(device)
    state = None if restart else load_state(device, path, blocks, seed)
    if state is None:
        from .probe import probe_layout
        if progress:
            progress("probing onnxruntime's layout", 0, int(budget_s))
        layout = (probe or probe_layout)(device.threads)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, b"")
        state = State(device, layout, seed, Samples.empty(), [], blocks=tuple(blocks))
    started, base = time.monotonic(), state.elapsed_s
    targets: list[Target] = []
    try:
        while True:
            elapsed = base + time.monotonic() - started
            if elapsed >= REFINE * budget_s and state.count >= 8:
                break
            phase = "explore" if elapsed < EXPLORE * budget_s or state.count < 8 else "refine"
            if phase == "refine" and not targets:
                targets = _targets(state, 24) or [Target("pw.nchwc", 64, 64, 14)]
            if progress:
                progress(f"calibrating: {state.count} networks ({phase})", int(elapsed),
                         int(budget_s))
            _measure_one(state, path, phase, targets, started, base)
    except (KeyboardInterrupt, Terminated) as exc:
        stop = CalibrationInterrupted(
            f"calibration interrupted after {state.count} networks; run the same "
            f"`mnprof calibrate` again to resume")
        stop.exit_code = 143 if isinstance(exc, Terminated) else 130
        raise stop from None
    if progress:
        progress("fitting the models", int(REFINE * budget_s), int(budget_s))
    profile = finish(state, budget_s=budget_s)
    profile = with_anchors(profile, progress)
    save_profile(profile)
    path.unlink(missing_ok=True)
    return profile


def with_anchors(profile: DeviceProfile, progress: Progress | None) -> DeviceProfile:
    """The profile with the anchor networks' end-to-end medians on this machine (what
    ``mnprof calibrate --check`` compares with later); interrupted, calibration stops
    before saving and resumes from its state file."""
    from .drift import AnchorsInterrupted, time_anchors
    try:
        timed = time_anchors(profile.device.threads, progress=progress)
    except AnchorsInterrupted as exc:
        stop = CalibrationInterrupted("calibration interrupted while timing the anchor "
                                      "networks; run the same `mnprof calibrate` again to "
                                      "resume")
        stop.exit_code = exc.exit_code
        raise stop from None
    return replace(profile, calibration={**profile.calibration, "anchors": [
        t.to_dict() for t in timed]})


def finish(state: State, *, budget_s: float, trees: int = FINAL_TREES) -> DeviceProfile:
    """The device profile from what ``state`` measured: models, overhead, scores."""
    import numpy as np

    from ..core.version import __version__
    nets = state.networks
    if len(nets) < 4:
        raise MnprofError(f"calibration measured only {len(nets)} networks: too few to fit "
                          "(give a larger --budget)")
    err = held_out_kernel_errors(state.samples)
    kernels = fit_models(state.samples, trees, err)
    overhead = fit_overhead([n["kernel_sum_us"] for n in nets], [n["nodes"] for n in nets],
                            [n["e2e_ms"] for n in nets])
    times = np.asarray(state.samples.times_us)
    owner = np.asarray(state.samples.network)
    predicted = np.where(np.isfinite(err), times * np.exp2(np.nan_to_num(err)), times)
    rel = []
    for i, n in enumerate(nets):
        mine = owner == i
        kernel_sum = n["kernel_sum_us"] - times[mine].sum() + predicted[mine].sum()
        pred_ms = overhead.total_us(kernel_sum, n["nodes"]) / 1000.0
        rel.append(pred_ms / n["e2e_ms"] - 1.0)
    rel_a = np.abs(np.asarray(rel))
    loads = [n["load"] for n in nets if n.get("load") is not None]
    calibration = {
        "mnprof_version": __version__, "seed": state.seed, "budget_s": budget_s,
        "elapsed_s": round(state.elapsed_s, 1), "networks": len(nets),
        "refined_networks": sum(1 for n in nets if n.get("phase") == "refine"),
        "kernel_samples": len(state.samples.kinds),
        "unmatched_nodes": int(sum(n["unmatched"] for n in nets)),
        "profiled_nodes": int(sum(n["nodes"] for n in nets)),
        "load_average": {"min": min(loads), "max": max(loads),
                         "mean": float(np.mean(loads))} if loads else None,
        "held_out": {"networks": len(nets),
                     "within_10pct": float(np.mean(rel_a <= 0.10)),
                     "within_5pct": float(np.mean(rel_a <= 0.05)),
                     "mape_pct": float(100 * np.mean(rel_a))},
        "calibrated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return DeviceProfile(state.device, state.layout, kernels, overhead, calibration)
