"""Small ONNX files written the way other tools write them, built with onnx.helper.

- ``legacy_style``: torch.onnx's TorchScript exporter (dynamo=False, opset 17): batch-norm
  folded into conv biases, ReLU6 as Clip with Constant-node bounds, squeeze-and-excite
  as GlobalAveragePool / Conv / Relu / Conv / HardSigmoid / Mul, Identity nodes aliasing
  shared biases, Shape / Gather / Unsqueeze / Concat computing the flatten's shape,
  a symbolic batch named ``batch``, nodes named ``/features/...``.
- ``dynamo_style``: torch.onnx's dynamo exporter (opset 18): weights in an external
  ``.onnx.data`` file, convs without bias, BatchNormalization, x * Sigmoid(x), Split,
  the channel shuffle as Reshape / Transpose / Reshape, ReduceMean (axes as an input)
  and Reshape instead of GlobalAveragePool and Flatten, GELU in its erf form, a fixed
  batch of 1, the input named ``x``.
- ``keras_style``: tf2onnx: an NHWC input read through a Transpose, a TF "same" pad as
  a Pad before a VALID conv, explicit pads elsewhere, Clip bounds as initializers,
  ReduceMean with keepdims 0, the dense layer as MatMul + Add, Softmax.

Each returns the path and the layer shapes it was written from, so that tests can
work out the expected counts by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(0)


def weight(name: str, *shape: int) -> TensorProto:
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32) * 0.1, name)


def ints(name: str, values: list[int]) -> TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def scalar(name: str, value: float) -> TensorProto:
    return numpy_helper.from_array(np.array(value, dtype=np.float32), name)


def const_node(out: str, tensor: TensorProto, name: str) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [out], name=name, value=tensor)


def model(nodes: list, inputs: list, outputs: list, inits: list, opset: int,
          name: str = "main_graph", ir: int | None = None) -> onnx.ModelProto:
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="pytorch")
    m.ir_version = ir or helper.find_min_ir_version_for([helper.make_opsetid("", opset)])
    onnx.checker.check_model(m, full_check=True)
    return m


def legacy_style(folder: Path) -> Path:
    """3x16x16 -> stem conv 8 (3x3, s2) -> dw 3x3 -> SE(8 -> 4 -> 8) -> pw 16 ->
    conv 1x1 16 + HardSwish -> Add -> GlobalAveragePool -> Reshape -> Gemm 10."""
    f = "/features"
    n = [const_node(f"{f}/0/Constant_output_0", scalar("lo", 0.0), f"{f}/0/Constant"),
         const_node(f"{f}/0/Constant_1_output_0", scalar("hi", 6.0), f"{f}/0/Constant_1"),
         helper.make_node("Identity", ["onnx::Conv_shared"], ["onnx::Conv_b3"],
                          name="Identity_0"),
         helper.make_node("Identity", ["onnx::Conv_shared"], ["onnx::Conv_b4"],
                          name="Identity_1"),
         helper.make_node("Conv", ["input", "onnx::Conv_w0", "onnx::Conv_b0"], ["c0"],
                          name=f"{f}/0/Conv", kernel_shape=[3, 3], strides=[2, 2],
                          pads=[1, 1, 1, 1], group=1, dilations=[1, 1]),
         helper.make_node("Clip", ["c0", f"{f}/0/Constant_output_0",
                                   f"{f}/0/Constant_1_output_0"], ["r0"], name=f"{f}/0/Clip"),
         helper.make_node("Conv", ["r0", "onnx::Conv_w1", "onnx::Conv_b1"], ["c1"],
                          name=f"{f}/1/dw/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          group=8),
         helper.make_node("Clip", ["c1", f"{f}/0/Constant_output_0",
                                   f"{f}/0/Constant_1_output_0"], ["r1"], name=f"{f}/1/Clip"),
         helper.make_node("GlobalAveragePool", ["r1"], ["p"], name=f"{f}/1/se/avgpool"),
         helper.make_node("Conv", ["p", "se.fc1.weight", "se.fc1.bias"], ["s1"],
                          name=f"{f}/1/se/fc1/Conv", kernel_shape=[1, 1]),
         helper.make_node("Relu", ["s1"], ["s1r"], name=f"{f}/1/se/Relu"),
         helper.make_node("Conv", ["s1r", "se.fc2.weight", "se.fc2.bias"], ["s2"],
                          name=f"{f}/1/se/fc2/Conv", kernel_shape=[1, 1]),
         helper.make_node("HardSigmoid", ["s2"], ["g"], name=f"{f}/1/se/HardSigmoid",
                          alpha=1 / 6, beta=0.5),
         helper.make_node("Mul", ["g", "r1"], ["se"], name=f"{f}/1/se/Mul"),
         helper.make_node("Conv", ["se", "onnx::Conv_w3", "onnx::Conv_b3"], ["c3"],
                          name=f"{f}/2/pw/Conv", kernel_shape=[1, 1], pads=[0, 0, 0, 0]),
         helper.make_node("Conv", ["c3", "onnx::Conv_w4", "onnx::Conv_b4"], ["c4"],
                          name=f"{f}/3/Conv", kernel_shape=[1, 1]),
         helper.make_node("HardSwish", ["c4"], ["h4"], name=f"{f}/3/HardSwish"),
         helper.make_node("Add", ["h4", "c3"], ["a"], name=f"{f}/3/Add"),
         helper.make_node("GlobalAveragePool", ["a"], ["gp"], name="/GlobalAveragePool"),
         helper.make_node("Shape", ["gp"], ["sh"], name="/Shape"),
         const_node("idx", numpy_helper.from_array(np.array(0, dtype=np.int64), "i0"),
                    "/Constant_2"),
         helper.make_node("Gather", ["sh", "idx"], ["n"], name="/Gather", axis=0),
         helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="/Unsqueeze"),
         helper.make_node("Concat", ["n1", "minus1"], ["shape"], name="/Concat", axis=0),
         helper.make_node("Reshape", ["gp", "shape"], ["flat"], name="/Reshape"),
         helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["output"],
                          name="/classifier/Gemm", transB=1)]
    inits = [weight("onnx::Conv_w0", 8, 3, 3, 3), weight("onnx::Conv_b0", 8),
             weight("onnx::Conv_w1", 8, 1, 3, 3), weight("onnx::Conv_b1", 8),
             weight("se.fc1.weight", 4, 8, 1, 1), weight("se.fc1.bias", 4),
             weight("se.fc2.weight", 8, 4, 1, 1), weight("se.fc2.bias", 8),
             weight("onnx::Conv_w3", 16, 8, 1, 1), weight("onnx::Conv_w4", 16, 16, 1, 1),
             weight("onnx::Conv_shared", 16), weight("fc.weight", 10, 16),
             weight("fc.bias", 10), ints("axes0", [0]), ints("minus1", [-1])]
    m = model(n, [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                ["batch", 3, 16, 16])],
              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])],
              inits, 17, ir=8)
    path = folder / "legacy.onnx"
    onnx.save(m, str(path))
    return path


def dynamo_style(folder: Path) -> Path:
    """3x16x16 -> conv 8 + BN + x*sigmoid(x) -> Split 4|4 -> (conv 1x1 4 + Relu) ->
    Concat -> shuffle (2 groups) -> grouped conv 8 (3x3, s2, 2 groups) -> ReduceMean ->
    Reshape -> Gemm 12 -> GELU (erf) -> Gemm 10."""
    n = [helper.make_node("Conv", ["x", "conv0.weight"], ["conv2d"], name="node_Conv_0",
                          kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
                          auto_pad="NOTSET", group=1, dilations=[1, 1]),
         helper.make_node("BatchNormalization", ["conv2d", "bn.weight", "bn.bias",
                                                 "bn.running_mean", "bn.running_var"],
                          ["bn"], name="node_batch_norm", epsilon=1e-3),
         helper.make_node("Sigmoid", ["bn"], ["sigmoid"], name="node_sigmoid"),
         helper.make_node("Mul", ["bn", "sigmoid"], ["silu"], name="node_mul"),
         helper.make_node("Split", ["silu"], ["split_0", "split_1"], name="node_Split_1",
                          axis=1, num_outputs=2),
         helper.make_node("Conv", ["split_1", "branch.weight"], ["conv2d_1"],
                          name="node_Conv_2", kernel_shape=[1, 1]),
         helper.make_node("Relu", ["conv2d_1"], ["relu"], name="node_relu"),
         helper.make_node("Concat", ["split_0", "relu"], ["cat"], name="node_cat", axis=1),
         helper.make_node("Reshape", ["cat", "val_0"], ["view"], name="node_view",
                          allowzero=1),
         helper.make_node("Transpose", ["view"], ["transpose"], name="node_transpose",
                          perm=[0, 2, 1, 3, 4]),
         helper.make_node("Reshape", ["transpose", "val_1"], ["view_1"], name="node_view_1",
                          allowzero=1),
         helper.make_node("Conv", ["view_1", "grouped.weight"], ["conv2d_2"],
                          name="node_Conv_3", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          strides=[2, 2], group=2),
         helper.make_node("ReduceMean", ["conv2d_2", "val_2"], ["mean"], name="node_mean",
                          keepdims=1),
         helper.make_node("Reshape", ["mean", "val_3"], ["view_2"], name="node_view_2"),
         helper.make_node("Gemm", ["view_2", "fc1.weight", "fc1.bias"], ["linear"],
                          name="node_linear", transB=1),
         helper.make_node("Div", ["linear", "val_sqrt2"], ["div"], name="node_div"),
         helper.make_node("Erf", ["div"], ["erf"], name="node_erf"),
         helper.make_node("Add", ["erf", "val_one"], ["add"], name="node_add"),
         helper.make_node("Mul", ["linear", "add"], ["mul_1"], name="node_mul_1"),
         helper.make_node("Mul", ["mul_1", "val_half"], ["gelu"], name="node_mul_2"),
         helper.make_node("Gemm", ["gelu", "fc2.weight"], ["linear_1"], name="node_linear_1",
                          transB=1)]
    var = numpy_helper.from_array(np.abs(RNG.standard_normal(8)).astype(np.float32) + 0.5,
                                  "bn.running_var")
    inits = [weight("conv0.weight", 8, 3, 3, 3), weight("bn.weight", 8), weight("bn.bias", 8),
             weight("bn.running_mean", 8), var, weight("branch.weight", 4, 4, 1, 1),
             ints("val_0", [1, 2, 4, 16, 16]), ints("val_1", [1, 8, 16, 16]),
             weight("grouped.weight", 8, 4, 3, 3), ints("val_2", [2, 3]),
             ints("val_3", [1, -1]), weight("fc1.weight", 12, 8), weight("fc1.bias", 12),
             scalar("val_sqrt2", 1.4142135), scalar("val_one", 1.0), scalar("val_half", 0.5),
             weight("fc2.weight", 10, 12)]
    m = model(n, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
              [helper.make_tensor_value_info("linear_1", TensorProto.FLOAT, [1, 10])],
              inits, 18)
    path = folder / "dynamo.onnx"
    onnx.save(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="dynamo.onnx.data", size_threshold=64)
    return path


def keras_style(folder: Path) -> Path:
    """16x16x3 (NHWC) -> Transpose -> Pad (0, 0, 1, 1) -> conv 8 (3x3, s2, VALID) + Relu
    -> dw 3x3 (explicit pads) + Clip(0, 6) -> conv 1x1 16 -> ReduceMean (keepdims 0) ->
    MatMul 10 + Add -> Softmax."""
    n = [helper.make_node("Transpose", ["input_1"], ["nchw"], name="model/conv1/transpose",
                          perm=[0, 3, 1, 2]),
         helper.make_node("Pad", ["nchw", "pads"], ["padded"], name="model/conv1/Pad",
                          mode="constant"),
         helper.make_node("Conv", ["padded", "conv1/kernel", "conv1/bias"], ["c1"],
                          name="model/conv1/Conv2D", kernel_shape=[3, 3], strides=[2, 2],
                          auto_pad="VALID"),
         helper.make_node("Relu", ["c1"], ["r1"], name="model/conv1/Relu"),
         helper.make_node("Conv", ["r1", "dw/kernel", "dw/bias"], ["c2"],
                          name="model/dw/depthwise", kernel_shape=[3, 3], group=8,
                          pads=[1, 1, 1, 1]),
         helper.make_node("Clip", ["c2", "clip_min", "clip_max"], ["r2"],
                          name="model/dw/Relu6"),
         helper.make_node("Conv", ["r2", "pw/kernel", "pw/bias"], ["c3"],
                          name="model/pw/Conv2D", kernel_shape=[1, 1], pads=[0, 0, 0, 0]),
         helper.make_node("ReduceMean", ["c3"], ["gap"], name="model/gap/Mean", axes=[2, 3],
                          keepdims=0),
         helper.make_node("MatMul", ["gap", "dense/kernel"], ["mm"],
                          name="model/dense/MatMul"),
         helper.make_node("Add", ["mm", "dense/bias"], ["logits"], name="model/dense/BiasAdd"),
         helper.make_node("Softmax", ["logits"], ["probs"], name="model/dense/Softmax",
                          axis=-1)]
    inits = [ints("pads", [0, 0, 0, 0, 0, 0, 1, 1]), weight("conv1/kernel", 8, 3, 3, 3),
             weight("conv1/bias", 8), weight("dw/kernel", 8, 1, 3, 3), weight("dw/bias", 8),
             scalar("clip_min", 0.0), scalar("clip_max", 6.0),
             weight("pw/kernel", 16, 8, 1, 1), weight("pw/bias", 16),
             weight("dense/kernel", 16, 10), weight("dense/bias", 10)]
    m = model(n, [helper.make_tensor_value_info("input_1", TensorProto.FLOAT,
                                                ["unk__6", 16, 16, 3])],
              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["unk__7", 10])],
              inits, 13, name="tf2onnx")
    path = folder / "keras.onnx"
    onnx.save(m, str(path))
    return path
