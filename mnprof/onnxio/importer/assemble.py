"""Drafts to layers: fusion as the spec writes it, names, shapes checked against ONNX's.

Fusion (each only when the layer's output is read by the next draft alone, and is
not a graph output):

- a ``batchnorm`` after a conv without batch-norm or activation: ``bn: true``;
- an activation after a conv or fc without one: ``act: <name>``;
- a ``flatten`` read by an fc: the fc reads the map itself (same MACs).

Each layer is named after the first ONNX node it covers (its output tensor when
the node has no name), made unique by a ``_2``, ``_3``... suffix in graph order.
Its attributes go through the kind's fields (as a spec's do), its output shape
comes from the kind's shape rule and must equal what ONNX inferred. A draft
that does not fit its kind (a pool padded more than half its window, say)
becomes an ``onnx:<OpType>`` layer with a note, unless it multiplies and
accumulates: then the import stops.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ...core.errors import MnprofError
from ...model.activations import names as activation_names
from ...model.fields import REQUIRED, FieldError
from ...model.graph import INPUT, Node, Shape, fmt_shape
from ...model.kinds import KINDS, ShapeError
from ...model.kinds.opaque import PREFIX
from ...model.width import Rounding
from .context import Ctx, Draft

CONV_KINDS = ("conv", "dwconv", "pwconv", "deconv")


def fuse(ctx: Ctx, drafts: list[Draft]) -> list[Draft]:
    """``drafts`` with batch-norms, activations and flattens folded (module docstring)."""
    acts = set(activation_names()) - {"none"}
    readers: dict[str, list[int]] = {}
    for k, d in enumerate(drafts):
        for x in d.inputs:
            readers.setdefault(x, []).append(k)
    producer = {d.output: k for k, d in enumerate(drafts)}
    dead: set[int] = set()

    def sole(k: int, tensor: str) -> int | None:
        """The draft making ``tensor`` when draft ``k`` alone reads it."""
        p = producer.get(tensor)
        if p is None or p in dead or readers.get(tensor) != [k] or tensor in ctx.outputs:
            return None
        return p

    for k, d in enumerate(drafts):
        p = sole(k, d.inputs[0]) if len(d.inputs) == 1 else None
        if p is None:
            continue
        src = drafts[p]
        if d.kind == "batchnorm" and src.kind in CONV_KINDS and \
                not src.attrs.get("bn") and not src.attrs.get("act"):
            src.attrs.update(bn=True, bn_eps=d.attrs["bn_eps"])
        elif d.kind in acts and (src.kind in CONV_KINDS or src.kind == "fc") and \
                not src.attrs.get("act"):
            src.attrs["act"] = d.kind
        elif d.kind == "fc" and src.kind == "flatten":
            d.inputs, d.nodes = list(src.inputs), [*d.nodes, *src.nodes]
            for x in src.inputs:
                readers[x] = [k if r == p else r for r in readers.get(x, [])]
            dead.add(p)
            continue
        else:
            continue
        src.nodes += d.nodes
        src.output = d.output
        producer[d.output] = p
        readers.update({x: [p if r == k else r for r in rs] for x, rs in readers.items()
                        if k in rs})
        dead.add(k)
    return [d for k, d in enumerate(drafts) if k not in dead]


def unique_names(ctx: Ctx, drafts: Sequence[Draft]) -> list[str]:
    taken: set[str] = {INPUT}
    out = []
    for d in drafts:
        base = d.name
        if not base:
            node = ctx.nodes[d.nodes[0]]
            base = node.name or node.output[0]
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        out.append(name)
    return out


def make_attrs(kind: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """A kind's attributes from what the ONNX node gives, the rest the fields' defaults,
    each checked by its field as a spec's would be."""
    attrs: dict[str, Any] = {}
    known = {f.name for f in kind.fields}
    extra = set(given) - known
    if extra:
        raise AssertionError(f"{kind.name} has no field(s) {sorted(extra)}")
    for f in kind.fields:
        value = given.get(f.name, f.default)
        if value is REQUIRED:
            raise FieldError(f"{f.name}: required")
        try:
            attrs[f.name] = f.check(value)
        except FieldError as exc:
            raise FieldError(f"{f.name} {exc}") from None
    if "rounding" in attrs and attrs["rounding"] is None:
        attrs["rounding"] = Rounding.TRUNCATE
    kind.complete(attrs)
    return attrs


