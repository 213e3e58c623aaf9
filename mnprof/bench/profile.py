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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REORDER_OPS = frozenset({"ReorderInput", "ReorderOutput"})
ACTIVATION_OPS = frozenset({"Relu", "Clip", "HardSigmoid", "HardSwish", "LeakyRelu",
                            "Sigmoid", "Tanh"})
CONV_OPS = frozenset({"Conv", "FusedConv", "NchwcConv"})
GEMM_OPS = frozenset({"Gemm", "MatMul", "FusedGemm", "FusedMatMul"})
KERNEL_SUFFIX = "_kernel_time"
NCHWC_SUFFIX = "_nchwc"


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
# Original nodes -> spec layers


def layer_of(name: str, layers_longest_first: Sequence[str], seps: str = ".") -> str | None:
    """The spec layer a node name belongs to: equal to it, or prefixed by it + a separator."""
    for layer in layers_longest_first:
        if name == layer or (name.startswith(layer) and name[len(layer)] in seps):
            return layer
    return None


def by_length(layer_names: Iterable[str]) -> list[str]:
    return sorted(layer_names, key=len, reverse=True)


# ---------------------------------------------------------------------------
# Optimised nodes -> original nodes -> layers


def map_nodes(original: GraphView, optimized: GraphView, layer_names: Sequence[str]
              ) -> list[tuple[str, ...]]:
    """For each node of ``optimized``, the spec layers it covers (in graph order)."""
    longest = by_length(layer_names)
    order = {name: i for i, name in enumerate(layer_names)}
    o_nodes = original.nodes
    o_inits = set(original.initializers)
    producer: dict[str, int] = {}
    consumers: dict[str, list[int]] = {}
    for i, n in enumerate(o_nodes):
        for t in n.outputs:
            producer[t] = i
        for t in n.inputs:
            consumers.setdefault(t, []).append(i)
    o_tensors = set(producer) | set(original.inputs)
    o_by_name = {n.name: i for i, n in enumerate(o_nodes) if n.name}
    node_layer = [layer_of(n.name, longest) for n in o_nodes]

    def data(inputs: Iterable[str], inits: set[str] | Mapping[str, Any]) -> list[str]:
        return [t for t in inputs if t and t not in inits]

    corr: dict[str, str] = {t: t for t in original.inputs}
    covered: set[int] = set()
    cones: list[set[int] | None] = []
    for n in optimized.nodes:
        ins_raw = data(n.inputs, optimized.initializers)
        ins = {corr.get(t, t if t in o_tensors else "") for t in ins_raw} - {""}
        if n.op_type in REORDER_OPS:
            src = corr.get(ins_raw[0], "") if ins_raw else ""
            for t in n.outputs:
                corr[t] = t if t in o_tensors else src
            cones.append(set())
            continue
        anchors = [t for t in n.outputs if t in o_tensors]
        if not anchors:
            base = n.name[: -len(NCHWC_SUFFIX)] if n.name.endswith(NCHWC_SUFFIX) else n.name
            if base in o_tensors:
                anchors = [base]
            elif base in o_by_name:
                anchors = list(o_nodes[o_by_name[base]].outputs[:1])
        if not anchors:
            cones.append(None)                       # resolved from its consumers below
            continue
        cone = _backward(anchors, ins, producer, o_nodes, covered, o_inits)
        unused = ins - {t for i in cone for t in o_nodes[i].inputs}
        while unused and len(anchors) == 1:          # e.g. conv + residual Add (NCHWc Sum)
            made = ins | {t for i in cone for t in o_nodes[i].outputs}
            nxt = [c for c in consumers.get(anchors[0], [])
                   if c not in covered and c not in cone
                   and set(data(o_nodes[c].inputs, o_inits)) <= made
                   and unused & set(o_nodes[c].inputs)]
            if len(nxt) != 1:
                break
            cone.add(nxt[0])
            anchors = list(o_nodes[nxt[0]].outputs[:1])
            unused -= set(o_nodes[nxt[0]].inputs)
        if n.activation and len(anchors) == 1 and \
                not any(o_nodes[i].op_type in ACTIVATION_OPS for i in cone):
            # named before its activation was fused in: the activation follows the anchor
            act = _activation_after(anchors[0], consumers, o_nodes, covered)
            if act:
                cone |= set(act)
                anchors = list(o_nodes[act[-1]].outputs[:1])
        covered |= cone
        for k, t in enumerate(n.outputs):
            corr[t] = t if t in o_tensors else anchors[min(k, len(anchors) - 1)]
        cones.append(cone)

    result: list[tuple[str, ...] | None] = []
    for cone in cones:
        if cone is None:
            result.append(None)
            continue
        found = {node_layer[i] for i in cone} - {None}
        result.append(tuple(sorted(found, key=order.__getitem__)))     # type: ignore[arg-type]
    _resolve_untraced(optimized, result, longest)
    return [r or () for r in result]


def _activation_after(tensor: str, consumers: Mapping[str, list[int]],
                      nodes: Sequence[OnnxNode], covered: set[int]) -> list[int]:
    """The activation reading ``tensor``: one activation node, or x * HardSigmoid(x)
    (HardSwish written out, as opset 13 exports do); [] if neither."""
    nxt = [c for c in consumers.get(tensor, []) if c not in covered]
    if len(nxt) == 1 and nodes[nxt[0]].op_type in ACTIVATION_OPS:
        return nxt
    if len(nxt) == 2:
        gate, mul = sorted(nxt, key=lambda c: nodes[c].op_type != "HardSigmoid")
        if nodes[gate].op_type == "HardSigmoid" and nodes[mul].op_type == "Mul" and \
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
