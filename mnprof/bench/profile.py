"""onnxruntime's profile, read back onto the spec's layers.

onnxruntime rewrites the exported graph before running it: at level ``extended``
it fuses Conv + BatchNormalization + activation into one ``FusedConv`` (named
after the conv); at level ``all`` it also turns convs into channel-blocked NCHWc
kernels, naming each after its original *output tensor* plus ``_nchwc``, may fold
a residual Add into the conv that feeds it, and inserts ``ReorderInput`` /
``ReorderOutput`` nodes that change layout and belong to no layer. Nodes it makes
without a name are profiled as ``<OpType>_<index>``.

So a profiled node is matched to the original ONNX nodes it covers through the
data it reads and writes, not through its name alone:

1. every tensor of the optimised graph is traced to the original tensor it holds
   (same name; or, for a renamed output, the tensor its node is named after);
2. a node covers the original nodes between its inputs and its output (walking
   back from the output, stopping at its inputs and at nodes already covered);
   a node a fusion made is named ``<original node>/<Name>Fusion/`` (x * Sigmoid(x)
   fused into QuickGelu after the NCHWc transform) and holds that node's output;
   when one of its inputs is still unused, the consumer of its output that reads
   that input was fused in too (a residual Add folded into a conv); when it carries
   an ``activation`` but covers none, the activation after its output was fused in
   too (onnxruntime names an NCHWc conv before fusing its activation);
3. a node with no traceable output takes the layers of the nodes it feeds (the
   inside of an inlined function such as HardSwish); failing that, a layer whose
   name prefixes the node's; failing that, it is a row of its own (reorders).

Original ONNX nodes belong to the spec layer whose name they carry (``conv1``,
``conv1.bn``, ``conv1.relu``, ``fc.flatten``), the exporter's naming rule.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..model.activations import recognised_ops

REORDER_OPS = frozenset({"ReorderInput", "ReorderOutput"})
CONV_OPS = frozenset({"Conv", "FusedConv", "NchwcConv"})
GEMM_OPS = frozenset({"Gemm", "MatMul", "FusedGemm", "FusedMatMul"})
KERNEL_SUFFIX = "_kernel_time"
NCHWC_SUFFIX = "_nchwc"
# onnxruntime names a node a fusion makes after the original node it ends at
FUSION_NAME = re.compile(r"(.+)/[A-Za-z0-9]+Fusion/?")


@dataclass(frozen=True)
class OnnxNode:
    name: str
    op_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    activation: str = ""        # an activation onnxruntime fused in (FusedConv, NCHWc Conv)


@dataclass(frozen=True)
class GraphView:
    """The parts of an ONNX graph the mapping needs (built without importing onnx)."""

    nodes: tuple[OnnxNode, ...]
    inputs: tuple[str, ...]                         # graph inputs that are not initializers
    initializers: Mapping[str, tuple[int, ...]]     # name -> dims

    @classmethod
    def of(cls, model: Any) -> GraphView:
        g = model.graph
        inits = {t.name: tuple(t.dims) for t in g.initializer}
        nodes = tuple(OnnxNode(n.name, n.op_type, tuple(n.input), tuple(n.output),
                               _activation(n)) for n in g.node)
        return cls(nodes, tuple(i.name for i in g.input if i.name not in inits), inits)


def _activation(node: Any) -> str:
    for a in node.attribute:
        if a.name == "activation" and a.s:
            return a.s.decode("utf-8", "replace")
    return ""


# ---------------------------------------------------------------------------
# The profile file


@dataclass(frozen=True)
class NodeTiming:
    """One profiled node: its kernel time in each kept run (microseconds)."""

    name: str                          # as profiled, without ``_kernel_time``
    op_type: str
    times_us: tuple[float, ...]
    output_shape: tuple[int, ...] | None

    @property
    def median_us(self) -> float:
        return statistics.median(self.times_us) if self.times_us else 0.0


def parse_profile(events: Sequence[Mapping[str, Any]], skip_runs: int
                  ) -> tuple[list[NodeTiming], list[float]]:
    """Per-node kernel times of the runs after the first ``skip_runs``, in run order.

    Returns the nodes (in the order of the first kept run) and each kept run's
    ``model_run`` duration in milliseconds. A node's events are assigned to the
    run whose time span contains them.
    """
    runs = sorted((e for e in events if e.get("cat") == "Session"
                   and e.get("name") == "model_run"), key=lambda e: e["ts"])[skip_runs:]
    starts = [r["ts"] for r in runs]
    per_node: dict[str, list[float]] = {}
    ops: dict[str, str] = {}
    shapes: dict[str, tuple[int, ...] | None] = {}
    for e in sorted((e for e in events if e.get("cat") == "Node"
                     and str(e.get("name", "")).endswith(KERNEL_SUFFIX)),
                    key=lambda e: e["ts"]):
        i = bisect.bisect_right(starts, e["ts"]) - 1
        if i < 0 or e["ts"] > runs[i]["ts"] + runs[i]["dur"]:
            continue                                 # a warm-up run's node
        name = e["name"][: -len(KERNEL_SUFFIX)]
        times = per_node.setdefault(name, [0.0] * len(runs))
        times[i] += float(e["dur"])
        args = e.get("args") or {}
        ops.setdefault(name, str(args.get("op_name", "")))
        shapes.setdefault(name, _first_shape(args.get("output_type_shape")))
    nodes = [NodeTiming(n, ops[n], tuple(t), shapes[n]) for n, t in per_node.items()]
    return nodes, [r["dur"] / 1000.0 for r in runs]


def _first_shape(value: Any) -> tuple[int, ...] | None:
    try:
        (dims,) = value[0].values()
        return tuple(int(d) for d in dims)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        return None


# ---------------------------------------------------------------------------
# Original nodes -> graph layers


def layer_of(name: str, layers_longest_first: Sequence[str], seps: str = ".") -> str | None:
    """The spec layer a node name belongs to: equal to it, or prefixed by it + a separator."""
    for layer in layers_longest_first:
        if name == layer or (name.startswith(layer) and name[len(layer)] in seps):
            return layer
    return None


def by_length(layer_names: Iterable[str]) -> list[str]:
    return sorted(layer_names, key=len, reverse=True)


def layers_by_name(graph: Any) -> Callable[[str], str | None]:
    """The layer an exported node belongs to, by the exporter's naming rule (a layer's
    nodes are named after it: ``conv1``, ``conv1.bn``, ``conv1.relu``)."""
    longest = by_length(n.name for n in graph.nodes)
    return lambda name: layer_of(name, longest)


# ---------------------------------------------------------------------------
# Optimised nodes -> original nodes -> layers


def map_nodes(original: GraphView, optimized: GraphView, layer_names: Sequence[str],
              node_layers: Sequence[str | None] | None = None) -> list[tuple[str, ...]]:
    """For each node of ``optimized``, the layers it covers (in graph order).

    ``node_layers[i]`` is the layer the i-th node of ``original`` belongs to (None: no
    layer); by default, the exporter's naming rule. See the module docstring.
    """
    if node_layers is None:
        longest = by_length(layer_names)
        node_layers = [layer_of(n.name, longest) for n in original.nodes]
    return _Mapper(original, optimized, layer_names, node_layers).run()


class _Mapper:
    def __init__(self, original: GraphView, optimized: GraphView, layer_names: Sequence[str],
                 node_layers: Sequence[str | None]) -> None:
        self.original, self.optimized = original, optimized
        self.order = {name: i for i, name in enumerate(layer_names)}
        self.longest = by_length(layer_names)
        self.nodes = original.nodes
        self.node_layers = node_layers
        self.inits = set(original.initializers)
        self.producer: dict[str, int] = {}
        self.consumers: dict[str, list[int]] = {}
        for i, n in enumerate(self.nodes):
            for t in n.outputs:
                self.producer[t] = i
            for t in n.inputs:
                self.consumers.setdefault(t, []).append(i)
        self.tensors = set(self.producer) | set(original.inputs)
        self.by_name = {n.name: i for i, n in enumerate(self.nodes) if n.name}
        self.corr: dict[str, str] = {t: t for t in original.inputs}
        self.covered: set[int] = set()

    def data(self, inputs: Iterable[str], inits: Collection[str]) -> list[str]:
        return [t for t in inputs if t and t not in inits]

    def run(self) -> list[tuple[str, ...]]:
        cones = [self.cone_of(n) for n in self.optimized.nodes]
        result: list[tuple[str, ...] | None] = []
        for cone in cones:
            if cone is None:
                result.append(None)
                continue
            found = {self.node_layers[i] for i in cone} - {None}
            result.append(tuple(sorted(found, key=self.order.__getitem__))  # type: ignore
                          if found else None)     # shape-only nodes: resolved like reorders
        _resolve_untraced(self.optimized, result, self.longest)
        done = [r or () for r in result]
        _charge_helpers(self.optimized, done)
        return done

    def anchors_of(self, n: OnnxNode) -> list[str]:
        """Original tensors the optimised node's outputs hold."""
        anchors = [t for t in n.outputs if t in self.tensors]
        if not anchors:
            base = n.name[: -len(NCHWC_SUFFIX)] if n.name.endswith(NCHWC_SUFFIX) else n.name
            fused = FUSION_NAME.fullmatch(base)
            if fused and fused.group(1) in self.by_name:
                base = fused.group(1)       # "<node>/QuickGeluFusion/": the node it ends at
            if base in self.tensors:
                anchors = [base]
            elif base in self.by_name:
                anchors = list(self.nodes[self.by_name[base]].outputs[:1])
        return anchors

    def cone_of(self, n: OnnxNode) -> set[int] | None:
        """The original nodes ``n`` covers (None: no traceable output; resolved later)."""
        ins_raw = self.data(n.inputs, self.optimized.initializers)
        ins = {self.corr.get(t, t if t in self.tensors else "") for t in ins_raw} - {""}
        if n.op_type in REORDER_OPS:
            src = self.corr.get(ins_raw[0], "") if ins_raw else ""
            for t in n.outputs:
                self.corr[t] = t if t in self.tensors else src
            return None                 # a layout change: charged to the layer it serves
        anchors = self.anchors_of(n)
        if not anchors:
            return None
        cone = _backward(anchors, ins, self.producer, self.nodes, self.covered, self.inits)
        anchors = self.absorb_inputs(cone, anchors, ins)
        if n.activation and len(anchors) == 1 and \
                not any(self.nodes[i].op_type in recognised_ops() for i in cone):
            # named before its activation was fused in: the activation follows the anchor
            act = _activation_after(anchors[0], self.consumers, self.nodes, self.covered)
            if act:
                cone |= set(act)
                anchors = list(self.nodes[act[-1]].outputs[:1])
        self.covered |= cone
        for k, t in enumerate(n.outputs):
            self.corr[t] = t if t in self.tensors else anchors[min(k, len(anchors) - 1)]
        return cone

    def absorb_inputs(self, cone: set[int], anchors: list[str], ins: set[str]) -> list[str]:
        """Follow the anchor's consumers while an input is still unused (conv + residual
        Add folded into an NCHWc Sum); grows ``cone``, returns the new anchors."""
        unused = ins - {t for i in cone for t in self.nodes[i].inputs}
        while unused and len(anchors) == 1:
            made = ins | {t for i in cone for t in self.nodes[i].outputs}
            nxt = [c for c in self.consumers.get(anchors[0], [])
                   if c not in self.covered and c not in cone
                   and set(self.data(self.nodes[c].inputs, self.inits)) <= made
                   and unused & set(self.nodes[c].inputs)]
            if len(nxt) != 1:
                break
            cone.add(nxt[0])
            anchors = list(self.nodes[nxt[0]].outputs[:1])
            unused -= set(self.nodes[nxt[0]].inputs)
        return anchors


