"""ONNX export of a built graph: the ``Emitter`` that ``Kind.emit`` writes through.

What a layer becomes in ONNX is decided by its kind (``Kind.emit``) and its
activation (``Activation.emit``); this module provides the emitter they call and
puts the model together:

- float32, NCHW; one input ``input`` [batch, C, R, R] and one output ``output``;
  ``batch`` is a number, or a symbolic dimension named ``batch``;
- ONNX node names, tensor names and initializer names follow the spec's layer
  names (``conv1``, ``conv1.bn``, ``conv1.relu``; ``conv1.weight``, ``conv1.bn.var``),
  so a layer of the paper's table can be found in Netron or in a per-node profile;
  every layer's output carries its shape as ``value_info``, which the checker's
  strict shape inference then proves against ONNX's own shape rules;
- weights come from ``mnprof.onnxio.weights`` (deterministic from the seed), made one
  tensor at a time and turned into ONNX tensors as soon as the graph is complete,
  so a large model is never held as several copies of its weights;
- batch-norm is a BatchNormalization node, or with ``fold_bn`` is folded into the
  weight and bias of the conv or fully-connected layer it follows;
- the opset is pinned (17 by default; 13 and newer, up to what both the installed
  onnx and onnxruntime run) and the IR version is the lowest that opset needs, so
  older onnxruntime releases load the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.cost import Totals, analyze
from ..core.errors import MnprofError
from ..core.files import atomic_write
from ..core.values import check_int
from ..core.version import __version__
from ..model.graph import INPUT, Graph, Node
from ..model.kinds import kind_of
from ..model.kinds.base import BN_SUFFIXES, Role
from .opsets import DEFAULT_OPSET, MIN_OPSET, check_opset  # noqa: F401  (re-exported)
from .weights import layer_tensors, tensor_values

if TYPE_CHECKING:
    import onnx

OUTPUT = "output"
BATCH_DIM = "batch"
MAX_PROTO_BYTES = 2**31 - 1     # protobuf's limit for one message
MAX_BATCH = 4096


@dataclass(frozen=True)
class Exported:
    """An exported model and, for each layer, the ONNX tensor holding its output."""

    model: onnx.ModelProto
    layer_outputs: Mapping[str, str]


def check_batch(batch: object) -> int | None:
    return None if batch is None else check_int("batch", batch, 1, MAX_BATCH)


class OnnxEmitter:
    """Collects nodes and initializers; implements ``mnprof.model.emit.Emitter``."""

    def __init__(self, graph: Graph, seed: int, *, opset: int, fold_bn: bool) -> None:
        self.opset = opset
        self.fold_bn = fold_bn
        self.seed = seed
        self.declared = {name: (tensor, gain) for name, tensor, gain in layer_tensors(graph)}
        self.nodes: list[Any] = []                  # onnx.NodeProto
        self.initializers: dict[str, np.ndarray] = {}
        self.consts: dict[str, np.ndarray] = {}     # initializer name -> value
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

    def values(self, name: str) -> np.ndarray:
        tensor, gain = self.declared[name]
        return tensor_values(name, tensor, self.seed, gain)

    # -- the Emitter protocol -------------------------------------------------

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
        if name not in self.declared:
            raise AssertionError(f"{node.kind} emits {name!r} but declares no such tensor")
        if name not in self.initializers:
            self.initializers[name] = self.values(name)
        return name

    def const(self, name: str, value: Any, *, dtype: str = "float32") -> str:
        if name not in self.const_names:
            self.const_names[name] = self.fresh(f"const.{name}")
        full = self.const_names[name]
        array = np.array(value, dtype=dtype)
        if full in self.consts and not np.array_equal(self.consts[full], array):
            raise AssertionError(f"constant {name!r} used with two values")
        self.consts[full] = array
        return full

    def batchnorm(self, node: Node, x: str, *, fused: bool) -> str:
        eps = float(node.attrs.get("bn_eps", 1e-5))
        if self.fold_bn and fused:
            self._fold(node, self.producer[x], eps)
            return x
        params = [self.param(node, BN_SUFFIXES[r]) for r in
                  (Role.BN_SCALE, Role.BN_SHIFT, Role.BN_MEAN, Role.BN_VAR)]
        # A batch-norm fused in a layer is "<layer>.bn"; a batchnorm layer is itself.
        name = f"{node.name}.bn" if fused else node.name
        return self.op("BatchNormalization", [x, *params], name=name, epsilon=eps)

    # -- folding ---------------------------------------------------------------

    def _fold(self, node: Node, producer: Any, eps: float) -> None:
        """Fold ``node``'s batch-norm into its conv / gemm: w' = w s, b' = (b - mean) s + beta."""
        wname, bname = f"{node.name}.weight", f"{node.name}.bias"
        if producer.op_type not in ("Conv", "Gemm") or producer.input[1] != wname:
            raise AssertionError(f"{node.name}: batch-norm to fold does not follow its own "
                                 f"conv or gemm (it follows {producer.name!r})")
        gamma, beta, mean, var = (self.values(f"{node.name}.{BN_SUFFIXES[r]}").astype(np.float64)
                                  for r in (Role.BN_SCALE, Role.BN_SHIFT, Role.BN_MEAN,
                                            Role.BN_VAR))
        s = gamma / np.sqrt(var + eps)
        weight = self.initializers[wname]
        self.initializers[wname] = (weight.astype(np.float64)
                                    * s.reshape((-1,) + (1,) * (weight.ndim - 1))
                                    ).astype(np.float32)
        if len(producer.input) > 2:
            bias = self.initializers[producer.input[2]].astype(np.float64)
        else:
            bias = np.zeros_like(s)
            producer.input.append(bname)
        self.initializers[bname] = ((bias - mean) * s + beta).astype(np.float32)

    def move_initializers(self, graph: Any) -> None:
        """Append the initializers to ``graph`` (a GraphProto) as ONNX tensors, each numpy
        array dropped once converted: the weights exist about once at any time."""
        from onnx import numpy_helper
        for store in (self.initializers, self.consts):
            for name in list(store):
                graph.initializer.append(numpy_helper.from_array(store.pop(name), name))