def build_nodes(ctx: Ctx, drafts: Sequence[Draft], names: Sequence[str]
                ) -> tuple[list[Node], list[str]]:
    """The layers, in order, and the notes their building left."""
    layer_of: dict[str, str] = {ctx.src.input: INPUT}
    shapes: dict[str, Shape] = {INPUT: ctx.src.image}
    nodes, notes = [], []
    for d, name in zip(drafts, names, strict=True):
        inputs = []
        for x in d.inputs:
            if x not in layer_of:
                raise ctx.fail(d.nodes[0] if d.nodes else None,  # type: ignore[arg-type]
                               f"reads tensor {x!r:.80}, which no layer makes")
            inputs.append(layer_of[x])
        in_shapes = tuple(shapes[x] for x in inputs)
        want = d.shape or ctx.img(d.output, d.nodes[0] if d.nodes else None)
        try:
            node = _node(d, name, tuple(inputs), in_shapes, want)
        except (FieldError, ShapeError) as exc:
            i = d.nodes[0] if d.nodes else None
            if d.mac:
                raise ctx.fail(i, f"cannot be a {d.kind} layer: {exc}") from None  # type: ignore
            op = ctx.nodes[i].op_type if i is not None else d.kind
            notes.append(f"{ctx.label(i)}: not a {d.kind} layer ({exc}); counted as "
                         f"{PREFIX}{op}")
            node = _opaque(name, op, tuple(inputs), in_shapes, want)
        nodes.append(node)
        layer_of[d.output] = name
        shapes[name] = node.output_shape
    return nodes, notes


def _opaque(name: str, op: str, inputs: tuple[str, ...], in_shapes: tuple[Shape, ...],
            shape: Shape) -> Node:
    attrs = MappingProxyType({"op_type": op, "shape": tuple(shape)})
    return Node(name=name, kind=f"{PREFIX}{op}", attrs=attrs, inputs=inputs,
                input_shapes=in_shapes, output_shape=tuple(shape), type_key=f"{PREFIX}{op}")


def _node(d: Draft, name: str, inputs: tuple[str, ...], in_shapes: tuple[Shape, ...],
          want: Shape) -> Node:
    if d.kind.startswith(PREFIX):
        return _opaque(name, d.attrs["op_type"], inputs, in_shapes, tuple(d.attrs["shape"]))
    kind = KINDS[d.kind]
    lo, hi = kind.arity
    if len(inputs) < lo or (hi is not None and len(inputs) > hi):
        raise ShapeError(f"{kind.name} takes {lo}{'' if hi == lo else '+'} inputs, got "
                         f"{len(inputs)}")
    attrs = make_attrs(kind, d.attrs)
    shape = kind.output_shape(attrs, in_shapes)
    if tuple(shape) != tuple(want):
        raise ShapeError(f"mnprof's shape rule gives {fmt_shape(shape)}, ONNX's shape "
                         f"inference {fmt_shape(want)}")
    if any(v < 1 for v in shape):
        raise ShapeError(f"output {fmt_shape(shape)} is empty")
    return Node(name=name, kind=kind.name, attrs=MappingProxyType(attrs), inputs=inputs,
                input_shapes=in_shapes, output_shape=tuple(shape),
                type_key=kind.type_key(attrs, in_shapes))


def unmodelled_note(nodes: Sequence[Node]) -> tuple[dict[str, int], str | None]:
    """Op types counted as ``onnx:<OpType>`` layers, and the note saying so."""
    counts = Counter(n.attrs["op_type"] for n in nodes if n.kind.startswith(PREFIX))
    if not counts:
        return {}, None
    listed = ", ".join(f"{op} x{k}" for op, k in sorted(counts.items()))
    total = sum(counts.values())
    return dict(counts), (f"not modelled by mnprof: {total} node(s) of {len(counts)} op "
                          f"type(s) ({listed}); each is an onnx:<OpType> layer with its "
                          "output elements counted and 0 MACs")


def check_layers(ctx: Ctx, drafts: Sequence[Draft]) -> None:
    if not drafts:
        raise MnprofError(f"{ctx.src.name}: the graph computes nothing mnprof can count "
                          "(no layers after constants and identities are removed)")
