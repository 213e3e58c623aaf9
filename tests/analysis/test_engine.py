"""Per-kind formulas, graph rules and invariants of the engine."""

from __future__ import annotations

import math

import pytest

import mnprof
from mnprof.analysis.cost import analyze
from mnprof.model.width import Rounding, Scale, make_divisible, scale_channels
from mnprof.spec.build import build
from mnprof.spec.builtins import load_spec
from mnprof.spec.expr import ExprError, evaluate

V1_FC_MACS = 1024 * 1000        # the V1 variants' classifier: 1024 -> 1000

HEADER = """
input: {resolution: %d, channels: %d}
classes: 10
layers:
"""


def one_layer(write_spec, layer: str, res: int = 20, cin: int = 8):
    path = write_spec(HEADER % (res, cin) + f"  - {layer}\n")
    return analyze(build(load_spec(path))).layers[0]


@pytest.mark.parametrize(("k", "s", "cin", "cout", "g", "res"), [
    (3, 1, 8, 16, 1, 20), (3, 2, 8, 16, 1, 21), (5, 2, 8, 24, 1, 9), (1, 1, 8, 32, 1, 7),
    (3, 1, 8, 16, 2, 20), (3, 1, 8, 8, 8, 20), (7, 3, 8, 4, 4, 50), (4, 2, 8, 8, 1, 15),
])
def test_conv_formula(write_spec, k, s, cin, cout, g, res):
    c = one_layer(write_spec, f"{{kind: conv, kernel: {k}, stride: {s}, out: {cout}, "
                              f"groups: {g}, bias: true, bn: true}}", res, cin)
    h = math.ceil(res / s)
    assert c.output_shape == (cout, h, h)
    assert c.macs == k * k * (cin // g) * cout * h * h
    assert c.params == k * k * (cin // g) * cout
    assert (c.bias_params, c.bn_params) == (cout, 2 * cout)
    assert c.type_key == (f"dw{k}x{k}" if g == cin else f"{'g' if g > 1 else ''}conv{k}x{k}")


@pytest.mark.parametrize(("k", "s", "m", "res"), [(3, 1, 1, 20), (3, 2, 1, 15), (5, 2, 2, 9)])
def test_depthwise_formula(write_spec, k, s, m, res):
    c = one_layer(write_spec, f"{{kind: dwconv, kernel: {k}, stride: {s}, multiplier: {m}}}",
                  res, 8)
    h = math.ceil(res / s)
    assert c.output_shape == (8 * m, h, h)
    assert (c.macs, c.params, c.type_key) == (k * k * 8 * m * h * h, k * k * 8 * m, f"dw{k}x{k}")
    assert c.bias_params == c.bn_params == 0


def test_pointwise_and_fc(write_spec):
    c = one_layer(write_spec, "{kind: pwconv, out: 12, stride: 2}", 9, 8)
    assert c.output_shape == (12, 5, 5) and c.macs == 8 * 12 * 25 and c.type_key == "conv1x1"
    fc = one_layer(write_spec, "{kind: fc}", 3, 8)           # over the flattened 8x3x3
    assert fc.output_shape == (10,) and fc.macs == fc.params == 72 * 10
    assert fc.bias_params == 10 and fc.type_key == "fc"


def test_pools_and_zero_mac_kinds(write_spec):
    p = one_layer(write_spec, "{kind: avgpool, kernel: 3, stride: 2}", 9)
    assert p.output_shape == (8, 4, 4) and p.macs == 0 and p.elementwise_ops == 8 * 16 * 9
    p = one_layer(write_spec, "{kind: maxpool, kernel: 2, padding: same}", 9)
    assert p.output_shape == (8, 5, 5)
    g = one_layer(write_spec, "{kind: global_avgpool}", 9)
    assert g.output_shape == (8, 1, 1) and g.elementwise_ops == 8 * 81
    for kind in ("relu", "relu6", "hswish", "hsigmoid", "softmax", "dropout", "batchnorm",
                 "flatten"):
        c = one_layer(write_spec, f"{{kind: {kind}}}", 4)
        assert c.macs == 0 and c.params == 0, kind
    assert one_layer(write_spec, "{kind: batchnorm}", 4).bn_params == 16
    assert one_layer(write_spec, "{kind: flatten}", 4).output_shape == (8 * 16,)


def test_branches_add_concat_mul(write_spec):
    path = write_spec("""
        input: {resolution: 8, channels: 4}
        layers:
          - {name: a, kind: pwconv, out: 6}
          - {name: b, kind: conv, kernel: 3, out: 6, input: in}
          - {name: s, kind: add, inputs: [a, b]}
          - {name: c, kind: concat, inputs: [s, in]}
          - {name: g, kind: global_avgpool}
          - {name: m, kind: mul, inputs: [c, g]}
    """)
    g = build(load_spec(path))
    assert [n.inputs for n in g.nodes] == [("input",), ("input",), ("a", "b"), ("s", "input"),
                                           ("c",), ("c", "g")]
    assert g.node("c").output_shape == (10, 8, 8) and g.node("m").output_shape == (10, 8, 8)
    r = analyze(g)
    assert r.layers[2].elementwise_ops == 6 * 64 and r.layers[5].elementwise_ops == 10 * 64


def test_blocks_when_repeat_and_names(write_spec):
    path = write_spec("""
        input: {resolution: 16, channels: 8}
        rounding: multiple_of_8
        blocks:
          res:
            params: {t: 1, out: null, stride: 1}
            layers:
              - {name: expand, kind: pwconv, out: $(cin * t), scale: false, when: $(t != 1)}
              - {name: dw, kind: dwconv, kernel: 3, stride: $stride}
              - {name: project, kind: pwconv, out: $out}
              - {name: add, kind: add, inputs: [in, project],
                 when: $(stride == 1 and cin == ch(out))}
        layers:
          - {block: res, out: 8}
          - {block: res, t: 6, out: 16, stride: 2, repeat: 3}
    """)
    g = build(load_spec(path), alpha=1.0)
    names = [n.name for n in g.nodes]
    assert names[:3] == ["res1.dw", "res1.project", "res1.add"]         # t=1: no expand
    assert "res2.add" not in names                                     # stride 2
    assert g.node("res2.dw").attrs["stride"] == (2, 2)
    assert g.node("res3.dw").attrs["stride"] == (1, 1)
    assert g.node("res3.expand").output_shape == (96, 8, 8)
    assert g.node("res4.add").inputs == ("res3.add", "res4.project")
    # Width: 16 * 0.5 = 8 -> multiple of 8 is 8; 8 * 0.5 = 4 -> rounds up to 8.
    g = build(load_spec(path), alpha=0.5)
    assert g.node("res1.project").output_shape[0] == 8


def test_type_override_on_block(write_spec):
    path = write_spec("""
        input: {resolution: 8, channels: 16}
        blocks:
          se:
            type: se
            layers:
              - {kind: global_avgpool}
              - {kind: pwconv, out: $(cin // 4), scale: false, bias: true, act: relu}
              - {kind: pwconv, out: $cin, scale: false, bias: true, act: hsigmoid}
              - {kind: mul, inputs: [in, pwconv2]}
        layers:
          - {block: se}
    """)
    r = analyze(build(load_spec(path)))
    assert list(r.by_type) == ["se"]
    assert r.by_type["se"].macs == 16 * 4 + 4 * 16
    assert r.by_type["se"].params_framework == 16 * 4 + 4 + 4 * 16 + 16


def test_invariants_over_specs_and_widths():
    for name in ("mobilenet_v1", "mobilenet_v1_conv", "mobilenet_v1_shallow"):
        prev_params = 0
        for alpha in (0.25, 0.5, 0.75, 1.0, 1.4):
            r = mnprof.cost(name, alpha, 224)
            for field in ("macs", "params", "bias_params", "bn_params", "activations", "bytes",
                          "elementwise_ops"):
                total = getattr(r.totals, field)
                assert total == sum(getattr(c, field) for c in r.layers), field
                assert total == sum(getattr(t, field) for t in r.by_type.values()), field
            assert r.totals.params > prev_params          # params grow with alpha
            prev_params = r.totals.params
        # MACs scale with resolution squared (exactly, where every stride divides
        # evenly), except the fc's 1024 x 1000, which does not see the resolution.
        assert mnprof.cost(name, 1.0, 448).totals.macs - V1_FC_MACS == 4 * (
            mnprof.cost(name, 1.0, 224).totals.macs - V1_FC_MACS)
        # params do not depend on resolution
        assert mnprof.cost(name, 1.0, 160).totals.params == mnprof.cost(name).totals.params


def test_bytes_and_intensity(write_spec):
    c = one_layer(write_spec, "{kind: conv, kernel: 3, out: 16, bn: true}", 10, 8)
    # fp32: input 8*100 + weights 3*3*8*16 + BN folded into 16 biases + output 16*100
    assert c.bytes == 4 * (800 + 1152 + 16 + 1600)
    assert c.intensity == pytest.approx(c.macs / c.bytes)


def test_peak_activation_memory(write_spec):
    path = write_spec("""
        input: {resolution: 4, channels: 2}
        layers:
          - {name: a, kind: pwconv, out: 4}
          - {name: b, kind: pwconv, out: 8}
          - {name: c, kind: add, inputs: [b, b]}
          - {name: d, kind: concat, inputs: [a, c]}
    """)
    r = analyze(build(load_spec(path)))
    # step d: a (4*16) + c (8*16) + d (12*16) live = 384 elements; the largest step.
    assert r.peak_activation_bytes == 4 * (64 + 128 + 192)


def test_width_rules():
    assert [scale_channels(c, 0.75, Rounding.TRUNCATE, Scale.YES) for c in (32, 1000)] == [24, 750]
    assert scale_channels(1280, 0.5, Rounding.MULTIPLE_OF_8, Scale.NO_SHRINK) == 1280
    assert scale_channels(1280, 1.4, Rounding.MULTIPLE_OF_8, Scale.NO_SHRINK) == 1792
    assert scale_channels(10, 3.0, Rounding.TRUNCATE, Scale.NO) == 10
    # _make_divisible: nearest multiple of 8, never below 90%: 16*0.35=5.6 -> 8;
    # 96*0.35=33.6 -> 32; 24*1.4=33.6 -> 32; 88*0.75=66 -> 64 (>= 59.4); 36 -> 40.
    assert [make_divisible(v) for v in (5.6, 33.6, 66, 36, 3)] == [8, 32, 64, 40, 8]
    assert make_divisible(76) == 80 and make_divisible(68) == 72 and make_divisible(67.9) == 64


def test_expressions():
    env = {"cin": 16, "t": 6, "out": 24, "stride": 1, "ch": lambda c: c * 2}
    assert evaluate("$(cin * t)", env) == 96
    assert evaluate("$out", env) == 24
    assert evaluate("$(stride == 1 and cin == ch(8))", env) is True
    assert evaluate("$(make_divisible(cin // 4, 8))", env) == 8
    assert evaluate("$(1 if t > 3 else 2)", env) == 1
    for bad in ("$(__import__('os'))", "$(cin.__class__)", "$(2 ** 99)", "$([1])",
                "$('a' * 10)", "$(open('x'))", "$", "$(lambda: 1)", "$(nope)"):
        with pytest.raises(ExprError):
            evaluate(bad, env)


def test_views_move_nothing_and_hold_no_memory(write_spec):
    path = write_spec("""
        input: {resolution: 4, channels: 2}
        classes: 3
        layers:
          - {name: a, kind: pwconv, out: 8}
          - {name: f, kind: flatten}
          - {name: d, kind: dropout}
          - {name: fc, kind: fc}
    """)
    r = analyze(build(load_spec(path)))
    f, d = r.layers[1], r.layers[2]
    assert (f.bytes, f.activations, d.bytes, d.activations) == (0, 0, 0, 0)
    # The fc reads a's 8x4x4 memory through the views: live at the fc are a (128) and
    # the fc's 3 outputs; at a, the input (32) and a (128).
    assert r.peak_activation_bytes == 4 * max(32 + 128, 128 + 3)
    assert r.layers[3].bytes == 4 * (128 + 128 * 3 + 3 + 3)
