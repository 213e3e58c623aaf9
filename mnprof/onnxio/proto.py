"""ONNX's protobuf classes and C++ shape inference, without onnx's Python helpers.

``import onnx`` runs the package's ``__init__``, whose helpers import ml_dtypes: more
than a second of start-up on the machines mnprof was measured on, ten times the
cost of reading and counting a model. What an import needs is smaller: the protobuf
message classes (``onnx/onnx_ml_pb2.py``) and the C++ extension (shape inference,
operator schemas). ``onnx_modules()`` loads just those two modules of the installed
onnx, under their own names, so a later ``import onnx`` (the bench, a user's script)
finds them and uses the very same classes and extension (an extension module must
never be initialised twice). If onnx is imported already, or loading the two alone
fails in any way, it is ``import onnx`` itself.

The few helpers an import needs are here, written against the protobuf classes:
attribute values, tensors to and from numpy (numeric types), type protos, whole-graph
and per-node shape inference, operator schemas.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_CACHE: list[Any] = []
PB_NAME, CPP_NAME = "onnx.onnx_ml_pb2", "onnx.onnx_cpp2py_export"

# TensorProto data types <-> numpy dtypes (the numeric ones an import reads values of)
NUMPY_OF = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
            7: "int64", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}
ELEM_OF = {v: k for k, v in NUMPY_OF.items()}


def _load_alone() -> tuple[Any, Any]:
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("onnx")
    if spec is None or not spec.origin:
        raise ImportError("onnx is not installed")
    folder = Path(spec.origin).parent
    modules = []
    for name, pattern in ((CPP_NAME, "onnx_cpp2py_export*.so"), (PB_NAME, "onnx_ml_pb2.py")):
        if name in sys.modules:
            modules.append(sys.modules[name])
            continue
        files = sorted(folder.glob(pattern)) or sorted(folder.glob(pattern.replace(".so",
                                                                                 ".pyd")))
        if not files:
            raise ImportError(f"no {pattern} in {folder}")
        loader = importlib.machinery.ExtensionFileLoader(name, str(files[0])) \
            if name == CPP_NAME else None
        mspec = importlib.util.spec_from_file_location(name, files[0], loader=loader)
        assert mspec is not None and mspec.loader is not None
        module = importlib.util.module_from_spec(mspec)
        sys.modules[name] = module
        try:
            mspec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        modules.append(module)
    cpp, pb = modules
    if not hasattr(cpp.shape_inference, "infer_shapes") or not hasattr(pb, "ModelProto"):
        raise ImportError("an onnx this module does not know")
    return pb, cpp


def onnx_modules() -> tuple[Any, Any]:
    """(the protobuf module, the C++ extension) of the installed onnx (see the docstring)."""
    if not _CACHE:
        if "onnx" in sys.modules:
            import onnx
            _CACHE[:] = [onnx.onnx_ml_pb2, onnx.onnx_cpp2py_export]
        else:
            try:
                _CACHE[:] = _load_alone()
            except Exception:  # noqa: BLE001  any surprise: the ordinary import
                import onnx
                _CACHE[:] = [onnx.onnx_ml_pb2, onnx.onnx_cpp2py_export]
    return _CACHE[0], _CACHE[1]


def pb() -> Any:
    return onnx_modules()[0]


def attribute_value(attr: Any) -> Any:
    """An attribute's value, as ``onnx.helper.get_attribute_value`` gives it."""
    kind = attr.type
    single = {1: "f", 2: "i", 3: "s", 4: "t", 5: "g", 11: "sparse_tensor", 13: "tp"}
    many = {6: "floats", 7: "ints", 8: "strings", 9: "tensors", 10: "graphs",
            12: "sparse_tensors", 14: "type_protos"}
    if kind in single:
        return getattr(attr, single[kind])
    if kind in many:
        return list(getattr(attr, many[kind]))
    return None


def to_array(tensor: Any) -> Any:
    """A numeric tensor's value as a numpy array (ValueError for other types)."""
    import numpy as np

    dtype = NUMPY_OF.get(tensor.data_type)
    if dtype is None:
        raise ValueError(f"tensor {tensor.name!r}: data type {tensor.data_type} is not read")
    shape = tuple(tensor.dims)
    if tensor.HasField("raw_data"):
        return np.frombuffer(tensor.raw_data, dtype=np.dtype(dtype).newbyteorder("<")
                             ).astype(dtype).reshape(shape)
    if dtype == "float16":
        return np.array(tensor.int32_data, dtype="uint16").view("float16").reshape(shape)
    field = {"float32": "float_data", "float64": "double_data", "int64": "int64_data",
             "uint64": "uint64_data", "uint32": "uint64_data"}.get(dtype, "int32_data")
    return np.array(getattr(tensor, field), dtype=dtype).reshape(shape)


def from_array(array: Any, name: str) -> Any:
    """A TensorProto of a numeric numpy array."""
    import numpy as np

    tensor = pb().TensorProto()
    tensor.name = name
    tensor.data_type = ELEM_OF[str(array.dtype)]
    tensor.dims.extend(array.shape)
    tensor.raw_data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")
                                           ).tobytes()
    return tensor


def elem_of(dtype: Any) -> int:
    return ELEM_OF.get(str(dtype), 0)


def type_proto(elem: int, shape: Iterable[int]) -> Any:
    t = pb().TypeProto()
    t.tensor_type.elem_type = elem
    dims = t.tensor_type.shape.dim
    for d in shape:
        dims.add().dim_value = d
    return t


def value_info(name: str, elem: int, shape: Iterable[int]) -> Any:
    vi = pb().ValueInfoProto()
    vi.name = name
    vi.type.CopyFrom(type_proto(elem, shape))
    return vi


def infer_model(model: Any) -> Any:
    """ONNX's shape inference of a whole model, with data propagation (a new ModelProto)."""
    protos, cpp = onnx_modules()
    out = protos.ModelProto()
    out.ParseFromString(cpp.shape_inference.infer_shapes(model.SerializeToString(), False,
                                                         False, True))
    return out


def schema(op: str, version: int, domain: str) -> Any:
    """The operator's schema at ``version`` (None if ONNX has none)."""
    cpp = onnx_modules()[1]
    try:
        return cpp.defs.get_schema(op, version, domain)
    except cpp.defs.SchemaError:
        return None


def infer_node(op_schema: Any, node: Any, types: Mapping[str, Any], data: Mapping[str, Any],
               opset_imports: Sequence[Any], ir_version: int) -> dict[str, Any]:
    """ONNX's inference of one node: output name -> TypeProto (as
    ``onnx.shape_inference.infer_node_outputs``, with only the node's inputs given)."""
    protos = pb()
    result = op_schema._infer_node_outputs(
        node.SerializeToString(), {k: v.SerializeToString() for k, v in types.items()},
        {k: v.SerializeToString() for k, v in data.items()}, {},
        {o.domain: o.version for o in opset_imports}, ir_version)
    return {k: protos.TypeProto.FromString(v) for k, v in result.items()}
