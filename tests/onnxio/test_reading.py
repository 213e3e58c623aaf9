"""Reading ONNX files that are not models (issue 9, section 5), and the opset cap (7).

The library's counter returned 0 MACs and no error for a 0-byte file, a truncated
file and a cyclic graph, while `bench` rejected all three; both now go through one
loader that refuses them.
"""

from __future__ import annotations

import pytest

import mnprof
from mnprof.core.errors import MnprofError
from mnprof.onnxio.opsets import MIN_OPSET, max_opset
from mnprof.onnxio.reader import count

from ..bench.onnx_files import conv_model, cyclic_model


@pytest.fixture
def good(tmp_path):
    return conv_model(tmp_path / "conv.onnx")


def test_a_good_file_counts_by_hand(good):
    assert count(good).macs == 8 * 6 * 6 * 3 * 3 * 3          # 8 outputs of 6x6, 27 taps
    assert count(good).params == 8 * 3 * 3 * 3


@pytest.mark.parametrize("cut, message", [
    (0, "its graph has no nodes"), (10, "not a readable ONNX model"),
    (1, "not a readable ONNX model"), (-7, "not a readable ONNX model"),
])
def test_empty_and_truncated_files(tmp_path, good, cut, message):
    data = good.read_bytes()
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(data[:cut])
    with pytest.raises(MnprofError, match=message):
        count(bad)
    with pytest.raises(MnprofError, match=message):
        mnprof.benchmark(str(bad), runs=1, warmup=0, min_time=0)


@pytest.mark.parametrize("data", [b"\x00" * 64, b"\xff" * 64, b"not an onnx file at all",
                                  bytes(range(256))])
def test_garbage(tmp_path, data):
    bad = tmp_path / "junk.onnx"
    bad.write_bytes(data)
    with pytest.raises(MnprofError, match="junk.onnx"):
        count(bad)


def test_a_cyclic_graph(tmp_path):
    path = cyclic_model(tmp_path / "cyc.onnx")
    with pytest.raises(MnprofError, match="cycle"):
        count(path)
    with pytest.raises(MnprofError, match="cycle"):
        mnprof.benchmark(str(path), runs=1, warmup=0, min_time=0)


def test_a_node_reading_a_tensor_nobody_makes(tmp_path):
    import onnx
    path = conv_model(tmp_path / "c.onnx")
    model = onnx.load(str(path))
    model.graph.node[0].input[0] = "ghost"
    onnx.save(model, str(path))
    with pytest.raises(MnprofError, match="'ghost' is read by a node but no node"):
        count(path)


def test_a_symbolic_batch_needs_a_value(tmp_path):
    path = conv_model(tmp_path / "dyn.onnx", batch="N")
    with pytest.raises(MnprofError, match="symbolic"):
        count(path)
    assert count(path, dims={"N": 3}).macs == 3 * 8 * 6 * 6 * 27


def test_opset_is_capped_at_what_onnxruntime_runs(tmp_path, run):
    """--opset accepted opsets onnxruntime cannot run; the cap is probed once."""
    import onnxruntime as ort
    top = max_opset()
    out = tmp_path / "top.onnx"
    mnprof.export_onnx("mobilenet_v1", out, alpha=0.25, resolution=32, opset=top)
    ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for bad in (top + 1, MIN_OPSET - 1, 99):
        result = run("export", "-a", "0.25", "-r", "32", "--opset", str(bad), "-o",
                     str(tmp_path / "x.onnx"))
        assert result.exit_code == 2
        assert f"from {MIN_OPSET} to {top}" in result.stderr
        assert "newest the installed onnx and onnxruntime both run" in result.stderr
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("old, new", [(b"broken", b"\xadroken"), (b"Conv", b"C\xffnv"),
                                      (b"\x01w\x12", b"\x01\xc3\x12")])
def test_names_that_are_not_utf8(tmp_path, good, old, new):
    """protobuf hands a string field that is not UTF-8 over as bytes; the bench's header
    crashed concatenating it (found by the fuzzer). The loader refuses such a model."""
    data = good.read_bytes()
    assert old in data
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(data.replace(old, new, 1))
    with pytest.raises(MnprofError, match="not UTF-8 text"):
        count(bad)
    with pytest.raises(MnprofError, match="not UTF-8 text"):
        mnprof.benchmark(str(bad), runs=1, warmup=0, min_time=0)
