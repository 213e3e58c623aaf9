"""ONNX export of a built graph: the ``Builder`` that ``Kind.emit`` writes through.

What a layer becomes in ONNX is decided by its kind (``Kind.emit`` in
``mnprof.kinds``); this module only provides the builder those methods call and
puts the model together:

- float32, NCHW; one input ``input`` [batch, C, R, R] and one output ``output``;
  ``batch`` is a number, or a symbolic dimension named ``batch``;
- ONNX node names, tensor names and initializer names follow the spec's layer
  names (``conv1``, ``conv1.bn``, ``conv1.relu``; ``conv1.weight``, ``conv1.bn.var``),
  so a layer of the paper's table can be found in Netron or in a per-node profile;
  every layer's output carries its shape as ``value_info``, which the checker's
  strict shape inference then proves against ONNX's own shape rules;
- weights come from ``mnprof.weights`` (deterministic from the seed);
- batch-norm is a BatchNormalization node, or with ``fold_bn`` is folded into the
  weight and bias of the conv or fully-connected layer it follows;
- the opset is pinned (17 by default, 13 and newer accepted) and the IR version is
  the lowest that opset needs, so older onnxruntime releases load the file.

onnx is imported here and in the export command only, never on the ``cost`` path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from .cost import Totals, analyze
from .errors import MnprofError
from .graph import INPUT, Graph, Node, build
from .render import atomic_write
from .spec import Spec
from .weights import BN_EPSILON, generate_weights

if TYPE_CHECKING:
    import onnx

DEFAULT_OPSET = 17
MIN_OPSET = 13          # Softmax over one axis, Clip with tensor bounds
OUTPUT = "output"
BATCH_DIM = "batch"
_MAX_PROTO_BYTES = 2**31 - 1    # protobuf's limit for one message


@dataclass(frozen=True)
class Exported:
    """An exported model and, for each layer, the ONNX tensor holding its output."""

    model: onnx.ModelProto
    layer_outputs: Mapping[str, str]


def max_opset() -> int:
    """The newest default-domain opset the installed onnx can check."""
    import onnx.defs
    return onnx.defs.onnx_opset_version()


def check_opset(opset: object) -> int:
    top = max_opset()
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= top:
        raise MnprofError(f"opset must be an integer from {MIN_OPSET} to {top} (the newest "
                          f"the installed onnx knows), got {opset!r}")
    return opset


def check_batch(batch: object) -> int | None:
    if batch is None:
        return None
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise MnprofError(f"batch must be an integer >= 1 (or None for a symbolic batch), "
                          f"got {batch!r}")
    return batch


class OnnxBuilder:
    """Collects nodes and initializers; implements ``mnprof.kinds.Builder``."""

    def __init__(self, weights: Mapping[str, np.ndarray], *, opset: int, fold_bn: bool) -> None:
        self.opset = opset
        self.fold_bn = fold_bn
        self.weights = weights
        self.nodes: list[Any] = []                  # onnx.NodeProto
        self.initializers: dict[str, np.ndarray] = {}
        self.consts: dict[str, float] = {}         # initializer name -> value
        self.const_names: dict[str, str] = {}       # the name asked for -> initializer name
        self.producer: dict[str, Any] = {}          # tensor name -> the node making it
        self.tensors: set[str] = {INPUT, OUTPUT}    # OUTPUT is given to the last tensor
        self.node_names: set[str] = set()

    def fresh(self, name: str) -> str:
        """``name`` as a tensor name, suffixed ``:1``, ``:2`` ... if it is taken."""
        out, k = name, 0
        while out in self.tensors or out in self.initializers:
            k += 1
            out = f"{name}:{k}"
        self.tensors.add(out)
        return out

    # -- the Builder protocol -------------------------------------------------

    def op(self, op_type: str, inputs: Sequence[str], *, name: str, **attrs: Any) -> str:
        from onnx import helper
        if name in self.node_names:
            raise AssertionError(f"ONNX node name {name!r} emitted twice")
        self.node_names.add(name)
        out = self.fresh(name)
        node = helper.make_node(op_type, list(inputs), [out], name=name, **attrs)
        self.nodes.append(node)
        self.producer[out] = node
        return out

    def param(self, node: Node, suffix: str) -> str:
        name = f"{node.name}.{suffix}"
        if name not in self.weights:
            raise AssertionError(f"{node.kind} emits {name!r} but declares no such tensor")
        if name not in self.initializers:
            self.initializers[name] = self.weights[name]
        return name

    def const(self, name: str, value: float) -> str:
        if name not in self.const_names:
            self.const_names[name] = self.fresh(f"const.{name}")
        full = self.const_names[name]
        if self.consts.setdefault(full, value) != value:
            raise AssertionError(f"constant {name!r} used with two values")
        return full

    def batchnorm(self, node: Node, x: str, *, fused: bool) -> str:
        if self.fold_bn and fused:
            self._fold(node, self.producer[x])
            return x
        params = [self.param(node, s) for s in ("bn.scale", "bn.shift", "bn.mean", "bn.var")]
        # A batch-norm fused in a layer is "<layer>.bn"; a batchnorm layer is itself.
        name = f"{node.name}.bn" if fused else node.name
        return self.op("BatchNormalization", [x, *params], name=name, epsilon=BN_EPSILON)

    # -- folding ---------------------------------------------------------------

    def _fold(self, node: Node, producer: Any) -> None:
        """Fold ``node``'s batch-norm into its conv / gemm: w' = w s, b' = (b - mean) s + beta."""
        wname, bname = f"{node.name}.weight", f"{node.name}.bias"
        if producer.op_type not in ("Conv", "Gemm") or producer.input[1] != wname:
            raise AssertionError(f"{node.name}: batch-norm to fold does not follow its own "
                                 f"conv or gemm (it follows {producer.name!r})")
        w = self.weights
        gamma, beta, mean, var = (w[f"{node.name}.bn.{s}"].astype(np.float64)
                                  for s in ("scale", "shift", "mean", "var"))
        s = gamma / np.sqrt(var + BN_EPSILON)
        weight = self.initializers[wname].astype(np.float64)
        self.initializers[wname] = (weight * s.reshape((-1,) + (1,) * (weight.ndim - 1))
                                    ).astype(np.float32)
        if len(producer.input) > 2:
            bias = self.initializers[producer.input[2]].astype(np.float64)
        else:
            bias = np.zeros_like(s)
            producer.input.append(bname)
        self.initializers[bname] = ((bias - mean) * s + beta).astype(np.float32)


