"""Predicted latency over a grid of widths and resolutions, fast (``sweep --predict``).

Building a graph costs milliseconds; a 10,000-point grid cannot build 10,000 of
them. What onnxruntime runs depends on the channels (the width) and not on the
resolution, so each width is built once, at the grid's first resolution, and its
kernels are emulated once. The spatial size of every layer at every resolution
comes from the layers' own shape rules (memoised: a rule and an input size give
one output size, whatever the width), and each kernel's shapes at a resolution
from the layers it reads and writes. The kernel rows of the whole grid are then
deduplicated and predicted in one vectorised pass per kernel type.

The shortcut holds when a spec's structure and attributes do not depend on the
resolution; that is checked (the first width built at the grid's smallest and
largest resolution must have the same layers and attributes), and a spec that
fails the check, or a kernel whose shapes cannot be traced to its layers, is
predicted point by point instead (same numbers, slower).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model.graph import INPUT, Graph, Node, Shape, numel
from ..model.kinds import kind_of
from .device import DeviceProfile
from .estimate import end_to_end_ms, times_of_raw
from .features import COL, raw_row
from .kernels import Kernel, kernels_of

CHANNEL_ATTRS = frozenset({"out", "multiplier", "groups", "scale", "rounding"})


def _same_structure(a: Graph, b: Graph) -> bool:
    return [(n.name, n.kind, n.inputs, dict(n.attrs)) for n in a.nodes] == \
        [(n.name, n.kind, n.inputs, dict(n.attrs)) for n in b.nodes]


def _attrs_key(node: Node) -> Any:
    """A node's non-channel attributes, hashable."""
    items = tuple(sorted((k, v) for k, v in node.attrs.items() if k not in CHANNEL_ATTRS))
    try:
        hash(items)
        return items
    except TypeError:
        return _frozen(dict(items))


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


class _Spatial:
    """Layer output sizes at every resolution of the grid, shared across widths.

    A layer's spatial size depends on its kind, its non-channel attributes and its
    inputs' sizes, never on channel counts: a layer with the same name, kind,
    attributes and inputs in two widths' graphs shares one entry here. A map's entry
    is its (H, W) per resolution; a vector's, its length relative to the first
    resolution's (a flatten grows with its input's area; an fc does not).
    """

    def __init__(self, resolutions: Sequence[int]) -> None:
        import numpy as np
        self.res = np.asarray(resolutions, dtype=np.int64)
        self.keys: dict[Any, int] = {}
        self.maps: list[tuple[Any, Any] | None] = []     # (H, W); None for a vector
        self.scales: list[Any] = []                      # vectors: length / first length
        self.memo: dict[Any, tuple[int, ...]] = {}

    def layers(self, graph: Graph) -> dict[str, int]:
        """Each layer's entry (INPUT too), computing the entries not seen yet."""
        ids = {INPUT: self._entry(("input",), None, ())}
        for node in graph.nodes:
            inputs = tuple(ids[i] for i in node.inputs)
            key = (node.name, node.kind, _attrs_key(node), inputs, len(node.output_shape))
            ids[node.name] = self._entry(key, node, inputs)
        return ids

    def _entry(self, key: Any, node: Node | None, inputs: tuple[int, ...]) -> int:
        import numpy as np
        if key in self.keys:
            return self.keys[key]
        self.keys[key] = len(self.maps)
        ones = np.ones(len(self.res))
        if node is None:
            self.maps.append((self.res, self.res))
            self.scales.append(ones)
        elif len(node.output_shape) == 3:
            self.maps.append(self._compute(node, inputs))
            self.scales.append(ones)
        else:
            self.maps.append(None)
            src = inputs[0] if inputs else None
            if src is not None and node.output_shape[0] == numel(node.input_shapes[0]):
                if self.maps[src] is not None:              # a map flattened
                    h, w = self.maps[src]
                    self.scales.append(h * w / float(h[0] * w[0]))
                else:
                    self.scales.append(self.scales[src])
            else:
                self.scales.append(ones)
        return self.keys[key]

    def _compute(self, node: Node, inputs: tuple[int, ...]) -> tuple[Any, Any]:
        import numpy as np
        h = np.zeros(len(self.res), dtype=np.int64)
        w = np.zeros_like(h)
        for r in range(len(self.res)):
            ins = tuple((s[0], *self.hw_at(i, r)) if len(s) == 3 else s
                        for s, i in zip(node.input_shapes, inputs, strict=True))
            key = (node.kind, _frozen(node.attrs), ins)
            if key not in self.memo:
                self.memo[key] = kind_of(node).output_shape(node.attrs, ins)[1:]
            h[r], w[r] = self.memo[key]
        return h, w

    def hw_at(self, entry: int, r: int) -> tuple[int, int]:
        m = self.maps[entry]
        return (1, 1) if m is None else (int(m[0][r]), int(m[1][r]))

    def columns(self, entry: int, shape_r0: Shape, as_vector: bool) -> tuple[Any, Any, Any]:
        """(channels or length, H, W) per resolution of a layer's output as a kernel
        sees it (``as_vector``: flattened)."""
        import numpy as np
        m = self.maps[entry]
        ones = np.ones(len(self.res), dtype=np.int64)
        if m is None:
            return np.rint(shape_r0[0] * self.scales[entry]).astype(np.int64), ones, ones
        if as_vector:
            return shape_r0[0] * m[0] * m[1], ones, ones
        return shape_r0[0] * ones, m[0], m[1]


