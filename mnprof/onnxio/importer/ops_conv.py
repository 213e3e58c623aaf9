"""Convolutions, fully-connected layers, batch-norm and windowed pools.

- ``Conv`` (2-D, constant weights): ``pwconv`` for a 1x1, one group, no padding;
  ``dwconv`` when the groups are the input channels; otherwise ``conv`` (with
  ``groups``). Padding: ``auto_pad`` resolved to explicit (top, left, bottom, right)
  pads the way ONNX resolves it; a ``Pad`` of zeros on H and W read only by the
  conv is folded into them.
- ``ConvTranspose`` (2-D, constant weights): ``deconv``; ``auto_pad`` and
  ``output_shape`` resolved to explicit pads from the output ONNX infers.
- ``Gemm`` and ``MatMul`` by a constant matrix: ``fc`` (a MatMul's bias is the
  ``Add`` of a constant vector that alone reads its output).
- ``BatchNormalization``: a ``batchnorm`` layer, which the assembly folds into the
  conv before it (``bn: true``) when the conv alone feeds it.
- ``AveragePool`` and ``MaxPool``: ``avgpool`` / ``maxpool`` with their pads and
  ``ceil_mode``.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx, Draft
from .registry import op, opaque


def _pair(values: Any, default: int) -> tuple[int, int]:
    vals = list(values) if values is not None else [default, default]
    return int(vals[0]), int(vals[-1])


def window(ctx: Ctx, i: int, hw: tuple[int, int], kernel: tuple[int, int],
           extra: tuple[int, int, int, int] = (0, 0, 0, 0)) -> dict[str, Any]:
    """kernel, stride, dilation and explicit padding of a Conv or pool node."""
    a = ctx.attrs(i)
    stride, dilation = _pair(a.get("strides"), 1), _pair(a.get("dilations"), 1)
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0, 0, 0, 0]
        for axis in (0, 1):
            size, k, s, d = hw[axis], kernel[axis], stride[axis], dilation[axis]
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            pads[axis], pads[axis + 2] = (small, big) if auto == "SAME_UPPER" else (big, small)
    elif auto == "VALID":
        pads = [0, 0, 0, 0]
    else:
        pads = [int(p) for p in a.get("pads", [0, 0, 0, 0])]
        if len(pads) != 4:
            raise ctx.fail(i, f"pads {pads} are not those of a 2-D window")
    pads = [p + e for p, e in zip(pads, extra, strict=True)]
    return {"kernel": kernel, "stride": stride, "dilation": dilation, "padding": tuple(pads)}


@op("Conv")
def conv(ctx: Ctx, i: int) -> list[Draft]:
    node = ctx.nodes[i]
    w = ctx.const(node.input[1]) if len(node.input) > 1 else None
    data = ctx.data_inputs(i)
    if w is None or len(data) != 1 or data[0] != ctx.resolve(node.input[0]):
        raise ctx.fail(i, "its input must be an activation and its weights (and bias) "
                          "constants; mnprof does not count convolutions of computed weights")
    if len(w.shape) != 4:
        raise ctx.fail(i, f"a {len(w.shape) - 2}-D convolution; mnprof models 2-D ones")
    x = data[0]
    cin, h, wd = _map(ctx, x, i)
    groups = int(ctx.attrs(i).get("group", 1))
    cout, per_group, kh, kw = w.shape
    if per_group * groups != cin:
        raise ctx.fail(i, f"weights {list(w.shape)} with {groups} groups do not fit {cin} "
                          "input channels")
    extra, pad_node = ctx.pads_for.get(i, ((0, 0, 0, 0), None))
    win = window(ctx, i, (h, wd), (kh, kw), extra)
    bias = len(node.input) > 2 and bool(node.input[2])
    nodes = [i] if pad_node is None else [i, pad_node]
    if groups == 1 and (kh, kw) == (1, 1) and win["dilation"] == (1, 1) \
            and win["padding"] == (0, 0, 0, 0):
        return [ctx.draft("pwconv", i, {"stride": win["stride"], "out": cout, "bias": bias},
                          inputs=[x], nodes=nodes, mac=True)]
    if groups == cin and groups > 1:
        return [ctx.draft("dwconv", i, {**win, "multiplier": cout // cin, "bias": bias},
                          inputs=[x], nodes=nodes, mac=True)]
    return [ctx.draft("conv", i, {**win, "out": cout, "groups": groups, "bias": bias},
                      inputs=[x], nodes=nodes, mac=True)]


@op("ConvTranspose")
def conv_transpose(ctx: Ctx, i: int) -> list[Draft]:
    node, a = ctx.nodes[i], ctx.attrs(i)
    w = ctx.const(node.input[1]) if len(node.input) > 1 else None
    data = ctx.data_inputs(i)
    if w is None or len(data) != 1 or data[0] != ctx.resolve(node.input[0]):
        raise ctx.fail(i, "its input must be an activation and its weights (and bias) "
                          "constants; mnprof does not count convolutions of computed weights")
    if len(w.shape) != 4:
        raise ctx.fail(i, f"a {len(w.shape) - 2}-D transposed convolution; mnprof models "
                          "2-D ones")
    cin, h, wd = _map(ctx, data[0], i)
    groups = int(a.get("group", 1))
    if w.shape[0] != cin:
        raise ctx.fail(i, f"weights {list(w.shape)} do not fit {cin} input channels")
    kernel = (w.shape[2], w.shape[3])
    stride, dilation = _pair(a.get("strides"), 1), _pair(a.get("dilations"), 1)
    extra = _pair(a.get("output_padding"), 0)
    auto = a.get("auto_pad", b"NOTSET")
    pads = [int(p) for p in a.get("pads", [0, 0, 0, 0])]
    if auto in (b"SAME_UPPER", b"SAME_LOWER", b"VALID") or "output_shape" in a:
        out_hw = ctx.img(node.output[0], i)[1:]
        pads = [0, 0, 0, 0]
        for axis, size in enumerate((h, wd)):
            total = (size - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + \
                extra[axis] + 1 - out_hw[axis]
            if total < 0:
                raise ctx.fail(i, f"an output of {out_hw[axis]} needs output padding mnprof "
                                  "does not model")
            small, big = total // 2, total - total // 2
            pads[axis], pads[axis + 2] = (small, big) if auto != b"SAME_LOWER" else (big, small)
    attrs = {"kernel": kernel, "stride": stride, "dilation": dilation, "padding": tuple(pads),
             "output_padding": extra, "out": w.shape[1] * groups, "groups": groups,
             "bias": len(node.input) > 2 and bool(node.input[2])}
    return [ctx.draft("deconv", i, attrs, inputs=data, mac=True)]


def _map(ctx: Ctx, x: str, i: int) -> tuple[int, int, int]:
    shape = ctx.img(x, i)
    if len(shape) != 3:
        raise ctx.fail(i, f"its input {list(shape)} per image is not a (C, H, W) map")
    return shape  # type: ignore[return-value]


def _vector_input(ctx: Ctx, i: int, what: str) -> str:
    data = ctx.data_inputs(i)
    node = ctx.nodes[i]
    if len(data) != 1 or data[0] != ctx.resolve(node.input[0]):
        raise ctx.fail(i, f"{what} of two computed tensors (as in attention) is not modelled "
                          "by mnprof; counting it as 0 MACs would be wrong, so the import "
                          "stops")
    return data[0]


@op("Gemm")
def gemm(ctx: Ctx, i: int) -> list[Draft]:
    node, a = ctx.nodes[i], ctx.attrs(i)
    x = _vector_input(ctx, i, "a Gemm")
    w = ctx.const(node.input[1])
    if a.get("transA", 0) or w is None or len(w.shape) != 2:
        raise ctx.fail(i, "mnprof counts Gemm as a fully-connected layer: A the activations "
                          "[N, K] (transA 0), B a constant matrix")
    k_in, out = (w.shape[1], w.shape[0]) if a.get("transB", 0) else w.shape
    return _fc(ctx, i, x, k_in, out, bias=len(node.input) > 2 and bool(node.input[2]))


@op("MatMul")
def matmul(ctx: Ctx, i: int) -> list[Draft]:
    node = ctx.nodes[i]
    x = _vector_input(ctx, i, "a MatMul")
    w = ctx.const(node.input[1])
    if w is None or len(w.shape) != 2:
        raise ctx.fail(i, "mnprof counts MatMul by a constant [K, N] matrix as a "
                          "fully-connected layer; this one is not")
    return _fc(ctx, i, x, w.shape[0], w.shape[1], bias=False)


def _fc(ctx: Ctx, i: int, x: str, k_in: int, out: int, *, bias: bool) -> list[Draft]:
    shape = ctx.img(x, i)
    if len(shape) != 1 or shape[0] != k_in:
        raise ctx.fail(i, f"a fully-connected layer of {k_in} inputs on a tensor of "
                          f"{list(shape)} per image (tokens, as in a transformer); mnprof "
                          "models fc layers on vectors, and counting 0 MACs would be wrong, "
                          "so the import stops")
    nodes, output = [i], ctx.nodes[i].output[0]
    add = ctx.sole_user(output)
    if not bias and ctx.is_op(add, "Add") and add is not None:
        other = [y for y in ctx.nodes[add].input if y != output]
        c = ctx.const(other[0]) if len(other) == 1 else None
        if c is not None and c.size == out and max(c.shape, default=1) == out:
            bias, output = True, ctx.nodes[add].output[0]
            nodes.append(add)
            ctx.claimed.add(add)
    return [ctx.draft("fc", i, {"out": out, "bias": bias}, inputs=[x], output=output,
                      nodes=nodes, mac=True)]


@op("BatchNormalization")
def batchnorm(ctx: Ctx, i: int) -> list[Draft]:
    node = ctx.nodes[i]
    if len(ctx.data_inputs(i)) != 1 or any(x in ctx.outputs or ctx.users(x)
                                           for x in node.output[1:] if x):
        return opaque(ctx, i)           # training mode: statistics computed at run time
    return [ctx.draft("batchnorm", i, {"bn_eps": float(ctx.attrs(i).get("epsilon", 1e-5))})]


@op("AveragePool", "MaxPool")
def pool(ctx: Ctx, i: int) -> list[Draft]:
    node, a = ctx.nodes[i], ctx.attrs(i)
    x = ctx.data_inputs(i)
    kernel = a.get("kernel_shape", [])
    if len(x) != 1 or len(kernel) != 2 or _pair(a.get("dilations"), 1) != (1, 1) or \
            any(ctx.users(y) or y in ctx.outputs for y in node.output[1:] if y):
        return opaque(ctx, i)
    _, h, w = _map(ctx, x[0], i)
    extra, pad_node = ctx.pads_for.get(i, ((0, 0, 0, 0), None))
    win = window(ctx, i, (h, w), _pair(kernel, 1), extra)
    attrs = {"kernel": win["kernel"], "stride": win["stride"], "padding": win["padding"],
             "ceil_mode": bool(a.get("ceil_mode", 0))}
    if node.op_type == "AveragePool":
        attrs["count_include_pad"] = bool(a.get("count_include_pad", 0)) or pad_node is not None
        kind = "avgpool"
    else:
        kind = "maxpool"
    return [ctx.draft(kind, i, attrs, inputs=x,
                      nodes=[i] if pad_node is None else [i, pad_node])]


@op("Pad")
def pad(ctx: Ctx, i: int) -> list[Draft]:
    """Zeros on H and W read only by a Conv (or an AveragePool): folded into its pads."""
    node, a = ctx.nodes[i], ctx.attrs(i)
    data = ctx.data_inputs(i)
    pads = ctx.value(node.input[1]) if len(node.input) > 1 else a.get("pads")
    value = ctx.scalar(node.input[2]) if len(node.input) > 2 and node.input[2] else \
        float(a.get("value", 0.0))
    mode = a.get("mode", b"constant")
    user = ctx.sole_user(node.output[0])
    axes_given = len(node.input) > 3 and bool(node.input[3])
    if len(data) == 1 and pads is not None and len(pads) == 8 and value == 0.0 and \
            mode in (b"constant", "constant") and not axes_given and user is not None and \
            ctx.is_op(user, "Conv", "AveragePool") and user not in ctx.pads_for:
        p = [int(v) for v in pads]
        if p[0] == p[1] == p[4] == p[5] == 0 and min(p) >= 0 and \
                ctx.attrs(user).get("auto_pad", b"NOTSET") in (b"NOTSET", b"VALID"):
            ctx.pads_for[user] = ((p[2], p[3], p[6], p[7]), i)
            ctx.alias[node.output[0]] = data[0]
            return []
    return opaque(ctx, i)
