"""Latency limits that name their precision: ``precision: int8`` times the int8 model."""

from __future__ import annotations

import json
import textwrap
import types

import pytest

import mnprof.bench.measure
from mnprof.bench.result import Environment, LatencyReport, LatencyStats
from mnprof.gate.schema import budget_schema_text
from mnprof.gate.settings import BenchSettings

from ..paths import ROOT


@pytest.fixture
def timed(monkeypatch):
    """``measure_latency`` replaced: records the precision asked for, returns 5 ms."""
    calls = []

    def measure_latency(graph, *, threads, runs, warmup, min_time, precision="fp32"):
        calls.append(precision)
        stats = LatencyStats(runs=40, median=5.0, p10=4.5, p90=6.0, mean=5.0, stdev=0.25,
                             cv=0.05, min=4.0, max=7.0)
        env = Environment(cpu_model="test", logical_cpus=2, physical_cores=2, cores_used=1,
                          onnxruntime_version="-", threads=threads, inter_op_threads=1,
                          execution_mode="sequential", opt_level="all", opset=17, batch=1,
                          runs=40, warmup=warmup, min_time_s=min_time, simd="", nchwc_block=0,
                          spinning="")
        return LatencyReport(stats, threads, env, precision=precision)

    monkeypatch.setattr(mnprof.bench.measure, "measure_latency", measure_latency)
    return types.SimpleNamespace(calls=calls)


def budget_file(write_spec, limits: str) -> str:
    return write_spec("models:\n  - spec: mobilenet_v1\n    alpha: 0.25\n    resolution: 64\n"
                      "    limits:\n" + textwrap.indent(textwrap.dedent(limits), "      "),
                      "budget.yaml")


def test_a_limit_names_its_precision(run, write_spec, timed):
    path = budget_file(write_spec, """\
        latency_median_ms: {max: 6, precision: int8}
        latency_p90_ms: {max: 7}
        """)
    result = run("check", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert timed.calls == ["int8", "fp32"]         # two settings: two measurements
    d = json.loads(result.stdout)
    got = {r["metric"]: r["measurement"].get("precision") for r in d["results"]}
    assert got == {"latency_median_ms": "int8", "latency_p90_ms": None}
    text = run("check", path).stdout
    assert "int8 model, 40 timed runs" in text


def test_limits_of_one_precision_share_a_measurement(run, write_spec, timed):
    path = budget_file(write_spec, """\
        latency_median_ms: {max: 6, precision: int8}
        latency_p90_ms: {max: 7, precision: int8}
        """)
    assert run("check", path).exit_code == 0 and timed.calls == ["int8"]


def test_the_one_off_form_takes_precision(run, timed):
    result = run("check", "mobilenet_v1", "--alpha", "0.25", "--res", "64",
                 "--max-latency-ms", "6", "--precision", "int8")
    assert result.exit_code == 0, result.stderr
    assert timed.calls == ["int8"]


def test_a_bad_precision_names_file_line_and_field(run, write_spec):
    path = budget_file(write_spec, "latency_median_ms: {max: 6, precision: int4}\n")
    result = run("check", path)
    assert result.exit_code == 2
    assert "budget.yaml:6: models[0].limits.latency_median_ms.precision: must be one of " \
           "fp32, int8, got 'int4'" in result.stderr
    counts = budget_file(write_spec, "macs: {max: 10M, precision: int8}\n")
    result = run("check", counts)
    assert result.exit_code == 2 and "models[0].limits.macs.precision: unknown field " \
        "(tolerance and bench settings are for latency limits" in result.stderr


def test_settings_default_to_fp32():
    assert BenchSettings().precision == "fp32"


def test_the_schema_knows_precision():
    import jsonschema
    schema = json.loads(budget_schema_text())
    v = jsonschema.Draft202012Validator(schema)
    ok = {"models": [{"spec": "s", "limits": {"latency_median_ms": {"max": 5,
                                                                    "precision": "int8"}}}]}
    bad = {"models": [{"spec": "s", "limits": {"latency_median_ms": {"max": 5,
                                                                     "precision": "int4"}}}]}
    assert not list(v.iter_errors(ok)) and list(v.iter_errors(bad))
    assert (ROOT / "mnprof" / "schemas" / "budget.schema.json").read_text() == \
        budget_schema_text()


def test_a_baseline_of_the_other_precision_is_refused(run, write_spec, tmp_path, timed):
    saved = tmp_path / "base.json"
    saved.write_text(json.dumps({
        "schema": "mnprof.bench/1", "model": "mobilenet_v1", "alpha": 0.25, "resolution": 64,
        "environment": {"threads": 1}, "latency_ms": {"median": 5.0, "p90": 6.0}}))
    path = write_spec("models:\n  - spec: mobilenet_v1\n    alpha: 0.25\n    resolution: 64\n"
                      f"    baseline: {saved}\n    limits:\n      latency_median_ms: "
                      "{max_increase: 5%, precision: int8}\n", "budget.yaml")
    result = run("check", path)
    assert result.exit_code == 2
    assert "times the fp32 model; this limit times the int8 one" in result.stderr
