"""The file an import starts from: loaded safely, its image input found, its dimensions bound.

- The model is read by ``mnprof.onnxio.load`` (bounded, acyclic, external data only
  from beside the model); external weights are checked but not read: an import
  needs their shapes, not their values.
- It must have one image input of a float type, ``[N, C, H, W]``, or ``[N, H, W, C]``
  read only through a ``Transpose`` to NCHW (as Keras / tf2onnx write it).
- Symbolic dimensions get values: ``dims={"name": value}`` first; a symbolic batch
  is 1; symbolic H and W take ``resolution``. Any other symbolic dimension, and a
  ``resolution`` for a file whose H and W are fixed otherwise, is an error.
- Values are bounded (``mnprof.core.values``): batch, channels, H and W.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.errors import MnprofError
from ...core.values import (
    MAX_BATCH,
    MAX_CHANNELS,
    MAX_LAYERS,
    MAX_RESOLUTION,
    check_int,
    is_int,
)
from ..load import ExternalRef, check_external, load_model

FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}
NHWC_PERM = [0, 3, 1, 2]
# Control flow: a subgraph runs a data-dependent number of times; mnprof cannot count it.
SUBGRAPH_OPS = ("If", "Loop", "Scan")


@dataclass(frozen=True)
class Source:
    """A loaded model and its bound image input."""

    proto: Any                          # onnx.ModelProto (external data not read)
    name: str                           # the path as given, for messages and reports
    input: str                          # the image input's tensor name
    shape: tuple[int, ...]              # its bound shape, in the file's layout
    nhwc: bool                          # [N, H, W, C] read through a Transpose
    elem: int                           # its element type (TensorProto.FLOAT, ...)
    refs: Mapping[str, ExternalRef]     # external initializers, checked, unread
    opset: int
    metadata: Mapping[str, str]
    symbolic: Mapping[str, int]         # dim_param -> the value it was given

    @property
    def fixed_batch(self) -> bool:
        """Whether the file itself gives the batch (not a symbolic dimension)."""
        d = self.proto.graph.input[self._index].type.tensor_type.shape.dim[0]
        return d.HasField("dim_value") and d.dim_value > 0

    @property
    def _index(self) -> int:
        return next(i for i, vi in enumerate(self.proto.graph.input) if vi.name == self.input)

    @property
    def batch(self) -> int:
        return self.shape[0]

    @property
    def image(self) -> tuple[int, int, int]:
        """(C, H, W) per image."""
        n, *rest = self.shape
        c, h, w = (rest[2], rest[0], rest[1]) if self.nhwc else rest
        return c, h, w


def load_source(model: Any, *, dims: Mapping[str, int] | None = None,
                resolution: int | None = None, name: str | None = None) -> Source:
    """Load ``model`` (a path or a ModelProto) and bind its input's dimensions."""
    from ..proto import pb

    protos = pb()
    if isinstance(model, protos.ModelProto):
        label = name or model.graph.name or "<model>"
        proto = load_model(model)
        refs = check_external(proto, Path(label).resolve().parent, label) if name else {}
    else:
        label = os.fspath(model)
        proto = load_model(label, external_data=False)
        refs = check_external(proto, Path(label).resolve().parent, label)
    g = proto.graph
    if len(g.node) > MAX_LAYERS:
        raise MnprofError(f"{label}: {len(g.node):,} nodes; mnprof imports at most "
                          f"{MAX_LAYERS:,}")
    for node in g.node:
        if node.op_type in SUBGRAPH_OPS or any(a.type in (protos.AttributeProto.GRAPH,
                                                           protos.AttributeProto.GRAPHS)
                                                for a in node.attribute):
            raise MnprofError(f"{label}: node {node.name or node.output[0]!r:.80} "
                              f"({node.op_type}) runs a subgraph; control flow is not "
                              "supported (mnprof counts straight-line graphs)")
    vi = _image_input(g, label)
    elem = vi.type.tensor_type.elem_type
    nhwc = _reads_nhwc(g, vi.name)
    shape, symbolic = _bind(vi, label, dict(dims or {}), resolution, nhwc)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    return Source(proto=proto, name=label, input=vi.name, shape=shape, nhwc=nhwc, elem=elem,
                  refs=refs, opset=opset,
                  metadata={p.key: p.value for p in proto.metadata_props},
                  symbolic=symbolic)


