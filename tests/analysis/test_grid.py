"""Exact totals over a grid without building every point (``mnprof.analysis.grid``).

The grid path must give, at every point, the numbers of the point built and analysed on
its own: every field of the totals and the peak of live bytes, for every built-in. A
spec whose layers may change with the resolution, and a point the builder would refuse,
go the point-by-point way (the same numbers, or the builder's own error).
"""

from __future__ import annotations

import json

import pytest

import mnprof
from mnprof.analysis.cost import analyze
from mnprof.analysis.grid import GRID_MIN_POINTS, Spatial, grid_rows, sweep_rows
from mnprof.core.errors import MnprofError, SpecError
from mnprof.core.yamlsrc import load_yaml
from mnprof.spec.build import build
from mnprof.spec.builtins import builtin_names
from mnprof.spec.parse import parse_spec

from ..fresh import mnprof as mnprof_fresh
from ..oracles.mobilenet import v2

RES = [96, 97, 131, 224, 289]           # odd sizes: pads and ceil/floor rules differ
# no global pool: the fc reads C x H x W features, so it changes with the resolution
FLAT = """
name: flat
input: {resolution: 32, channels: 3}
classes: 10
layers:
  - {name: c1, kind: conv, kernel: 3, stride: 2, out: 16, bn: true, act: relu}
  - {name: flat, kind: flatten}
  - {name: fc, kind: fc}
"""


def _alphas(name: str) -> list[float]:
    # ShuffleNetV2 has channel tables for these widths only
    return [0.5, 1.0, 1.5] if name.startswith("shufflenet") else [0.35, 0.8, 1.3]


def _per_point(spec, alphas, res):
    out = []
    for a in alphas:
        for r in res:
            c = analyze(build(spec, a, r))
            out.append((c.alpha, c.resolution, c.totals, c.peak_activation_bytes))
    return out


def _grid(spec, alphas, res):
    widths = [build(spec, a, res[0]) for a in alphas]
    rows, slow = grid_rows(lambda a, r: build(spec, a, r), widths, Spatial(res))
    return [(x.alpha, x.resolution, x.totals, x.peak_activation_bytes) for x in rows], slow


def _spec(text: str, name: str = "t.yaml"):
    return parse_spec(load_yaml(text, file=name), file=name)


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_grid_equals_point_by_point(name):
    spec = mnprof.load_spec(name)
    got, slow = _grid(spec, _alphas(name), RES)
    assert slow == 0
    assert got == _per_point(spec, _alphas(name), RES)


def test_no_builtin_reads_the_resolution():
    assert not any(build(n).reads_resolution for n in builtin_names())


@pytest.mark.parametrize("condition", ["$(resolution > 100)", "$(hin > 100)"])
def test_a_spec_reading_the_resolution_is_computed_point_by_point(condition):
    spec = _spec(f"""
name: adaptive
input: {{resolution: 64, channels: 3}}
classes: 10
layers:
  - {{name: c1, kind: conv, kernel: 3, stride: 2, out: 16, bn: true, act: relu}}
  - {{name: big, kind: conv, kernel: 3, out: 32, when: "{condition}"}}
  - {{name: pool, kind: global_avgpool}}
  - {{name: fc, kind: fc}}
""")
    assert build(spec, 1.0, 64).reads_resolution
    got, slow = _grid(spec, [0.5, 1.0], [64, 96, 128, 160])
    assert slow == 2
    assert got == _per_point(spec, [0.5, 1.0], [64, 96, 128, 160])
    macs = {r: t.macs for a, r, t, _ in got if a == 1.0}
    # by hand: c1 3x3x3x16 at (r/2)^2; above 100, big 3x3x16x32 too; fc 16 or 32 x 10
    assert macs[96] == 27 * 16 * 48 * 48 + 16 * 10
    assert macs[128] == 27 * 16 * 64 * 64 + 9 * 16 * 32 * 64 * 64 + 32 * 10


def test_a_vector_length_read_as_cin_is_computed_point_by_point():
    """In a block fed by a flatten, cin is C x H x W: an fc sized from it changes with
    the resolution."""
    spec = _spec("""
name: flat
input: {resolution: 16, channels: 3}
classes: 10
blocks:
  head:
    layers:
      - {name: fc1, kind: fc, out: $(cin // 4), scale: false}
layers:
  - {name: c1, kind: conv, kernel: 3, stride: 2, out: 8}
  - {name: flat, kind: flatten}
  - {name: head, block: head}
  - {name: fc2, kind: fc}
""")
    assert build(spec, 1.0, 16).reads_resolution
    got, slow = _grid(spec, [0.5, 1.0], [16, 24, 32])
    assert slow == 2 and got == _per_point(spec, [0.5, 1.0], [16, 24, 32])
    # by hand at alpha 1, resolution 32: 8 x 16 x 16 = 2048 features, fc1 512 wide
    assert got[-1][2].macs == 3 * 3 * 3 * 8 * 16 * 16 + 2048 * 512 + 512 * 10


