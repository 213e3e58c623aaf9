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

onnx's protobuf classes are loaded only inside the functions (``mnprof.onnxio.proto``:
without the rest of the onnx package).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
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
    """``model`` itself (validated), or the model in the file ``model``.

    ``external_data=False``: external initializers are only checked (inside the
    model's folder, within their files), not read: ``check_external`` and
    ``read_external`` read what is needed later.
    """
    from .proto import pb

    if isinstance(model, pb().ModelProto):
        check_model_graph(model, str(model.graph.name or "<model>"))
        return model
    name = os.fspath(model)
    data = read_bytes(name, what="ONNX model", max_bytes=MAX_MODEL_BYTES)
    proto = pb().ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:  # noqa: BLE001  protobuf's DecodeError and friends
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MnprofError(f"{name}: not a readable ONNX model ({detail[:120]})") from None
    check_model_graph(proto, name)
    folder = Path(name).resolve().parent
    if external_data:
        load_external(proto, folder, name)
    else:
        check_external(proto, folder, name)
    return proto


def check_model_graph(model: Any, name: str) -> None:
    """A one-line error unless ``model`` is a usable graph (see the module docstring)."""
    g = model.graph
    if not len(g.node):
        raise MnprofError(f"{name}: not a readable ONNX model (its graph has no nodes)")
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


@dataclass(frozen=True)
class ExternalRef:
    """Where one initializer keeps its data: a file inside the model's folder, a range."""

    path: Path
    offset: int
    length: int


def external_ref(tensor: Any, folder: Path, name: str) -> ExternalRef:
    """The checked location of ``tensor``'s external data (nothing is read): a file
    inside ``folder``, a regular file, and a byte range inside it."""
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
    try:
        st = path.stat()
    except OSError:
        raise MnprofError(f"{name}: initializer {tensor.name!r:.60} keeps its data in "
                          f"{location!r:.80}, which cannot be read") from None
    if not stat.S_ISREG(st.st_mode):
        raise MnprofError(f"{name}: external data {location!r:.80} is not a regular file")
    end = st.st_size if length < 0 else offset + length
    if offset < 0 or end > st.st_size:
        raise MnprofError(f"{name}: initializer {tensor.name!r:.60} reads bytes "
                          f"{offset}-{end} of {location}, which has {st.st_size}")
    return ExternalRef(path, offset, end - offset)


def check_external(model: Any, folder: Path, name: str) -> dict[str, ExternalRef]:
    """Every external initializer's checked location, by name (nothing is read)."""
    from .proto import pb
    TensorProto = pb().TensorProto

    refs: dict[str, ExternalRef] = {}
    total = 0
    for tensor in model.graph.initializer:
        if tensor.data_location == TensorProto.EXTERNAL:
            refs[tensor.name] = ref = external_ref(tensor, folder, name)
            total += ref.length
            if total > MAX_EXTERNAL_BYTES:
                raise MnprofError(f"{name}: external data over {MAX_EXTERNAL_BYTES} bytes")
    return refs


def read_external(ref: ExternalRef, name: str) -> bytes:
    """The bytes of one checked external range (see ``external_ref``)."""
    try:
        with open(ref.path, "rb") as fh:
            fh.seek(ref.offset)
            data = fh.read(ref.length)
    except OSError as exc:
        raise MnprofError(f"{name}: cannot read external data {ref.path.name}: "
                          f"{exc.strerror or exc}") from None
    if len(data) != ref.length:
        raise MnprofError(f"{name}: external data {ref.path.name} ended early")
    return data


def load_external(model: Any, folder: Path, name: str) -> None:
    """Read the external data of ``model``'s initializers from files inside ``folder``."""
    from .proto import pb
    TensorProto = pb().TensorProto

    refs = check_external(model, folder, name)
    blobs: dict[Path, bytes] = {}
    for tensor in model.graph.initializer:
        if tensor.name not in refs or tensor.data_location != TensorProto.EXTERNAL:
            continue
        ref = refs[tensor.name]
        if ref.path not in blobs:
            blobs[ref.path] = read_bytes(ref.path, what="external data",
                                         max_bytes=MAX_EXTERNAL_BYTES)
        tensor.raw_data = blobs[ref.path][ref.offset:ref.offset + ref.length]
        tensor.data_location = TensorProto.DEFAULT
        del tensor.external_data[:]
