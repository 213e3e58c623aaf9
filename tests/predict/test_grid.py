"""A grid predicted the fast way (each width built once) equals every point built and
predicted on its own, to the last bit; a spec whose layers change with the resolution
is predicted point by point, and says so."""

from __future__ import annotations

import pytest

import mnprof
from mnprof.analysis.grid import Spatial
from mnprof.core.yamlsrc import load_yaml
from mnprof.predict.device import Device
from mnprof.predict.grid import _point, predict_grid
from mnprof.spec.build import build
from mnprof.spec.parse import parse_spec

from ..analysis.test_grid import FLAT
from .fake import fake_profile

PROFILE = fake_profile(Device("Test CPU", 2, 2, "avx2", "1.32.0", 1))
ALPHAS = [0.25, 0.37, 0.81, 1.4]
RES = [96, 131, 224, 288]


def grid(builder, alphas, res):
    """The grid's prediction as ``sweep --predict`` makes it: each width built once."""
    widths = [builder(a, res[0]) for a in alphas]
    return predict_grid(builder, widths, Spatial(res), PROFILE)


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small",
                                  "mobilenet_v3_large", "mnasnet1_0", "efficientnet_b0",
                                  "mobilenet_v4_conv_small"])
def test_fast_grid_equals_point_by_point(name):
    spec = mnprof.load_spec(name)

    def builder(a, r):
        return build(spec, a, r)

    fast, note = grid(builder, ALPHAS, RES)
    slow = [_point(PROFILE, builder(a, r)) for a in ALPHAS for r in RES]
    assert note == "" and fast == slow
    assert fast[0] < fast[-1]                   # alpha 0.25 at 96 vs alpha 1.4 at 288


def test_a_flattened_map_grows_with_the_resolution():
    """No global pool: the fc reads C x H x W features, so its kernel changes with res."""
    spec = parse_spec(load_yaml(FLAT, file="flat.yaml"), file="flat.yaml")

    def builder(a, r):
        return build(spec, a, r)

    fast, note = grid(builder, [0.5, 1.0], [32, 48, 64])
    assert note == "" and fast == [_point(PROFILE, builder(a, r)) for a in (0.5, 1.0)
                                   for r in (32, 48, 64)]


def test_layers_that_depend_on_the_resolution_fall_back():
    spec = parse_spec(load_yaml("""
name: adaptive
input: {resolution: 32, channels: 3}
classes: 10
layers:
  - {name: c1, kind: conv, kernel: 3, out: 16, bn: true, act: relu}
  - {name: big, kind: conv, kernel: 3, out: 16, when: $(resolution > 40)}
  - {name: pool, kind: global_avgpool}
  - {name: fc, kind: fc}
""", file="adaptive.yaml"), file="adaptive.yaml")

    def builder(a, r):
        return build(spec, a, r)

    fast, note = grid(builder, [0.5, 1.0], [32, 64])
    assert "point by point" in note
    assert fast == [_point(PROFILE, builder(a, r)) for a in (0.5, 1.0) for r in (32, 64)]
