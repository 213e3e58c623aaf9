"""Exact totals over a grid of widths and resolutions, without building every point.

Building a graph costs milliseconds, so a 10,000-point sweep cannot build 10,000 of
them. When a spec's layers cannot change with the resolution, it need not:

1. Each width is built once, at the grid's first resolution. If no expression of the
   spec read the resolution (``Graph.reads_resolution``: ``resolution``, ``hin``, a
   vector's length as ``cin``), the builder evaluates the same expressions on the
   same values at any resolution, so the layers, their attributes and their channel
   counts are the same at every point of that width.
2. Every kind's shape rule gives an output spatial size that follows from the
   non-channel attributes and the inputs' spatial sizes, never from channel counts,
   and a channel count that never follows from spatial sizes (a rule of every kind,
   tested kind by kind). So each map's (H, W) at every resolution is computed once,
   by the kind's own rule at each resolution, and shared by all widths (``Spatial``);
   a vector's length (a flattened map's) by the rule on the arrays below.
3. Each layer's counts come from its kind's own rules (``layer_cost``), called once
   per width with H and W as numpy arrays of Python integers, one element per
   resolution. Python integer arithmetic is exact and numpy applies it element by
   element; what is not elementwise (a truth test, ``int()``, hashing) raises on an
   array of two or more elements.

Whatever does not fit (a spec that reads the resolution, a shape rule that fails or
collapses at some resolution, a rule that raises on an array) is computed point by
point instead: the same numbers, slower, and the builder's own error where one is due.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..core.values import check_resolution
from ..model.graph import INPUT, Graph, Node, Shape
from ..model.kinds import ShapeError, kind_of
from .cost import BYTES_PER_ELEMENT, Totals, analyze, layer_cost, live_bytes
from .report import SweepRow, sweep_row

CHANNEL_ATTRS = frozenset({"out", "multiplier", "groups", "scale", "rounding"})
_TOTALS = tuple(f.name for f in dataclasses.fields(Totals))


class GridMismatch(Exception):
    """The shortcut does not apply to this width: compute its points one by one."""


def frozen(value: Any) -> Any:
    """``value`` (attributes: lists, mappings) as something hashable."""
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        items = tuple(sorted(value.items()))
        try:
            hash(items)
            return items
        except TypeError:
            return tuple((k, frozen(v)) for k, v in items)
    if isinstance(value, (list, tuple)):
        return tuple(frozen(v) for v in value)
    return value


def _spatial_key(node: Node, inputs: tuple[int, ...]) -> Any:
    """What a map's spatial size follows from: the layer, its non-channel attributes
    and its inputs' entries."""
    attrs = {k: v for k, v in node.attrs.items() if k not in CHANNEL_ATTRS}
    return node.name, node.kind, frozen(attrs), inputs, len(node.output_shape)