def _activation_after(tensor: str, consumers: Mapping[str, list[int]],
                      nodes: Sequence[OnnxNode], covered: set[int]) -> list[int]:
    """The activation reading ``tensor``: one activation node, or a gated form
    x * gate(x) (hard-swish written out at opset 13, x * Sigmoid(x) for silu);
    [] if neither."""
    nxt = [c for c in consumers.get(tensor, []) if c not in covered]
    acts = recognised_ops()
    if len(nxt) == 1 and nodes[nxt[0]].op_type in acts:
        return nxt
    if len(nxt) == 2:
        gate, mul = sorted(nxt, key=lambda c: nodes[c].op_type not in acts)
        if nodes[gate].op_type in acts and nodes[mul].op_type == "Mul" and \
                set(nodes[mul].inputs) == {tensor, *nodes[gate].outputs[:1]}:
            return [gate, mul]
    return []


def _backward(anchors: Sequence[str], stop: set[str], producer: Mapping[str, int],
              nodes: Sequence[OnnxNode], covered: set[int], inits: set[str]) -> set[int]:
    cone: set[int] = set()
    stack = [producer[a] for a in anchors if a in producer]
    while stack:
        i = stack.pop()
        if i in cone or i in covered:
            continue
        cone.add(i)
        for t in nodes[i].inputs:
            if t and t not in stop and t not in inits and t in producer:
                stack.append(producer[t])
    return cone


