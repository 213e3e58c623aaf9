"""What new users found missing in the reports (issue 9, section 7): csv totals and
per-type rows, and the built-in specs' schema header in an installed package."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict

from mnprof.spec.builtins import builtin_dir, builtin_names

from ..paths import ROOT, SCHEMAS

SUMMED = ("macs", "params", "params_framework", "activations", "bytes", "elementwise_ops")


def test_csv_has_per_type_and_total_rows_that_add_up(run):
    """csv carried per-layer rows only; now every layer, every type and the total, each
    type row the sum of its layers and the total the sum of all (summed here)."""
    result = run("cost", "mobilenet_v2", "-a", "0.5", "-r", "96", "-f", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    layers = [r for r in rows if r["section"] == "layer"]
    types = {r["type"]: r for r in rows if r["section"] == "type"}
    (total,) = [r for r in rows if r["section"] == "total"]
    by_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in layers:
        for k in SUMMED:
            by_type[r["type"]][k] += int(r[k])
    assert set(by_type) == set(types)
    for t, sums in by_type.items():
        assert {k: int(types[t][k]) for k in SUMMED} == dict(sums), t
        assert int(types[t]["layers"]) == sum(r["type"] == t for r in layers)
    for k in SUMMED:
        assert int(total[k]) == sum(int(r[k]) for r in layers)
    assert int(total["layers"]) == len(layers)
    assert [r["section"] for r in rows] == \
        ["layer"] * len(layers) + ["type"] * len(types) + ["total"]


def test_the_builtin_specs_schema_header_resolves_where_they_are_installed():
    """The header is relative to the spec's own file, and the wheel ships the specs and
    the schemas inside the package, so it resolves in a checkout and when installed."""
    shipped = (SCHEMAS / "spec.schema.json").resolve()
    for name in builtin_names():
        first = (builtin_dir() / f"{name}.yaml").read_text().splitlines()[0]
        ref = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert ref, (name, first)
        assert (builtin_dir() / ref.group(1)).resolve() == shipped, name
    project = (ROOT / "pyproject.toml").read_text()     # (tomllib is not in Python 3.10)
    wheel = project.split("[tool.hatch.build.targets.wheel]", 1)[1].split("\n[", 1)[0]
    assert wheel.strip() == 'packages = ["mnprof"]'  # mnprof/specs and mnprof/schemas inside
    assert builtin_dir().parent == SCHEMAS.parent
