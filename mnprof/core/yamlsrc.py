"""Safe YAML reading that remembers where every value came from.

Specs and budgets are read with PyYAML's *safe* composer only, then turned into
plain Python values by this module, which

- keeps the line of every mapping key and sequence item (``LMap.lines``,
  ``LSeq.lines``), so errors can name the line of the field at fault;
- accepts only the YAML core types (mappings, sequences, str, int, float, bool,
  null): a tag asking for a Python object, a timestamp or binary data is an error;
- rejects duplicate keys, which PyYAML would otherwise resolve silently;
- bounds how far aliases may expand (a "billion laughs" file is an error, not a
  hang), how deep mappings and lists may nest, and how large an integer may be,
  and rejects recursive aliases;
- turns every failure of the YAML library (a control character, a tag with a
  value it cannot take, a 5,000-digit integer) into a one-line error with a line.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from .errors import MnprofError, SpecError
from .files import MAX_TEXT_BYTES, read_text
from .values import MAX_INT, MAX_YAML_DEPTH

MAX_NODES = 100_000            # values after alias expansion

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
}
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class LMap(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int
    lines: dict[str, int]


class LSeq(list):
    """A sequence that knows its own line and the line of each item."""

    line: int
    lines: list[int]


def line_of(container: Any, key: Any = None, default: int | None = None) -> int | None:
    """Line of ``container[key]`` (or of the container itself when key is None)."""
    if key is not None:
        lines = getattr(container, "lines", None)
        if isinstance(lines, dict) and key in lines:
            return lines[key]
        if isinstance(lines, list) and isinstance(key, int) and 0 <= key < len(lines):
            return lines[key]
    return getattr(container, "line", default)


def load_yaml(text: str, *, file: str, what: str = "spec") -> Any:
    """Parse YAML text into plain values (LMap/LSeq/scalars) with line numbers."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(f"invalid YAML: {problem}", file=file,
                        line=mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:       # a control character: it has a position
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        raise SpecError(f"invalid YAML: character U+{char:04X} is not allowed in YAML text "
                        "(a control character)", file=file,
                        line=_line_at(text, exc.position)) from None
    except UnicodeError:                         # a lone surrogate (only from the library)
        raise SpecError("invalid YAML: the text is not valid Unicode", file=file) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {str(exc).splitlines()[0]}", file=file) from None
    except RecursionError:
        raise SpecError(f"invalid YAML: nested more than {MAX_YAML_DEPTH} levels deep",
                        file=file) from None
    if root is None:
        raise SpecError(f"empty file: a {what} needs at least a mapping of fields", file=file)
    return _Converter(file).convert(root)


def _line_at(text: str, position: int) -> int:
    """The line of ``position``: libyaml counts UTF-8 bytes, PyYAML's own reader characters."""
    position = max(position, 0)
    if _Loader is not yaml.SafeLoader:
        return text.encode("utf-8", "replace")[:position].count(b"\n") + 1
    return text.count("\n", 0, position) + 1


def load_file(path: str | os.PathLike[str], *, what: str = "spec",
              max_bytes: int = MAX_TEXT_BYTES) -> Any:
    """The YAML file ``path`` as plain values; every failure a one-line error."""
    try:
        text = read_text(path, what=what, max_bytes=max_bytes)
    except SpecError:
        raise
    except MnprofError as exc:
        raw = str(exc.args[0]) if exc.args else str(exc)   # before escaping: the path as given
        raise SpecError(raw.removeprefix(f"{os.fspath(path)}: "), file=os.fspath(path)) from None
    return load_yaml(text, file=os.fspath(path), what=what)


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.count = 0
        self.depth = 0
        self.active: set[int] = set()
        self.scalars = yaml.constructor.SafeConstructor()
        self.path: list[str | int] = []      # keys and indexes down to the value at hand

    def fail(self, node: yaml.Node, message: str) -> SpecError:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)
        return SpecError(message, file=self.file, line=node.start_mark.line + 1,
                         field=field.lstrip(".") or None)

    def item(self, key: str | int, node: yaml.Node) -> Any:
        self.path.append(key)
        try:
            return self.convert(node)
        finally:
            self.path.pop()

    def convert(self, node: yaml.Node) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"more than {MAX_NODES} values after expanding aliases "
                                  "(an alias bomb?)")
        if id(node) in self.active:
            raise self.fail(node, "recursive alias: a value contains itself")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if self.depth >= MAX_YAML_DEPTH:
            raise self.fail(node, f"nested more than {MAX_YAML_DEPTH} levels deep")
        self.active.add(id(node))
        self.depth += 1
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ:
                    raise self.fail(node, f"YAML tag {_short(node.tag)} is not allowed")
                out = LSeq(self.item(i, item) for i, item in enumerate(node.value))
                out.line = node.start_mark.line + 1
                out.lines = [item.start_mark.line + 1 for item in node.value]
                return out
            if isinstance(node, yaml.MappingNode):
                if node.tag != _MAP:
                    raise self.fail(node, f"YAML tag {_short(node.tag)} is not allowed")
                return self.mapping(node)
        finally:
            self.active.discard(id(node))
            self.depth -= 1
        raise self.fail(node, "unsupported YAML node")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, f"YAML tag {_short(node.tag)} is not allowed "
                                  "(only plain strings, numbers, booleans and null)")
        try:
            value = self.scalars.construct_object(node, deep=True)
        except Exception as exc:  # noqa: BLE001  PyYAML raises KeyError, ValueError, ...
            # e.g. `!!bool relu` (KeyError), `!!float x`, an integer of thousands of digits
            detail = str(exc).splitlines()[-1] if str(exc) else type(exc).__name__
            raise self.fail(node, f"{_short(node.tag)} value {node.value[:40]!r} cannot be "
                                  f"read ({detail[:80]})") from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise self.fail(node, f"integer {node.value[:40]}... is too large (at most "
                                  f"{MAX_INT:,})")
        return value

    def mapping(self, node: yaml.MappingNode) -> LMap:
        out = LMap()
        out.line = node.start_mark.line + 1
        out.lines = {}
        merged: list[tuple[Any, Any, int]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self.merge_source(value_node))
                continue
            key = self.convert(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"mapping key {key!r} must be a string")
            if key in out.lines:
                raise self.fail(key_node, f"duplicate key {key!r} (first on line "
                                          f"{out.lines[key]})")
            out[key] = self.item(key, value_node)
            out.lines[key] = key_node.start_mark.line + 1
        for key, value, line in merged:      # explicit keys win over merged ones
            if key not in out:
                out[key] = value
                out.lines[key] = line
        return out

    def merge_source(self, node: yaml.Node) -> list[tuple[Any, Any, int]]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        items: list[tuple[Any, Any, int]] = []
        for src in sources:
            value = self.convert(src)
            if not isinstance(value, LMap):
                raise self.fail(src, "a merge key (<<) needs a mapping or a list of mappings")
            items.extend((k, v, value.lines[k]) for k, v in value.items())
        return items


def _short(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag
