"""The registry of op mappings: one per ONNX op type, onto mnprof's layer kinds.

``@op("Conv")`` registers a function ``(ctx, i) -> list[Draft]`` that turns node
``i`` (and any nodes a pattern takes with it) into layer drafts; it returns ``[]``
for a node that is only another name for its input (``Identity``), recorded as
an alias. The mappings live by family: ``ops_conv`` (convolutions, fc, batch-norm,
pools), ``ops_act`` (activations, with the patterns that spell them out:
x * Sigmoid(x), the erf form of GELU), ``ops_shape`` (merges, splits, views,
global pooling).

An op without a mapping is still a layer: ``onnx:<OpType>``, its output elements
counted, no MACs, and the report names it (never a silent zero). An op that
multiplies and accumulates is never made such a layer: without a mapping the
import stops and says why.
"""

from __future__ import annotations

from collections.abc import Callable

from .context import Ctx, Draft

Handler = Callable[[Ctx, int], list[Draft]]
OPS: dict[str, Handler] = {}

# Ops that multiply and accumulate, in any domain: counted by a mapping, or an error.
MAC_OPS = frozenset({
    "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "NhwcConv",
    "FusedConv", "Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "FusedGemm",
    "FusedMatMul", "QGemm", "MatMulNBits", "MatMulIntegerToFloat", "DynamicQuantizeMatMul",
    "Einsum", "Attention", "MultiHeadAttention", "GroupQueryAttention", "QAttention",
    "LSTM", "GRU", "RNN",
})


def op(*names: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the mapping of ONNX op types ``names`` (each once)."""
    def register(fn: Handler) -> Handler:
        for name in names:
            if name in OPS:
                raise RuntimeError(f"ONNX op {name!r} mapped twice")
            OPS[name] = fn
        return fn
    return register


def opaque(ctx: Ctx, i: int) -> list[Draft]:
    """``onnx:<OpType>`` layers, one per output: output elements counted, no MACs."""
    node = ctx.nodes[i]
    outputs = [x for x in node.output if x and (ctx.users(x) or x in ctx.outputs)] \
        or [node.output[0]]
    kind = f"onnx:{node.op_type}"
    drafts = []
    for k, out in enumerate(outputs):
        drafts.append(ctx.draft(kind, i, {"op_type": node.op_type, "shape": ctx.img(out, i)},
                                output=out, nodes=[i] if k == 0 else [],
                                name="" if k == 0 else f"{_base(ctx, i)}:{k}"))
    return drafts


def _base(ctx: Ctx, i: int) -> str:
    node = ctx.nodes[i]
    return node.name or node.output[0]
