"""Round trips: spec -> ONNX -> import, and ONNX -> import -> flat spec -> cost.

- ``mnprof export`` then import gives back the spec's totals for every built-in:
  MACs, weights, biases, batch-norm scale and shift, activations, bytes, peak
  memory and elementwise ops. Only the layer count may differ: ``dropout`` is not
  exported (an identity at inference), and a ``flatten`` read by an fc alone is folded
  into it. With ``--fold-bn`` the batch-norm is a bias
  in the file, so it is counted as one.
- ``mnprof import`` writes a spec whose cost equals the cost of the file it came
  from: totals, per-type rows and layer count, for every built-in and for the
  hand-built foreign-style files.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from mnprof import api
from mnprof.analysis.cost import Totals, analyze
from mnprof.onnxio.export import export_model, save_model
from mnprof.spec.build import build
from mnprof.spec.builtins import builtin_names, load_spec
from mnprof.spec.write import graph_to_spec, identifier

from ..paths import DATA, ROOT
from .foreign import dynamo_style, keras_style, legacy_style

SPECS = [*builtin_names(), str(DATA / "export_all_kinds.yaml"),
         str(DATA / "export_family_kinds.yaml")]
MAX_PARAMS = 2_000_000          # a quick test: big built-ins run thinner, same structure


def small(spec: str):
    s = load_spec(spec)
    res = 64 if spec in builtin_names() else None
    alpha = 1.0
    while analyze(build(s, alpha, res)).totals.params_framework > MAX_PARAMS:
        alpha /= 2
    return build(s, alpha, res)


def fields(t: Totals, *skip: str) -> dict[str, int]:
    keys = ("macs", "params", "bias_params", "bn_params", "activations", "bytes",
            "elementwise_ops", "layers")
    return {k: getattr(t, k) for k in keys if k not in skip}


@pytest.mark.parametrize("spec", builtin_names())
def test_export_then_import_gives_the_specs_totals(tmp_path, spec):
    graph = small(spec)
    path = tmp_path / "m.onnx"
    save_model(export_model(graph, batch=None), path)
    want, got = analyze(graph), api.cost(str(path))
    dropouts = sum(n.kind == "dropout" for n in graph.nodes)
    readers = [x for n in graph.nodes for x in n.inputs]
    folded = sum(n.kind == "flatten" and readers.count(n.name) == 1 and
                 any(m.kind == "fc" and m.inputs == (n.name,) for m in graph.nodes)
                 for n in graph.nodes)         # a flatten read by an fc alone: folded into it
    assert fields(got.totals, "layers") == fields(want.totals, "layers")
    assert got.totals.layers == want.totals.layers - dropouts - folded
    assert got.peak_activation_bytes == want.peak_activation_bytes
    assert got.resolution == graph.resolution and got.input_shape == graph.input_shape


@pytest.mark.parametrize("spec", [builtin_names()[0], "mobilenet_v3_small"])
def test_folded_batchnorm_and_opset_13_forms(tmp_path, spec):
    """With the batch-norm folded each conv has a bias instead; at opset 13 hard-swish
    is x * HardSigmoid(x), still one hswish."""
    graph = small(spec)
    path = tmp_path / "m.onnx"
    save_model(export_model(graph, batch=1, opset=13, fold_bn=True), path)
    want, got = analyze(graph).totals, api.cost(str(path)).totals
    assert (got.macs, got.params) == (want.macs, want.params)
    assert got.bn_params == 0
    with_bias = {n.name for n in graph.nodes if n.attrs.get("bias") or n.attrs.get("bn")}
    channels = sum(n.output_shape[0] for n in graph.nodes if n.name in with_bias)
    assert got.bias_params == channels
    hswish = sum(n.attrs.get("act") == "hswish" or n.kind == "hswish" for n in graph.nodes)
    kinds = [n.attrs.get("act") for n in api.load_model(str(path)).nodes]
    assert kinds.count("hswish") == hswish


def _spec_round_trip(tmp_path, onnx_path: str) -> None:
    direct = api.cost(onnx_path)
    spec = tmp_path / "flat.yaml"
    spec.write_text(graph_to_spec(api.load_model(onnx_path)))
    again = api.cost(str(spec))
    assert again.totals == direct.totals
    assert dict(again.by_type) == dict(direct.by_type)
    assert again.peak_activation_bytes == direct.peak_activation_bytes


@pytest.mark.parametrize("spec", SPECS)
def test_import_writes_a_spec_with_the_same_cost_builtins(tmp_path, spec):
    path = tmp_path / "m.onnx"
    save_model(export_model(small(spec)), path)
    _spec_round_trip(tmp_path, str(path))


@pytest.mark.parametrize("make", [legacy_style, dynamo_style, keras_style])
def test_import_writes_a_spec_with_the_same_cost_foreign(tmp_path, make):
    _spec_round_trip(tmp_path, str(make(tmp_path)))


def test_spec_names_are_identifiers_kept_as_far_as_possible():
    taken: set[str] = set()
    assert identifier("/features/features.0/Conv", taken) == "features_features_0_Conv"
    assert identifier("/features/features.0/Conv", taken) == "features_features_0_Conv_2"
    assert identifier("0.weight", taken) == "_0_weight"
    assert identifier("in", taken) == "in_2" and identifier("...", taken) == "layer"


def test_import_command_in_a_fresh_process(tmp_path, run):
    src = legacy_style(tmp_path)
    out = tmp_path / "legacy.yaml"
    done = subprocess.run([sys.executable, "-m", "mnprof", "import", str(src), "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and out.read_text().startswith("# A flat spec of")
    assert api.cost(str(out)).totals == api.cost(str(src)).totals
    before = src.read_bytes()
    refused = run("import", str(src), "-o", str(src))
    assert refused.exit_code == 2 and "refusing to overwrite an input file" in refused.stderr
    assert src.read_bytes() == before
    assert run("import", str(out)).exit_code == 2          # a spec is not an ONNX file
    text = run("import", str(src))
    assert text.exit_code == 0 and text.stdout == out.read_text()
