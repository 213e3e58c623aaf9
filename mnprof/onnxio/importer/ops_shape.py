"""Merges, channel splits, views, global pooling and the rest of a classifier's tail.

- ``Add`` / ``Sum`` of activations of one shape: ``add`` (a residual).
- ``Mul`` of a map (C, H, W) by a gate (C, 1, 1) or a map: ``mul`` (squeeze-and-excite).
- ``Concat`` on the channels: ``concat``. ``Split`` into equal parts, and ``Slice`` of
  an equal part of the channels: ``split``.
- ``Reshape`` to (g, C/g, H, W), ``Transpose`` [0, 2, 1, 3, 4], ``Reshape`` back:
  ``channel_shuffle``. ``Reshape``, ``Flatten`` or ``Squeeze`` to a vector: ``flatten``
  (the assembly folds it into the fc that alone reads it).
- ``GlobalAveragePool``, and ``ReduceMean`` over H and W: ``global_avgpool`` (with
  keepdims 0, a ``flatten`` after it).
- ``Softmax`` over the channels, ``LRN``, ``Dropout``; ``Identity`` (and a Reshape,
  Slice or Concat that changes nothing) is only another name for its input; the
  ``Transpose`` from an NHWC input to NCHW is the input itself.
"""

from __future__ import annotations

from typing import Any

from ...model.kinds.pool import adaptive_windows
from .context import Ctx, Draft
from .ops_act import gelu_erf
from .registry import op, opaque


def _alias(ctx: Ctx, i: int, source: str) -> list[Draft]:
    ctx.alias[ctx.nodes[i].output[0]] = source
    return []


