"""Reading ONNX files safely: bounded, validated, external data only from beside the model.

Every ONNX path a user gives (``cost``, ``bench``, ``import``, budgets, the reader)
goes through ``load_model``, which

- reads a regular file of at most 2 GiB (protobuf's limit) with ``read_bytes``;
- parses it and refuses what is not a model: no graph nodes (a 0-byte or truncated
  file parses as an empty message), no default-domain opset, a node reading a tensor
  nothing makes, a cycle;
- loads external data (``.onnx.data`` files, as dynamo exports write them) only from
  files inside the model's own folder: a ``location`` of ``../x`` or ``/etc/x`` is
  refused, and so is one that would read past the end of its file.

onnx is imported only inside the functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import MnprofError
from ..core.files import read_bytes

if TYPE_CHECKING:
    import onnx

MAX_MODEL_BYTES = 2**31 - 1        # protobuf's limit for one message
MAX_EXTERNAL_BYTES = 16 * 2**30    # external data of one model, all files together


def load_model(model: onnx.ModelProto | str | os.PathLike[str], *,
               external_data: bool = True) -> onnx.ModelProto:
    """``model`` itself (validated), or the model in the file ``model``."""
    if isinstance(model, (str, os.PathLike)):   # read first: a bad path fails before onnx loads
        name = os.fspath(model)
        data = read_bytes(name, what="ONNX model", max_bytes=MAX_MODEL_BYTES)
    import onnx

    if isinstance(model, onnx.ModelProto):
        check_model_graph(model, str(model.graph.name or "<model>"))
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise MnprofError(f"not an ONNX model or a path: {type(model).__name__}")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:  # noqa: BLE001  protobuf's DecodeError and friends
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MnprofError(f"{name}: not a readable ONNX model ({detail[:120]})") from None
    check_model_graph(proto, name)
    if external_data:
        load_external(proto, Path(name).resolve().parent, name)
    return proto


def check_model_graph(model: Any, name: str) -> None:
    """A one-line error unless ``model`` is a usable graph (see the module docstring)."""
    g = model.graph
    if not len(g.node):
        raise MnprofError(f"{name}: not a readable ONNX model (its graph has no nodes)")
    if not all(isinstance(t, str) for t in _texts(model)):
        # protobuf hands a string field that is not UTF-8 over as bytes
        raise MnprofError(f"{name}: not a readable ONNX model (a name in it is not UTF-8 "
                          "text)")
    if not any(o.domain in ("", "ai.onnx") for o in model.opset_import):
        raise MnprofError(f"{name}: not a readable ONNX model (no default-domain opset)")
    made = {i.name for i in g.input} | {t.name for t in g.initializer} | {""}
    made |= {t.name for t in g.sparse_initializer}
    producer: dict[str, int] = {}
    for i, node in enumerate(g.node):
        for t in node.output:
            producer[t] = i
    pending = [sum(1 for t in set(n.input) if t not in made) for n in g.node]
    for t in {t for n in g.node for t in n.input} - made:
        if t not in producer:
            raise MnprofError(f"{name}: tensor {t!r:.80} is read by a node but no node, "
                              "input or initializer makes it")
    readers: dict[str, list[int]] = {}
    for i, node in enumerate(g.node):
        for t in set(node.input) - made:
            readers.setdefault(t, []).append(i)
    ready = [i for i, n in enumerate(pending) if n == 0]
    done = 0
    while ready:                       # Kahn's algorithm: every node must come out
        i = ready.pop()
        done += 1
        for t in g.node[i].output:
            for j in readers.get(t, ()):
                pending[j] -= 1
                if pending[j] == 0:
                    ready.append(j)
    if done != len(g.node):
        raise MnprofError(f"{name}: the graph has a cycle ({len(g.node) - done} nodes on or "
                          "after it); an ONNX graph must be acyclic")


def _texts(model: Any) -> Any:
    """Every string field mnprof reads or shows: names, op types, domains, metadata."""
    g = model.graph
    yield from (g.name, model.producer_name, model.producer_version, model.domain)
    yield from (o.domain for o in model.opset_import)
    for p in model.metadata_props:
        yield from (p.key, p.value)
    for n in g.node:
        yield from (n.name, n.op_type, n.domain, *n.input, *n.output)
    yield from (t.name for t in (*g.initializer, *g.input, *g.output, *g.value_info))


def load_external(model: Any, folder: Path, name: str) -> None:
    """Read the external data of ``model``'s initializers from files inside ``folder``."""
    from onnx import TensorProto

    total = 0
    blobs: dict[Path, bytes] = {}
    for tensor in model.graph.initializer:
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        path = (folder / location).resolve()
        if not location or Path(location).is_absolute() or folder not in path.parents:
            raise MnprofError(f"{name}: initializer {tensor.name!r:.60} keeps its data in "
                              f"{location!r:.80}, outside the model's folder; mnprof reads "
                              "external data only from beside the model")
        try:
            offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
        except ValueError:
            raise MnprofError(f"{name}: initializer {tensor.name!r:.60}: bad external data "
                              "offset or length") from None
        if path not in blobs:
            blobs[path] = read_bytes(path, what="external data", max_bytes=MAX_EXTERNAL_BYTES)
        blob = blobs[path]
        end = len(blob) if length < 0 else offset + length
        if offset < 0 or end > len(blob):
            raise MnprofError(f"{name}: initializer {tensor.name!r:.60} reads bytes "
                              f"{offset}-{end} of {location}, which has {len(blob)}")
        total += end - offset
        if total > MAX_EXTERNAL_BYTES:
            raise MnprofError(f"{name}: external data over {MAX_EXTERNAL_BYTES} bytes")
        tensor.raw_data = blob[offset:end]
        tensor.data_location = TensorProto.DEFAULT
        del tensor.external_data[:]
