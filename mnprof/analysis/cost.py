"""The analytic cost engine: pure functions from a built graph to exact counts.

Every figure is an integer computed from the architecture (see
``mnprof.model.kinds.base`` for the counting convention); percentages and units
appear only when rendering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..core.errors import MnprofError
from ..model.graph import INPUT, Graph, Node, Shape, numel
from ..model.kinds import Role, kind_of

BYTES_PER_ELEMENT = 4      # fp32


@dataclass(frozen=True)
class Precision:
    """How many bytes each kind of element takes in a deployment of one precision."""

    name: str
    activation: int         # per element of a layer's inputs and output
    weight: int             # per conv / fc weight
    bias: int               # per bias element (batch-norm folded into a bias as deployed)
    per_channel: int        # per output channel of a layer with weights: its quantization
                            # parameters (an fp32 scale and an int8 zero point; 0 at fp32)


FP32 = Precision("fp32", activation=4, weight=4, bias=4, per_channel=0)
# int8 as onnxruntime's static quantization deploys it: int8 weights and activations,
# int32 biases, one fp32 scale and one int8 zero point per output channel of each
# conv and fc (per-channel weights); the per-tensor scales of activations are a few
# bytes per layer and are not counted.
INT8 = Precision("int8", activation=1, weight=1, bias=4, per_channel=4 + 1)
PRECISIONS = {p.name: p for p in (FP32, INT8)}


def precision_of(name: str | Precision) -> Precision:
    if isinstance(name, Precision):
        return name
    try:
        return PRECISIONS[name]
    except KeyError:
        raise MnprofError(f"precision must be one of {', '.join(PRECISIONS)}, "
                          f"got {name!r:.40}") from None

CONVENTION = (
    "MACs: multiply-accumulates of conv and fully-connected layers (1 MAC = 2 FLOPs); "
    "params: conv and fc weights (the papers' count); params_framework adds biases and "
    "batch-norm scale and shift; elementwise_ops (activations, adds, multiplies, "
    "pooling, softmax) are counted apart and never added to MACs; bytes: fp32 input + "
    "weights (batch-norm folded into a bias) + output."
)


class _Derived:
    """What follows from the counts, for a layer and for a sum of layers alike."""

    params: int
    bias_params: int
    bn_params: int
    macs: int
    bytes: int

    @property
    def params_framework(self) -> int:
        return self.params + self.bias_params + self.bn_params

    @property
    def intensity(self) -> float:
        """Arithmetic intensity: MACs per byte moved."""
        return self.macs / self.bytes if self.bytes else 0.0


@dataclass(frozen=True)
class LayerCost(_Derived):
    name: str
    kind: str
    type_key: str
    inputs: tuple[str, ...]
    input_shape: Shape                  # the first input's
    output_shape: Shape
    macs: int
    params: int                         # weights (paper convention)
    bias_params: int
    bn_params: int                      # batch-norm scale + shift
    activations: int                    # output elements
    bytes: int                          # inputs + weight_bytes + output
    weight_bytes: int                   # weights + the per-channel bias BN folds into
    elementwise_ops: int
    block: str = ""                     # the top-level block instance ("": none)


@dataclass(frozen=True)
class Totals(_Derived):
    macs: int = 0
    params: int = 0
    bias_params: int = 0
    bn_params: int = 0
    activations: int = 0
    bytes: int = 0
    elementwise_ops: int = 0
    layers: int = 0

    def __add__(self, c: LayerCost | Totals) -> Totals:
        return Totals(self.macs + c.macs, self.params + c.params,
                      self.bias_params + c.bias_params, self.bn_params + c.bn_params,
                      self.activations + c.activations, self.bytes + c.bytes,
                      self.elementwise_ops + c.elementwise_ops,
                      self.layers + (c.layers if isinstance(c, Totals) else 1))


@dataclass(frozen=True)
class CostReport:
    model: str
    alpha: float
    resolution: int
    input_shape: Shape
    layers: tuple[LayerCost, ...]
    totals: Totals
    by_type: Mapping[str, Totals]       # in order of first appearance
    peak_activation_bytes: int          # largest set of live fp32 tensors at any step
    spec: str = ""                      # the file the graph was built from, as shown
    by_block: Mapping[str, Totals] = field(default_factory=dict)  # block instance (or layer)
    depth: float = 1.0
    source: str = "spec"                # "spec" | "onnx"
    notes: tuple[str, ...] = ()         # what the reader must know (e.g. ops not modelled)
    batch: int = 1                      # images per run the source fixes; counts per image
    metadata: tuple[tuple[str, str], ...] = ()   # what an imported file says of itself
    # fp32 bytes of the tensors alive while each layer runs (its peak is the one above)
    live_bytes: tuple[int, ...] = ()
    precision: str = "fp32"             # the bytes' precision: "fp32" | "int8"

    @property
    def not_modelled(self) -> dict[str, int]:
        """ONNX op types counted as ``onnx:<OpType>`` layers (no MACs), and how many."""
        out: dict[str, int] = {}
        for c in self.layers:
            if c.kind.startswith("onnx:"):
                op = c.kind.removeprefix("onnx:")
                out[op] = out.get(op, 0) + 1
        return out

    def pct(self, part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 0.0


def layer_cost(node: Node, precision: str | Precision = FP32) -> LayerCost:
    """Exact cost of one node (a pure function of its kind, attributes and shapes);
    bytes at ``precision`` (fp32 by default)."""
    p = precision_of(precision)
    kind = kind_of(node)
    attrs = dict(node.attrs)
    tensors = kind.tensors(attrs, node.input_shapes, node.output_shape)
    by_role = {role: 0 for role in Role}
    channels = 0
    for t in tensors:
        by_role[t.role] += t.size
        if t.role is Role.WEIGHT:
            channels += t.shape[0]      # output channels: conv [M, C/g, k, k], fc [M, K]
    weights = by_role[Role.WEIGHT]
    # As deployed, batch-norm folds into a per-channel bias: count it once as a bias.
    deployed_bias = max(by_role[Role.BIAS], by_role[Role.BN_SHIFT])
    written = 0 if kind.is_view else numel(node.output_shape)
    weight_bytes = 0 if kind.is_view else (
        weights * p.weight + deployed_bias * p.bias + channels * p.per_channel)
    moved = 0 if kind.is_view else (
        (sum(numel(s) for s in node.input_shapes) + written) * p.activation + weight_bytes)
    return LayerCost(
        name=node.name, kind=node.kind, type_key=node.type_key, inputs=node.inputs,
        input_shape=node.input_shapes[0], output_shape=node.output_shape,
        macs=kind.macs(attrs, node.input_shapes, node.output_shape),
        params=weights, bias_params=by_role[Role.BIAS],
        bn_params=by_role[Role.BN_SCALE] + by_role[Role.BN_SHIFT],
        activations=written,
        bytes=moved,
        weight_bytes=weight_bytes,
        elementwise_ops=kind.elementwise_ops(attrs, node.input_shapes, node.output_shape),
        block=node.block,
    )


def summarize(costs: Iterable[LayerCost]) -> tuple[Totals, dict[str, Totals]]:
    totals = Totals()
    by_type: dict[str, Totals] = {}
    for c in costs:
        totals = totals + c
        by_type[c.type_key] = by_type.get(c.type_key, Totals()) + c
    return totals, by_type


def block_key(c: LayerCost) -> str:
    """The roll-up a layer belongs to: its top-level block instance, or itself."""
    return c.block or c.name


def by_block(costs: Iterable[LayerCost]) -> dict[str, Totals]:
    """Totals per top-level block instance (``bneck3``, ``fire4``), in network order; a
    layer outside any block is a row of its own (torchinfo's depth 1, fvcore's
    by_module)."""
    out: dict[str, Totals] = {}
    for c in costs:
        out[block_key(c)] = out.get(block_key(c), Totals()) + c
    return out


def peak_activation_bytes(graph: Graph, bytes_per_element: int = BYTES_PER_ELEMENT) -> int:
    """Peak bytes of tensors alive at once (fp32 by default), running the nodes in order."""
    return max(live_bytes(graph, bytes_per_element), default=0)


def live_bytes(graph: Graph, bytes_per_element: int = BYTES_PER_ELEMENT, *,
               numels: Mapping[str, Any] | None = None) -> tuple[int, ...]:
    """Bytes of the tensors alive at each step (fp32 by default), running the nodes in order.

    A tensor lives from the step that makes it to the last step that reads it;
    the graph's input and output count too. Layers fused in the spec (conv with
    batch-norm and activation) make one tensor; a view (flatten, dropout) makes
    none, and keeps the tensor it views alive as long as the view is read.
    ``numels`` gives each tensor's (and INPUT's) element count instead of its shape's
    (``analysis.grid``: arrays over a grid's resolutions).
    """
    last_use: dict[str, int] = {}
    for step, node in enumerate(graph.nodes):
        for src in node.inputs:
            last_use[src] = step
    last_use[graph.output] = len(graph.nodes)
    for node in reversed(graph.nodes):           # a view's readers read its source
        if kind_of(node).is_view and node.name in last_use:
            src = node.inputs[0]
            last_use[src] = max(last_use[src], last_use[node.name])
    count = numels or {INPUT: numel(graph.input_shape),
                       **{n.name: numel(n.output_shape) for n in graph.nodes}}
    sizes = {INPUT: count[INPUT]}
    live = {INPUT}
    steps = []
    for step, node in enumerate(graph.nodes):
        sizes[node.name] = 0 if kind_of(node).is_view else count[node.name]
        live.add(node.name)
        steps.append(sum(sizes[t] for t in live) * bytes_per_element)
        live = {t for t in live if last_use.get(t, -1) > step}
    return tuple(steps)


def analyze(graph: Graph, precision: str | Precision = FP32) -> CostReport:
    """Per-layer, per-type and total cost of a built graph, bytes at ``precision``."""
    p = precision_of(precision)
    layers = tuple(layer_cost(n, p) for n in graph.nodes)
    totals, by_type = summarize(layers)
    live = live_bytes(graph, p.activation)
    return CostReport(model=graph.model, alpha=graph.alpha, resolution=graph.resolution,
                      input_shape=graph.input_shape, layers=layers, totals=totals,
                      by_type=MappingProxyType(by_type),
                      by_block=MappingProxyType(by_block(layers)),
                      peak_activation_bytes=max(live, default=0), spec=graph.file,
                      depth=graph.depth, source=graph.source, notes=graph.notes,
                      batch=graph.batch, metadata=graph.metadata, live_bytes=live,
                      precision=p.name)
