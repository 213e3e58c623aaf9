"""Predicted latency over a grid of widths and resolutions, fast (``sweep --predict``).

Building a graph costs milliseconds; a 10,000-point grid cannot build 10,000 of
them. What onnxruntime runs depends on the layers and their channels, which do not
change with the resolution unless the spec reads it (``mnprof.analysis.grid`` says
when and why): each width is built once, at the grid's first resolution, and its
kernels are emulated once. Every layer's exact shape at every resolution comes from
``analysis.grid.Spatial`` (the one the exact cost rows use), and each kernel's shapes
at a resolution from the layers it reads and writes. The kernel rows of the whole
grid are then deduplicated and predicted in one vectorised pass per kernel type.

A width the shortcut does not fit (a spec that reads the resolution, a kernel whose
shapes cannot be traced to its layers) is predicted point by point instead: the same
numbers, slower.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..analysis.grid import GridMismatch, Spatial, shape_key
from ..model.graph import Graph, Shape
from .device import DeviceProfile
from .estimate import end_to_end_ms, times_of_raw
from .features import COL, raw_row
from .kernels import Kernel, kernels_of


def _columns(shape: Shape, flat: bool, n: int) -> tuple[Any, Any, Any]:
    """(channels or length, H, W) per resolution of a layer's output (``grid_shapes``)
    as a kernel sees it (``flat``: flattened), as float arrays."""
    import numpy as np

    cols = [np.full(n, float(d)) if isinstance(d, int) else d.astype(np.float64)
            for d in shape]
    ones = np.ones(n)
    if len(cols) == 1:
        return cols[0], ones, ones
    if flat:
        return cols[0] * cols[1] * cols[2], ones, ones
    return cols[0], cols[1], cols[2]


def _signature(k: Kernel, shapes: dict[str, Shape]) -> Any:
    """What a kernel's rows over the grid follow from: its type, its own row at the
    first resolution and the grid shapes of the layers it reads and writes (two
    kernels, of any widths, with one signature have the same row at every resolution).
    GridMismatch if its shapes cannot be traced to its layers."""
    refs = []
    for ref in (k.in_ref, k.out_ref):
        if ref is None:
            raise GridMismatch(f"kernel {k.kind} of {k.layer}: shapes not traced")
        refs.append((ref[1], shape_key(shapes[ref[0]])))
    return k.kind, tuple(raw_row(k)), *refs


def _kernel_rows(k: Kernel, shapes: dict[str, Shape], n: int,
                 seen: dict[Any, tuple[Any, Any, Any]]) -> Any:
    """Raw rows (resolutions, RAW columns) of one kernel (GridMismatch if its shapes
    do not follow from its layers'). ``seen`` keeps the columns of the layers of one
    width."""
    import numpy as np

    base = np.asarray(raw_row(k), dtype=np.float64)
    rows = np.repeat(base[None, :], n, axis=0)
    for side, ref in (("in", k.in_ref), ("out", k.out_ref)):
        assert ref is not None                      # _signature checked
        layer, flat = ref
        if ref not in seen:
            seen[ref] = _columns(shapes[layer], flat, n)
        c, h, w = seen[ref]
        rows[:, COL[f"h{side}"]] = h
        rows[:, COL[f"w{side}"]] = w
        if flat or len(shapes[layer]) == 1:
            rows[:, COL[f"c{side}_logical"]] = c
            # a vector's length is its channels (a Gemm's input features too)
            if (k.cin if side == "in" else k.cout) == 0 or (side == "in" and
                                                            k.kind == "gemm"):
                rows[:, COL[f"c{side}"]] = c
    if not np.array_equal(rows[0], base):
        raise GridMismatch(f"kernel {k.kind} of {k.layer}: its shapes differ from its "
                           "layers' at the first resolution")
    return rows


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


def predict_grid(builder: Callable[[float, int], Graph], widths: Sequence[Graph],
                 spatial: Spatial, profile: DeviceProfile) -> tuple[list[float], str]:
    """Predicted end-to-end ms of every (width, resolution of ``spatial``), width-major,
    and a note ("" or which widths were predicted point by point). ``widths`` are the
    graphs built at the first resolution; ``builder(alpha, res)`` builds any point.

    Kernels of one signature (``_signature``) share their rows, whatever the width:
    only the distinct ones are laid out over the resolutions and predicted."""
    import numpy as np

    n = len(spatial.res)
    index: dict[Any, int] = {}
    kinds: list[str] = []
    rows: list[Any] = []
    plan: list[tuple[int, list[int]]] = []
    slow: dict[int, list[float]] = {}
    for ai, graph in enumerate(widths):
        kernels = kernels_of(graph, profile.layout)
        try:
            shapes = spatial.shapes(graph)
            seen: dict[Any, tuple[Any, Any, Any]] = {}
            ids = []
            for k in kernels:
                sig = _signature(k, shapes)
                if sig not in index:
                    rows.append(_kernel_rows(k, shapes, n, seen))
                    kinds.append(k.kind)
                    index[sig] = len(index)
                ids.append(index[sig])
        except GridMismatch:
            slow[ai] = [_point(profile, graph if r == graph.resolution
                               else builder(graph.alpha, r)) for r in spatial.res]
            continue
        plan.append((ai, ids))
    out = np.zeros((len(widths), n))
    if rows:
        names = list(dict.fromkeys(kinds))
        codes = np.repeat(np.asarray([names.index(k) for k in kinds], dtype=np.int64), n)
        times = _dedup_predict(profile, names, codes, np.concatenate(rows)).reshape(-1, n)
        for ai, ids in plan:
            # (resolutions, kernels), summed along each row as one point's kernels are
            sums = np.ascontiguousarray(times[ids].T).sum(axis=1)
            out[ai] = end_to_end_ms(profile, sums, len(ids))
    for ai, values in slow.items():
        out[ai] = values
    note = (f"{len(slow)} of {len(widths)} widths predicted point by point (the spec reads "
            "the resolution, or a kernel's shapes do not follow from its layers')"
            if slow else "")
    return out.ravel().tolist(), note
