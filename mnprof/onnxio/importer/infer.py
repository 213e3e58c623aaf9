"""Shapes from ONNX's own shape inference: once for the whole graph, then node by node.

``Inference.run(node)`` gives a node's output shapes. First, ONNX infers the whole
graph at once (one C++ pass, with data propagation), on a skeleton of the model:
the nodes, the bound image input, small initializers with their values and large
ones as typed inputs (no weight is copied). Where that leaves a tensor unknown
(a Reshape whose target a legacy export computes with ``Div``, which ONNX's data
propagation does not follow), the node is inferred alone, given the values of its
constant inputs, which ``mnprof.onnxio.importer.tensors`` has folded by then.
"""

from __future__ import annotations

from typing import Any

from ...core.errors import MnprofError
from ...core.values import MAX_TENSOR_ELEMENTS
from .source import Source
from .tensors import DATA_INPUT_ELEMENTS, Const, Shape, Tensors

TypeInfo = tuple[int, Shape | None]
_SCHEMAS: dict[tuple[str, str, int], Any] = {}


def _schema(op: str, domain: str, version: int) -> Any:
    key = (op, domain, version)
    if key not in _SCHEMAS:
        from ..proto import schema
        _SCHEMAS[key] = schema(op, version, domain)
    return _SCHEMAS[key]


def _infer_one(node: Any, types: dict[str, tuple[int, Shape]], data: dict[str, Const],
               src: Source) -> dict[str, TypeInfo] | None:
    """ONNX's shape inference for one node: output name -> (elem type, shape or None)."""
    from ..proto import from_array, infer_node, type_proto

    domain = "" if node.domain == "ai.onnx" else node.domain
    version = src.opset if not domain else next(
        (o.version for o in src.proto.opset_import if o.domain == domain), 1)
    schema = _schema(node.op_type, domain, version)
    if schema is None:
        return None
    in_types = {x: type_proto(e, s) for x, (e, s) in types.items()}
    in_data = {x: from_array(c.value(), x) for x, c in data.items()}
    result = infer_node(schema, node, in_types, in_data, src.proto.opset_import,
                        src.proto.ir_version)
    out: dict[str, TypeInfo] = {}
    for name, typ in result.items():
        tt = typ.tensor_type
        dims = tt.shape.dim if tt.HasField("shape") else None
        known = dims is not None and all(d.HasField("dim_value") for d in dims)
        out[name] = (tt.elem_type, tuple(d.dim_value for d in dims) if known else None)
    return out


def whole_graph(src: Source) -> dict[str, tuple[int, Shape]]:
    """Every tensor ONNX's inference of the whole graph gives a full shape to."""
    from ..proto import infer_model, pb, value_info

    protos = pb()
    g = src.proto.graph
    kept, typed = [], []
    for tensor in g.initializer:
        size = 1
        for d in tensor.dims:
            size *= d
        if size <= DATA_INPUT_ELEMENTS and \
                tensor.data_location != protos.TensorProto.EXTERNAL:
            kept.append(tensor)
        else:
            typed.append(value_info(tensor.name, tensor.data_type, tensor.dims))
    skeleton = protos.ModelProto()
    skeleton.ir_version = src.proto.ir_version
    skeleton.opset_import.extend(src.proto.opset_import)
    skeleton.functions.extend(src.proto.functions)
    graph = skeleton.graph
    graph.name = g.name or "g"
    graph.node.extend(g.node)
    graph.input.extend([value_info(src.input, src.elem, src.shape), *typed])
    graph.initializer.extend(kept)
    try:
        inferred = infer_model(skeleton)
    except Exception:  # noqa: BLE001  then every node is inferred alone (and fails there)
        return {}
    out = {}
    for vi in inferred.graph.value_info:
        tt = vi.type.tensor_type
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            out[vi.name] = (tt.elem_type, tuple(d.dim_value for d in tt.shape.dim))
    return out


class Inference:
    """Shapes of each node's outputs (see the module docstring)."""

    def __init__(self, src: Source, t: Tensors) -> None:
        self.src, self.t = src, t
        self.known = whole_graph(src)

    def one(self, node: Any, types: dict[str, tuple[int, Shape]],
            data: dict[str, Const]) -> dict[str, TypeInfo] | None:
        return _infer_one(node, types, data, self.src)

    def run(self, node: Any) -> None:
        if node.output and all(x in self.known for x in node.output if x):
            for x in node.output:
                if x:
                    self.store(node, x, *self.known[x])
            return
        self.alone(node)

    def store(self, node: Any, name: str, elem: int, shape: Shape) -> None:
        n = 1
        for d in shape:
            n *= d
        if n > MAX_TENSOR_ELEMENTS * max(self.src.batch, 1):
            raise MnprofError(f"{self.src.name}: node {node.name or node.output[0]!r:.80} "
                              f"({node.op_type}): output {list(shape)} has {n:,} elements, "
                              f"more than mnprof counts ({MAX_TENSOR_ELEMENTS:,} per image)")
        self.t.shapes[name], self.t.elems[name] = shape, elem

    def alone(self, node: Any) -> None:
        t = self.t
        types: dict[str, tuple[int, Shape]] = {}
        data: dict[str, Const] = {}
        for x in node.input:
            if not x:
                continue
            if x in t.consts:
                c = t.consts[x]
                types[x] = (c.elem, c.shape)
                if c.size <= DATA_INPUT_ELEMENTS:
                    data[x] = c
            elif x in t.shapes:
                types[x] = (t.elems.get(x, 1), t.shapes[x])
            else:                           # an input whose shape is unknown
                self.unknown(node, f"the shape of its input {x!r:.60} is unknown")
                return
        label = f"node {node.name or node.output[0]!r:.80} ({node.op_type})"
        try:
            out = _infer_one(node, types, data, self.src)
        except Exception as exc:  # noqa: BLE001  onnx's InferenceError and friends
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MnprofError(f"{self.src.name}: {label}: ONNX shape inference fails: "
                              f"{first[:200]}") from None
        if out is None:
            self.unknown(node, f"ONNX has no schema for {node.domain or 'ai.onnx'}."
                               f"{node.op_type}")
            return
        for name in node.output:
            elem, shape = out.get(name, (0, None))
            if shape is None:
                t.failures[name] = "ONNX's shape inference leaves it unknown"
                continue
            self.store(node, name, elem, shape)

    def unknown(self, node: Any, why: str) -> None:
        for name in node.output:
            self.t.failures[name] = why
