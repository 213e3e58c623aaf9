"""What the op mappings read: the graph's nodes, tensors, readers, and the drafts they make.

A ``Draft`` is one layer before it is built: a kind (or ``onnx:<OpType>``), the
attributes the ONNX node(s) give it, the tensors it reads and the one it writes,
and the ONNX nodes it covers (the bench attributes their time to it). Drafts are
fused (a conv takes its batch-norm and activation) and built into ``Node``s by
``mnprof.onnxio.importer.assemble``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...core.errors import MnprofError
from .source import Source
from .tensors import Const, Shape, Tensors

DEFAULT_DOMAINS = ("", "ai.onnx")


@dataclass
class Draft:
    kind: str                           # a kind's name, or "onnx:<OpType>"
    attrs: dict[str, Any]
    inputs: list[str]                   # data tensors it reads (aliases resolved)
    output: str                         # the tensor it writes
    nodes: list[int]                    # ONNX nodes it covers; the first names it
    name: str = ""                      # its name when not the first node's
    mac: bool = False                   # multiplies and accumulates: never opaque
    shape: Shape | None = None          # its output per image, when not the tensor's own
    siblings: tuple[str, ...] = ()      # outputs of the same node made by other drafts


@dataclass
class Ctx:
    src: Source
    t: Tensors
    order: list[int]
    consumers: dict[str, list[int]] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)     # tensor -> the tensor it is
    claimed: set[int] = field(default_factory=set)          # nodes a pattern has taken
    notes: list[str] = field(default_factory=list)
    # a Conv or pool -> the zero padding a Pad before it adds, and that Pad node
    pads_for: dict[int, tuple[tuple[int, int, int, int], int]] = field(default_factory=dict)
    _attrs: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i in self.order:
            if i in self.t.folded:
                continue
            for x in self.nodes[i].input:
                if x:
                    self.consumers.setdefault(x, []).append(i)
        self.outputs = {o.name for o in self.src.proto.graph.output}
        self.producer = {x: i for i in self.order if i not in self.t.folded
                         for x in self.nodes[i].output if x}

    @property
    def nodes(self) -> Any:
        return self.src.proto.graph.node

    # -- tensors ------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        seen = 0
        while name in self.alias and seen < 100_000:
            name, seen = self.alias[name], seen + 1
        return name

    def const(self, name: str) -> Const | None:
        return self.t.consts.get(name) if name else None

    def value(self, name: str) -> Any:
        """The value of a small constant input (None if absent or not a small constant)."""
        c = self.const(name)
        return c.value() if c is not None and c.small else None

    def scalar(self, name: str) -> float | None:
        v = self.value(name)
        return float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None

    def data_inputs(self, i: int) -> list[str]:
        """The node's inputs that are activations (not constants), aliases resolved."""
        return [self.resolve(x) for x in self.nodes[i].input if x and x not in self.t.consts]

    def full(self, name: str, i: int | None = None) -> Shape:
        shape = self.t.shapes.get(self.resolve(name))
        if shape is None:
            why = self.t.failures.get(name, "ONNX's shape inference leaves it unknown")
            where = f"{self.label(i)}: " if i is not None else ""
            raise MnprofError(f"{self.src.name}: {where}the shape of tensor {name!r:.80} is "
                              f"unknown ({why})")
        return shape

    def img(self, name: str, i: int | None = None) -> Shape:
        """The tensor's shape per image (its first dimension must be the batch)."""
        shape = self.full(name, i)
        if name == self.src.input and self.src.nhwc:
            return self.src.image
        if not shape or shape[0] != self.src.batch:
            where = f"{self.label(i)}: " if i is not None else ""
            raise MnprofError(f"{self.src.name}: {where}tensor {name!r:.80} has shape "
                              f"{list(shape)}, whose first dimension is not the batch "
                              f"({self.src.batch}); mnprof counts per image")
        return shape[1:]

    def rank(self, name: str) -> int | None:
        shape = self.t.shape(self.resolve(name))
        return len(shape) if shape is not None else None

    # -- nodes ---------------------------------------------------------------------

    def attrs(self, i: int) -> dict[str, Any]:
        if i not in self._attrs:
            from ..proto import attribute_value
            self._attrs[i] = {a.name: attribute_value(a) for a in self.nodes[i].attribute}
        return self._attrs[i]

    def users(self, name: str) -> list[int]:
        return self.consumers.get(name, [])

    def sole_user(self, name: str) -> int | None:
        """The one node reading ``name`` (None: several, none, or a graph output)."""
        users = self.users(name)
        if len(users) != 1 or name in self.outputs:
            return None
        return users[0]

    def is_op(self, i: int | None, *ops: str) -> bool:
        if i is None:
            return False
        n = self.nodes[i]
        return n.op_type in ops and n.domain in DEFAULT_DOMAINS and i not in self.claimed

    def label(self, i: int | None) -> str:
        if i is None:
            return "the graph"
        n = self.nodes[i]
        return f"node {n.name or (n.output[0] if n.output else i)!r:.80} ({n.op_type})"

    def fail(self, i: int, message: str) -> MnprofError:
        return MnprofError(f"{self.src.name}: {self.label(i)}: {message}")

    def draft(self, kind: str, i: int, attrs: dict[str, Any] | None = None, *,
              inputs: list[str] | None = None, output: str | None = None,
              nodes: list[int] | None = None, **extra: Any) -> Draft:
        """A draft for node ``i`` reading its data inputs and writing its first output."""
        return Draft(kind, dict(attrs or {}),
                     self.data_inputs(i) if inputs is None else inputs,
                     self.nodes[i].output[0] if output is None else output,
                     [i] if nodes is None else nodes, **extra)