def _resolve_untraced(optimized: GraphView, result: list[tuple[str, ...] | None],
                      longest: Sequence[str]) -> None:
    """Nodes without a traceable output: their consumers' layers, else a name prefix."""
    users: dict[str, list[int]] = {}
    for i, n in enumerate(optimized.nodes):
        for t in n.inputs:
            users.setdefault(t, []).append(i)
    for i in reversed(range(len(result))):           # consumers come later: resolve them first
        if result[i] is not None:
            continue
        n = optimized.nodes[i]
        fed = [result[u] for t in n.outputs for u in users.get(t, [])]
        if fed and all(f for f in fed) and len(set(fed)) == 1:
            result[i] = fed[0]
            continue
        layer = layer_of(n.name, longest, seps=".:_") if n.name else None
        result[i] = (layer,) if layer else ()


def _charge_helpers(optimized: GraphView, result: list[tuple[str, ...]]) -> None:
    """Nodes that belong to no layer but serve one (a layout reorder, the shape arithmetic
    a Reshape needs when the batch is symbolic) are charged to the layer that reads their
    output, else to the one that made their input: their time is that layer's cost of
    running the way onnxruntime runs it. Nodes that serve none stay rows of their own."""
    users: dict[str, list[int]] = {}
    makers: dict[str, int] = {}
    for i, n in enumerate(optimized.nodes):
        for t in n.inputs:
            users.setdefault(t, []).append(i)
        for t in n.outputs:
            makers[t] = i
    for _ in range(3):                  # chains of helpers: a few passes settle them
        for i, n in enumerate(optimized.nodes):
            if result[i]:
                continue
            near = [result[u] for t in n.outputs for u in users.get(t, []) if result[u]]
            near = near or [result[makers[t]] for t in n.inputs
                            if t in makers and result[makers[t]]]
            if near:
                result[i] = near[0]


