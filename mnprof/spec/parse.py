"""Spec files: reading and static validation.

A spec is YAML shaped like the papers' tables::

    name: mobilenet_v1
    input: {resolution: 224, channels: 3}
    classes: 1000
    rounding: truncate            # how alpha rounds channels: truncate | multiple_of_8
    blocks:
      separable:                  # defined once, used with parameters
        params: {out: null, stride: 1}     # null: the parameter is required
        layers:
          - {name: dw, kind: dwconv, kernel: 3, stride: $stride, bn: true, act: relu}
          - {name: pw, kind: pwconv, out: $out, bn: true, act: relu}
    layers:
      - {name: conv1, kind: conv, kernel: 3, stride: 2, out: 32, bn: true, act: relu}
      - {block: separable, out: 64}
      - {block: separable, out: 512, repeat: 5}

Everything that can be checked without building the network is checked here, so
a typo in a block that no layer uses is still an error. What depends on alpha,
depth and resolution (expression values, shapes) is checked by ``mnprof.spec.build``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..core.errors import SpecError, Where, did_you_mean
from ..core.values import MAX_BLOCKS, MAX_CHANNELS, MAX_CLASSES, MAX_REPEAT, MAX_RESOLUTION
from ..core.yamlsrc import LMap, LSeq, line_of
from ..model.fields import REQUIRED, FieldError, FloatField, IntField, RoundingField
from ..model.kinds import KINDS
from . import expr
from .document import (
    BLOCK_FIELDS,
    COMMON_FIELDS,
    NAME_RE,
    RESERVED_NAMES,
    SCOPE_NAMES,
    TOP_FIELDS,
    TYPE_RE,
    BlockDef,
    Entry,
    Spec,
)
from .references import check_references

_RESOLUTION = IntField("resolution", maximum=MAX_RESOLUTION)
_CHANNELS = IntField("channels", 3, maximum=MAX_CHANNELS)
_CLASSES = IntField("classes", 1000, maximum=MAX_CLASSES)
_ROUNDING = RoundingField("rounding", "truncate")
_ALPHA = FloatField("alpha", 1.0, minimum=0.0, maximum=10.0, closed=True)
_DEPTH = FloatField("depth", 1.0, minimum=0.0, maximum=10.0, closed=True)
_REPEAT = IntField("repeat", 1, maximum=MAX_REPEAT)
MAX_WIDTHS = 100


def coerce(fld: Any, value: Any, where: Where, key: str, line: int | None = None) -> Any:
    """A field's value checked against its declared type, in its final form."""
    try:
        return fld.check(value)
    except FieldError as exc:
        raise where.error(str(exc), key, line) from None


def parse_spec(data: Any, *, file: str, default_name: str = "model") -> Spec:
    top = Where(file, line_of(data), "")
    if not isinstance(data, LMap):
        raise SpecError("a spec must be a mapping of fields (name, input, layers, ...)",
                        file=file, line=line_of(data))
    no_unknown(data, TOP_FIELDS, top, "spec")
    name = _opt_str(data, "name", top) or default_name
    description = _opt_str(data, "description", top) or ""

    inp = data.get("input")
    if not isinstance(inp, LMap):
        raise top.error("required: a mapping {resolution: N, channels: N}", "input",
                        line_of(data, "input"))
    in_where = Where(file, inp.line, "input")
    no_unknown(inp, ("resolution", "channels"), in_where, "input")
    if "resolution" not in inp:
        raise in_where.error("required: a positive integer", "resolution")

    def value(container: LMap, fld: Any, where: Where) -> Any:
        raw = container.get(fld.name, fld.default)
        return coerce(fld, raw, where, fld.name, line_of(container, fld.name))

    alpha, depth = value(data, _ALPHA, top), value(data, _DEPTH, top)
    if alpha <= 0 or depth <= 0:
        bad = "alpha" if alpha <= 0 else "depth"
        raise top.error("must be a number > 0", bad, line_of(data, bad))
    blocks = _parse_blocks(data, top)
    if len(blocks) > MAX_BLOCKS:
        raise top.error(f"{len(blocks)} blocks; a spec may define at most {MAX_BLOCKS}",
                        "blocks", line_of(data, "blocks"))
    if "layers" not in data:
        raise top.error("required: the list of layers", "layers")
    layers = _parse_entries(data["layers"], Where(file, line_of(data, "layers"), "layers"))
    spec = Spec(name=name, file=file, resolution=value(inp, _RESOLUTION, in_where),
                in_channels=value(inp, _CHANNELS, in_where), classes=value(data, _CLASSES, top),
                rounding=value(data, _ROUNDING, top), blocks=blocks, layers=layers,
                description=description, alpha=alpha, depth=depth,
                widths=_widths(data, top))
    return replace(spec, warnings=tuple(check_references(spec)))