def build_model(graph: Graph, *, opset: int = DEFAULT_OPSET, seed: int = 0,
                fold_bn: bool = False, batch: int | None = 1,
                expose_layers: bool = False, totals: Totals | None = None) -> Exported:
    """The ONNX model of ``graph``, with the tensor each layer's output is in.

    ``expose_layers`` also makes every layer's output a graph output (for tests
    and debugging: compare each layer with a reference). ``totals``: the graph's
    cost totals, if the caller has computed them already.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    check_opset(opset)
    check_batch(batch)
    fold_bn = bool(fold_bn)
    if totals is None:
        totals = analyze(graph).totals
    # Weights (and batch-norm buffers) at fp32 must fit one protobuf message: say so
    # before generating gigabytes of them.
    weight_bytes = 4 * (totals.params_framework + totals.bn_params)
    if weight_bytes > _MAX_PROTO_BYTES:
        raise MnprofError(f"{graph.model} at alpha {graph.alpha:g} has {totals.params_framework:,}"
                          f" parameters ({weight_bytes / 2**30:.1f} GiB at fp32): more than one "
                          "ONNX file can hold (2 GiB)")
    b = OnnxBuilder(generate_weights(graph, seed), opset=opset, fold_bn=fold_bn)
    tensor_of: dict[str, str] = {INPUT: INPUT}
    for node in graph.nodes:
        xs = [tensor_of[i] for i in node.inputs]
        tensor_of[node.name] = node.spec_kind.emit(b, node, xs)

    final = tensor_of[graph.output]
    if final == INPUT:          # a network of identities: still a valid graph
        b.op("Identity", [INPUT], name=OUTPUT)
        final = b.nodes[-1].output[0]
    _rename(b, final, OUTPUT)
    layer_outputs = {n.name: (OUTPUT if tensor_of[n.name] == final else tensor_of[n.name])
                     for n in graph.nodes}

    batch_dim: int | str = BATCH_DIM if batch is None else batch
    shapes = {n.name: n.output_shape for n in graph.nodes}

    def info(tensor: str, shape: Sequence[int]) -> Any:
        return helper.make_tensor_value_info(tensor, TensorProto.FLOAT, [batch_dim, *shape])

    inputs = [info(INPUT, graph.input_shape)]
    outputs = [info(OUTPUT, shapes.get(graph.output, graph.input_shape))]
    value_info, seen = [], {INPUT, OUTPUT}
    for name, tensor in layer_outputs.items():
        if tensor not in seen:
            seen.add(tensor)
            (outputs if expose_layers else value_info).append(info(tensor, shapes[name]))

    initializers = [numpy_helper.from_array(a, name) for name, a in b.initializers.items()]
    initializers += [numpy_helper.from_array(np.array(v, dtype=np.float32), name)
                     for name, v in b.consts.items()]
    onnx_graph = helper.make_graph(b.nodes, graph.model, inputs, outputs,
                                   initializer=initializers, value_info=value_info)
    opset_id = helper.make_opsetid("", opset)
    model = helper.make_model(onnx_graph, opset_imports=[opset_id],
                              ir_version=helper.find_min_ir_version_for([opset_id]),
                              producer_name="mnprof", producer_version=__version__)
    model.doc_string = (f"{graph.model} at alpha {graph.alpha:g}, resolution "
                        f"{graph.resolution}: synthetic weights (seed {seed}), not trained")
    helper.set_model_props(model, _metadata(graph, totals, opset=opset, seed=seed,
                                            fold_bn=fold_bn, batch=batch))
    onnx.checker.check_model(model, full_check=True)
    return Exported(model, MappingProxyType(layer_outputs))


def export_model(graph: Graph, *, opset: int = DEFAULT_OPSET, seed: int = 0,
                 fold_bn: bool = False, batch: int | None = 1,
                 totals: Totals | None = None) -> onnx.ModelProto:
    """The ONNX model of ``graph`` (``batch=None``: a symbolic batch dimension).

    ``totals``: the graph's cost totals, if the caller has computed them already.
    """
    return build_model(graph, opset=opset, seed=seed, fold_bn=fold_bn, batch=batch,
                       totals=totals).model


def _rename(b: OnnxBuilder, old: str, new: str) -> None:
    if old == new:
        return
    for node in b.nodes:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new


def _metadata(graph: Graph, totals: Totals, *, opset: int, seed: int, fold_bn: bool,
              batch: int | None) -> dict[str, str]:
    return {
        "mnprof_version": __version__,
        "spec": graph.model,
        "alpha": f"{graph.alpha:g}",
        "resolution": str(graph.resolution),
        "batch": BATCH_DIM if batch is None else str(batch),
        "opset": str(opset),
        "seed": str(seed),
        "fold_bn": str(fold_bn).lower(),
        "macs": str(totals.macs),
        "params": str(totals.params),
        "params_framework": str(totals.params_framework),
        "units": "macs: multiply-accumulates per image (conv and fc); params: conv and fc "
                 "weights (paper); params_framework: + biases and batch-norm scale and shift",
    }


def save_model(model: onnx.ModelProto, path: str | Path, *,
               protect: Sequence[str | Path] = ()) -> int:
    """Write ``model`` to ``path`` atomically; return the number of bytes written."""
    if model.ByteSize() > _MAX_PROTO_BYTES:
        raise MnprofError(f"{path}: the model is over 2 GiB, more than one ONNX file can hold")
    data = model.SerializeToString()
    atomic_write(path, data, protect=protect)
    return len(data)


@dataclass(frozen=True)
class ExportSummary:
    path: str
    model: str
    alpha: float
    resolution: int
    opset: int
    nodes: int
    initializers: int
    bytes: int


def export_onnx(spec: Spec, output: str | Path, *, alpha: float = 1.0,
                resolution: int | None = None, opset: int = DEFAULT_OPSET, seed: int = 0,
                fold_bn: bool = False, batch: int | None = 1) -> ExportSummary:
    """Build ``spec``, export it, write ``output`` (never over the spec's own file)."""
    graph = build(spec, alpha, resolution)
    model = export_model(graph, opset=opset, seed=seed, fold_bn=fold_bn, batch=batch)
    size = save_model(model, output, protect=[spec.path] if spec.path else [])
    return ExportSummary(path=str(output), model=graph.model, alpha=graph.alpha,
                         resolution=graph.resolution, opset=opset,
                         nodes=len(model.graph.node),
                         initializers=len(model.graph.initializer), bytes=size)
