"""Spec files: reading, static validation, and the built-in specs.

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

Everything that can be checked without building the network is checked here,
so a typo in a block that no layer uses is still an error. What depends on alpha
and resolution (expression values, shapes) is checked by ``mnprof.graph``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import expr
from .errors import SpecError
from .kinds import KINDS, REQUIRED, Activation, Field
from .width import Rounding, Scale
from .yamlsrc import LMap, LSeq, line_of, load_file

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TYPE_RE = re.compile(r"^[A-Za-z0-9_]+$")
RESERVED_NAMES = frozenset({"in", "input"})
# Names every expression may use besides block parameters.
SCOPE_NAMES = frozenset({"cin", "hin", "alpha", "classes", "resolution", "ch"})
COMMON_FIELDS = ("name", "input", "inputs", "repeat", "when", "type")
TOP_FIELDS = ("name", "description", "input", "classes", "rounding", "blocks", "layers")
BLOCK_FIELDS = ("params", "type", "layers", "description")
DEFAULT_SPEC = "mobilenet_v1"


@dataclass(frozen=True)
class Where:
    """Where a value came from, for error messages."""

    file: str
    line: int | None
    path: str          # e.g. "blocks.separable.layers[1]"

    def error(self, message: str, key: str | None = None, line: int | None = None) -> SpecError:
        fld = f"{self.path}.{key}" if key and self.path else key or self.path
        return SpecError(message, file=self.file, line=line or self.line, field=fld)


@dataclass(frozen=True)
class Entry:
    """One item of a ``layers`` list, before repeats, conditions and blocks are expanded."""

    where: Where
    kind: str | None                # exactly one of kind / block
    block: str | None
    name: str | None
    inputs: tuple[str, ...] | None
    repeat: Any                     # int or expression
    when: Any                       # bool, expression or None
    type: str | None
    values: Mapping[str, Any]       # kind fields or block parameters (literals or expressions)
    lines: Mapping[str, int]

    def field_error(self, key: str, message: str) -> SpecError:
        return self.where.error(message, key, self.lines.get(key))


@dataclass(frozen=True)
class BlockDef:
    name: str
    where: Where
    params: Mapping[str, Any]       # default value, or REQUIRED
    type: str | None
    layers: tuple[Entry, ...]


@dataclass(frozen=True)
class Spec:
    name: str
    file: str
    resolution: int
    in_channels: int
    classes: int
    rounding: Rounding
    blocks: Mapping[str, BlockDef]
    layers: tuple[Entry, ...]
    description: str = ""
    path: str = field(default="", compare=False)     # the file read ("" if not from a file)


# ---------------------------------------------------------------------------
# Field values


def coerce(fld: Field, value: Any, where: Where, key: str, line: int | None = None) -> Any:
    """A field's literal value checked against its declared type, in its final form."""

    def bad(expected: str) -> SpecError:
        return where.error(f"must be {expected}, got {value!r}", key, line)

    if value is None and fld.default is None:
        return None
    if fld.type == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer")
        if value < fld.minimum:
            raise bad(f"an integer >= {int(fld.minimum)}")
        return value
    if fld.type == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise bad("a number")
        if value < fld.minimum or (fld.maximum is not None and value >= fld.maximum):
            raise bad(f"a number in [{fld.minimum}, {fld.maximum})")
        return float(value)
    if fld.type == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if fld.type == "scale":
        if value is True or value is False:
            return Scale.YES if value else Scale.NO
        if value == "no_shrink":
            return Scale.NO_SHRINK
        raise bad("true, false or no_shrink")
    if fld.type in ("enum", "rounding"):
        if value not in fld.choices:
            raise bad("one of " + ", ".join(fld.choices))
        if fld.type == "rounding":
            return Rounding(value)
        return Activation(value) if fld.name == "act" else value
    raise AssertionError(fld.type)


# ---------------------------------------------------------------------------
# Reading


