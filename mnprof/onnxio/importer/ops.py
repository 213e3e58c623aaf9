"""Mapping one node: its op type's entry in the registry, or an ``onnx:<OpType>`` layer.

The mappings themselves live by family (``ops_conv``, ``ops_act``, ``ops_shape``),
each registered with ``@op`` (``mnprof.onnxio.importer.registry``); importing this
module loads them all.
"""

from __future__ import annotations

from . import ops_act, ops_conv, ops_shape  # noqa: F401  (they register)
from .context import DEFAULT_DOMAINS, Ctx, Draft
from .registry import MAC_OPS, OPS, opaque


def map_node(ctx: Ctx, i: int) -> list[Draft]:
    """The drafts node ``i`` becomes (see ``mnprof.onnxio.importer.registry``)."""
    node = ctx.nodes[i]
    handler = OPS.get(node.op_type) if node.domain in DEFAULT_DOMAINS else None
    if handler is not None:
        return handler(ctx, i)
    if node.op_type in MAC_OPS:
        domain = node.domain if node.domain not in DEFAULT_DOMAINS else "ai.onnx"
        raise ctx.fail(i, f"{domain}.{node.op_type} multiplies and accumulates, and mnprof "
                          "does not model it; counting it as 0 MACs would be wrong, so the "
                          "import stops")
    return opaque(ctx, i)
