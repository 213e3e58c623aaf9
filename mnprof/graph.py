"""Building a spec into a concrete layer graph at one width and resolution.

``build(spec, alpha, resolution)`` expands blocks, repeats and conditions,
evaluates expressions, applies the width multiplier to channel counts and
propagates shapes. The result is a DAG of named ``Node``s in execution order,
each with its resolved attributes and its input and output shapes.

Rules (the README's "Spec language" says the same):

- a layer's input is the previous layer in its scope unless it names ``input`` or
  ``inputs``; ``in`` is the block's input (the network's input at top level);
- ``repeat: n`` builds the entry n times; its ``stride``, if any, applies to the first
  repetition only (the papers' "n blocks, the first with stride s");
- ``when: false`` omits the layer: the next layer takes the previous one's output;
  naming an omitted layer in ``inputs`` is an error;
- a block's output is its last layer that was not omitted;
- unnamed layers are named ``<kind><k>`` (or ``<block><k>``), counted per scope;
  a named entry repeated n times is named ``<name>_1`` ... ``<name>_n``;
  a layer inside a block is named ``<block instance>.<layer>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import expr
from .errors import SpecError
from .kinds import KINDS, Kind, Shape, ShapeError
from .spec import BlockDef, Entry, Spec, coerce
from .width import Rounding, Scale, scale_channels

INPUT = "input"


@dataclass(frozen=True)
class Node:
    name: str
    kind: str
    attrs: Mapping[str, Any]
    inputs: tuple[str, ...]            # names of producing nodes; INPUT is the network input
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    type: str                          # the per-type key: conv1x1, dw3x3, fc, se, ...
    line: int | None = None

    @property
    def spec_kind(self) -> Kind:
        return KINDS[self.kind]


@dataclass(frozen=True)
class Graph:
    model: str
    alpha: float
    resolution: int
    input_shape: Shape
    classes: int
    nodes: tuple[Node, ...]
    output: str

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


def build(spec: Spec, alpha: float = 1.0, resolution: int | None = None) -> Graph:
    """The concrete graph of ``spec`` at width ``alpha`` and input ``resolution``."""
    if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and alpha > 0):
        raise SpecError(f"alpha must be a number > 0, got {alpha!r}", file=spec.file)
    res = spec.resolution if resolution is None else resolution
    if not isinstance(res, int) or isinstance(res, bool) or res < 1:
        raise SpecError(f"resolution must be an integer >= 1, got {res!r}", file=spec.file)
    builder = _Builder(spec, float(alpha), res)
    out = builder.run()
    return Graph(model=spec.name, alpha=float(alpha), resolution=res,
                 input_shape=builder.shapes[INPUT], classes=spec.classes,
                 nodes=tuple(builder.nodes), output=out)


class _Skipped:
    """Marks a local name whose layer was omitted by ``when``."""


class _Builder:
    def __init__(self, spec: Spec, alpha: float, res: int) -> None:
        self.spec = spec
        self.alpha = alpha
        self.res = res
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {INPUT: (spec.in_channels, res, res)}

    def ch(self, channels: Any) -> int:
        if not isinstance(channels, int) or isinstance(channels, bool):
            raise expr.ExprError(f"ch() needs an integer channel count, got {channels!r}")
        return scale_channels(channels, self.alpha, self.spec.rounding, Scale.YES)

    def env(self, input_name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        shape = self.shapes[input_name]
        return {**params, "cin": shape[0], "hin": shape[1] if len(shape) == 3 else 1,
                "alpha": self.alpha, "classes": self.spec.classes,
                "resolution": self.res, "ch": self.ch}

    def run(self) -> str:
        return self.scope(self.spec.layers, prefix="", scope_in=INPUT, params={},
                          inherited_type=None, context="")

    # -- one list of entries (the top level or one block instance) --------------

    def scope(self, entries: tuple[Entry, ...], *, prefix: str, scope_in: str,
              params: Mapping[str, Any], inherited_type: str | None, context: str) -> str:
        env = self.env(scope_in, params)
        local: dict[str, str | _Skipped] = {"in": scope_in}
        counters: dict[str, int] = {}
        prev = scope_in
        for entry in entries:
            repeat = self.value(entry, "repeat", entry.repeat, env, context)
            if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
                raise entry.field_error("repeat", f"must be an integer >= 1, got {repeat!r}"
                                        + context)
            when = True if entry.when is None else self.value(entry, "when", entry.when, env,
                                                              context)
            if not isinstance(when, bool):
                raise entry.field_error("when", f"must be true or false, got {when!r}" + context)
            base = entry.name or entry.kind or entry.block
            assert base is not None
            if not when:
                local[base] = _Skipped()
                continue
            for rep in range(repeat):
                if entry.name:
                    local_name = entry.name if repeat == 1 else f"{entry.name}_{rep + 1}"
                else:
                    counters[base] = counters.get(base, 0) + 1
                    local_name = f"{base}{counters[base]}"
                inputs = self.inputs(entry, local, prev, context)
                full = prefix + local_name
                if full in self.shapes:
                    raise entry.field_error("name", f"layer name {full!r} is used twice"
                                            + context)
                values = dict(entry.values)
                if rep > 0 and "stride" in values:
                    values["stride"] = 1
                ltype = entry.type or inherited_type
                if entry.kind is not None:
                    out = self.layer(entry, full, inputs, values, env, ltype, context)
                else:
                    out = self.block(entry, full, inputs, values, env, ltype, context)
                local[local_name] = out
                if entry.name and repeat > 1:
                    local[entry.name] = out      # the name alone means the last repetition
                prev = out
        return prev

    def inputs(self, entry: Entry, local: Mapping[str, str | _Skipped], prev: str,
               context: str) -> tuple[str, ...]:
        if entry.inputs is None:
            return (prev,)
        key = "input" if "input" in entry.lines else "inputs"
        resolved = []
        for ref in entry.inputs:
            target = local.get(ref)
            if target is None:
                known = ", ".join(k for k, v in local.items() if not isinstance(v, _Skipped))
                raise entry.field_error(key, f"no earlier layer named {ref!r} in this scope "
                                             f"(known: {known}){context}")
            if isinstance(target, _Skipped):
                raise entry.field_error(key, f"layer {ref!r} is omitted here (its `when` is "
                                             f"false), so it cannot be an input{context}")
            resolved.append(target)
        return tuple(resolved)

    def value(self, entry: Entry, key: str, raw: Any, env: Mapping[str, Any],
              context: str) -> Any:
        if not expr.is_expr(raw):
            return raw
        try:
            return expr.evaluate(raw, env)
        except expr.ExprError as exc:
            raise entry.field_error(key, f"{exc}{context}") from None

    # -- a layer ----------------------------------------------------------------

    def layer(self, entry: Entry, full: str, inputs: tuple[str, ...],
              values: Mapping[str, Any], env: Mapping[str, Any], ltype: str | None,
              context: str) -> str:
        kind = KINDS[entry.kind]  # type: ignore[index]
        lo, hi = kind.inputs
        if len(inputs) < lo or (hi is not None and len(inputs) > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo}-{hi}"
            raise entry.field_error("inputs", f"kind {kind.name} takes {want} inputs, "
                                              f"got {len(inputs)}{context}")
        attrs: dict[str, Any] = {}
        for fld in kind.fields:
            raw = values.get(fld.name, fld.default)
            value = self.value(entry, fld.name, raw, env, context)
            if expr.is_expr(raw) or (fld.name not in values and value is not None):
                try:
                    value = coerce(fld, value, entry.where, fld.name, entry.lines.get(fld.name))
                except SpecError as exc:
                    raise SpecError(exc.message + context, file=exc.file, line=exc.line,
                                    field=exc.field) from None
            attrs[fld.name] = value
        if "rounding" in attrs and attrs["rounding"] is None:
            attrs["rounding"] = self.spec.rounding
        if kind.channel_field:
            attrs[kind.channel_field] = self.channels(entry, kind, attrs, context)
        kind.complete(attrs)
        in_shapes = tuple(self.shapes[i] for i in inputs)
        try:
            shape = kind.output_shape(attrs, in_shapes)
        except ShapeError as exc:
            raise entry.where.error(f"{full}: {exc}{context}") from None
        if any(d < 1 for d in shape):
            raise entry.where.error(
                f"{full}: output {_fmt(shape)} collapses to zero from input "
                f"{' + '.join(_fmt(s) for s in in_shapes)} (resolution {self.res} is too "
                f"small for this network){context}")
        node = Node(name=full, kind=kind.name, attrs=MappingProxyType(attrs), inputs=inputs,
                    input_shapes=in_shapes, output_shape=shape,
                    type=ltype or kind.type_key(attrs, in_shapes), line=entry.where.line)
        self.nodes.append(node)
        self.shapes[full] = shape
        return full

    def channels(self, entry: Entry, kind: Kind, attrs: dict[str, Any], context: str) -> int:
        key = kind.channel_field
        assert key is not None
        declared = attrs[key]
        if declared is None:                 # fc without `out`: the classes, never scaled
            return self.spec.classes
        rounding: Rounding = attrs.get("rounding") or self.spec.rounding
        scale: Scale = attrs.get("scale", Scale.YES)
        got = scale_channels(declared, self.alpha, rounding, scale)
        if got < 1:
            raise entry.field_error(key, f"{declared} channels at alpha {self.alpha:g} round "
                                         f"to {got}{context}")
        return got

    # -- a block instance -------------------------------------------------------

    def block(self, entry: Entry, full: str, inputs: tuple[str, ...],
              values: Mapping[str, Any], env: Mapping[str, Any], ltype: str | None,
              context: str) -> str:
        block: BlockDef = self.spec.blocks[entry.block]  # type: ignore[index]
        if len(inputs) != 1:
            raise entry.field_error("inputs", f"a block takes one input, got {len(inputs)}"
                                    + context)
        params = {}
        for pname, default in block.params.items():
            raw = values.get(pname, default)
            params[pname] = self.value(entry, pname, raw, env, context)
        inner_context = f" (in {full}, block {block.name}, from {entry.where.file}:" \
                        f"{entry.where.line})"
        return self.scope(block.layers, prefix=f"{full}.", scope_in=inputs[0], params=params,
                          inherited_type=ltype or block.type, context=inner_context)


def _fmt(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)

