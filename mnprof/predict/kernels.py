"""The kernels onnxruntime runs for a built graph, each with the shapes that time it.

``kernels_of(graph, layout)`` records the exported operators (``ops``), applies
onnxruntime's fusions (``fusion.optimise``) and its NCHWc layout (this module),
and returns one ``Kernel`` per node onnxruntime would run, in order: its kind (the
kernel type a timing model is fitted for, e.g. ``dw.nchwc``, ``pw.nchw``,
``reorder_out``), the graph layers it covers, and its shapes as run (padded
channels included).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.graph import INPUT, Graph, Shape
from .fusion import (
    GLOBAL_POOLS,
    GRAPH_OUTPUT,
    NCHWC_ACTS,
    NCHWC_FOLDS,
    POOLS,
    Layout,
    conv_add,
    optimise,
)
from .ops import Op, Ref, record_ops


@dataclass(frozen=True)
class Kernel:
    kind: str                   # the kernel type, e.g. "conv.nchwc", "dw.nchw", "reorder_in"
    op: str                     # the ONNX op type it comes from (Conv, Gemm, ...)
    name: str                   # the op's name (a layer's), or "reorder:<tensor>"
    layers: tuple[str, ...]     # the graph layers it covers (none for a reorder)
    src: str                    # the layer whose output it reads (INPUT: the network input)
    dst: str                    # the layer whose output it writes (or reorders)
    in_shape: Shape             # per image, logical channels
    out_shape: Shape
    cin: int = 0                # conv / gemm: input channels (per group x groups), as run
    cout: int = 0               # output channels as run (padded to the block)
    groups: int = 1
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    act: str = ""
    fused_add: bool = False
    inputs: int = 1
    in_ref: Ref | None = None   # how in_shape / out_shape follow from a layer's output
    out_ref: Ref | None = None  # (a layer, flattened or not); None: they do not


class _Nchwc:
    """onnxruntime's NCHWc transform over the optimised ops (see ``fusion``)."""

    def __init__(self, ops: list[Op], final: str, layout: Layout, owner: dict[str, str]):
        self.refs: dict[str, Ref | None] = {op.output: op.ref for op in ops}
        self.refs[INPUT] = (INPUT, False)
        self.ops: list[Op | None] = list(ops)
        self.final, self.layout, self.owner = final, layout, owner
        self.uses: dict[str, int] = {}
        for op in ops:
            for t in op.inputs + ([op.fused_add] if op.fused_add else []):
                self.uses[t] = self.uses.get(t, 0) + 1
        self.uses[final] = self.uses.get(final, 0) + 1
        self.blocked: dict[str, list[int]] = {}   # tensor -> [channels, start uses, left]
        self.producer: dict[str, int] = {}
        self.reordered_in: set[str] = set()
        self.runs_blocked: set[int] = set()
        self.order: list[int | Kernel] = []       # op indices and reorders, in run order
        self.shapes = {op.output: op.shape for op in ops}

    def run(self) -> list[Kernel]:
        for i, op in enumerate(self.ops):
            assert op is not None
            self.order.append(i)
            state = self.transform(i, op)
            if state:
                self.runs_blocked.add(i)
            elif state is False:
                self.ops[i] = None              # folded into a blocked op
        conv_add(self.ops, self.runs_blocked, self.final)
        for tensor, (_, _, left) in self.blocked.items():
            if left > 0:
                self.order.append(self.reorder("reorder_out", tensor,
                                               self.shapes.get(tensor, ())))
        out = []
        for entry in self.order:
            if isinstance(entry, Kernel):
                out.append(entry)
            elif self.ops[entry] is not None:
                out += self.kernels(self.ops[entry], blocked=entry in self.runs_blocked)
        return out

    def take(self, tensor: str) -> None:
        self.blocked[tensor][2] -= 1

    def make_blocked(self, tensor: str, channels: int, i: int) -> None:
        n = self.uses.get(tensor, 0)
        self.blocked[tensor] = [channels, n, n]
        self.producer[tensor] = i

    def reorder(self, kind: str, tensor: str, shape: Shape) -> Kernel:
        layer = self.owner.get(tensor, INPUT)
        ref = self.refs.get(tensor)
        return Kernel(kind, "ReorderInput" if kind == "reorder_in" else "ReorderOutput",
                      f"{kind}:{tensor}", (), layer, layer, shape, shape, in_ref=ref,
                      out_ref=ref)

    def feed(self, tensor: str, shape: Shape) -> None:
        """A blocked op reads ``tensor``: from its blocked form, or through a reorder."""
        if tensor in self.blocked:
            self.take(tensor)
        elif tensor not in self.reordered_in:
            self.reordered_in.add(tensor)
            self.order.insert(len(self.order) - 1, self.reorder("reorder_in", tensor, shape))

    def transform(self, i: int, op: Op) -> bool | None:
        """True: runs blocked; False: folded into a blocked op; None: runs as NCHW."""
        if op.op == "Conv":
            return self.conv(i, op)
        ins = list(op.inputs)
        all_blocked = bool(ins) and all(t in self.blocked for t in ins)
        c = op.in_shape[0] if op.in_shape else 0
        if op.op in POOLS and len(op.in_shape) == 3 and c % self.layout.block == 0:
            self.feed(ins[0], op.in_shape)
        elif op.op in GLOBAL_POOLS and all_blocked and c % self.layout.block == 0:
            self.take(ins[0])
        elif op.op in ("Add", "Mul") and all_blocked and self.same(ins) \
                and len({self.blocked[t][0] for t in ins}) == 1:
            for t in ins:
                self.take(t)
            if op.op == "Add" and len(ins) == 2 and self.fold(op, ins, add=True):
                return False
        elif op.op == "Concat" and all_blocked and op.attrs.get("axis") == 1 \
                and all(self.blocked[t][0] % self.layout.block == 0 for t in ins):
            for t in ins:
                self.take(t)
        elif (op.op in NCHWC_ACTS or op.op == "HardSwish") and all_blocked:
            self.take(ins[0])
            if op.op in NCHWC_FOLDS and self.fold(op, ins, add=False):
                return False
        elif op.op == "BatchNormalization" and all_blocked:
            self.take(ins[0])
            op.op, op.weight, op.attrs, op.bias = "Conv", (c, 1, 1, 1), {"group": c}, True
        else:
            return None
        self.make_blocked(op.output, op.shape[0] if op.shape else c, i)
        return True

    def same(self, tensors: list[str]) -> bool:
        return len({self.shapes.get(t) for t in tensors}) == 1

    def conv(self, i: int, op: Op) -> bool | None:
        cout, cin_g, _, _ = op.weight
        g = int(op.attrs.get("group", 1))
        b, a = self.layout.block, self.layout.align
        direct = False
        if g > 1:
            if cin_g == 1 and cout == g:
                ok = cout % a == 0
            else:
                ok = cout % b == 0 and cin_g % b == 0 and (cout // g) % b == 0
        elif cin_g < b:
            ok, direct = True, True
        else:
            ok = cin_g % a == 0
        if not ok or b <= 1:
            return None
        if not direct:
            self.feed(op.inputs[0], op.in_shape)
        self.make_blocked(op.output, cout, i)
        return True

    def fold(self, op: Op, ins: list[str], *, add: bool) -> bool:
        """A blocked Add (into either input's conv) or activation folded into the conv
        that made its input: a conv read by nothing else, with no activation yet."""
        for n in ((0, 1) if add else (0,)):
            p = self.producer.get(ins[n])
            conv = self.ops[p] if p is not None else None
            if conv is None or conv.op != "Conv" or conv.act or (add and conv.fused_add) \
                    or self.blocked[ins[n]][1] != 1:
                continue
            if add:
                conv.fused_add = ins[n ^ 1]
            else:
                conv.act = op.op
            conv.layers += [x for x in op.layers if x not in conv.layers]
            conv.output = op.output
            self.make_blocked(op.output, self.blocked[ins[n]][0], p)  # type: ignore[arg-type]
            return True
        return False

    def kernels(self, op: Op, *, blocked: bool) -> list[Kernel]:
        """The kernels of an op: HardSwish left unfolded runs as HardSigmoid then Mul."""
        if op.op != "HardSwish":
            return [self.kernel(op, blocked=blocked)]
        gate = Op("HardSigmoid", f"{op.name}/gate", list(op.inputs), f"{op.output}/gate",
                  op.layer, op.shape, op.in_shape, layers=list(op.layers), ref=op.ref)
        mul = Op("Mul", op.name, [*op.inputs, gate.output], op.output, op.layer, op.shape,
                 op.in_shape, layers=list(op.layers), ref=op.ref)
        return [self.kernel(gate, blocked=blocked), self.kernel(mul, blocked=blocked)]

    def kernel(self, op: Op, *, blocked: bool) -> Kernel:
        src = self.owner.get(op.inputs[0], INPUT) if op.inputs else INPUT
        kind, cin, cout, groups = _kind(op, blocked, self.layout)
        attrs = op.attrs
        k = tuple(op.weight[2:4]) if op.op == "Conv" and len(op.weight) == 4 else \
            tuple(attrs.get("kernel_shape", (1, 1)))
        return Kernel(kind, op.op, op.name, tuple(op.layers), src, op.layer, op.in_shape,
                      op.shape, cin=cin, cout=cout, groups=groups,
                      kernel=(int(k[0]), int(k[-1])),
                      stride=tuple(attrs.get("strides", (1, 1)))[:2],   # type: ignore[arg-type]
                      act=op.act, fused_add=bool(op.fused_add),
                      inputs=len(op.inputs) + bool(op.fused_add),
                      in_ref=self.refs.get(op.inputs[0]) if op.inputs else None,
                      out_ref=op.ref)


def _kind(op: Op, blocked: bool, layout: Layout) -> tuple[str, int, int, int]:
    """(kernel type, input channels, output channels as run, groups)."""
    suffix = ".nchwc" if blocked else ".nchw"
    if op.op == "Conv" and len(op.weight) == 4:
        cout, cin_g, kh, kw = op.weight
        g = int(op.attrs.get("group", 1))
        cin = cin_g * g
        if blocked:
            cout, cin = layout.pad(cout), layout.pad(cin) if cin_g >= layout.block or g > 1 \
                else cin
        if g > 1 and cin_g == 1 and op.weight[0] == g:
            return "dw" + suffix, cin, cout, g
        if g > 1:
            return "gconv" + suffix, cin, cout, g
        if blocked and cin_g < layout.block:
            return "conv_in.nchwc", cin, cout, 1
        return ("pw" if kh * kw == 1 else "conv") + suffix, cin, cout, 1
    if op.op == "Gemm":
        out, inp = (op.weight + (0, 0))[:2]
        return "gemm", inp, out, 1
    if op.op in POOLS:
        return ("maxpool" if op.op == "MaxPool" else "avgpool") + (suffix if blocked else ""), \
            0, 0, 1
    if op.op in GLOBAL_POOLS:
        return "gap" + (".nchwc" if blocked else ""), 0, 0, 1
    simple = {"Add": "add", "Mul": "mul", "Concat": "concat", "Softmax": "softmax",
              "Flatten": "flatten", "BatchNormalization": "batchnorm"}
    if op.op in simple:
        return simple[op.op] + (".nchwc" if blocked else ""), 0, 0, 1
    if op.op in ("Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "QuickGelu",
                 "Gelu", "Erf", "Div", "Sub"):
        return "act" + (".nchwc" if blocked else ""), 0, 0, 1
    return "other", 0, 0, 1


def kernels_of(graph: Graph, layout: Layout | None = None, *, opset: int = 17
               ) -> list[Kernel]:
    """The kernels onnxruntime runs for ``graph`` (level ``all``), in order."""
    rec = record_ops(graph, opset)
    owner = {op.output: op.layer for op in rec.ops}
    for layer, tensor in rec.outputs.items():
        owner.setdefault(tensor, layer)
    ops = optimise(rec.ops, rec.final, rec.values)
    return _Nchwc(ops, rec.final, layout or Layout(), owner).run()


__all__ = ["GRAPH_OUTPUT", "Kernel", "Layout", "kernels_of"]
