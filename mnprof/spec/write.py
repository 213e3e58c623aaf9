"""A built graph written back as a flat spec: every layer explicit, in graph order.

``mnprof import model.onnx -o spec.yaml`` writes this, so that ``mnprof cost`` of the
spec gives the same totals and per-type rows as ``mnprof cost`` of the model. What
a flat spec cannot say is an error, never an approximation:

- a layer mnprof does not model (``onnx:<OpType>``) has no kind in the spec language;
- a spec's input is square: ``resolution`` is both height and width.

Layer names become identifiers (letters, digits, ``_``): every other run of
characters is one ``_``, a leading digit gets a ``_`` before it, and a name taken
already gets ``_2``, ``_3``... Each field is written only where it differs from
its kind's default; ``scale`` and ``rounding`` never are (an import is at width 1).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..core.errors import MnprofError, one_line
from ..model.fields import REQUIRED
from ..model.graph import INPUT, Graph
from ..model.kinds import KINDS
from ..model.kinds.opaque import PREFIX
from .document import NAME_RE, RESERVED_NAMES

SKIPPED_FIELDS = ("scale", "rounding")
YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def identifier(name: str, taken: set[str]) -> str:
    """``name`` as a spec identifier not in ``taken`` (see the module docstring)."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "layer"
    if base[0].isdigit():
        base = f"_{base}"
    out, k = base, 1
    while out in taken or out in RESERVED_NAMES or not NAME_RE.match(out):
        k += 1
        out = f"{base}_{k}"
    taken.add(out)
    return out


def _value(v: Any) -> str:
    """A field's value as YAML (flow style)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (tuple, list)):
        if len(v) == 2 and v[0] == v[1]:
            return _value(v[0])
        if len(v) == 4 and len(set(v)) == 1:
            return _value(v[0])
        if len(v) == 4 and (v[0], v[1]) == (v[2], v[3]):
            return _value(list(v[:2]))
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if hasattr(v, "value"):                      # an enum (Scale, Rounding)
        return _value(v.value)
    text = str(v)
    if NAME_RE.match(text) and text.lower() not in YAML_WORDS:
        return text
    return json.dumps(text)


def _fields(node: Any) -> list[tuple[str, Any]]:
    kind = KINDS[node.kind]
    out = []
    for f in kind.fields:
        if f.name in SKIPPED_FIELDS or f.name not in node.attrs:
            continue
        value = node.attrs[f.name]
        default = None if f.default is REQUIRED else f.default
        if default is not None and not f.required:
            try:
                default = f.check(default)
            except ValueError:
                default = None
        if f.required or value != default or (node.kind == "fc" and f.name == "out"):
            out.append((f.name, value))
    return out


def graph_to_spec(graph: Graph) -> str:
    """``graph`` as the text of a flat spec (see the module docstring)."""
    opaque = sorted({n.kind[len(PREFIX):] for n in graph.nodes if n.kind.startswith(PREFIX)})
    if opaque:
        raise MnprofError(f"{graph.file or graph.model}: op type(s) {', '.join(opaque)} are "
                          "not modelled by mnprof, so no spec can describe this model "
                          "(mnprof cost reads the ONNX file itself)")
    c, h, w = graph.input_shape
    if h != w:
        raise MnprofError(f"{graph.file or graph.model}: the input is {h}x{w}; a spec's input "
                          "is square (resolution is both height and width)")
    taken: set[str] = set()
    names = {INPUT: "in"}
    for n in graph.nodes:
        names[n.name] = identifier(n.name, taken)
    fcs = [n for n in graph.nodes if n.kind == "fc"]
    lines = [f"# A flat spec of {one_line(graph.file or graph.model)}, written by mnprof "
             "import:",
             "# every layer explicit, named after its ONNX node.",
             f"name: {json.dumps(graph.model)}",
             f"description: {json.dumps(f'imported from {graph.file or graph.model}')}",
             f"input: {{resolution: {h}, channels: {c}}}",
             f"classes: {fcs[-1].output_shape[0] if fcs else 1000}",
             "layers:"]
    prev = INPUT
    for n in graph.nodes:
        items = [("name", names[n.name]), ("kind", n.kind)]
        if n.inputs != (prev,):
            key = "input" if len(n.inputs) == 1 else "inputs"
            ins = [names[x] for x in n.inputs]
            items.append((key, ins[0] if len(ins) == 1 else ins))
        items += _fields(n)
        body = ", ".join(f"{k}: {v if k in ('name', 'kind') else _ref(k, v)}"
                         for k, v in items)
        lines.append(f"  - {{{body}}}")
        prev = n.name
    return "\n".join(lines) + "\n"


def _ref(key: str, value: Any) -> str:
    if key == "input":
        return str(value)
    if key == "inputs":
        return "[" + ", ".join(value) + "]"
    return _value(value)
