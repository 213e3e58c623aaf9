"""int8 export: onnxruntime's own static quantization of the exported float model.

Nothing here quantizes by hand. The float model of ``mnprof.onnxio.export`` goes
through onnxruntime's tools, as its documentation recommends for CPUs:

1. ``quant_pre_process``: onnxruntime's basic graph optimisations (batch-norm is
   folded into the convs, constants folded) and ONNX shape inference (symbolic
   shape inference, meant for transformers and needing sympy, is skipped: every
   shape of a mnprof graph is static);
2. ``quantize_static`` with a ``CalibrationDataReader`` over synthetic inputs.

The defaults are onnxruntime's recommended x86 setting: QDQ format, per-channel
weights, S8S8 (activations and weights int8), MinMax calibration. Each option is
a field of ``QuantOptions``. One deliberate departure: a softmax that ends the
network stays in float (``nodes_to_exclude``): int8 probabilities are steps of
1/256, which erase every class but the few largest; its cost is one small layer.

Calibration inputs come from the weights' own generator
(``mnprof.onnxio.weights.tensor_rng``, seeded by name and seed): standard normal
images, nothing downloaded. ``evaluation_inputs`` draws a different set (another
name), on which the float and int8 models are compared.

Node names survive quantization: a layer's nodes keep its name (``conv1``,
``conv1.relu6``); the quantizer adds ``<tensor>_QuantizeLinear`` and
``<tensor>_DequantizeLinear`` nodes (QDQ) or renames a node ``<name>_quant``
(QOperator). ``node_layer`` reads a quantized model's node names back to layers.

onnx and onnxruntime are imported inside the functions that need them.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import MnprofError
from ..model.graph import Graph
from .export import DEFAULT_OPSET, build_model
from .quantopts import QuantOptions
from .weights import tensor_rng

if TYPE_CHECKING:
    import onnx

QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})
# What an operator is named by QOperator quantization: the float node's name + "_quant".
_QOP_SUFFIX = re.compile(r"_quant$")
_ORT_CALIBRATION = {"minmax": "MinMax", "entropy": "Entropy", "percentile": "Percentile"}


@dataclass(frozen=True)
class Quantized:
    """A quantized model and what became of each layer."""

    model: onnx.ModelProto
    options: QuantOptions
    float_layers: tuple[str, ...]        # layers with weights the quantizer left in float
    excluded: tuple[str, ...]            # layers kept in float on purpose (a final softmax)


def synthetic_inputs(shape: Sequence[int], count: int, seed: int, what: str) -> list[np.ndarray]:
    """``count`` standard normal float32 arrays of ``shape`` from the weights' generator."""
    return [tensor_rng(f"{what}.{i}", seed).standard_normal(tuple(shape), dtype=np.float32)
            for i in range(count)]


def calibration_inputs(shape: Sequence[int], count: int, seed: int = 0) -> list[np.ndarray]:
    return synthetic_inputs(shape, count, seed, "calibration")


def evaluation_inputs(shape: Sequence[int], count: int, seed: int = 0) -> list[np.ndarray]:
    """Inputs to compare the float and int8 models on (never used for calibration)."""
    return synthetic_inputs(shape, count, seed, "evaluation")


def node_layer(name: str, op_type: str, layer_of: Callable[[str], str | None]) -> str | None:
    """The layer a node of a quantized model belongs to: ``None`` for quantize and
    dequantize nodes (rows of their own), else the layer its name carries."""
    if op_type in QDQ_OPS:
        return None
    return layer_of(name) or layer_of(_QOP_SUFFIX.sub("", name))


def quantize_graph(graph: Graph, options: QuantOptions | None = None, *,
                   opset: int = DEFAULT_OPSET, seed: int = 0, batch: int | None = 1,
                   fp32: onnx.ModelProto | None = None) -> Quantized:
    """The int8 model of ``graph`` (``fp32``: its float export, if the caller has it).

    Any failure of onnxruntime's tools is one ``MnprofError`` naming the model.
    """
    options = options or QuantOptions()
    if fp32 is None:
        fp32 = build_model(graph, opset=opset, seed=seed, batch=batch, check=False).model
    excluded = tuple(n.name for n in graph.nodes if n.kind == "softmax"
                     and n.name == graph.output)
    shape = (batch or 1, *graph.input_shape)
    try:
        model = _run_quantizer(fp32, options, calibration_inputs(shape, options.samples, seed),
                               exclude=excluded)
    except MnprofError:
        raise
    except Exception as exc:  # noqa: BLE001  onnxruntime's tools raise anything
        raise MnprofError(f"int8 export of {graph.model} failed in onnxruntime's quantizer: "
                          f"{_first_line(exc)}") from None
    _set_metadata(model, fp32, options, excluded)
    return Quantized(model, options, _float_layers(model, graph, excluded), excluded)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def _run_quantizer(fp32: onnx.ModelProto, options: QuantOptions, inputs: list[np.ndarray],
                   *, exclude: Sequence[str]) -> onnx.ModelProto:
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.items, None)
            return None if x is None else {fp32.graph.input[0].name: x}

    # onnxruntime's tools log advice through the root logger; mnprof's reports say it
    logging.disable(logging.WARNING)
    try:
        with tempfile.TemporaryDirectory(prefix="mnprof-quant-") as tmp:
            return _quantize_files(fp32, options, Reader(), exclude, Path(tmp))
    finally:
        logging.disable(logging.NOTSET)


