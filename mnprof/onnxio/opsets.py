"""The ONNX opsets mnprof writes: the default, the oldest, and the newest both the installed
onnx and onnxruntime run (probed once per process). Free of heavy imports at module level.
"""

from __future__ import annotations

from functools import cache

from ..core.errors import MnprofError

DEFAULT_OPSET = 17
MIN_OPSET = 13          # Softmax over one axis, Clip with tensor bounds


@cache
def max_opset() -> int:
    """The newest default-domain opset both the installed onnx and onnxruntime run."""
    import onnx.defs
    top = onnx.defs.onnx_opset_version()
    while top > MIN_OPSET and not _onnxruntime_runs(top):
        top -= 1
    return top


def _onnxruntime_runs(opset: int) -> bool:
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:
        return True
    info = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in "xy"]
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe",
                              info[:1], info[1:])
    oid = helper.make_opsetid("", opset)
    model = helper.make_model(graph, opset_imports=[oid],
                              ir_version=helper.find_min_ir_version_for([oid]))
    try:
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001  onnxruntime's own error types
        return False
    return True


def check_opset(opset: object) -> int:
    top = max_opset()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= top:
        raise MnprofError(f"opset must be an integer from {MIN_OPSET} to {top} (the newest "
                          f"the installed onnx and onnxruntime both run), got {opset!r:.40}")
    return opset
