"""``mnprof.build`` takes what every other library function takes: a Spec, a built-in's
name or a spec file's path (a name once raised AttributeError: 'str' has no 'alpha')."""

from __future__ import annotations

import mnprof
from mnprof.spec.builtins import load_spec, resolve_spec_path


def _layout(graph):
    return [(n.name, n.kind, n.inputs, n.output_shape) for n in graph.nodes]


def test_build_by_name_path_or_spec_is_the_same_graph(tmp_path):
    spec = load_spec("mobilenet_v2")
    path = tmp_path / "net.yaml"
    path.write_text(resolve_spec_path("mobilenet_v2")[0].read_text())
    want = _layout(mnprof.build(spec, 0.5, 160))
    assert _layout(mnprof.build("mobilenet_v2", 0.5, 160)) == want
    assert _layout(mnprof.build(str(path), 0.5, 160)) == want
    # 0.5 x 160: the first conv writes 16 channels (32 x 0.5) at 80 x 80
    assert mnprof.build("mobilenet_v2", 0.5, 160).nodes[0].output_shape == (16, 80, 80)