def builtin_dir() -> Path:
    """Where the built-in specs are: inside the installed package, or the checkout's specs/."""
    packaged = Path(__file__).resolve().parent / "specs"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "specs"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def resolve_spec_path(spec: str | Path | None, *,
                      base_dir: str | Path | None = None) -> tuple[Path, str]:
    """(file, how to show it) for a path or a built-in name.

    A relative path is taken from ``base_dir`` (a budget file's directory) when
    given, else from the cwd. A bare name is a built-in unless no built-in has it
    and a file of that name exists.
    """
    if spec is None:
        spec = DEFAULT_SPEC
    text = str(spec)
    path = Path(base_dir or "", text)       # an absolute ``text`` stays as it is
    looks_like_path = any(c in text for c in "/\\") or text.endswith((".yaml", ".yml"))
    if not looks_like_path and NAME_RE.match(text):
        builtin = builtin_dir() / f"{text}.yaml"
        if builtin.is_file():
            return builtin, f"specs/{text}.yaml"
        if not path.exists():
            raise SpecError(f"no built-in spec {text!r} and no such file; built-ins: "
                            + ", ".join(builtin_names()), file=text)
    return path, text if base_dir is None else str(path)


def load_spec(spec: str | Path | None = None) -> Spec:
    """Read and validate a spec: a path to a YAML file, or a built-in spec's name."""
    path, shown = resolve_spec_path(spec)
    data = load_file(path)
    return replace(parse_spec(data, file=shown, default_name=path.stem), path=str(path))


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
    resolution = _int_field(inp, "resolution", in_where, required=True)
    channels = _int_field(inp, "channels", in_where, default=3)
    classes = _int_field(data, "classes", top, default=1000)
    rounding_field = Field("rounding", "rounding", "truncate", ("truncate", "multiple_of_8"))
    rounding = coerce(rounding_field, data.get("rounding", "truncate"), top, "rounding",
                      line_of(data, "rounding"))

    blocks: dict[str, BlockDef] = {}
    raw_blocks = data.get("blocks", LMap())
    if not isinstance(raw_blocks, dict):
        raise top.error("must be a mapping of block name to block", "blocks",
                        line_of(data, "blocks"))
    for bname, raw in raw_blocks.items():
        bwhere = Where(file, line_of(raw_blocks, bname), f"blocks.{bname}")
        if not NAME_RE.match(bname) or bname in RESERVED_NAMES:
            raise bwhere.error("a block name must be an identifier (letters, digits, _)")
        blocks[bname] = _parse_block(bname, raw, bwhere)

    if "layers" not in data:
        raise top.error("required: the list of layers", "layers")
    layers = _parse_entries(data["layers"], Where(file, line_of(data, "layers"), "layers"))
    spec = Spec(name=name, file=file, resolution=resolution, in_channels=channels,
                classes=classes, rounding=rounding, blocks=blocks, layers=layers,
                description=description)
    _check_references(spec)
    return spec


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
    block = BlockDef(bname, where, params, btype, layers)
    scope = set(params) | SCOPE_NAMES
    for entry in layers:
        _check_expr_names(entry, scope)
    return block


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
    if kind is not None:
        if not isinstance(kind, str) or kind not in KINDS:
            hint = did_you_mean(str(kind), KINDS)
            raise where.error(f"unknown kind {kind!r}{hint}; kinds: {', '.join(KINDS)}",
                              "kind", lines.get("kind"))
        allowed = [f.name for f in KINDS[kind].fields]
    else:
        if not isinstance(block, str):
            raise where.error("must be a block name", "block", lines.get("block"))
        allowed = None          # block parameters are checked once all blocks are read
    name = _opt_str(raw, "name", where)
    if name is not None and (not NAME_RE.match(name) or name in RESERVED_NAMES):
        raise where.error(f"{name!r} is not a usable name (an identifier other than "
                          "'in' and 'input')", "name", lines.get("name"))
    inputs: tuple[str, ...] | None = None
    if "input" in raw and "inputs" in raw:
        raise where.error("give `input` or `inputs`, not both", "inputs", lines.get("inputs"))
    if "input" in raw:
        if not isinstance(raw["input"], str):
            raise where.error("must be the name of an earlier layer (or 'in')", "input",
                              lines.get("input"))
        inputs = (raw["input"],)
    elif "inputs" in raw:
        ins = raw["inputs"]
        if not isinstance(ins, list) or not ins or not all(isinstance(x, str) for x in ins):
            raise where.error("must be a list of earlier layers' names", "inputs",
                              lines.get("inputs"))
        inputs = tuple(ins)
    repeat = raw.get("repeat", 1)
    if not expr.is_expr(repeat) and (not isinstance(repeat, int) or isinstance(repeat, bool)
                                     or repeat < 1):
        raise where.error(f"must be an integer >= 1, got {repeat!r}", "repeat",
                          lines.get("repeat"))
    when = raw.get("when")
    if when is not None and not isinstance(when, bool) and not expr.is_expr(when):
        raise where.error(f"must be true, false or an expression like $(t != 1), got {when!r}",
                          "when", lines.get("when"))
    etype = _opt_str(raw, "type", where)
    if etype is not None and not TYPE_RE.match(etype):
        raise where.error("a type key is letters, digits and _", "type", lines.get("type"))
    values = {k: v for k, v in raw.items() if k not in (*COMMON_FIELDS, "kind", "block")}
    if allowed is not None:
        for key in values:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or _split_expression_hint(key)
                raise where.error(f"unknown field for kind {kind}{hint}; fields: "
                                  f"{', '.join([*allowed, *COMMON_FIELDS])}", key, lines.get(key))
        for fld in KINDS[kind].fields:
            if fld.required and fld.name not in values:
                raise where.error(f"required by kind {kind}", fld.name)
            if fld.name in values and not expr.is_expr(values[fld.name]):
                values[fld.name] = coerce(fld, values[fld.name], where, fld.name,
                                          lines.get(fld.name))
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            raise where.error("must be a plain value, not a mapping or list", key,
                              lines.get(key))
    entry = Entry(where, kind, block, name, inputs, repeat, when, etype, values, lines)
    for key, value in [*values.items(), ("repeat", repeat), ("when", when)]:
        if expr.is_expr(value):
            try:
                expr.names_in(value)
            except expr.ExprError as exc:
                raise entry.field_error(key, str(exc)) from None
    return entry


