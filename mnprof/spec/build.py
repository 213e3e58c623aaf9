"""Building a spec into a concrete layer graph at one width, depth and resolution.

``build(spec, alpha, resolution, depth=, classes=)`` expands blocks, repeats and
conditions, evaluates expressions, applies the width multiplier to channel counts
and propagates shapes. The result is a DAG of named ``Node``s in execution order,
each with its resolved attributes and its input and output shapes.

Rules (the README's "Spec language" says the same):

- a layer's input is the previous layer in its scope unless it names ``input`` or
  ``inputs``; ``in`` is the block's input (the network's input at top level);
- ``repeat: n`` builds the entry ceil(n * depth) times; its ``stride``, if any,
  applies to the first repetition only (the papers' "n blocks, the first with
  stride s"); an entry without ``repeat`` is built once at any depth;
- ``when: false`` omits the layer: the next layer takes the previous one's output;
  naming an omitted layer in ``inputs`` is an error;
- a block's output is its last layer that was not omitted;
- unnamed layers are named ``<kind><k>`` (or ``<block><k>``), counted per scope;
  a named entry repeated n times is named ``<name>_1`` ... ``<name>_n``;
  a layer inside a block is named ``<block instance>.<layer>``; two entries of one
  scope may not take the same name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.errors import MnprofError, SpecError
from ..core.values import (
    MAX_CLASSES,
    MAX_LAYERS,
    check_alpha,
    check_depth,
    check_int,
    check_resolution,
)
from ..model.graph import INPUT, Graph, Node, Shape, fmt_shape
from ..model.kinds import KINDS, Kind, ShapeError
from ..model.width import Rounding, Scale, scale_channels
from . import expr
from .document import BlockDef, Entry, Spec
from .parse import coerce


def build(spec: Spec | str | Path, alpha: float | None = None,
          resolution: int | None = None, *, depth: float | None = None,
          classes: int | None = None) -> Graph:
    """The concrete graph of ``spec`` (a Spec, a built-in's name or a spec file's path) at
    width ``alpha``, depth multiplier ``depth`` and input ``resolution`` (each default:
    the spec's own), with ``classes`` outputs."""
    if not isinstance(spec, Spec):
        from .builtins import load_spec
        spec = load_spec(spec)
    try:
        a = check_alpha(spec.alpha if alpha is None else alpha)
        d = check_depth(spec.depth if depth is None else depth)
        res = check_resolution(spec.resolution if resolution is None else resolution)
        n_classes = check_int("classes", spec.classes if classes is None else classes, 1,
                              MAX_CLASSES)
    except MnprofError as exc:          # name the spec's file too
        raise SpecError(str(exc), file=spec.file) from None
    expander = _Expander(spec, a, d, res, n_classes)
    out = expander.run()
    return Graph(model=spec.name, alpha=a, resolution=res,
                 input_shape=expander.shapes[INPUT], nodes=tuple(expander.nodes), output=out,
                 depth=d, file=spec.file, notes=spec.warnings,
                 reads_resolution=expander.reads_resolution)


class _Env(dict):  # type: ignore[type-arg]
    """A scope's names for expressions; reading one whose value follows from the
    resolution (``resolution``, ``hin``, a vector input's length as ``cin``) is recorded
    on the expander, so that a grid can tell a spec whose layers may change with the
    resolution from one whose layers cannot."""

    def __init__(self, values: Mapping[str, Any], watched: frozenset[str],
                 expander: _Expander) -> None:
        super().__init__(values)
        self.watched = watched
        self.expander = expander

    def __getitem__(self, key: str) -> Any:
        if key in self.watched:
            self.expander.reads_resolution = True
        return super().__getitem__(key)


_RES_NAMES = frozenset({"resolution", "hin"})


class _Skipped:
    """Marks a local name whose layer was omitted by ``when``."""


@dataclass(frozen=True)
class _Scope:
    prefix: str                     # "" at top level, "<instance>." in a block
    scope_in: str                   # the tensor `in` names
    params: Mapping[str, Any]
    type_key: str | None            # inherited per-type key (a block's `type:`)
    context: str                    # " (in bneck3, block bneck, from f.yaml:12)" for messages
    block: str                      # the top-level block instance ("" at top level)


class _Expander:
    def __init__(self, spec: Spec, alpha: float, depth: float, res: int, classes: int) -> None:
        self.spec = spec
        self.alpha = alpha
        self.depth = depth
        self.res = res
        self.classes = classes
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {INPUT: (spec.in_channels, res, res)}
        self.reads_resolution = False

    def ch(self, channels: Any) -> int:
        if not isinstance(channels, int) or isinstance(channels, bool):
            raise expr.ExprError(f"ch() needs an integer channel count, got {channels!r:.40}")
        return scale_channels(channels, self.alpha, self.spec.rounding, Scale.YES)

    def env(self, input_name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        shape = self.shapes[input_name]
        watched = _RES_NAMES if len(shape) == 3 else _RES_NAMES | {"cin"}
        return _Env({**params, "cin": shape[0], "hin": shape[1] if len(shape) == 3 else 1,
                     "alpha": self.alpha, "depth": self.depth, "classes": self.classes,
                     "resolution": self.res, "ch": self.ch}, watched, self)

    def run(self) -> str:
        return self.scope(self.spec.layers, _Scope("", INPUT, {}, None, "", ""))

    # -- one list of entries (the top level or one block instance) --------------

    def repeats(self, entry: Entry, env: Mapping[str, Any], context: str) -> int:
        repeat = self.value(entry, "repeat", entry.repeat, env, context)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise entry.field_error("repeat", f"must be an integer >= 1, got {repeat!r:.40}"
                                    + context)
        if "repeat" in entry.lines and self.depth != 1.0:
            repeat = math.ceil(repeat * self.depth)
        return repeat

    def scope(self, entries: tuple[Entry, ...], s: _Scope) -> str:
        env = self.env(s.scope_in, s.params)
        local: dict[str, str | _Skipped] = {"in": s.scope_in}
        counters: dict[str, int] = {}
        prev = s.scope_in
        for entry in entries:
            repeat = self.repeats(entry, env, s.context)
            when = True if entry.when is None else self.value(entry, "when", entry.when, env,
                                                              s.context)
            if not isinstance(when, bool):
                raise entry.field_error("when", f"must be true or false, got {when!r:.40}"
                                        + s.context)
            base = entry.name or entry.kind or entry.block
            assert base is not None
            if not when:
                if not isinstance(local.get(base, _Skipped()), str):
                    local[base] = _Skipped()
                continue
            for rep in range(repeat):
                if entry.name:
                    local_name = entry.name if repeat == 1 else f"{entry.name}_{rep + 1}"
                else:
                    counters[base] = counters.get(base, 0) + 1
                    local_name = f"{base}{counters[base]}"
                if isinstance(local.get(local_name), str):
                    raise entry.field_error("name", f"layer name {s.prefix + local_name!r} is "
                                                    f"used twice in this scope" + s.context)
                inputs = self.inputs(entry, local, prev, s.context)
                values = dict(entry.values)
                if rep > 0 and "stride" in values:
                    values["stride"] = self.unit_stride(entry)
                out = self.entry(entry, s, s.prefix + local_name, inputs, values, env)
                local[local_name] = out
                if entry.name and repeat > 1:
                    local[entry.name] = out      # the name alone means the last repetition
                prev = out
        return prev

    def unit_stride(self, entry: Entry) -> Any:
        """Stride 1 as the entry's field holds it (a layer's stride field in its final
        form, e.g. the pair (1, 1); a block's parameter as the number 1)."""
        kind = KINDS.get(entry.kind) if entry.kind is not None else None
        field = next((f for f in kind.fields if f.name == "stride"), None) if kind else None
        return 1 if field is None else coerce(field, 1, entry.where, "stride")

    def entry(self, entry: Entry, s: _Scope, full: str, inputs: tuple[str, ...],
              values: dict[str, Any], env: Mapping[str, Any]) -> str:
        if full in self.shapes:
            raise entry.field_error("name", f"layer name {full!r} is used twice" + s.context)
        ltype = entry.type_key or s.type_key
        if entry.kind is not None:
            return self.layer(entry, full, inputs, values, env, ltype, s)
        return self.block(entry, full, inputs, values, env, ltype, s)

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
                raise entry.field_error(key, f"no earlier layer named {ref!r:.60} in this "
                                             f"scope (known: {known}){context}")
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

    def attrs(self, entry: Entry, kind: Kind, values: Mapping[str, Any],
              env: Mapping[str, Any], context: str) -> dict[str, Any]:
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
        return attrs

    def layer(self, entry: Entry, full: str, inputs: tuple[str, ...],
              values: Mapping[str, Any], env: Mapping[str, Any], ltype: str | None,
              s: _Scope) -> str:
        kind = KINDS[entry.kind]  # type: ignore[index]
        lo, hi = kind.arity
        if len(inputs) < lo or (hi is not None and len(inputs) > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo}-{hi}"
            raise entry.field_error("inputs", f"kind {kind.name} takes {want} inputs, "
                                              f"got {len(inputs)}{s.context}")
        if len(self.nodes) >= MAX_LAYERS:
            raise entry.where.error(f"the network has more than {MAX_LAYERS:,} layers (the "
                                    "most mnprof builds); check `repeat` and `depth`")
        attrs = self.attrs(entry, kind, values, env, s.context)
        in_shapes = tuple(self.shapes[i] for i in inputs)
        try:
            shape = kind.output_shape(attrs, in_shapes)
        except ShapeError as exc:
            raise entry.where.error(f"{full}: {exc}{s.context}") from None
        if any(d < 1 for d in shape):
            raise entry.where.error(
                f"{full}: output {fmt_shape(shape)} collapses to zero from input "
                f"{' + '.join(fmt_shape(x) for x in in_shapes)} (resolution {self.res} is too "
                f"small for this network){s.context}")
        node = Node(name=full, kind=kind.name, attrs=MappingProxyType(attrs), inputs=inputs,
                    input_shapes=in_shapes, output_shape=shape,
                    type_key=ltype or kind.type_key(attrs, in_shapes), block=s.block)
        self.nodes.append(node)
        self.shapes[full] = shape
        return full

    def channels(self, entry: Entry, kind: Kind, attrs: dict[str, Any], context: str) -> int:
        key = kind.channel_field
        assert key is not None
        declared = attrs[key]
        if declared is None:                 # fc without `out`: the classes, never scaled
            return self.classes
        rounding: Rounding = attrs.get("rounding") or self.spec.rounding
        scale: Scale = attrs.get("scale", Scale.YES)
        got = scale_channels(declared, self.alpha, rounding, scale)
        if got < 1:
            raise entry.field_error(key, f"{declared} channels at alpha {self.alpha:g} round "
                                         f"to {got}{context}")
        field = next(f for f in kind.fields if f.name == key)
        return coerce(field, got, entry.where, key, entry.lines.get(key))

    # -- a block instance -------------------------------------------------------

    def block(self, entry: Entry, full: str, inputs: tuple[str, ...],
              values: Mapping[str, Any], env: Mapping[str, Any], ltype: str | None,
              s: _Scope) -> str:
        block: BlockDef = self.spec.blocks[entry.block]  # type: ignore[index]
        if len(inputs) != 1:
            raise entry.field_error("inputs", f"a block takes one input, got {len(inputs)}"
                                    + s.context)
        params = {}
        for pname, default in block.params.items():
            raw = values.get(pname, default)
            params[pname] = self.value(entry, pname, raw, env, s.context)
        inner = f" (in {full}, block {block.name}, from {entry.where.file}:{entry.where.line})"
        return self.scope(block.layers, _Scope(f"{full}.", inputs[0], params,
                                               ltype or block.type_key, inner, s.block or full))
