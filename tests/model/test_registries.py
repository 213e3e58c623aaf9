"""A new activation or layer kind is registered in one place and works everywhere.

docs/architecture.md says: an activation is one ``register_activation`` call in
``mnprof/model/activations.py``; a kind is one ``@register`` class in its family
module. These tests register a throwaway one of each *from the test* (touching no
other mnprof file) and follow it through the spec language, the JSON Schema, the
cost engine, synthetic weights, the ONNX export, onnxruntime and the bench's
per-layer attribution. The only other place that must learn it is the tests'
independent forward pass, which refuses what it does not know.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from mnprof.analysis.cost import analyze
from mnprof.model.activations import ACTIVATIONS, Activation, register_activation
from mnprof.model.fields import FloatField
from mnprof.model.graph import numel
from mnprof.model.kinds import KINDS, Kind, register
from mnprof.onnxio.export import export_model
from mnprof.onnxio.weights import generate_weights
from mnprof.spec.build import build
from mnprof.spec.builtins import load_spec
from mnprof.spec.schema import spec_schema

from ..oracles import numpy_forward

SPEC = """
input: {resolution: 16, channels: 3}
classes: 5
layers:
  - {name: c1, kind: conv, kernel: 3, out: 8, bn: true, act: leaky_test}
  - {name: c2, kind: conv, kernel: 3, out: 8, act: none}
  - {name: alone, kind: leaky_test}
  - {name: twice, kind: scale_test, factor: 2.5}
  - {name: pool, kind: global_avgpool}
  - {name: fc, kind: fc}
"""


@pytest.fixture
def throwaway():
    """A LeakyReLU activation and a constant-scale kind, registered for one test."""
    act = register_activation(Activation(
        "leaky_test", "max(x, 0.1 x)", gain=2.0, ort_ops=frozenset({"LeakyRelu"}),
        emit=lambda e, x, name: e.op("LeakyRelu", [x], name=f"{name}.leaky", alpha=0.1),
        numpy=lambda x: np.where(x > 0, x, 0.1 * x)))

    @register
    class ScaleTest(Kind):
        name = "scale_test"
        doc = "multiplies by a constant (a test kind)"
        fields = (FloatField("factor", 1.0, minimum=0.0, maximum=100.0),)

        def elementwise_ops(self, attrs, input_shapes, output_shape):
            return numel(output_shape)

        def emit(self, e, node, inputs):
            return e.op("Mul", [inputs[0], e.const(f"scale.{node.name}", node.attrs["factor"])],
                        name=node.name)

    yield act
    ACTIVATIONS.pop("leaky_test")
    KINDS.pop("leaky_test")             # the kind the registry made for the activation
    KINDS.pop("scale_test")
    numpy_forward.ACTIVATIONS.pop("leaky_test", None)
    numpy_forward.EXTRA_KINDS.pop("scale_test", None)


def test_the_spec_language_and_schema_know_them(throwaway, write_spec):
    graph = build(load_spec(write_spec(SPEC)))
    assert graph.node("c1").attrs["act"] == "leaky_test"
    assert graph.node("alone").kind == "leaky_test"
    schema = spec_schema()
    assert "leaky_test" in schema["$defs"]["kind_conv"]["properties"]["act"]["anyOf"][0]["enum"]
    assert "kind_scale_test" in schema["$defs"] and "kind_leaky_test" in schema["$defs"]
    # cost: one elementwise op per output element of each activation and of the scale
    c = {x.name: x for x in analyze(graph).layers}
    assert c["c1"].elementwise_ops == 8 * 16 * 16 and c["c2"].elementwise_ops == 0
    assert c["alone"].elementwise_ops == c["twice"].elementwise_ops == 8 * 16 * 16


def test_weights_take_the_activations_gain(throwaway, write_spec):
    graph = build(load_spec(write_spec(SPEC)))
    w = generate_weights(graph, seed=0)
    fan_in = 3 * 3 * 3
    # He initialisation: std sqrt(gain / fan_in), gain 2 before leaky_test, 1 before none
    assert np.std(w["c1.weight"]) == pytest.approx(np.sqrt(2 / fan_in), rel=0.15)
    assert np.std(w["c2.weight"]) == pytest.approx(np.sqrt(1 / (8 * 9)), rel=0.15)


def test_export_equals_the_reference_once_it_learns_them(throwaway, write_spec):
    graph = build(load_spec(write_spec(SPEC)))
    weights = generate_weights(graph, seed=0)
    x = np.random.default_rng(1).standard_normal((2, 3, 16, 16)).astype(np.float32)
    with pytest.raises(AssertionError, match="no definition for activation 'leaky_test'"):
        numpy_forward.forward(graph, weights, x)          # loud, never skipped
    numpy_forward.ACTIVATIONS["leaky_test"] = lambda v: np.where(v > 0, v, 0.1 * v)
    numpy_forward.EXTRA_KINDS["scale_test"] = lambda node, xs, p: xs[0] * node.attrs["factor"]
    ref = numpy_forward.forward(graph, weights, x)
    model = export_model(graph, batch=None)
    assert [n.op_type for n in model.graph.node].count("LeakyRelu") == 2
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": x})
    assert np.abs(out - ref[graph.output]).max() < 1e-4


def test_the_bench_attributes_it_to_its_layer(throwaway, write_spec):
    from mnprof.bench.measure import bench_graph

    from ..bench.test_bench import fake_ceiling
    graph = build(load_spec(write_spec(SPEC)))
    r = bench_graph(graph, threads=1, runs=3, warmup=1, min_time=0.0, profile_runs=2,
                    ceiling=fake_ceiling(1))
    rows = {x.name: x for x in r.layers}
    # onnxruntime fuses Conv + BatchNormalization + LeakyRelu: one kernel, the conv's row
    assert rows["c1"].ort_nodes and rows["c1"].time_ms > 0
    assert not any("LeakyRelu" in x.type_key for x in r.non_layer), r.non_layer
    assert rows["alone"].time_ms > 0 or rows["alone"].fused_into