def _kernel_rows(kernels: Sequence[Kernel], shapes: dict[str, Shape], ids: dict[str, int],
                 sp: _Spatial) -> Any:
    """Raw rows (resolutions, kernels, RAW columns) of one width's kernels; None if a
    kernel's shapes do not follow from its layers'."""
    import numpy as np

    base = np.array([raw_row(k) for k in kernels], dtype=np.float64).reshape(-1, len(COL))
    rows = np.repeat(base[None, :, :], len(sp.res), axis=0)
    for i, k in enumerate(kernels):
        for side, ref in (("in", k.in_ref), ("out", k.out_ref)):
            if ref is None:
                return None
            layer, flat = ref
            c, h, w = sp.columns(ids[layer], shapes[layer], flat)
            rows[:, i, COL[f"h{side}"]] = h
            rows[:, i, COL[f"w{side}"]] = w
            if flat or len(shapes[layer]) == 1:
                rows[:, i, COL[f"c{side}_logical"]] = c
                # a vector's length is its channels (a Gemm's input features too)
                if (k.cin if side == "in" else k.cout) == 0 or (side == "in" and
                                                                k.kind == "gemm"):
                    rows[:, i, COL[f"c{side}"]] = c
    return rows if np.array_equal(rows[0], base) else None


def _point(profile: DeviceProfile, graph: Graph) -> float:
    """One point the slow way: its own kernels, predicted."""
    import numpy as np

    from .features import raw_matrix
    kernels = kernels_of(graph, profile.layout)
    times = times_of_raw(profile, [k.kind for k in kernels], raw_matrix(kernels))
    return float(end_to_end_ms(profile, float(np.sum(times)), len(kernels)))


def _dedup_predict(profile: DeviceProfile, kinds: list[str], codes: Any, raw: Any) -> Any:
    """Predicted times of ``raw`` rows (``codes``: each row's index in ``kinds``), each
    distinct (type, row) predicted once. A random projection finds candidate
    duplicates; rows are then compared with their representative exactly (a collision
    falls back to an exact, slower deduplication)."""
    import numpy as np

    weights = np.random.default_rng(0).uniform(1.0, 2.0, raw.shape[1])
    keys = raw @ weights + codes * np.pi * 1e9
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if not (np.array_equal(raw[first][inverse], raw)
            and np.array_equal(codes[first][inverse], codes)):
        full = np.column_stack([raw, codes])
        _, first, inverse = np.unique(full, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
    times = times_of_raw(profile, [kinds[c] for c in codes[first]], raw[first])
    return times[inverse]


def predict_grid(builder: Any, alphas: Sequence[float], resolutions: Sequence[int],
                 profile: DeviceProfile) -> tuple[list[float], str]:
    """Predicted end-to-end ms of every (alpha, resolution), alpha-major, and a note
    ("" or why the grid was predicted point by point). ``builder(alpha, res)``
    builds the graph."""
    import numpy as np

    res = list(resolutions)
    first = builder(alphas[0], res[0])
    ends = [builder(alphas[0], r) for r in (min(res), max(res))]
    if not all(_same_structure(first, g) for g in ends):
        return [_point(profile, builder(a, r)) for a in alphas for r in res], \
            "the spec's layers change with the resolution: predicted point by point"
    sp = _Spatial(res)
    names: dict[str, int] = {}
    codes, raws, plan, slow = [], [], [], {}
    for ai, a in enumerate(alphas):
        graph = first if ai == 0 else builder(a, res[0])
        kernels = kernels_of(graph, profile.layout)
        shapes = {INPUT: graph.input_shape, **{n.name: n.output_shape for n in graph.nodes}}
        rows = _kernel_rows(kernels, shapes, sp.layers(graph), sp)
        if rows is None:
            slow[ai] = [_point(profile, builder(a, r)) for r in res]
            continue
        ids = [names.setdefault(k.kind, len(names)) for k in kernels]
        codes.append(np.tile(np.asarray(ids, dtype=np.int64), len(res)))
        raws.append(rows.reshape(-1, rows.shape[-1]))
        plan.append((ai, len(kernels)))
    times = _dedup_predict(profile, list(names), np.concatenate(codes),
                           np.concatenate(raws)) if raws else np.zeros(0)
    out = np.zeros((len(alphas), len(res)))
    pos = 0
    for ai, n in plan:
        sums = times[pos:pos + n * len(res)].reshape(len(res), n).sum(axis=1)
        out[ai] = end_to_end_ms(profile, sums, n)
        pos += n * len(res)
    for ai, values in slow.items():
        out[ai] = values
    note = f"{len(slow)} widths predicted point by point" if slow else ""
    return out.ravel().tolist(), note
