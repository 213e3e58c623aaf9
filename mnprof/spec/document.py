"""A parsed spec as data: the spec, its block definitions and its layer entries.

These are what ``mnprof.spec.parse`` makes of a YAML file after static checks and
what ``mnprof.spec.build`` expands into a graph at one width, depth and resolution.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import SpecError, Where
from ..model.width import Rounding

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TYPE_RE = re.compile(r"^[A-Za-z0-9_]+$")
RESERVED_NAMES = frozenset({"in", "input"})
# Names every expression may use besides block parameters.
SCOPE_NAMES = frozenset({"cin", "hin", "alpha", "depth", "classes", "resolution", "ch"})
COMMON_FIELDS = ("name", "input", "inputs", "repeat", "when", "type")
TOP_FIELDS = ("name", "description", "input", "classes", "rounding", "alpha", "depth",
              "widths", "blocks", "layers")
BLOCK_FIELDS = ("params", "type", "layers", "description")


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
    type_key: str | None            # the spec's `type:` (a per-type key for reports)
    values: Mapping[str, Any]       # kind fields or block parameters (literals or expressions)
    lines: Mapping[str, int]

    def field_error(self, key: str, message: str) -> SpecError:
        return self.where.error(message, key, self.lines.get(key))


@dataclass(frozen=True)
class BlockDef:
    name: str
    where: Where
    params: Mapping[str, Any]       # default value, or REQUIRED
    type_key: str | None
    layers: tuple[Entry, ...]


@dataclass(frozen=True)
class Spec:
    name: str
    file: str                       # how to show the file in messages and reports
    resolution: int
    in_channels: int
    classes: int
    rounding: Rounding
    blocks: Mapping[str, BlockDef]
    layers: tuple[Entry, ...]
    description: str = ""
    alpha: float = 1.0              # the width this spec is built at unless told otherwise
    depth: float = 1.0              # the depth multiplier likewise
    # the widths the spec is defined at (a table of channels, not a multiplier):
    # what `mnprof sweep` sweeps unless given --alpha; () for any width
    widths: tuple[float, ...] = ()
    path: str = field(default="", compare=False)     # the file read ("" if not from a file)
    warnings: tuple[str, ...] = field(default=(), compare=False)