def _quantize_files(fp32: onnx.ModelProto, options: QuantOptions, reader: Any,
                    exclude: Sequence[str], tmp: Path) -> onnx.ModelProto:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src, pre, out = (str(tmp / f) for f in ("fp32.onnx", "pre.onnx", "int8.onnx"))
    # a path, not the proto: quant_pre_process rewrites a proto it is given in place
    Path(src).write_bytes(fp32.SerializeToString())
    quant_pre_process(src, pre, skip_symbolic_shape=True)
    prepared = onnx.load(pre)
    name_unnamed(prepared, fp32)
    onnx.save(prepared, pre)
    quantize_static(
        pre, out, reader,
        quant_format=QuantFormat.QDQ if options.format == "qdq" else QuantFormat.QOperator,
        per_channel=options.per_channel, reduce_range=options.reduce_range,
        activation_type=QuantType.QInt8 if options.activations == "int8"
        else QuantType.QUInt8,
        weight_type=QuantType.QInt8, nodes_to_exclude=list(exclude),
        calibrate_method=getattr(CalibrationMethod, _ORT_CALIBRATION[options.calibration]))
    return onnx.load(out)


def name_unnamed(model: onnx.ModelProto, fp32: onnx.ModelProto) -> None:
    """Name the nodes onnxruntime's pre-processing left unnamed (the inside of an inlined
    function: HardSwish is HardSigmoid + Mul), so that they keep a layer's name through
    quantization: a node writing a float model's tensor takes the name of the node that
    wrote it (``conv1.hswish``); a node feeding a named one is ``<that>.<op>``."""
    producer = {t: n.name for n in fp32.graph.node for t in n.output if n.name}
    taken = {n.name for n in model.graph.node if n.name}
    consumers: dict[str, list[Any]] = {}
    for n in model.graph.node:
        for t in n.input:
            consumers.setdefault(t, []).append(n)
    for n in reversed(model.graph.node):        # consumers come later: named first
        if n.name:
            continue
        base = next((producer[t] for t in n.output if t in producer), None)
        if base is None:
            users = [c.name for t in n.output for c in consumers.get(t, []) if c.name]
            base = f"{users[0]}.{n.op_type.lower()}" if users else None
        if base is None:
            continue
        name, k = base, 0
        while name in taken:
            k += 1
            name = f"{base}.{k}"
        n.name = name
        taken.add(name)


def _set_metadata(model: onnx.ModelProto, fp32: onnx.ModelProto, options: QuantOptions,
                  excluded: Sequence[str]) -> None:
    from onnx import helper

    props = {p.key: p.value for p in fp32.metadata_props}
    props.update({"precision": "int8", "quantization": options.describe(),
                  "quantized_by": "onnxruntime.quantization.quantize_static",
                  "float_layers_excluded": ",".join(excluded)})
    del model.metadata_props[:]
    helper.set_model_props(model, props)
    model.doc_string = f"{fp32.doc_string}; int8: {options.describe()}"


def _float_layers(model: onnx.ModelProto, graph: Graph, excluded: Sequence[str]) -> tuple[str, ...]:
    """Layers with a conv or fc weight that the quantizer did not quantize (not counting
    ``excluded``): their weight is still a float initializer read by a float node."""
    from onnx import TensorProto

    float_inits = {t.name for t in model.graph.initializer
                   if t.data_type == TensorProto.FLOAT and len(t.dims) >= 2}
    names = sorted((n.name for n in graph.nodes), key=len, reverse=True)

    def layer_of(name: str) -> str | None:     # the exporter's naming rule, longest first
        return next((x for x in names if name == x or name.startswith(x + ".")), None)

    out = []
    for node in model.graph.node:
        layer = node_layer(node.name, node.op_type, layer_of)
        if layer and layer not in excluded and layer not in out and \
                any(i in float_inits for i in node.input[1:2]):
            out.append(layer)
    return tuple(out)


__all__ = ["QDQ_OPS", "QuantOptions", "Quantized", "calibration_inputs", "evaluation_inputs",
           "node_layer", "quantize_graph"]