# ---------------------------------------------------------------------------
# Profiled names -> optimised nodes; executed MACs


def match_timings(timings: Sequence[NodeTiming], optimized: GraphView) -> list[int | None]:
    """The index in ``optimized`` of each profiled node (None: not found)."""
    named = {n.name: i for i, n in enumerate(optimized.nodes) if n.name}
    unnamed: dict[str, list[int]] = {}
    for i, n in enumerate(optimized.nodes):
        if not n.name:
            unnamed.setdefault(n.op_type, []).append(i)
    out: list[int | None] = []
    for t in timings:
        if t.name in named:
            out.append(named[t.name])
        elif unnamed.get(t.op_type) and re.fullmatch(rf"{re.escape(t.op_type)}_\d+", t.name):
            out.append(unnamed[t.op_type].pop(0))    # same topological order as executed
        else:
            out.append(None)
    return out


def executed_macs(node: OnnxNode, initializers: Mapping[str, tuple[int, ...]],
                  output_shape: tuple[int, ...] | None) -> int | None:
    """MACs a conv or GEMM node is given, from its (possibly padded) weight shape.

    For the whole batch; ``None`` for other ops or when the shapes are unknown.
    """
    if len(node.inputs) < 2 or node.inputs[1] not in initializers or not output_shape:
        return None
    weight = math.prod(initializers[node.inputs[1]])
    if node.op_type in CONV_OPS and len(output_shape) >= 3:
        return weight * output_shape[0] * math.prod(output_shape[2:])
    if node.op_type in GEMM_OPS:
        return weight * math.prod(output_shape[:-1])
    return None
