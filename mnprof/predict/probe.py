"""This onnxruntime's NCHWc rules on this CPU, found by asking it.

The block (floats per channel block) and the input-channel alignment a blocked
conv accepts are not exposed by onnxruntime: they depend on the CPU (MLAS picks
the block by vector width) and on the version. ``probe_layout`` builds a few tiny
convolutions, lets onnxruntime optimise them, and reads the answer off the
optimised graph: the padded output channels of a 3-channel conv give the block;
the smallest channel count a depthwise conv runs blocked with gives the alignment.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ..bench import runner
from .fusion import Layout

NCHWC_DOMAIN = "com.microsoft.nchwc"


def _optimised(nodes: list[Any], inits: list[Any], channels: int, threads: int) -> Any:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes, "probe", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                       [1, channels, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    opset = helper.make_opsetid("", 17)
    model = helper.make_model(graph, opset_imports=[opset],
                              ir_version=helper.find_min_ir_version_for([opset]))
    with tempfile.TemporaryDirectory(prefix="mnprof-probe-") as tmp:
        path = os.path.join(tmp, "optimised.onnx")
        so = runner.session_options(threads, runner.OptLevel.ALL, optimized_path=path)
        session = runner.create_session(model.SerializeToString(), so,
                                        what="the layout probe")
        del session
        return onnx.load(path)


def _conv(name: str, x: str, y: str, cout: int, cin_g: int, groups: int) -> tuple[Any, Any]:
    import numpy as np
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.ones((cout, cin_g, 3, 3), dtype=np.float32), f"{name}.w")
    node = helper.make_node("Conv", [x, f"{name}.w"], [y], name=name, group=groups,
                            pads=[1, 1, 1, 1])
    return node, w


def probe_layout(threads: int = 1) -> Layout:
    """The block and alignment of this onnxruntime's NCHWc layout (block 1: none)."""
    node, w = _conv("c", "x", "y", 3, 3, 1)
    model = _optimised([node], [w], 3, threads)
    block = 1
    for n in model.graph.node:
        if n.domain == NCHWC_DOMAIN and n.op_type == "Conv":
            dims = {i.name: list(i.dims) for i in model.graph.initializer}
            block = dims.get(n.input[1], [1])[0]
    if block <= 1:
        return Layout(1, 1)
    align = block
    a = 1
    while a < block:
        c = 3 * a if (3 * a) % block else 5 * a
        n1, w1 = _conv("lift", "x", "t", c, 3, 1)
        n2, w2 = _conv("dw", "t", "y", c, 1, c)
        model = _optimised([n1, n2], [w1, w2], 3, threads)
        if any(n.domain == NCHWC_DOMAIN and n.name.startswith("y") for n in model.graph.node):
            align = a
            break
        a *= 2
    return Layout(block, align)
