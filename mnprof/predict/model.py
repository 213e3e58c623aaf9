"""The timing model of one kernel type: a power law plus gradient-boosted oblivious
trees, in numpy.

Each kernel type (``dw.nchwc``, ``pw.nchw``, ``reorder_out``, ...) gets its own
model of log2(kernel time) from the kernel's features (``mnprof.predict.features``).
Squared error in log space is relative error, which is what a latency budget
cares about. A ridge regression on a few log features (``linear`` columns: MACs,
bytes in and out, weights, channels, output area) is the roofline-shaped part: it
scales with the work, and keeps doing so past the shapes calibration saw; the
trees fit what is left (MLAS's blocking, cache levels, thread splits). The trees
are *oblivious* (CatBoost's kind): every node of one level splits on the same
feature and threshold, so a tree is ``depth`` comparisons and a table of
``2 ** depth`` leaves; predicting a 10,000-point sweep is a few
vectorised comparisons per tree, not a walk per row.

Fitting is greedy and level-wise on binned features (quantile thresholds), with
shrinkage (``rate``) and an L2 penalty on the leaves. A model is plain numbers and
round-trips through JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEPTH = 6
TREES = 300
RATE = 0.1
BINS = 48
L2 = 2.0
_CHUNK = 4096


@dataclass(frozen=True)
class Trees:
    base: float
    features: Any           # (trees, depth) int
    thresholds: Any         # (trees, depth) float
    leaves: Any             # (trees, 2 ** depth) float
    linear: tuple[int, ...] = ()        # columns of the power law (none: no power law)
    coef: tuple[float, ...] = ()        # one per column, then the intercept

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "features": self.features.tolist(),
                "thresholds": self.thresholds.tolist(), "leaves": self.leaves.tolist(),
                "linear": list(self.linear), "coef": list(self.coef)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trees:
        import numpy as np
        f = np.asarray(data["features"], dtype=np.int64)
        t = np.asarray(data["thresholds"], dtype=np.float64)
        leaves = np.asarray(data["leaves"], dtype=np.float64)
        if f.ndim != 2 or f.shape != t.shape or leaves.shape != (f.shape[0], 2 ** f.shape[1]):
            raise ValueError("tree arrays of inconsistent shapes")
        linear = tuple(int(c) for c in data.get("linear", ()))
        coef = tuple(float(c) for c in data.get("coef", ()))
        if linear and len(coef) != len(linear) + 1:
            raise ValueError("a power law needs one coefficient per column and an intercept")
        return cls(float(data["base"]), f, t, leaves, linear, coef)


def _thresholds(column: Any, bins: int) -> Any:
    import numpy as np
    values = np.unique(column)
    if len(values) <= 1:
        return np.empty(0)
    mids = (values[:-1] + values[1:]) / 2
    if len(mids) <= bins:
        return mids
    return np.unique(np.quantile(mids, np.linspace(0, 1, bins)))


def _power_law(x: Any, y: Any, columns: tuple[int, ...], ridge: float) -> tuple[float, ...]:
    import numpy as np
    a = np.column_stack([x[:, list(columns)], np.ones(len(x))])
    penalty = ridge * np.eye(a.shape[1])
    penalty[-1, -1] = 0.0                                   # the intercept is free
    return tuple(float(c) for c in np.linalg.solve(a.T @ a + penalty, a.T @ y))


def _linear_part(model: Trees, x: Any) -> Any:
    import numpy as np
    if not model.linear:
        return np.zeros(x.shape[0])
    return x[:, list(model.linear)] @ np.asarray(model.coef[:-1]) + model.coef[-1]


def fit(x: Any, y: Any, *, trees: int = TREES, depth: int = DEPTH, rate: float = RATE,
        bins: int = BINS, l2: float = L2, linear: tuple[int, ...] = (),
        ridge: float = 1e-3) -> Trees:
    """A power law on the ``linear`` columns (if any), then boosted oblivious trees of
    what it leaves of ``y`` (n,), on ``x`` (n, features)."""
    import numpy as np

    n, m = x.shape
    coef: tuple[float, ...] = ()
    if linear and n > len(linear) + 1:
        coef = _power_law(x, y, linear, ridge)
        y = y - (x[:, list(linear)] @ np.asarray(coef[:-1]) + coef[-1])
    else:
        linear = ()
    cuts = [_thresholds(x[:, j], bins) for j in range(m)]
    width = max([len(c) for c in cuts] + [0]) + 1           # bins per feature, padded
    binned = np.zeros((n, m), dtype=np.int64)
    for j, c in enumerate(cuts):
        binned[:, j] = np.searchsorted(c, x[:, j], side="left")
    usable = np.zeros((m, width), dtype=bool)               # thresholds that exist
    for j, c in enumerate(cuts):
        usable[j, :len(c)] = True
    base = float(np.mean(y)) if n else 0.0
    pred = np.full(n, base)
    feats = np.zeros((trees, depth), dtype=np.int64)
    thr = np.full((trees, depth), np.inf)
    leaves = np.zeros((trees, 2 ** depth))
    column = np.arange(m)[None, :] * width + binned         # (n, m): feature-major bin ids
    for t in range(trees):
        resid = y - pred
        spread = np.repeat(resid, m)                        # one weight per (row, feature)
        leaf = np.zeros(n, dtype=np.int64)
        for d in range(depth):
            best = _best_split(column, spread, leaf, 2 ** d, m, width, usable, l2)
            if best is not None:
                j, b = best
                feats[t, d], thr[t, d] = j, cuts[j][b]
                leaf = leaf * 2 + (binned[:, j] > b)
            else:
                leaf = leaf * 2
        sums = np.bincount(leaf, weights=resid, minlength=2 ** depth)
        counts = np.bincount(leaf, minlength=2 ** depth)
        leaves[t] = np.where(counts > 0, rate * sums / np.maximum(counts + l2, 1e-12), 0.0)
        pred += leaves[t][leaf]
    return Trees(base, feats, thr, leaves, tuple(linear), coef)


def _best_split(column: Any, spread: Any, leaf: Any, n_leaves: int, m: int, width: int,
                usable: Any, l2: float) -> tuple[int, int] | None:
    """The (feature, bin) whose split of every current leaf lowers the loss most: one
    histogram of every (leaf, feature, bin) at once, cumulated over the bins."""
    import numpy as np

    size = n_leaves * m * width
    key = (leaf[:, None] * (m * width) + column).ravel()
    s = np.bincount(key, weights=spread, minlength=size)
    cnt = np.bincount(key, minlength=size).astype(np.float64)
    s, cnt = s.reshape(n_leaves, m, width), cnt.reshape(n_leaves, m, width)
    sl, nl = np.cumsum(s, axis=2), np.cumsum(cnt, axis=2)
    tot_s, tot_n = sl[:, :, -1:], nl[:, :, -1:]
    sr, nr = tot_s - sl, tot_n - nl
    gain = np.sum(sl ** 2 / np.maximum(nl + l2, 1e-12) + sr ** 2 / np.maximum(nr + l2, 1e-12)
                  - tot_s ** 2 / np.maximum(tot_n + l2, 1e-12), axis=0)     # (m, width)
    gain = np.where(usable, gain, -np.inf)
    j, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
    return (int(j), int(b)) if gain[j, b] > 1e-12 else None


def predict(model: Trees, x: Any) -> Any:
    """log2 time for each row of ``x`` (n, features).

    Each distinct (feature, threshold) test is made once per row; one matrix product
    turns the tests into every tree's leaf index.
    """
    import numpy as np

    n = x.shape[0]
    out = np.full(n, model.base) + _linear_part(model, x)
    t, d = model.features.shape
    if n == 0 or t == 0:
        return out
    pairs, where = np.unique(np.stack([model.features.ravel(), model.thresholds.ravel()]),
                             axis=1, return_inverse=True)
    finite = np.isfinite(pairs[1])
    weights = np.zeros((pairs.shape[1], t), dtype=np.float32)
    levels = np.tile((1 << np.arange(d - 1, -1, -1)), t)      # level 0 is the top bit
    np.add.at(weights, (where.ravel(), np.repeat(np.arange(t), d)), levels)
    weights[~finite] = 0.0
    cols, cuts = pairs[0].astype(np.int64), pairs[1]
    flat = model.leaves.ravel()
    offsets = (np.arange(t) * 2 ** d)[None, :]
    for lo in range(0, n, _CHUNK):
        tests = (x[lo:lo + _CHUNK, cols] > cuts).astype(np.float32)   # (n, pairs)
        index = (tests @ weights).astype(np.int64) + offsets          # (n, trees)
        out[lo:lo + _CHUNK] += flat[index].sum(axis=1)
    return out
