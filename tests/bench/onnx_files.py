"""Hand-made ONNX files that break things: built with onnx.helper, a few hundred bytes."""

from __future__ import annotations

from pathlib import Path


def _save(nodes, inputs, outputs, path: Path, initializers=(), opset: int = 17) -> Path:
    import onnx
    from onnx import helper

    graph = helper.make_graph(nodes, "broken", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def big_input_model(path: Path, shape: list[int]) -> Path:
    """Relu of a float input of ``shape``: tiny file, huge input."""
    from onnx import TensorProto, helper
    return _save([helper.make_node("Relu", ["x"], ["y"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], path)


def failing_model(path: Path, kind: str) -> Path:
    """A model that loads, then fails in ``session.run``: "reshape" (onnxruntime's Fail:
    a Reshape to a size that does not match) or "gather" (InvalidArgument: an index
    out of range). The bad values come from Constant nodes, so no load-time check sees
    them."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    if kind == "reshape":
        value = numpy_helper.from_array(np.array([5, 7], dtype=np.int64), "c")
        nodes = [helper.make_node("Constant", [], ["c"], value=value),
                 helper.make_node("Reshape", ["x", "c"], ["y"])]
    elif kind == "gather":
        value = numpy_helper.from_array(np.array([7], dtype=np.int64), "c")
        nodes = [helper.make_node("Constant", [], ["c"], value=value),
                 helper.make_node("Gather", ["x", "c"], ["y"], axis=1)]
    else:
        raise ValueError(kind)
    return _save(nodes, [x], [y], path)


def cyclic_model(path: Path) -> Path:
    """Two nodes that read each other's output."""
    from onnx import TensorProto, helper
    return _save([helper.make_node("Add", ["x", "b"], ["a"]),
                  helper.make_node("Relu", ["a"], ["b"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                 [helper.make_tensor_value_info("b", TensorProto.FLOAT, None)], path)


def conv_model(path: Path, *, batch: int | str = 1) -> Path:
    """One 3x3 conv, 3 -> 8 channels, on 1x3x8x8 (batch may be symbolic): 8*6*6*27 MACs."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((8, 3, 3, 3), dtype=np.float32), "w")
    return _save([helper.make_node("Conv", ["x", "w"], ["y"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], path, [w])
