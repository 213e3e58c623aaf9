"""`mnprof cost`, `sweep`, `specs` and `schema` through the CLI: formats and contracts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from mnprof.spec.builtins import builtin_dir, builtin_names
from mnprof.spec.schema import spec_schema_text

from ..conftest import run_json
from ..paths import SCHEMAS


def test_cost_json_contract(run):
    doc = run_json(run, "cost", "--alpha", "0.5", "--res", "160")
    assert doc["schema"] == "mnprof.cost/1"
    assert (doc["model"], doc["alpha"], doc["resolution"]) == ("mobilenet_v1", 0.5, 160)
    t = doc["totals"]
    assert {"macs", "params", "params_framework", "activations"} <= set(t)
    assert t["flops"] == 2 * t["macs"]
    assert t["params_framework"] == t["params"] + t["bias_params"] + t["bn_params"]
    for key, row in doc["by_type"].items():
        assert {"macs", "params", "macs_pct", "params_pct"} <= set(row), key
    assert sum(r["macs_pct"] for r in doc["by_type"].values()) == pytest.approx(100)
    layers = doc["layers"]
    assert sum(layer["macs"] for layer in layers) == t["macs"]
    first = layers[0]
    assert {"name", "type", "kind", "input_shape", "output_shape", "macs", "params"} <= set(first)
    # conv1 at alpha 0.5, 160: 3x3x3x16 filters on an 80x80 output.
    assert first["output_shape"] == [16, 80, 80] and first["macs"] == 27 * 16 * 80 * 80


def test_cost_csv_has_exact_integers(run):
    result = run("cost", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["name"] == "conv1" and int(rows[0]["macs"]) == 27 * 32 * 112 * 112
    assert rows[0]["output_shape"] == "32x112x112"
    layers = [r for r in rows if r["section"] == "layer"]
    types = [r for r in rows if r["section"] == "type"]
    (total,) = [r for r in rows if r["section"] == "total"]
    assert len(layers) == 30 and len(rows) == 30 + len(types) + 1
    # per-type rows and the total are sums of the layer rows (568,740,352: Table 1 by hand)
    assert sum(int(r["macs"]) for r in layers) == int(total["macs"]) == 568_740_352
    assert sum(int(r["macs"]) for r in types) == int(total["macs"])
    assert {r["type"] for r in types} == {r["type"] for r in layers}


def test_cost_table_and_markdown(run):
    table = run("cost", "--alpha", "0.5", "--res", "160")
    assert table.exit_code == 0
    out = table.stdout
    assert "mobilenet_v1 · alpha 0.5 · input 160x160x3" in out
    for word in ("Per layer", "Per layer type", "Totals", "conv1x1", "dw3x3", "1 MAC = 2 FLOPs"):
        assert word in out, word
    md = run("cost", "--format", "markdown", "--no-layers")
    assert md.exit_code == 0
    assert "| type | layers | MACs |" in md.stdout and "Per layer**" not in md.stdout


def test_output_is_written_atomically_and_never_over_the_spec(run, tmp_path, write_spec):
    out = tmp_path / "cost.json"
    result = run("cost", "--format", "json", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["schema"] == "mnprof.cost/1"
    assert [p.name for p in tmp_path.iterdir()] == ["cost.json"]       # no temp file left
    spec = write_spec((builtin_dir() / "mobilenet_v1.yaml").read_text())
    before = Path(spec).read_text()
    result = run("cost", spec, "--output", spec)
    assert result.exit_code == 2 and "refusing to overwrite an input file" in result.stderr
    assert Path(spec).read_text() == before
    result = run("cost", "--output", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    result = run("cost", "--output", str(tmp_path / "no" / "such" / "dir.json"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_sweep_reproduces_tables_6_and_7(run):
    doc = run_json(run, "sweep")
    assert doc["schema"] == "mnprof.sweep/1" and doc["model"] == "mobilenet_v1"
    grid = {(r["alpha"], r["resolution"]): r for r in doc["rows"]}
    assert len(grid) == 16
    # Table 6 / 7, rounded as printed (the 160 row is printed truncated: 290.7 -> 290).
    assert round(grid[(1.0, 224)]["macs"] / 1e6) == 569
    assert round(grid[(0.25, 224)]["macs"] / 1e6) == 41
    assert round(grid[(1.0, 192)]["macs"] / 1e6) == 418
    assert {round(r["params"] / 1e5) for (a, _), r in grid.items() if a == 1.0} == {42}
    csv_out = run("sweep", "--alpha", "1,0.5", "--res", "224,97", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert [(r["alpha"], r["resolution"]) for r in rows] == [
        ("1", "224"), ("1", "97"), ("0.5", "224"), ("0.5", "97")]


def test_specs_lists_every_builtin(run):
    doc = run_json(run, "specs")
    names = [s["name"] for s in doc["specs"]]
    assert names == builtin_names()
    assert {"mobilenet_v1", "mobilenet_v1_conv", "mobilenet_v1_shallow"} <= set(names)
    assert run("specs").exit_code == 0


def test_builtin_spec_by_name_and_path(run):
    by_name = run_json(run, "cost", "mobilenet_v1_shallow")
    by_path = run_json(run, "cost", str(builtin_dir() / "mobilenet_v1_shallow.yaml"))
    assert by_name["totals"] == by_path["totals"]


def test_shipped_schema_is_current():
    shipped = SCHEMAS / "spec.schema.json"
    assert shipped.read_text() == spec_schema_text(), "run `make schema`"


def test_schema_accepts_builtins_and_rejects_typos():
    import jsonschema
    schema = json.loads(spec_schema_text())
    validator = jsonschema.Draft202012Validator(schema)
    for name in builtin_names():
        path = builtin_dir() / f"{name}.yaml"
        text = path.read_text()
        header = text.splitlines()[0]
        assert header.startswith("# yaml-language-server: $schema="), name
        # relative to the spec, as editors resolve it: the same layout in the wheel
        target = (path.parent / header.split("$schema=", 1)[1]).resolve()
        assert target == (SCHEMAS / "spec.schema.json"), (name, target)
        errors = list(validator.iter_errors(yaml.safe_load(text)))
        assert not errors, (name, errors[:1])
    bad = yaml.safe_load("input: {resolution: 8}\nlayers:\n  - {kind: conv, kernel: 3, "
                         "out: 8, strid: 2}\n")
    assert list(validator.iter_errors(bad))
    bad_kind = yaml.safe_load("input: {resolution: 8}\nlayers:\n  - {kind: convv}\n")
    assert list(validator.iter_errors(bad_kind))


def test_help_documents_exit_codes(run):
    result = run("--help")
    assert result.exit_code == 0 and "2 bad input" in result.stdout
