"""Which timing model: prints figures, asserts nothing (see README, "Predicting latency").

Reads a calibration's measurements (the state file ``mnprof calibrate`` keeps beside
the profile while it runs: copy it before calibration ends, or interrupt calibration
with Ctrl-C and read it) and compares, on the same folds (networks held out, as
calibration scores itself):

- a power law alone (ridge regression on log MACs, bytes, weights, channels, area);
- boosted oblivious trees alone;
- the power law with trees on what it leaves (mnprof's model);

per kernel type (held-out median error of a kernel's time) and per network (the
kernel sum of held-out predictions through the fitted end-to-end overhead model,
against the network's measured end-to-end median).

Run: python benchmarks/predict_models.py STATE.partial.jsonl [--trees 120]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from mnprof.predict.features import features
from mnprof.predict.fitting import FOLDS, LINEAR, MIN_SAMPLES, Samples, fit_overhead
from mnprof.predict.model import fit, predict

VARIANTS = {"power law": {"trees": 0, "linear": LINEAR},
            "trees": {"linear": ()},
            "power law + trees": {"linear": LINEAR}}


def load(path: str) -> tuple[Samples, list[dict]]:
    samples, nets = Samples.empty(), []
    with open(path) as fh:
        lines = fh.read().splitlines()[1:]
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            break
        for kind, raw, t in rec["kernels"]:
            samples.add(kind, raw, t, len(nets))
        nets.append(rec)
    return samples, nets


def held_out(samples: Samples, trees: int, options: dict) -> np.ndarray:
    """Each sample's held-out predicted time (us), by kind and network fold."""
    out = np.asarray(samples.times_us, dtype=float).copy()
    for kind in dict.fromkeys(samples.kinds):
        idx, raw, y, nets = samples.arrays(kind)
        if len(idx) < MIN_SAMPLES:
            continue
        fold = nets % FOLDS
        for f in range(FOLDS):
            test = fold == f
            if test.all() or not test.any():
                continue
            model = fit(features(raw[~test], kind), y[~test],
                        **{"trees": trees, **options})
            out[idx[test]] = np.exp2(predict(model, features(raw[test], kind)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("state")
    ap.add_argument("--trees", type=int, default=120)
    args = ap.parse_args()
    samples, nets = load(args.state)
    times = np.asarray(samples.times_us, dtype=float)
    owner = np.asarray(samples.network)
    kinds = np.asarray(samples.kinds)
    print(f"{len(nets)} networks, {len(times)} kernel samples, {FOLDS} folds by network")
    overhead = fit_overhead([n["kernel_sum_us"] for n in nets], [n["nodes"] for n in nets],
                            [n["e2e_ms"] for n in nets])
    e2e = np.asarray([n["e2e_ms"] for n in nets])
    exact = np.asarray([overhead.total_us(n["kernel_sum_us"], n["nodes"]) / 1000 for n in nets])
    print(f"measured kernels through the overhead model (no model error): "
          f"{100 * np.mean(np.abs(exact / e2e - 1) <= 0.10):.0f}% of networks within 10% "
          "(the floor the noise leaves)")
    big = [k for k in dict.fromkeys(samples.kinds) if np.sum(kinds == k) >= 300]
    print(f"{'model':20s} " + " ".join(f"{k:>13s}" for k in big) + "   nets<=10%  MAPE")
    for name, options in VARIANTS.items():
        pred = held_out(samples, args.trees, options)
        rel = np.abs(pred / times - 1)
        cols = " ".join(f"{100 * np.median(rel[kinds == k]):12.1f}%" for k in big)
        sums = np.asarray([n["kernel_sum_us"] - times[owner == i].sum() + pred[owner == i].sum()
                           for i, n in enumerate(nets)])
        total = np.asarray([overhead.total_us(s, n["nodes"]) / 1000
                            for s, n in zip(sums, nets, strict=True)])
        err = np.abs(total / e2e - 1)
        print(f"{name:20s} {cols}   {100 * np.mean(err <= 0.10):8.0f}%  "
              f"{100 * np.mean(err):4.1f}%")


if __name__ == "__main__":
    main()