@op("Identity")
def identity(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    return _alias(ctx, i, data[0]) if data else opaque(ctx, i)


@op("Dropout")
def dropout(ctx: Ctx, i: int) -> list[Draft]:
    node, a = ctx.nodes[i], ctx.attrs(i)
    ratio = ctx.scalar(node.input[1]) if len(node.input) > 1 and node.input[1] else \
        a.get("ratio", 0.5)
    if len(ctx.data_inputs(i)) != 1 or ratio is None or not 0 <= ratio < 1:
        return opaque(ctx, i)
    return [ctx.draft("dropout", i, {"p": float(ratio)})]


@op("Add", "Sum")
def add(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    if len(data) >= 2 and len(data) == len([x for x in ctx.nodes[i].input if x]) and \
            len({ctx.img(x, i) for x in data}) == 1:
        return [ctx.draft("add", i)]
    return opaque(ctx, i)


@op("Mul")
def mul(ctx: Ctx, i: int) -> list[Draft]:
    erf = gelu_erf(ctx, i)
    if erf is not None:
        return erf
    data = ctx.data_inputs(i)
    if len(data) == 2 and len(ctx.nodes[i].input) == 2:
        a, b = (ctx.img(x, i) for x in data)
        if len(a) == 3 and len(b) == 3 and a[0] == b[0]:
            if b[1:] in ((1, 1), a[1:]):
                return [ctx.draft("mul", i, inputs=data)]
            if a[1:] == (1, 1):
                return [ctx.draft("mul", i, inputs=data[::-1])]
    return opaque(ctx, i)


@op("Div")
def div(ctx: Ctx, i: int) -> list[Draft]:
    return gelu_erf(ctx, i) or opaque(ctx, i)


def _axis(ctx: Ctx, i: int, name: str, default: int = 0) -> int | None:
    rank = ctx.rank(ctx.nodes[i].output[0])
    axis = int(ctx.attrs(i).get(name, default))
    return axis % rank if rank else None


@op("Concat")
def concat(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    inputs = [x for x in ctx.nodes[i].input if x]
    if _axis(ctx, i, "axis") != 1 or len(data) != len(inputs):
        return opaque(ctx, i)
    if len(data) == 1:
        return _alias(ctx, i, data[0])
    return [ctx.draft("concat", i)]


@op("Split")
def split(ctx: Ctx, i: int) -> list[Draft]:
    node = ctx.nodes[i]
    data = ctx.data_inputs(i)
    outs = list(node.output)
    if len(data) != 1 or _axis(ctx, i, "axis") != 1 or len(outs) < 2:
        return opaque(ctx, i)
    channels = ctx.img(data[0], i)[0]
    sizes = [ctx.img(x, i)[0] for x in outs]
    if len(set(sizes)) != 1 or sizes[0] * len(outs) != channels:
        return opaque(ctx, i)
    base = node.name or outs[0]
    names = tuple(base if k == 0 else f"{base}:{k}" for k in range(len(outs)))
    return [ctx.draft("split", i, {"parts": len(outs), "index": k}, output=x,
                      nodes=[i] if k == 0 else [], name=names[k],
                      siblings=names[:k] + names[k + 1:])
            for k, x in enumerate(outs)]


def _slice_args(ctx: Ctx, i: int) -> tuple[Any, Any, Any, Any]:
    node, a = ctx.nodes[i], ctx.attrs(i)
    if len(node.input) > 1:
        starts, ends = ctx.value(node.input[1]), ctx.value(node.input[2])
        axes = ctx.value(node.input[3]) if len(node.input) > 3 and node.input[3] else [0]
        steps = ctx.value(node.input[4]) if len(node.input) > 4 and node.input[4] else [1]
        return starts, ends, axes, steps
    return a.get("starts"), a.get("ends"), a.get("axes", [0]), [1]


def _window_of(ctx: Ctx, i: int, axis: int) -> tuple[str, int, int] | None:
    """(input, start, end) of a Slice taking one window of ``axis``, step 1."""
    data = ctx.data_inputs(i)
    if not ctx.is_op(i, "Slice") or len(data) != 1:
        return None
    starts, ends, axes, steps = _slice_args(ctx, i)
    if starts is None or ends is None or axes is None or steps is None or \
            len(starts) != 1 or len(ends) != 1 or len(axes) != 1 or list(steps) != [1]:
        return None
    shape = ctx.full(data[0], i)
    if int(axes[0]) % len(shape) != axis:
        return None
    size = shape[axis]
    lo, hi = (max(0, min(size, int(v) + (size if int(v) < 0 else 0))) for v in (starts[0],
                                                                              ends[0]))
    return data[0], lo, hi


def _mean_pass(ctx: Ctx, i: int, axis: int) -> tuple[str, str, list[int], list[Any]] | None:
    """Slices of one tensor along ``axis``, each averaged (ReduceMean, keepdims), then
    concatenated: (input, output, nodes, windows), as mnprof exports an adaptive pool."""
    first = _window_of(ctx, i, axis)
    mean = ctx.sole_user(ctx.nodes[i].output[0])
    cat = ctx.sole_user(ctx.nodes[mean].output[0]) if ctx.is_op(mean, "ReduceMean") else None
    if first is None or not ctx.is_op(cat, "Concat") or _axis(ctx, cat, "axis") != axis:
        return None
    nodes, windows = [cat], []
    for part in ctx.nodes[cat].input:                          # type: ignore[index]
        m = ctx.producer.get(part)
        if not ctx.is_op(m, "ReduceMean") or _reduced(ctx, m) != {axis}:
            return None
        sl = ctx.producer.get(ctx.nodes[m].input[0])           # type: ignore[index]
        win = _window_of(ctx, sl, axis) if sl is not None else None
        if win is None or win[0] != first[0]:
            return None
        nodes += [sl, m]                                       # type: ignore[list-item]
        windows.append(win[1:])
    return first[0], ctx.nodes[cat].output[0], nodes, windows  # type: ignore[index]


def _reduced(ctx: Ctx, i: int) -> set[int] | None:
    node, a = ctx.nodes[i], ctx.attrs(i)
    given = ctx.value(node.input[1]) if len(node.input) > 1 and node.input[1] else \
        a.get("axes")
    if given is None or not a.get("keepdims", 1):
        return None
    return {int(v) % 4 for v in given}


def _adaptive(ctx: Ctx, i: int) -> list[Draft] | None:
    """mnprof's export of a non-uniform adaptive average pool: rows, then columns."""
    rows = _mean_pass(ctx, i, 2)
    if rows is None:
        return None
    starts = sorted(u for u in ctx.users(rows[1]) if ctx.is_op(u, "Slice"))
    cols = _mean_pass(ctx, starts[0], 3) if starts else None
    if cols is None or cols[0] != rows[1]:
        return None
    _, h, w = ctx.img(rows[0], i)
    oh, ow = len(rows[3]), len(cols[3])
    if rows[3] != adaptive_windows(h, oh) or cols[3] != adaptive_windows(w, ow):
        return None
    nodes = [i, *(n for n in rows[2] + cols[2] if n != i)]
    ctx.claimed.update(nodes[1:])
    return [ctx.draft("adaptive_avgpool", i, {"output": (oh, ow)}, inputs=[rows[0]],
                      output=cols[1], nodes=nodes)]


@op("Slice")
def slice_(ctx: Ctx, i: int) -> list[Draft]:
    node = ctx.nodes[i]
    data = ctx.data_inputs(i)
    if len(data) != 1 or ctx.resolve(node.input[0]) != data[0]:
        return opaque(ctx, i)
    pool = _adaptive(ctx, i)
    if pool is not None:
        return pool
    starts, ends, axes, steps = _slice_args(ctx, i)
    shape = ctx.full(data[0], i)
    if starts is None or ends is None or axes is None or steps is None or \
            len(starts) != 1 or len(ends) != 1 or len(axes) != 1 or list(steps) != [1] or \
            int(axes[0]) % len(shape) != 1:
        return opaque(ctx, i)
    c = shape[1]
    lo = max(0, min(c, int(starts[0]) + (c if int(starts[0]) < 0 else 0)))
    hi = max(0, min(c, int(ends[0]) + (c if int(ends[0]) < 0 else 0)))
    size = hi - lo
    if size == c:
        return _alias(ctx, i, data[0])
    if size <= 0 or c % size or lo % size:
        return opaque(ctx, i)
    return [ctx.draft("split", i, {"parts": c // size, "index": lo // size})]


@op("Reshape")
def reshape(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    if len(data) != 1:
        return opaque(ctx, i)
    x, out = data[0], ctx.nodes[i].output[0]
    before, after = ctx.img(x, i), ctx.img(out, i)
    if before == after:
        return _alias(ctx, i, x)
    if len(after) == 1:
        return [ctx.draft("flatten", i)]
    return _shuffle(ctx, i, x, before, after) or opaque(ctx, i)


def _shuffle(ctx: Ctx, i: int, x: str, before: tuple[int, ...],
             after: tuple[int, ...]) -> list[Draft] | None:
    """Reshape (g, C/g, H, W) -> Transpose [0, 2, 1, 3, 4] -> Reshape back."""
    if len(before) != 3 or len(after) != 4 or after[0] * after[1] != before[0] or \
            after[2:] != before[1:]:
        return None
    t = ctx.sole_user(ctx.nodes[i].output[0])
    if not ctx.is_op(t, "Transpose") or list(ctx.attrs(t).get("perm", [])) != \
            [0, 2, 1, 3, 4]:                                        # type: ignore[arg-type]
        return None
    back = ctx.sole_user(ctx.nodes[t].output[0])                   # type: ignore[index]
    if not ctx.is_op(back, "Reshape") or \
            ctx.img(ctx.nodes[back].output[0], back) != before:    # type: ignore[index]
        return None
    ctx.claimed.update((t, back))                                  # type: ignore[arg-type]
    return [ctx.draft("channel_shuffle", i, {"groups": after[0]}, inputs=[x],
                      output=ctx.nodes[back].output[0],            # type: ignore[index]
                      nodes=[t, i, back])]                         # type: ignore[list-item]


@op("Flatten", "Squeeze")
def flatten(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    if len(data) != 1:
        return opaque(ctx, i)
    before, after = ctx.img(data[0], i), ctx.img(ctx.nodes[i].output[0], i)
    if before == after:
        return _alias(ctx, i, data[0])
    if len(after) == 1 and (ctx.nodes[i].op_type == "Squeeze" or
                            int(ctx.attrs(i).get("axis", 1)) == 1):
        return [ctx.draft("flatten", i)]
    return opaque(ctx, i)


@op("Transpose")
def transpose(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    if data == [ctx.src.input] and ctx.src.nhwc:
        return _alias(ctx, i, ctx.src.input)      # NHWC to NCHW: the image itself
    return opaque(ctx, i)


@op("GlobalAveragePool")
def global_avgpool(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    if len(data) != 1 or len(ctx.img(data[0], i)) != 3:
        return opaque(ctx, i)
    return [ctx.draft("global_avgpool", i)]


@op("ReduceMean")
def reduce_mean(ctx: Ctx, i: int) -> list[Draft]:
    node, a = ctx.nodes[i], ctx.attrs(i)
    data = ctx.data_inputs(i)
    if len(data) != 1 or len(ctx.img(data[0], i)) != 3:
        return opaque(ctx, i)
    given = ctx.value(node.input[1]) if len(node.input) > 1 and node.input[1] else \
        a.get("axes")
    if given is None or {int(v) % 4 for v in given} != {2, 3}:
        return opaque(ctx, i)
    if a.get("keepdims", 1):
        return [ctx.draft("global_avgpool", i)]
    c = ctx.img(data[0], i)[0]
    pooled = f"{node.output[0]}#pool"
    base = node.name or node.output[0]
    return [ctx.draft("global_avgpool", i, output=pooled, shape=(c, 1, 1)),
            ctx.draft("flatten", i, inputs=[pooled], nodes=[], name=f"{base}.flatten")]


@op("Softmax")
def softmax(ctx: Ctx, i: int) -> list[Draft]:
    data = ctx.data_inputs(i)
    axis = _axis(ctx, i, "axis", -1 if ctx.src.opset >= 13 else 1)
    rank = ctx.rank(ctx.nodes[i].output[0])
    if len(data) != 1 or axis != 1 or rank not in (2, 4):
        return opaque(ctx, i)
    return [ctx.draft("softmax", i)]


@op("LRN")
def lrn(ctx: Ctx, i: int) -> list[Draft]:
    a = ctx.attrs(i)
    if len(ctx.data_inputs(i)) != 1:
        return opaque(ctx, i)
    return [ctx.draft("lrn", i, {"size": int(a["size"]), "alpha": float(a.get("alpha", 1e-4)),
                                 "beta": float(a.get("beta", 0.75)),
                                 "k": float(a.get("bias", 1.0))})]