def test_a_flattened_map_is_exact_on_the_grid_path():
    """No global pool: the fc's weights grow with the resolution, and still no point is
    built on its own."""
    spec = _spec(FLAT)
    res = [32, 33, 48, 63]
    got, slow = _grid(spec, [0.5, 1.0], res)
    assert slow == 0 and got == _per_point(spec, [0.5, 1.0], res)
    # by hand, alpha 1 at 63: c1 is 16 x 32 x 32 (pad 1, stride 2), fc 16384 x 10
    assert got[-1][2].params == 3 * 3 * 3 * 16 + 16 * 32 * 32 * 10


def test_counts_beyond_int64_stay_exact():
    """A pointwise conv of 2^20 x 2^20 channels at 8192 x 8192 has 2^66 MACs."""
    spec = _spec("""
name: huge
input: {resolution: 4096, channels: 1}
layers:
  - {name: widen, kind: pwconv, out: 1048576}
  - {name: mix, kind: pwconv, out: 1048576}
""")
    res = [4096, 8192]
    got, slow = _grid(spec, [1.0], res)
    assert slow == 0 and got == _per_point(spec, [1.0], res)
    assert got[-1][2].macs == (1 << 20) * 8192 ** 2 + (1 << 40) * 8192 ** 2 > 1 << 63


def test_a_point_the_builder_refuses_gives_the_builders_error():
    """At 8 the third stride-2 conv collapses the map: the sweep names it, as a build of
    that point alone does."""
    spec = _spec("""
name: deep
input: {resolution: 64, channels: 3}
layers:
  - {name: c1, kind: conv, kernel: 3, stride: 2, out: 8, padding: 0}
  - {name: c2, kind: conv, kernel: 3, stride: 2, out: 8, padding: 0}
  - {name: c3, kind: conv, kernel: 3, stride: 2, out: 8, padding: 0}
""", name="deep.yaml")
    with pytest.raises(SpecError) as alone:
        build(spec, 0.25, 8)               # the first point that fails
    alphas = [0.25 + 0.05 * i for i in range(16)]
    with pytest.raises(SpecError) as swept:
        sweep_rows(lambda a, r: build(spec, a, r), alphas, [64, 32, 16, 8])
    assert len(alphas) * 4 >= GRID_MIN_POINTS
    assert str(swept.value) == str(alone.value) and "c3" in str(swept.value)


@pytest.mark.parametrize("name", builtin_names())
def test_kinds_keep_channels_and_spatial_sizes_apart(name):
    """What the grid relies on, seen on every layer of every built-in: a layer's channel
    count does not change with the resolution, nor its spatial size with the width."""
    a1, a2 = _alphas(name)[:2]
    base, larger = build(name, a1, 97), build(name, a1, 160)
    wider = {n.name: n for n in build(name, a2, 97).nodes}     # a width may add a layer
    assert [n.name for n in base.nodes] == [n.name for n in larger.nodes]
    for node, r in zip(base.nodes, larger.nodes, strict=True):
        if len(node.output_shape) == 3:
            assert r.output_shape[0] == node.output_shape[0], node.name
            if node.name in wider:
                assert wider[node.name].output_shape[1:] == node.output_shape[1:], node.name


def test_a_large_sweep_in_a_fresh_process_matches_the_reference_rules(tmp_path):
    """72 points take the grid path (GRID_MIN_POINTS); each row's MACs and params equal
    the count written from torchvision's MobileNetV2 rules (tests/oracles)."""
    alphas = [0.35, 0.5, 0.6, 0.75, 0.9, 1.0, 1.3, 1.4]
    res = [96, 97, 127, 160, 161, 192, 223, 224, 288]
    assert len(alphas) * len(res) >= GRID_MIN_POINTS
    done = mnprof_fresh("sweep", "mobilenet_v2", "-a", ",".join(map(str, alphas)),
                        "-r", ",".join(map(str, res)), "-f", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [(r["alpha"], r["resolution"]) for r in rows] == [(a, x) for a in alphas
                                                              for x in res]
    for r in rows:
        want = v2(r["alpha"], r["resolution"]).totals()
        assert (r["macs"], r["params"], r["params_framework"]) == want, r


def test_a_sweep_past_its_bound_is_one_line_before_any_work(tmp_path):
    """400 x 300 = 120,000 points (bound 100,000): refused at once, in a fresh process,
    with and without --predict; the bound is the README's (tests/core/test_values.py)."""
    alphas = ",".join(f"{0.25 + i / 400:.4f}" for i in range(400))
    res = ",".join(str(96 + i) for i in range(300))
    for extra in ((), ("--predict",)):
        done = mnprof_fresh("sweep", "-a", alphas, "-r", res, *extra, cwd=tmp_path, timeout=30)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "120,000 points; at most 100,000" in done.stderr
    with pytest.raises(MnprofError, match="at least one alpha"):
        mnprof.sweep("mobilenet_v1", [], [224])
    with pytest.raises(MnprofError, match="at most 100,000"):
        mnprof.sweep("mobilenet_v1", iter(lambda: 0.5, None), [224, 160])   # endless
