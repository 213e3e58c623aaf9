"""onnxruntime's profile of an int8 model, read back onto the spec's layers.

An int8 model (``mnprof.onnxio.quantize``) runs through onnxruntime's QDQ fusions:
DequantizeLinear -> Conv -> QuantizeLinear becomes one ``QLinearConv`` (on x86 in
NHWC, with ``Transpose`` nodes around runs of them), a Gemm becomes ``QGemm``, an
Add ``QLinearAdd``; int8 activations feeding several consumers are not converted to
uint8 on x86, and the convs reading or writing them stay float ``Conv`` nodes
between a DequantizeLinear and a QuantizeLinear. The fused nodes are *named* after
the float node they replace plus a suffix (``conv1_token_111``), but their output
tensors are not always the tensors the fused group wrote, so tracing data (as
``mnprof.bench.profile`` does for float models) would hand a conv's activation to
the next layer. Here names decide:

1. ``QuantizeLinear`` / ``DequantizeLinear`` nodes are rows of their own
   (``ort:QuantizeLinear``), as are layout changes onnxruntime inserted
   (``Transpose`` nodes absent from the model, NCHWc reorders);
2. a named node, with onnxruntime's suffixes taken off (``_token_N``,
   ``/duplicated``, ``_nchwc``), is the quantized model's node of that name and
   belongs to its layer; else to the layer its name starts with;
3. an unnamed node takes the layer of the node that wrote its output in the
   quantized model, else of the nodes it feeds.

Each layer's kernels are then int8 (``QLinearConv``, ``QGemm``, ``MatMulInteger``
...) or float (a ``Conv`` that onnxruntime ran on dequantized data).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

from .profile import REORDER_OPS, GraphView, OnnxNode, by_length, layer_of

QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})
INT8_KERNELS = frozenset({"QGemm", "MatMulInteger", "ConvInteger", "NhwcQLinearConv",
                          "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QAttention"})
FLOAT_MAC_OPS = frozenset({"Conv", "FusedConv", "NchwcConv", "Gemm", "MatMul", "FusedGemm",
                           "FusedMatMul"})
_SUFFIX = re.compile(r"(_token_\d+|/duplicated|_nchwc|_quant)$")
_WEIGHT_INPUT = {"QLinearConv": 3, "NhwcQLinearConv": 3, "QGemm": 3, "QLinearMatMul": 3,
                 "MatMulInteger": 1, "ConvInteger": 1}


def is_int8_kernel(op_type: str) -> bool:
    """Whether an onnxruntime op computes on integers (quantize/dequantize excluded)."""
    return op_type.startswith("QLinear") or op_type in INT8_KERNELS


def is_layout(node: OnnxNode, model_names: Mapping[str, int]) -> bool:
    """A layout change onnxruntime inserted: NCHWc reorders, and Transposes it added."""
    return node.op_type in REORDER_OPS or (node.op_type == "Transpose"
                                          and _base(node.name) not in model_names)


def _base(name: str) -> str:
    while True:
        stripped = _SUFFIX.sub("", name)
        if stripped == name:
            return name
        name = stripped


def map_quantized(model: GraphView, optimized: GraphView, layer_names: Sequence[str],
                  node_layers: Sequence[str | None]) -> list[tuple[str, ...]]:
    """For each node of ``optimized``, the layer it runs (``()``: a row of its own).

    ``model`` is the int8 model onnxruntime was given; ``node_layers[i]`` the layer of
    its i-th node (None for quantize and dequantize nodes).
    """
    index = {n.name: i for i, n in enumerate(model.nodes) if n.name}
    producer = {t: i for i, n in enumerate(model.nodes) for t in n.outputs}
    longest = by_length(layer_names)
    out: list[tuple[str, ...] | None] = []
    for n in optimized.nodes:
        if n.op_type in QDQ_OPS or is_layout(n, index):
            out.append(())
        elif n.name:
            base = _base(n.name)
            layer = node_layers[index[base]] if base in index else \
                layer_of(base, longest, seps="._:/")
            out.append((layer,) if layer else ())
        else:
            made = [node_layers[producer[t]] for t in n.outputs if t in producer]
            out.append((made[0],) if made and made[0] else None)
    _from_consumers(optimized, out)
    return [r or () for r in out]


def _from_consumers(optimized: GraphView, out: list[tuple[str, ...] | None]) -> None:
    """Unnamed nodes still unresolved take the one layer of the nodes they feed."""
    users: dict[str, list[int]] = {}
    for i, n in enumerate(optimized.nodes):
        for t in n.inputs:
            users.setdefault(t, []).append(i)
    for i in reversed(range(len(out))):
        if out[i] is not None:
            continue
        fed = {out[u] for t in optimized.nodes[i].outputs for u in users.get(t, [])}
        fed.discard(None)
        fed.discard(())
        out[i] = fed.pop() if len(fed) == 1 else ()      # type: ignore[assignment]


def quantized_node_layers(model: GraphView, layer_of_node: Callable[[str], str | None]
                          ) -> list[str | None]:
    """The layer of each node of an int8 model: None for quantize/dequantize nodes."""
    return [None if n.op_type in QDQ_OPS else
            layer_of_node(n.name) or layer_of_node(_base(n.name)) for n in model.nodes]


def int8_executed_macs(node: OnnxNode, optimized: GraphView,
                       output_shape: tuple[int, ...] | None) -> int | None:
    """MACs an int8 (or dequantized float) conv or GEMM node is given, for the batch.

    The weight is an initializer (at input 3 of QLinearConv and QGemm), or, for a
    float node on dequantized weights, the initializer its DequantizeLinear reads.
    Independent of layout: output elements / output channels x weight elements.
    """
    k = _WEIGHT_INPUT.get(node.op_type, 1 if node.op_type in FLOAT_MAC_OPS else None)
    if k is None or len(node.inputs) <= k or not output_shape:
        return None
    dims = _weight_dims(node.inputs[k], optimized)
    if not dims:
        return None
    weight, outputs = math.prod(dims), math.prod(output_shape)
    if "Conv" in node.op_type:
        return weight * outputs // dims[0] if dims[0] and outputs % dims[0] == 0 else None
    return weight * math.prod(output_shape[:-1])


def _weight_dims(tensor: str, g: GraphView) -> tuple[int, ...] | None:
    if tensor in g.initializers:
        return g.initializers[tensor]
    for n in g.nodes:
        if tensor in n.outputs:
            if n.op_type == "DequantizeLinear" and n.inputs and n.inputs[0] in g.initializers:
                return g.initializers[n.inputs[0]]
            return None
    return None


def kernel_precision(ops: Sequence[str]) -> str:
    """"int8" when one of a layer's kernels computes on integers, "fp32" when its
    kernels are float, "" when it has none."""
    if any(is_int8_kernel(op) for op in ops):
        return "int8"
    return "fp32" if ops else ""
