"""One pass over the nodes in topological order: constants folded, shapes inferred.

See ``mnprof.onnxio.importer.tensors`` for what is folded and why, and
``mnprof.onnxio.importer.infer`` for where the shapes come from.
"""

from __future__ import annotations

from typing import Any

from ...core.errors import MnprofError
from .fold import FOLDERS, MAX_FOLD_ELEMENTS, shape_values
from .infer import Inference
from .source import Source
from .tensors import DATA_INPUT_ELEMENTS, VIEW_OPS, Const, Tensors, constant, initializer_const


def propagate(src: Source, order: list[int]) -> Tensors:
    """Constants and activation shapes of every tensor (see the module docstring)."""
    g = src.proto.graph
    t = Tensors()
    for tensor in g.initializer:
        t.consts[tensor.name] = initializer_const(tensor, src)
    t.shapes[src.input] = src.shape
    t.elems[src.input] = src.elem
    inference = Inference(src, t)
    for i in order:
        node = g.node[i]
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            t.consts[node.output[0]] = constant(node)
            t.folded.add(i)
        elif _fold(node, t, src, inference):
            t.folded.add(i)
        else:
            inference.run(node)
    return t


def _fold(node: Any, t: Tensors, src: Source, inference: Inference) -> bool:
    """Evaluate ``node`` if its inputs are constants (or, for Shape, known shapes)."""
    from ..proto import attribute_value

    ins = [x for x in node.input if x]
    if node.domain not in ("", "ai.onnx") or not node.output:
        return False
    shape_op = node.op_type in ("Shape", "Size") and len(ins) == 1
    if not shape_op and (not ins or not all(x in t.consts for x in ins)):
        return False
    attrs = {a.name: attribute_value(a) for a in node.attribute}
    if shape_op:
        shape = t.shape(ins[0])
        if shape is None:
            return False
        np = __import__("numpy")
        value = shape_values(shape, attrs) if node.op_type == "Shape" else \
            np.array(int(np.prod(shape, dtype=object)), dtype="int64")
        t.consts[node.output[0]] = Const.of(value)
        return True
    inputs = [t.consts[x] if x else None for x in node.input]
    fn = FOLDERS.get(node.op_type)
    if fn is not None and all(c is None or c.small for c in inputs):
        try:
            outs = fn(node, [c.value() if c is not None else None for c in inputs], attrs)
        except (ValueError, TypeError, IndexError, KeyError, ArithmeticError):
            outs = None
        if outs is not None and all(getattr(o, "size", 0) <= MAX_FOLD_ELEMENTS for o in outs):
            for name, value in zip(node.output, outs, strict=False):
                t.consts[name] = Const.of(value)
            return True
    if node.op_type in VIEW_OPS and len(node.output) == 1:
        return _lazy_view(node, inputs, t, inference)
    return False


def _lazy_view(node: Any, inputs: list[Const | None], t: Tensors,
               inference: Inference) -> bool:
    """A view of a (large) constant: its shape from ONNX's inference, its value on demand."""
    out = inference.one(node, {x: (c.elem, c.shape) for x, c in zip(node.input, inputs,
                                                                      strict=False) if c},
                        {x: c for x, c in zip(node.input, inputs, strict=False)
                         if c and c.size <= DATA_INPUT_ELEMENTS})
    typ = out.get(node.output[0]) if out else None
    if typ is None or typ[1] is None:
        return False
    fn = FOLDERS.get(node.op_type)

    def get() -> Any:
        if fn is None:
            raise MnprofError(f"the value of {node.output[0]!r} is not computed by mnprof")
        from ..proto import attribute_value
        a = {x.name: attribute_value(x) for x in node.attribute}
        return fn(node, [c.value() if c is not None else None for c in inputs], a)[0]

    t.consts[node.output[0]] = Const(typ[1], typ[0], get=get)
    return True