def _image_input(g: Any, label: str) -> Any:
    inits = {t.name for t in g.initializer}
    inputs = [vi for vi in g.input if vi.name not in inits]
    if len(inputs) != 1:
        names = ", ".join(repr(vi.name) for vi in inputs[:5]) or "none"
        raise MnprofError(f"{label}: {len(inputs)} graph inputs ({names}); mnprof imports "
                          "models with one image input")
    vi = inputs[0]
    tt = vi.type.tensor_type
    if not vi.type.HasField("tensor_type") or tt.elem_type not in FLOAT_TYPES:
        from ..proto import pb
        TensorProto = pb().TensorProto
        what = TensorProto.DataType.Name(tt.elem_type) if tt.elem_type else "not a tensor"
        raise MnprofError(f"{label}: input {vi.name!r:.60} is {what}; mnprof imports models "
                          "whose input is a float image")
    rank = len(tt.shape.dim) if tt.HasField("shape") else 0
    if rank != 4:
        raise MnprofError(f"{label}: input {vi.name!r:.60} has rank {rank}; mnprof imports "
                          "image models, input [N, C, H, W] (or [N, H, W, C] read through a "
                          "Transpose)")
    return vi


def _reads_nhwc(g: Any, name: str) -> bool:
    """Whether every reader of the input is a Transpose from NHWC to NCHW."""
    readers = [n for n in g.node if name in n.input]
    return bool(readers) and all(
        n.op_type == "Transpose" and [a.ints for a in n.attribute if a.name == "perm"]
        == [NHWC_PERM] for n in readers)


def _bind(vi: Any, label: str, dims: dict[str, int], resolution: int | None,
          nhwc: bool) -> tuple[tuple[int, ...], dict[str, int]]:
    """The input's shape with every symbolic dimension given a value (see the docstring)."""
    spatial = (1, 2) if nhwc else (2, 3)
    channel = 3 if nhwc else 1
    names = {d.dim_param for d in vi.type.tensor_type.shape.dim if d.dim_param}
    for key in dims:
        if key not in names:
            known = ", ".join(sorted(names)) or "none"
            raise MnprofError(f"{label}: no symbolic dimension named {key!r:.60} (the input's "
                              f"are: {known})")
    out, used = [], {}
    fixed_hw = []
    for axis, d in enumerate(vi.type.tensor_type.shape.dim):
        what = ("batch" if axis == 0 else "channels" if axis == channel else
                "height" if axis == spatial[0] else "width")
        if d.HasField("dim_value") and d.dim_value > 0:
            value = d.dim_value
            if axis in spatial:
                fixed_hw.append(value)
        elif d.dim_param in dims:
            value = dims[d.dim_param]
        elif axis == 0:
            value = 1
        elif axis in spatial and resolution is not None:
            value = resolution
        else:
            label_dim = repr(d.dim_param) if d.dim_param else "unnamed"
            hint = (" or --res N" if axis in spatial else "")
            raise MnprofError(f"{label}: input {vi.name!r:.60} dimension {axis} ({what}) is "
                              f"symbolic ({label_dim}); give it a value with --dim "
                              f"{d.dim_param or 'NAME'}=N{hint}")
        if d.dim_param:
            used[d.dim_param] = value
        out.append(_checked(label, what, value))
    if resolution is not None and fixed_hw and any(v != resolution for v in fixed_hw):
        raise MnprofError(f"{label}: the input's height and width are fixed in the file "
                          f"({out[spatial[0]]}x{out[spatial[1]]}); a resolution applies only "
                          "to symbolic ones")
    return tuple(out), used


def _checked(label: str, what: str, value: Any) -> int:
    high = {"batch": MAX_BATCH, "channels": MAX_CHANNELS}.get(what, MAX_RESOLUTION)
    if not is_int(value):
        raise MnprofError(f"{label}: the input's {what} must be an integer, got {value!r:.40}")
    try:
        return check_int(f"the input's {what}", value, 1, high)
    except MnprofError as exc:
        raise MnprofError(f"{label}: {exc}") from None