class Spatial:
    """Each map's (H, W) at every resolution of the grid, shared across widths.

    ``layers(graph)`` gives each layer (and INPUT) an entry; ``sizes[entry]`` is its
    (H per resolution, W per resolution), or None for a vector.
    """

    def __init__(self, resolutions: Sequence[int]) -> None:
        self.res = tuple(check_resolution(r) for r in resolutions)
        self.keys: dict[Any, int] = {}
        self.sizes: list[tuple[tuple[int, ...], tuple[int, ...]] | None] = []
        self.memo: dict[Any, Shape] = {}
        self._arrays: dict[int, tuple[Any, Any]] = {}
        self._shapes: dict[int, tuple[Graph, dict[str, Shape] | GridMismatch]] = {}

    def shapes(self, graph: Graph) -> dict[str, Shape]:
        """``grid_shapes(graph, self)``, computed once per graph (GridMismatch if the
        shortcut does not fit it, a spec that reads the resolution included)."""
        if id(graph) not in self._shapes:
            try:
                if graph.reads_resolution or len(self.res) < 2:
                    raise GridMismatch("the spec reads the resolution")
                got: dict[str, Shape] | GridMismatch = grid_shapes(graph, self)
            except GridMismatch as exc:
                got = exc
            self._shapes[id(graph)] = (graph, got)
        got = self._shapes[id(graph)][1]
        if isinstance(got, GridMismatch):
            raise got
        return got

    def layers(self, graph: Graph) -> dict[str, int]:
        """Each layer's entry, computing the entries not seen yet (GridMismatch if a
        shape rule fails, collapses or changes a channel count at some resolution)."""
        ids = {INPUT: self._entry(("input",), None, ())}
        for node in graph.nodes:
            inputs = tuple(ids[i] for i in node.inputs)
            ids[node.name] = self._entry(_spatial_key(node, inputs), node, inputs)
        return ids

    def _entry(self, key: Any, node: Node | None, inputs: tuple[int, ...]) -> int:
        if key not in self.keys:
            if node is None:
                self.sizes.append((self.res, self.res))
            else:
                self.sizes.append(self._compute(node, inputs) if len(node.output_shape) == 3
                                  else None)
            self.keys[key] = len(self.sizes) - 1
        return self.keys[key]

    def _compute(self, node: Node, inputs: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
        hs, ws = [], []
        attrs = frozen(node.attrs)
        for r in range(len(self.res)):
            ins = []
            for shape, entry in zip(node.input_shapes, inputs, strict=True):
                size = self.sizes[entry]
                if size is None or len(shape) != 3:
                    raise GridMismatch(f"{node.name}: a map made from a vector")
                ins.append((shape[0], size[0][r], size[1][r]))
            key = (node.kind, attrs, tuple(ins))
            if key not in self.memo:
                try:
                    self.memo[key] = kind_of(node).output_shape(node.attrs, tuple(ins))
                except ShapeError as exc:
                    raise GridMismatch(f"{node.name}: {exc}") from None
            out = self.memo[key]
            if len(out) != 3 or out[0] != node.output_shape[0] or min(out) < 1:
                raise GridMismatch(f"{node.name}: {out} at resolution {self.res[r]}")
            hs.append(out[1])
            ws.append(out[2])
        return tuple(hs), tuple(ws)

    def arrays(self, entry: int) -> tuple[Any, Any]:
        """A map entry's (H, W) as numpy arrays of Python integers."""
        import numpy as np
        if entry not in self._arrays:
            h, w = self.sizes[entry]  # type: ignore[misc]
            self._arrays[entry] = (np.array(h, dtype=object), np.array(w, dtype=object))
        return self._arrays[entry]


def grid_shapes(graph: Graph, spatial: Spatial) -> dict[str, Shape]:
    """Every layer's output shape (and INPUT's) with H and W (a vector's length where
    it follows from them) as arrays over the grid's resolutions."""
    ids = spatial.layers(graph)
    shapes: dict[str, Any] = {INPUT: (graph.input_shape[0], *spatial.arrays(ids[INPUT]))}
    for node in graph.nodes:
        if spatial.sizes[ids[node.name]] is not None:
            shapes[node.name] = (node.output_shape[0], *spatial.arrays(ids[node.name]))
            continue
        ins = tuple(shapes[i] for i in node.inputs)
        try:
            out = kind_of(node).output_shape(node.attrs, ins)
        except Exception as exc:        # noqa: BLE001 -- the point-by-point way decides
            raise GridMismatch(f"{node.name}: {exc}") from None
        n = len(spatial.res)
        if len(out) != len(node.output_shape) or any(
                not isinstance(d, int) and getattr(d, "shape", None) != (n,)
                or _first(d) != d0 for d, d0 in zip(out, node.output_shape, strict=True)):
            raise GridMismatch(f"{node.name}: {out} differs from the built {node.output_shape}")
        shapes[node.name] = out
    return shapes


def _first(value: Any) -> Any:
    """A grid dimension at the first resolution (an int, or an array's first element)."""
    return value[0] if getattr(value, "ndim", 0) == 1 else value


def shape_key(shape: Shape) -> Any:
    """A hashable stand-in for a grid shape: a map's H and W arrays are the ones
    ``Spatial`` keeps for its entry (one object per entry for the whole sweep), so
    their identity names them; a vector's length is spelled out."""
    if len(shape) == 3:
        return shape[0], id(shape[1]), id(shape[2])
    return tuple(d if isinstance(d, int) else tuple(d) for d in shape)


def _counts(node: Node, n: int, limit: int) -> Any:
    """The layer's counts (``Totals``' fields, one row each) over the resolutions: an
    int64 array if every count is at most ``limit`` (so that a sum of one per layer
    cannot overflow), exact Python integers otherwise."""
    import numpy as np

    t = Totals() + layer_cost(node)
    rows = np.empty((len(_TOTALS), n), dtype=object)
    for i, f in enumerate(_TOTALS):
        rows[i] = getattr(t, f)
    if rows.min() >= 0 and rows.max() <= limit:
        return rows.astype(np.int64)
    return rows


def width_totals(graph: Graph, shapes: Mapping[str, Shape],
                 memo: dict[Any, Any] | None = None) -> tuple[Totals, Any]:
    """Totals (each field an array over the resolutions) and the peak of live fp32
    activation bytes of one width, from ``grid_shapes``. ``memo`` shares the counts
    of identical layers (same kind, attributes and shapes) between widths."""
    import numpy as np

    memo = {} if memo is None else memo
    n = len(shapes[INPUT][1])
    limit = (1 << 62) // (len(graph.nodes) + 1)
    nodes = tuple(dataclasses.replace(n, input_shapes=tuple(shapes[i] for i in n.inputs),
                                      output_shape=shapes[n.name]) for n in graph.nodes)
    try:
        parts = []
        for node in nodes:
            # the limit too: an int64 entry of a width with fewer layers could
            # overflow in the sum of one with more
            key = (node.kind, frozen(node.attrs),
                   tuple(shape_key(x) for x in node.input_shapes),
                   shape_key(node.output_shape), limit)
            if key not in memo:
                memo[key] = _counts(node, n, limit)
            parts.append(memo[key])
        peak = _peak(graph, shapes, n)
    except Exception as exc:            # noqa: BLE001 -- a rule that does not take arrays:
        raise GridMismatch(str(exc)) from None  # the point-by-point way counts (or fails)
    sums = np.sum(np.stack(parts), axis=0) if parts else np.zeros((len(_TOTALS), n), int)
    return Totals(**dict(zip(_TOTALS, sums, strict=True))), peak


def _peak(graph: Graph, shapes: Mapping[str, Shape], n: int) -> Any:
    """The peak of live fp32 activation bytes at each resolution (``live_bytes`` on the
    tensors' element counts: int64 where no sum of them can overflow)."""
    import numpy as np

    areas: dict[int, Any] = {}          # a map entry's H x W (exact), by its H array
    numels: dict[str, Any] = {}
    for name, shape in shapes.items():
        if len(shape) == 3:
            if id(shape[1]) not in areas:
                areas[id(shape[1])] = shape[1] * shape[2]
            numels[name] = shape[0] * areas[id(shape[1])]
        else:
            numels[name] = np.asarray(math.prod(shape), dtype=object) * np.ones(n, int)
    biggest = max(int(v.max()) for v in numels.values())
    if biggest * BYTES_PER_ELEMENT * (len(graph.nodes) + 1) < 1 << 62:
        numels = {name: v.astype(np.int64) for name, v in numels.items()}
    live = live_bytes(graph, numels=numels)
    return np.max(np.vstack(live), axis=0) if live else np.zeros(n, dtype=np.int64)


def _at(value: Any, r: int) -> int:
    return int(value) if isinstance(value, int) else int(value[r])


def grid_rows(builder: Callable[[float, int], Graph], widths: Iterable[Graph],
              spatial: Spatial) -> tuple[list[SweepRow], int]:
    """The sweep rows of every (width, resolution of ``spatial``), width-major, and how
    many widths were computed point by point. ``widths`` are the graphs built at the
    first resolution (an iterator that builds each when asked keeps the builder's
    errors in the order of a point-by-point sweep); ``builder(alpha, res)`` builds any
    point (for the widths the shortcut does not fit)."""
    res = spatial.res
    rows: list[SweepRow] = []
    slow = 0
    memo: dict[Any, Any] = {}
    for graph in widths:
        assert graph.resolution == res[0]
        try:
            totals, peak = width_totals(graph, spatial.shapes(graph), memo)
        except GridMismatch:
            slow += 1
            for r in res:
                rows.append(sweep_row(analyze(graph if r == graph.resolution
                                              else builder(graph.alpha, r))))
            continue
        for i, r in enumerate(res):
            point = Totals(**{f: _at(getattr(totals, f), i) for f in _TOTALS})
            rows.append(SweepRow(graph.alpha, r, point, int(peak[i])))
    return rows, slow


# Below this many points a sweep builds every point: it is as fast, and needs no numpy.
GRID_MIN_POINTS = 64


def sweep_rows(builder: Callable[[float, int], Graph], alphas: Sequence[float],
               resolutions: Sequence[int]) -> list[SweepRow]:
    """The exact sweep rows of every (alpha, resolution), alpha-major."""
    res = list(resolutions)
    if len(alphas) * len(res) < GRID_MIN_POINTS or len(res) < 2:
        return [sweep_row(analyze(builder(a, r))) for a in alphas for r in res]
    return grid_rows(builder, (builder(a, res[0]) for a in alphas), Spatial(res))[0]


__all__ = ["GRID_MIN_POINTS", "GridMismatch", "Spatial", "frozen", "grid_rows", "grid_shapes",
           "shape_key", "sweep_rows", "width_totals"]