def _widths(data: LMap, top: Where) -> tuple[float, ...]:
    """The spec's own widths (``widths: [0.5, 1.0, 1.5, 2.0]``), each once; () if none."""
    if "widths" not in data:
        return ()
    raw, line = data["widths"], line_of(data, "widths")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_WIDTHS:
        raise top.error(f"must be a list of 1 to {MAX_WIDTHS} width multipliers, e.g. "
                        "[0.5, 1.0]", "widths", line)
    out = tuple(coerce(_ALPHA, v, top, "widths", line) for v in raw)
    if min(out) <= 0 or len(set(out)) != len(out):
        raise top.error("must be numbers > 0, each once", "widths", line)
    return out


def _parse_blocks(data: LMap, top: Where) -> dict[str, BlockDef]:
    blocks: dict[str, BlockDef] = {}
    raw_blocks = data.get("blocks", LMap())
    if not isinstance(raw_blocks, dict):
        raise top.error("must be a mapping of block name to block", "blocks",
                        line_of(data, "blocks"))
    for bname, raw in raw_blocks.items():
        bwhere = Where(top.file, line_of(raw_blocks, bname), f"blocks.{bname}")
        if not NAME_RE.match(bname) or bname in RESERVED_NAMES:
            raise bwhere.error("a block name must be an identifier (letters, digits, _)")
        blocks[bname] = _parse_block(bname, raw, bwhere)
    return blocks


def _parse_block(bname: str, raw: Any, where: Where) -> BlockDef:
    if not isinstance(raw, LMap):
        raise where.error("a block must be a mapping with `layers` (and optional `params`)")
    no_unknown(raw, BLOCK_FIELDS, where, "block")
    params_raw = raw.get("params", LMap())
    if not isinstance(params_raw, LMap):
        raise where.error("must be a mapping of parameter name to default (null: required)",
                          "params", line_of(raw, "params"))
    params: dict[str, Any] = {}
    for pname, default in params_raw.items():
        if not NAME_RE.match(pname) or pname in SCOPE_NAMES or pname in RESERVED_NAMES \
                or pname in COMMON_FIELDS:
            raise where.error(f"parameter name {pname!r} is reserved or not an identifier",
                              f"params.{pname}", line_of(params_raw, pname))
        if isinstance(default, (dict, list)) or expr.is_expr(default):
            raise where.error("a parameter default must be a plain value",
                              f"params.{pname}", line_of(params_raw, pname))
        params[pname] = REQUIRED if default is None else default
    btype = _opt_str(raw, "type", where)
    if btype is not None and not TYPE_RE.match(btype):
        raise where.error("a type key is letters, digits and _", "type", line_of(raw, "type"))
    if "layers" not in raw:
        raise where.error("required: the block's list of layers", "layers")
    layers = _parse_entries(raw["layers"], Where(where.file, line_of(raw, "layers"),
                                                 f"{where.path}.layers"))
    return BlockDef(bname, where, params, btype, layers)


def _parse_entries(raw: Any, where: Where) -> tuple[Entry, ...]:
    if not isinstance(raw, LSeq) or not raw:
        raise where.error("must be a non-empty list of layers")
    return tuple(_parse_entry(item, Where(where.file, line_of(raw, i), f"{where.path}[{i}]"))
                 for i, item in enumerate(raw))