def _emit_all(graph: Graph, e: OnnxEmitter) -> tuple[str, dict[str, str]]:
    """Emit every node; return the output tensor and each layer's output tensor."""
    tensor_of: dict[str, str] = {INPUT: INPUT}
    for node in graph.nodes:
        xs = [tensor_of[i] for i in node.inputs]
        tensor_of[node.name] = kind_of(node).emit(e, node, xs)
    final = tensor_of[graph.output]
    if final == INPUT:          # a network of identities: still a valid graph
        final = e.op("Identity", [INPUT], name=OUTPUT)
    _rename(e, final, OUTPUT)
    return final, {n.name: (OUTPUT if tensor_of[n.name] == final else tensor_of[n.name])
                   for n in graph.nodes}


def build_model(graph: Graph, *, opset: int = DEFAULT_OPSET, seed: int = 0,
                fold_bn: bool = False, batch: int | None = 1, expose_layers: bool = False,
                totals: Totals | None = None, check: bool = True) -> Exported:
    """The ONNX model of ``graph``, with the tensor each layer's output is in.

    ``expose_layers`` also makes every layer's output a graph output (for tests and
    debugging: compare each layer with a reference). ``totals``: the graph's cost
    totals, if the caller has them. ``check``: run onnx's full checker here (callers
    that serialize anyway check the bytes instead: ``serialize``).
    """
    from onnx import TensorProto, helper

    check_opset(opset)
    batch = check_batch(batch)
    totals = totals or analyze(graph).totals
    # Weights (and batch-norm buffers) at fp32 must fit one protobuf message: say so
    # before generating gigabytes of them.
    weight_bytes = 4 * (totals.params_framework + totals.bn_params)
    if weight_bytes > MAX_PROTO_BYTES:
        raise MnprofError(f"{graph.model} at alpha {graph.alpha:g} has {totals.params_framework:,}"
                          f" parameters ({weight_bytes / 2**30:.1f} GiB at fp32): more than one "
                          "ONNX file can hold (2 GiB)")
    e = OnnxEmitter(graph, seed, opset=opset, fold_bn=bool(fold_bn))
    final, layer_outputs = _emit_all(graph, e)
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
    # make_model copies the graph it is given: give it one without weights, then put
    # the weights straight into the model's own graph
    opset_id = helper.make_opsetid("", opset)
    model = helper.make_model(helper.make_graph(e.nodes, graph.model, inputs, outputs,
                                                value_info=value_info),
                              opset_imports=[opset_id],
                              ir_version=helper.find_min_ir_version_for([opset_id]),
                              producer_name="mnprof", producer_version=__version__)
    e.move_initializers(model.graph)
    model.doc_string = (f"{graph.model} at alpha {graph.alpha:g}, resolution "
                        f"{graph.resolution}: synthetic weights (seed {seed}), not trained")
    helper.set_model_props(model, _metadata(graph, totals, opset=opset, seed=seed,
                                            fold_bn=bool(fold_bn), batch=batch))
    if check:
        serialize(model)
    return Exported(model, MappingProxyType(layer_outputs))


def export_model(graph: Graph, *, opset: int = DEFAULT_OPSET, seed: int = 0,
                 fold_bn: bool = False, batch: int | None = 1,
                 totals: Totals | None = None, check: bool = True) -> onnx.ModelProto:
    """The ONNX model of ``graph`` (``batch=None``: a symbolic batch dimension)."""
    return build_model(graph, opset=opset, seed=seed, fold_bn=fold_bn, batch=batch,
                       totals=totals, check=check).model


def serialize(model: onnx.ModelProto) -> bytes:
    """``model`` as bytes, proven by onnx's full checker (strict shape inference)."""
    data = _to_bytes(model)
    _check_bytes(data)
    return data


def _to_bytes(model: onnx.ModelProto) -> bytes:
    if model.ByteSize() > MAX_PROTO_BYTES:
        raise MnprofError("the model is over 2 GiB, more than one ONNX file can hold")
    return model.SerializeToString()


def _check_bytes(data: bytes) -> None:
    import onnx
    onnx.checker.check_model(data, full_check=True)


def write_model(make: Callable[[], onnx.ModelProto], path: str | Path, *,
                protect: Sequence[str | Path] = ()) -> tuple[int, int, int]:
    """Build a model with ``make`` and write it to ``path`` atomically (checked), holding
    the weights at most twice: the model is dropped once serialized, before onnx's
    checker parses the bytes. Returns (bytes, nodes, initializers)."""
    model = make()
    nodes, initializers = len(model.graph.node), len(model.graph.initializer)
    data = _to_bytes(model)
    del model
    _check_bytes(data)
    atomic_write(path, data, protect=protect)
    return len(data), nodes, initializers


def _rename(e: OnnxEmitter, old: str, new: str) -> None:
    if old == new:
        return
    for node in e.nodes:
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
        "depth": f"{graph.depth:g}",
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
    """Write ``model`` to ``path`` atomically (checked); return the number of bytes."""
    data = serialize(model)
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
    precision: str = "fp32"
    quantization: str = ""             # int8: how (QuantOptions.describe())
    notes: tuple[str, ...] = ()        # int8: CPU instruction sets, outputs vs fp32, ...
