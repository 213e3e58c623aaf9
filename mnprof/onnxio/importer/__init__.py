"""Any ONNX model to mnprof's layer graph, so the cost engine, reports and bench work on it.

``import_model(path, dims=, resolution=)`` returns an ``Imported``: the ``Graph``
(the same type a spec builds, ``source="onnx"``) and, for each node of the file,
the layer it belongs to (what the bench needs to attribute measured time).

The stages, one module each:

1. ``source``: load safely, find the image input, bind symbolic dimensions;
2. ``tensors``: constants and shapes of every tensor (shape computations folded);
3. ``ops`` and ``ops_*``: one mapping per ONNX op type onto mnprof's kinds;
4. ``assemble``: fusion (conv + batch-norm + activation, flatten into fc), names,
   attributes through the kinds' fields, shapes checked against ONNX's.

onnx and numpy are imported only inside functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ...core.errors import MnprofError
from ...core.values import check_alpha
from ...model.graph import Graph
from .assemble import build_nodes, check_layers, fuse, unique_names, unmodelled_note
from .context import Ctx, Draft
from .ops import map_node
from .propagate import propagate
from .source import Source, load_source
from .tensors import topological_order

# Graph names exporters write when the user gave none: the file's stem says more.
GENERIC_NAMES = frozenset({"", "main_graph", "torch_jit", "torch-jit-export", "tf2onnx",
                           "graph", "model", "Graph"})


@dataclass(frozen=True)
class Imported:
    graph: Graph
    node_layers: tuple[str | None, ...]     # per node of the file: its layer (None: none)
    siblings: Mapping[str, tuple[str, ...]]  # a layer -> layers made by the same node
    not_modelled: Mapping[str, int]         # op type -> nodes counted as onnx:<OpType>
    dims: Mapping[str, int]                 # the input's symbolic dimensions, as bound


def import_model(model: Any, *, dims: Mapping[str, int] | None = None,
                 resolution: int | None = None, name: str | None = None) -> Imported:
    """The layer graph of ``model`` (a path, or a ModelProto with ``name`` its path)."""
    src = load_source(model, dims=dims, resolution=resolution, name=name)
    order = topological_order(src.proto.graph.node)
    ctx = Ctx(src, propagate(src, order), order)
    drafts: list[Draft] = []
    for i in order:
        if i not in ctx.t.folded and i not in ctx.claimed:
            drafts += map_node(ctx, i)
    check_layers(ctx, drafts)
    drafts = fuse(ctx, drafts)
    names = unique_names(ctx, drafts)
    nodes, notes = build_nodes(ctx, drafts, names)
    layer_of = {d.output: n for d, n in zip(drafts, names, strict=True)}
    outputs = [ctx.resolve(o.name) for o in src.proto.graph.output]
    output = layer_of.get(outputs[0]) if outputs else None
    if output is None:
        output = names[-1]
    node_layers: list[str | None] = [None] * len(src.proto.graph.node)
    for d, n in zip(drafts, names, strict=True):
        for i in d.nodes:
            node_layers[i] = n
    final = {d.name: n for d, n in zip(drafts, names, strict=True) if d.name}
    siblings = {n: tuple(final.get(s, s) for s in d.siblings)
                for d, n in zip(drafts, names, strict=True) if d.siblings}
    not_modelled, note = unmodelled_note(nodes)
    graph = Graph(model=_model_name(src), alpha=_alpha(src), resolution=src.image[1],
                  input_shape=src.image, nodes=tuple(nodes), output=output, source="onnx",
                  file=src.name, notes=tuple(_notes(src, outputs, note, notes, ctx)),
                  batch=src.batch, metadata=tuple(_metadata(src)))
    return Imported(graph, tuple(node_layers), MappingProxyType(siblings),
                    MappingProxyType(not_modelled), MappingProxyType(dict(src.symbolic)))


def _model_name(src: Source) -> str:
    g = src.proto.graph.name
    return Path(src.name).stem if g in GENERIC_NAMES else g


def is_mnprof_export(src: Source) -> bool:
    return src.proto.producer_name == "mnprof" and "spec" in src.metadata


def _alpha(src: Source) -> float:
    """The width an mnprof export says it was made at (1 for any other file)."""
    if not is_mnprof_export(src):
        return 1.0
    try:
        return check_alpha(float(src.metadata.get("alpha", "1")))
    except (ValueError, MnprofError):
        return 1.0


def _metadata(src: Source) -> list[tuple[str, str]]:
    if not is_mnprof_export(src):
        return []
    keys = ("spec", "alpha", "depth", "resolution", "mnprof_version", "seed", "fold_bn")
    return [(k, src.metadata[k][:200]) for k in keys if k in src.metadata]


def _notes(src: Source, outputs: list[str], unmodelled: str | None, built: list[str],
           ctx: Ctx) -> list[str]:
    notes = []
    if unmodelled:
        notes.append(unmodelled)
    notes += built
    if src.batch > 1:
        how = "fixes the batch at" if src.fixed_batch else "is bound to a batch of"
        notes.append(f"the file {how} {src.batch}: counts are per image (one run of the "
                     f"file is {src.batch} images)")
    if src.nhwc:
        notes.append("the input is NHWC, read through a Transpose to NCHW; shapes are "
                     "shown as (C, H, W)")
    if len(outputs) > 1:
        notes.append(f"the graph has {len(outputs)} outputs; the report follows every layer, "
                     "peak memory the first output")
    if src.symbolic:
        bound = ", ".join(f"{k}={v}" for k, v in src.symbolic.items())
        notes.append(f"symbolic dimensions bound: {bound}")
    return notes


__all__ = ["Imported", "import_model"]