def _parse_entry(raw: Any, where: Where) -> Entry:
    if not isinstance(raw, LMap):
        raise where.error("a layer must be a mapping such as {kind: conv, kernel: 3, out: 32}")
    kind, block = raw.get("kind"), raw.get("block")
    if (kind is None) == (block is None):
        raise where.error("a layer needs exactly one of `kind` (a layer kind) or `block` "
                          "(a block defined under blocks:)")
    lines = dict(raw.lines)
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise where.error(f"unknown kind {kind!r:.60}{did_you_mean(str(kind), KINDS)}; kinds: "
                          f"{', '.join(KINDS)}", "kind", lines.get("kind"))
    if block is not None and not isinstance(block, str):
        raise where.error("must be a block name", "block", lines.get("block"))
    name = _opt_str(raw, "name", where)
    if name is not None and (not NAME_RE.match(name) or name in RESERVED_NAMES):
        raise where.error(f"{name!r} is not a usable name (an identifier other than "
                          "'in' and 'input')", "name", lines.get("name"))
    inputs = _entry_inputs(raw, where, lines)
    repeat = raw.get("repeat", 1)
    if not expr.is_expr(repeat):
        repeat = coerce(_REPEAT, repeat, where, "repeat", lines.get("repeat"))
    when = raw.get("when")
    if when is not None and not isinstance(when, bool) and not expr.is_expr(when):
        raise where.error(f"must be true, false or an expression like $(t != 1), got "
                          f"{when!r:.60}", "when", lines.get("when"))
    etype = _opt_str(raw, "type", where)
    if etype is not None and not TYPE_RE.match(etype):
        raise where.error("a type key is letters, digits and _", "type", lines.get("type"))
    values = {k: v for k, v in raw.items() if k not in (*COMMON_FIELDS, "kind", "block")}
    if kind is not None:
        _check_kind_values(kind, values, where, lines)
    for key, v in values.items():
        if isinstance(v, dict) or (isinstance(v, list) and not _is_pair_or_quad(v)):
            raise where.error("must be a plain value, not a mapping or list", key,
                              lines.get(key))
    entry = Entry(where, kind, block, name, inputs, repeat, when, etype, values, lines)
    for key, v in [*values.items(), ("repeat", repeat), ("when", when)]:
        if expr.is_expr(v):
            try:
                expr.names_in(v)
            except expr.ExprError as exc:
                raise entry.field_error(key, str(exc)) from None
    return entry


def _is_pair_or_quad(value: list[Any]) -> bool:
    """Lists a field may take: [h, w] and [top, left, bottom, right] (checked by the field)."""
    return len(value) in (2, 4) and all(not isinstance(v, (dict, list)) for v in value)


def _entry_inputs(raw: LMap, where: Where, lines: dict[str, int]) -> tuple[str, ...] | None:
    if "input" in raw and "inputs" in raw:
        raise where.error("give `input` or `inputs`, not both", "inputs", lines.get("inputs"))
    if "input" in raw:
        if not isinstance(raw["input"], str):
            raise where.error("must be the name of an earlier layer (or 'in')", "input",
                              lines.get("input"))
        return (raw["input"],)
    if "inputs" in raw:
        ins = raw["inputs"]
        if not isinstance(ins, list) or not ins or not all(isinstance(x, str) for x in ins):
            raise where.error("must be a list of earlier layers' names", "inputs",
                              lines.get("inputs"))
        return tuple(ins)
    return None


def _check_kind_values(kind: str, values: dict[str, Any], where: Where,
                       lines: dict[str, int]) -> None:
    """Known fields only, required ones present, literals coerced in place."""
    fields = KINDS[kind].fields
    allowed = [f.name for f in fields]
    for key in values:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or _split_expression_hint(key)
            raise where.error(f"unknown field for kind {kind}{hint}; fields: "
                              f"{', '.join([*allowed, *COMMON_FIELDS])}", key, lines.get(key))
    for fld in fields:
        if fld.required and fld.name not in values:
            raise where.error(f"required by kind {kind}", fld.name)
        if fld.name in values and not expr.is_expr(values[fld.name]):
            values[fld.name] = coerce(fld, values[fld.name], where, fld.name,
                                      lines.get(fld.name))


# ---------------------------------------------------------------------------
# Small helpers


def no_unknown(data: LMap, allowed: tuple[str, ...], where: Where, what: str) -> None:
    for key in data:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise where.error(f"unknown field in {what}{hint}; fields: {', '.join(allowed)}",
                              key, line_of(data, key))


def _opt_str(data: LMap, key: str, where: Where) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise where.error(f"must be a string, got {value!r:.60}", key, line_of(data, key))
    return value


def _split_expression_hint(key: str) -> str:
    """A key like `8))` is the tail of an expression that a comma split in a {...} mapping."""
    if any(c in key for c in "()$*/+") or key[:1].isdigit() or key[:1] == " ":
        return (" (it looks like the tail of an expression: inside {...} an expression with "
                "a comma must be quoted, e.g. out: \"$(make_divisible(cin // 4, 8))\")")
    return ""


__all__ = ["coerce", "no_unknown", "parse_spec"]