def _check_expr_names(entry: Entry, scope: set[str]) -> None:
    for key, value in [*entry.values.items(), ("repeat", entry.repeat), ("when", entry.when)]:
        if expr.is_expr(value):
            unknown = expr.names_in(value) - scope - set(expr.FUNCTIONS)
            if unknown:
                raise entry.field_error(key, f"unknown name {sorted(unknown)[0]!r} in {value!r}; "
                                             f"known: {', '.join(sorted(scope))}")


def _check_references(spec: Spec) -> None:
    """Block references exist, pass known parameters, and do not recurse."""
    top_scope = set(SCOPE_NAMES)
    for entry in spec.layers:
        _check_expr_names(entry, top_scope)

    def check_entries(entries: tuple[Entry, ...]) -> None:
        for entry in entries:
            if entry.block is None:
                continue
            block = spec.blocks.get(entry.block)
            if block is None:
                hint = did_you_mean(entry.block, spec.blocks)
                raise entry.field_error("block", f"undefined block {entry.block!r}{hint}; "
                                                 f"defined: {', '.join(spec.blocks) or 'none'}")
            for key in entry.values:
                if key not in block.params:
                    hint = did_you_mean(key, block.params)
                    raise entry.field_error(key, f"block {block.name} has no parameter "
                                                 f"{key!r}{hint}; parameters: "
                                                 f"{', '.join(block.params) or 'none'}")
            for pname, default in block.params.items():
                if default is REQUIRED and pname not in entry.values:
                    raise entry.where.error(f"required by block {block.name}", pname)

    check_entries(spec.layers)
    for block in spec.blocks.values():
        check_entries(block.layers)

    # Cycles: depth-first over "block uses block".
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name):], name])
            raise spec.blocks[name].where.error(f"recursive block reference: {cycle}")
        state[name] = 1
        for entry in spec.blocks[name].layers:
            if entry.block is not None:
                visit(entry.block, [*path, name])
        state[name] = 2

    for bname in spec.blocks:
        visit(bname, [])


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
        raise where.error(f"must be a string, got {value!r}", key, line_of(data, key))
    return value


def _int_field(data: LMap, key: str, where: Where, *, required: bool = False,
               default: int | None = None) -> int:
    if key not in data:
        if required:
            raise where.error("required: a positive integer", key)
        assert default is not None
        return default
    return coerce(Field(key, "int"), data[key], where, key, line_of(data, key))


def _split_expression_hint(key: str) -> str:
    """A key like `8))` is the tail of an expression that a comma split in a {...} mapping."""
    if any(c in key for c in "()$*/+") or key[:1].isdigit() or key[:1] == " ":
        return (" (it looks like the tail of an expression: inside {...} an expression with "
                "a comma must be quoted, e.g. out: \"$(make_divisible(cin // 4, 8))\")")
    return ""


def did_you_mean(word: str, options: Any) -> str:
    import difflib  # only on the error path
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
