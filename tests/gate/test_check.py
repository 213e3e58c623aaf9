"""``mnprof check``: budgets, limits, relative limits, latency limits, outputs, errors.

Every expected figure comes from ``v1_figures`` below, which works MobileNetV1 out
from Table 1 of the paper (channels int(c * alpha), "same" padding) without mnprof.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import mnprof
import mnprof.bench.measure
import mnprof.budgets
from mnprof.bench.result import Environment, LatencyReport, LatencyStats
from mnprof.gate.amounts import Unit, parse_amount, parse_increase, parse_percent
from mnprof.gate.check import CheckReport, check_budget
from mnprof.gate.report import _x
from mnprof.gate.schema import budget_schema_text
from mnprof.spec.builtins import builtin_dir

from ..paths import ROOT

COUNT_METRICS = ("macs", "params", "params_framework", "activations", "peak_activation_bytes")


def v1_figures(alpha: float, res: int) -> dict[str, int]:
    """MobileNetV1 totals by hand: Table 1 row by row (row 26 at stride 1)."""
    def c(n: int) -> int:
        return int(n * alpha)
    seps = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
            (1024, 2), (1024, 1)]
    h, cin = -(-res // 2), c(32)
    macs, params, bn = 9 * 3 * cin * h * h, 9 * 3 * cin, 2 * cin
    acts, peak = cin * h * h, 3 * res * res + cin * h * h        # conv1 reads the input
    for out, s in seps:
        h_in, h = h, -(-h // s)
        macs, params, bn = macs + 9 * cin * h * h, params + 9 * cin, bn + 2 * cin   # dw
        acts, peak = acts + cin * h * h, max(peak, cin * h_in * h_in + cin * h * h)
        co = c(out)
        macs, params, bn = macs + cin * co * h * h, params + cin * co, bn + 2 * co  # pw
        acts, peak = acts + co * h * h, max(peak, (cin + co) * h * h)
        cin = co
    macs, params = macs + cin * 1000, params + cin * 1000        # fc (+ 1000 biases)
    acts += cin + 1000 + 1000                                    # pool, fc, softmax
    return {"macs": macs, "params": params, "params_framework": params + bn + 1000,
            "activations": acts, "peak_activation_bytes": 4 * peak}


V1 = v1_figures(0.5, 160)


def test_hand_figures_match_the_paper():
    # The V1 paper prints 0.5 MobileNet-160 as 76M MACs and 1.32M params (Table 8), and
    # 1.0 MobileNet-224 as 569M and 4.2M (Table 6): within a unit of the last digit.
    assert abs(V1["macs"] / 1e6 - 76) < 1 and abs(V1["params"] / 1e4 - 132) < 1
    full = v1_figures(1.0, 224)
    assert abs(full["macs"] / 1e6 - 569) < 1 and abs(full["params"] / 1e5 - 42) < 1


@pytest.fixture
def budget(write_spec):
    """Write a budget file (dedented YAML); return its path."""
    return lambda text, name="budget.yaml": write_spec(text, name)


def model_yaml(limits: str, *, extra: str = "") -> str:
    return (f"models:\n  - spec: mobilenet_v1\n    alpha: 0.5\n    resolution: 160\n{extra}"
            f"    limits:\n{textwrap.indent(textwrap.dedent(limits), '      ')}")


def check_json(run, *args: str) -> tuple[int, dict]:
    result = run("check", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def error_line(result) -> str:
    """The one error line (stderr may also hold progress lines); no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout)
    lines = [x for x in result.stderr.splitlines() if x.startswith("mnprof: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# ---------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize("text, unit, expected", [
    ("80M", Unit.COUNT, 80_000_000), ("1.4M", Unit.COUNT, 1_400_000),
    ("4.2G", Unit.COUNT, 4_200_000_000), ("569.7K", Unit.COUNT, 569_700),
    (123, Unit.COUNT, 123), ("2T", Unit.COUNT, 2 * 10**12), (" 7 k ", Unit.COUNT, 7000),
    ("1.5MiB", Unit.BYTES, 3 * 2**19), ("1.2MiB", Unit.BYTES, 1_258_291),  # 1258291.2
    ("800K", Unit.BYTES, 800_000), ("2MB", Unit.BYTES, 2_000_000), ("64B", Unit.BYTES, 64),
    (12, Unit.MS, 12.0), ("12.5ms", Unit.MS, 12.5), (0.75, Unit.MS, 0.75),
])
def test_amounts_are_exact(text, unit, expected):
    got = parse_amount(text, unit)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("text, unit, message", [
    ("12Q", Unit.COUNT, "K, M, G or T"), ("-5M", Unit.COUNT, "negative"),
    (-1, Unit.COUNT, "negative"), ("nan", Unit.COUNT, "K, M, G or T"),
    (float("nan"), Unit.COUNT, "finite"), (float("inf"), Unit.MS, "finite"),
    (True, Unit.COUNT, "got True"), (1.5, Unit.COUNT, "whole number"), ("", Unit.COUNT, "got"),
    ("4MiB", Unit.COUNT, "K, M, G or T"), ("1.5XB", Unit.BYTES, "KiB"), ("5s", Unit.MS, "ms"),
    (None, Unit.MS, "milliseconds"), ([1], Unit.COUNT, "got [1]"),
])
def test_bad_amounts_are_rejected(text, unit, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_amount(text, unit)


def test_percent_and_increase():
    assert parse_percent("1%") == 1 and parse_percent("0.5 %") * 2 == 1
    assert parse_increase("1%", Unit.COUNT) == (1, True)
    assert parse_increase("100K", Unit.COUNT) == (100_000, False)
    for bad in ("-1%", "1 percent", 1, "%"):
        with pytest.raises(ValueError):
            parse_percent(bad)


# ---------------------------------------------------------------------------
# Absolute limits: pass at the exact figure, fail one below it


@pytest.mark.parametrize("metric", COUNT_METRICS)
@pytest.mark.parametrize("slack, exit_code", [(0, 0), (1, 0), (-1, 1)])
def test_each_count_limit_in_a_budget(run, budget, metric, slack, exit_code):
    limit = V1[metric] + slack
    code, out = check_json(run, budget(model_yaml(f"{metric}: {limit}\n")))
    assert code == exit_code and out["passed"] is (exit_code == 0)
    (r,) = out["results"]
    assert (r["metric"], r["limit"], r["actual"]) == (metric, limit, V1[metric])
    assert r["headroom"] == slack and r["passed"] is (slack >= 0)
    assert out["summary"] == {"limits": 1, "passed": int(slack >= 0), "failed": int(slack < 0)}


def test_one_off_form_matches_the_issue_example(run):
    # 0.5 MobileNet-160: 76,524,800 MACs <= 80M and 1,319,648 params <= 1.4M
    result = run("check", "mobilenet_v1", "--alpha", "0.5", "--res", "160",
                 "--max-macs", "80M", "--max-params", "1.4M")
    assert result.exit_code == 0, result.stderr
    assert f"{V1['macs']:,}" in result.stdout and "PASSED" in result.stdout
    result = run("check", "mobilenet_v1", "-a", "0.5", "-r", "160",
                 "--max-macs", f"{V1['macs'] - 1}")
    assert result.exit_code == 1 and "FAIL" in result.stdout


@pytest.mark.parametrize("option, metric", [
    ("--max-macs", "macs"), ("--max-params", "params"),
    ("--max-params-framework", "params_framework"), ("--max-activations", "activations"),
    ("--max-peak-bytes", "peak_activation_bytes")])
def test_each_one_off_option(run, option, metric):
    exact = V1[metric]
    code, out = check_json(run, "-a", "0.5", "-r", "160", option, str(exact))
    assert code == 0 and out["results"][0]["metric"] == metric
    code, out = check_json(run, "-a", "0.5", "-r", "160", option, str(exact - 1))
    assert code == 1 and out["results"][0]["actual"] == exact


def test_scalar_and_mapping_forms_agree(run, budget):
    a = check_json(run, budget(model_yaml("macs: 80M\n"), "a.yaml"))[1]["results"][0]
    b = check_json(run, budget(model_yaml("macs: {max: 80000000}\n"), "b.yaml"))[1]["results"][0]
    assert a["limit"] == b["limit"] == 80_000_000 and a["passed"] and b["passed"]


def test_project_budget_passes_with_hand_figures(run):
    code, out = check_json(run, str(ROOT / "mnprof-budget.yaml"))
    assert code == 0
    full = v1_figures(1.0, 224)
    for r in out["results"]:
        figures = V1 if r["model"] == "v1-0.5-160" else full
        assert r["actual"] == figures[r["metric"]]


# ---------------------------------------------------------------------------
# Relative limits against a baseline report


def cost_report(path: Path, totals: dict, alpha: float = 0.5, res: int = 160) -> str:
    path.write_text(json.dumps({"schema": "mnprof.cost/1", "alpha": alpha, "resolution": res,
                                "totals": totals}))
    return path.name


@pytest.mark.parametrize("metric", COUNT_METRICS)
def test_percent_increase_boundary(run, budget, tmp_path, metric):
    actual = V1[metric]
    # actual <= floor(b * 1.01)  <=>  100 * actual <= 101 * b  <=>  b >= ceil(100 actual / 101)
    b_min = -(-100 * actual // 101)
    for base, exit_code in ((b_min, 0), (b_min - 1, 1)):
        name = cost_report(tmp_path / f"base{base}.json", {metric: base})
        code, out = check_json(run, budget(model_yaml(f"{metric}: {{max_increase: 1%}}\n",
                                                      extra=f"    baseline: {name}\n")))
        (r,) = out["results"]
        assert code == exit_code and r["limit"] == base * 101 // 100
        assert r["baseline"]["value"] == base and r["rule"] == "max_increase"


@pytest.mark.parametrize("metric", COUNT_METRICS)
def test_absolute_increase_boundary(run, budget, tmp_path, metric):
    actual = V1[metric]
    for base, exit_code in ((actual - 1000, 0), (actual - 1001, 1)):
        name = cost_report(tmp_path / "base.json", {metric: base})
        code, out = check_json(run, budget(model_yaml(f"{metric}: {{max_increase: 1K}}\n",
                                                      extra=f"    baseline: {name}\n")))
        assert code == exit_code and out["results"][0]["limit"] == base + 1000


def test_baseline_from_mnprof_cost_and_sweep(run, budget, tmp_path):
    assert run("cost", "-a", "0.5", "-r", "160", "-f", "json", "-o",
               str(tmp_path / "cost.json")).exit_code == 0
    assert run("sweep", "-a", "1,0.5", "-r", "224,160", "-f", "json", "-o",
               str(tmp_path / "sweep.json")).exit_code == 0
    for name in ("cost.json", "sweep.json"):
        code, out = check_json(run, budget(model_yaml(
            "macs: {max_increase: 0%}\nparams: {max_increase: 0%}\n",
            extra=f"    baseline: {name}\n")))
        assert code == 0 and [r["limit"] for r in out["results"]] == [V1["macs"], V1["params"]]


def test_one_off_relative_limit(run, tmp_path):
    base = cost_report(tmp_path / "base.json", {"macs": V1["macs"] - 1})
    args = ["-a", "0.5", "-r", "160", "--baseline", str(tmp_path / base)]
    assert check_json(run, *args, "--max-increase", "macs=1")[0] == 0
    assert check_json(run, *args, "--max-increase", "macs=0%")[0] == 1


@pytest.mark.parametrize("content, message", [
    (None, "no such baseline file"),
    ("dir", "is a directory, not a baseline file"),
    (b"\xff{}", "not UTF-8 text (byte 0)"),
    ("{not json", "not valid JSON"),
    ('{"schema": "mnprof.cost/1", "alpha": 0.5, "resolution": 160, "totals": {"macs": NaN}}',
     "NaN"),
    ('{"schema": "mnprof.cost/1", "alpha": 1.0, "resolution": 224, "totals": {"macs": 1}}',
     "alpha 1.0, resolution 224"),
    ('{"schema": "mnprof.cost/1", "alpha": 0.5, "resolution": 160, "totals": {"macs": 1.5}}',
     "whole number"),
    ('{"schema": "mnprof.cost/9"}', "unsupported report schema"),
    ('[1, 2]', "no `schema` field"),
    ('{"schema": "mnprof.bench/1", "alpha": 0.5, "resolution": 160, "latency_ms": '
     '{"median": 3.0, "p90": 4.0}}', "gives totals.macs"),
    ('{"schema": "mnprof.sweep/1", "rows": [{"alpha": 1.0, "resolution": 224, "macs": 5}]}',
     "no row for alpha 0.5, resolution 160"),
])
def test_bad_baselines_exit_2(run, budget, tmp_path, content, message):
    if content == "dir":
        (tmp_path / "base.json").mkdir()
    elif isinstance(content, bytes):
        (tmp_path / "base.json").write_bytes(content)
    elif content is not None:
        (tmp_path / "base.json").write_text(content)
    path = budget(model_yaml("macs: {max_increase: 1%}\n", extra="    baseline: base.json\n"))
    line = error_line(run("check", path))
    assert line.startswith(f"mnprof: error: {path}:") and message in line


def test_relative_limit_without_baseline(run, budget):
    path = budget(model_yaml("macs: {max: 80M, max_increase: 1%}\n"))
    assert error_line(run("check", path)) == (
        f"mnprof: error: {path}:6: models[0].limits.macs.max_increase: max_increase needs a "
        "`baseline:` report for this model (save one with mnprof cost --format json "
        "--output baseline.json)")


# ---------------------------------------------------------------------------
# Latency limits, with a fake bench (the real one: one smoke run at the end)


@pytest.fixture
def fake_bench(monkeypatch):
    """``mnprof.bench.measure_latency`` replaced: chosen figures, in the bench's own types."""
    calls: list[dict] = []
    state = {"median": 5.0, "p90": 6.0, "interrupted": False, "error": None}

    def measure_latency(graph, *, threads, runs, warmup, min_time):
        calls.append({"model": graph.model, "resolution": graph.resolution,
                      "threads": threads, "runs": runs, "warmup": warmup,
                      "min_time": min_time})
        if state["error"]:
            raise state["error"]
        stats = LatencyStats(runs=40, median=state["median"], p10=4.5, p90=state["p90"],
                             mean=5.0, stdev=0.25, cv=0.05, min=4.0, max=7.0)
        env = Environment(cpu_model="test", logical_cpus=2, physical_cores=2, cores_used=threads,
                          onnxruntime_version="-", threads=threads, inter_op_threads=1,
                          execution_mode="sequential", opt_level="all", opset=13, batch=1,
                          runs=40, warmup=warmup, min_time_s=min_time, simd="", nchwc_block=0,
                          spinning="")
        return LatencyReport(stats, threads, env, interrupted=state["interrupted"])

    monkeypatch.setattr(mnprof.bench.measure, "measure_latency", measure_latency)
    return types.SimpleNamespace(calls=calls, state=state)


@pytest.mark.parametrize("metric, key", [("latency_median_ms", "median"),
                                         ("latency_p90_ms", "p90")])
@pytest.mark.parametrize("measured, passed, within", [
    (4.0, True, False), (5.0, True, False), (5.2, True, True), (5.26, False, False)])
def test_latency_limit_with_tolerance(run, budget, fake_bench, metric, key, measured, passed,
                                      within):
    fake_bench.state[key] = measured          # limit 5 ms, tolerance 5%: threshold 5.25 ms
    code, out = check_json(run, budget(model_yaml(f"{metric}: {{max: 5, threads: 2}}\n")))
    (r,) = out["results"]
    assert code == (0 if passed else 1) and r["passed"] is passed
    assert r["limit"] == 5.0 and r["threshold"] == pytest.approx(5.25)
    assert r["actual"] == measured and r["measurement"]["runs"] == 40
    assert r["measurement"]["threads"] == 2 and r["measurement"]["stdev_ms"] == 0.25
    assert fake_bench.calls == [{"model": "mobilenet_v1", "resolution": 160, "threads": 2,
                                 "runs": 50, "warmup": 10, "min_time": 2.0}]
    table = run("check", budget(model_yaml(f"{metric}: {{max: 5, threads: 2}}\n"), "t.yaml"))
    assert "40 timed runs" in table.stdout and "stdev 0.250 ms" in table.stdout
    assert ("within tolerance" in table.stdout) is within


def test_latency_limits_share_one_measurement(run, budget, fake_bench):
    code, out = check_json(run, budget(model_yaml(
        "latency_median_ms: {max: 5.5, runs: 7, warmup: 2, min_time: 0}\n"
        "latency_p90_ms: {max: 5.5, runs: 7, warmup: 2, min_time: 0, tolerance: 0%}\n"
        "macs: 80M\n")))
    assert len(fake_bench.calls) == 1 and fake_bench.calls[0]["runs"] == 7
    assert [r["passed"] for r in out["results"]] == [True, False, True] and code == 1


def test_relative_latency_limit(run, budget, fake_bench, tmp_path):
    (tmp_path / "bench.json").write_text(json.dumps({
        "schema": "mnprof.bench/1", "alpha": 0.5, "resolution": 160,
        "environment": {"threads": 1}, "latency_ms": {"median": 4.0, "p90": 5.0}}))
    limits = "latency_median_ms: {max_increase: 25%, tolerance: 0%}\n"
    fake_bench.state["median"] = 5.0                          # 4 ms * 1.25 = 5 ms: holds
    code, out = check_json(run, budget(model_yaml(limits, extra="    baseline: bench.json\n")))
    assert code == 0 and out["results"][0]["limit"] == 5.0
    fake_bench.state["median"] = 5.01
    assert check_json(run, budget(model_yaml(limits, extra="    baseline: bench.json\n")))[0] == 1
    path = budget(model_yaml("latency_median_ms: {max_increase: 1%, threads: 2}\n",
                             extra="    baseline: bench.json\n"))
    assert "measured with 1 threads" in error_line(run("check", path))


def test_a_bench_that_fails_is_never_a_verdict(run, budget, fake_bench):
    fake_bench.state["error"] = RuntimeError("ort failed")
    path = budget(model_yaml("latency_median_ms: 5\n"))
    line = error_line(run("check", path))
    # located like any other error: the budget's file, line and field of the limit
    assert line.startswith(f"mnprof: error: {path}:"), line
    assert "latency_median_ms: the latency could not be measured: RuntimeError: ort failed" \
        in line


def test_latency_without_onnxruntime_exits_2(run, monkeypatch):
    # The real bench, at a tiny size: the export works, the session cannot start.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    line = error_line(run("check", "-a", "0.25", "-r", "32", "--max-latency-ms", "1000"))
    assert "latency limits need onnx and onnxruntime" in line and "onnxruntime" in line


def test_interrupted_measurement_exits_130(run, budget, fake_bench):
    fake_bench.state["interrupted"] = True
    result = run("check", budget(model_yaml("latency_median_ms: 5\n")))
    assert result.exit_code == 130 and "interrupted after 40 timed run(s)" in result.stderr
    assert result.stdout == ""          # no verdict: no report


def test_one_off_latency_options(run, fake_bench):
    code, out = check_json(run, "-a", "0.5", "-r", "160", "--max-latency-ms", "5",
                           "--max-p90-ms", "5.9", "--threads", "2", "--tolerance", "0%",
                           "--runs", "9", "--min-time", "0.5", "--warmup", "3")
    assert code == 1 and [r["passed"] for r in out["results"]] == [True, False]
    assert fake_bench.calls == [{"model": "mobilenet_v1", "resolution": 160, "threads": 2,
                                 "runs": 9, "warmup": 3, "min_time": 0.5}]


def test_one_off_tolerance_defaults_as_in_a_budget(run, fake_bench):
    fake_bench.state["median"] = 5.2                # limit 5 ms + 5%: 5.25 ms
    code, out = check_json(run, "-a", "0.5", "-r", "160", "--max-latency-ms", "5")
    (r,) = out["results"]
    assert code == 0 and r["tolerance"] == 0.05 and r["threshold"] == pytest.approx(5.25)
    assert "[default: 5%]" in run("check", "--help").stdout


def test_a_spec_file_is_not_probed_as_a_budget_when_it_loads(run, write_spec, monkeypatch):
    def probe(path):
        raise AssertionError("probed")
    monkeypatch.setattr(mnprof.budgets, "is_budget_file", probe)
    spec = write_spec((builtin_dir() / "mobilenet_v1.yaml").read_text())
    assert run("check", spec, "-a", "0.5", "-r", "160", "--max-macs", "80M").exit_code == 0


# ---------------------------------------------------------------------------
# Outputs: JSON, markdown and JUnit say the same thing


def test_formats_agree(run, budget, fake_bench, tmp_path):
    path = budget(f"""\
        models:
          - name: 'small <&> "quoted"'
            spec: mobilenet_v1
            alpha: 0.5
            resolution: 160
            limits:
              macs: {V1['macs']}
              params: {V1['params'] - 1}
              latency_median_ms: 4.5
          - spec: mobilenet_v1
            alpha: 0.25
            resolution: 128
            limits: {{activations: 1G, peak_activation_bytes: 1K}}
        """)
    xml_path, md_path = tmp_path / "check.xml", tmp_path / "check.md"
    result = run("check", path, "-f", "json", "--report", f"junit={xml_path}",
                 "--report", f"markdown={md_path}")
    assert result.exit_code == 1 and "FAILED: 3 of 5" in result.stderr
    assert len(fake_bench.calls) == 1                     # one run, one set of figures
    data = json.loads(result.stdout)
    expected = [(r["model"], r["metric"], r["passed"]) for r in data["results"]]
    assert [(m, k, p) for m, k, p in expected if not p] == [
        ('small <&> "quoted"', "params", False), ('small <&> "quoted"', "latency_median_ms",
                                                  False), ("mobilenet_v1-0.25-128",
                                                           "peak_activation_bytes", False)]

    root = ET.parse(xml_path).getroot()
    assert (root.get("tests"), root.get("failures")) == ("5", "3")
    cases = [(s.get("name"), c.get("name").split()[0], c.find("failure") is None)
             for s in root.iter("testsuite") for c in s.iter("testcase")]
    assert cases == expected

    rows = [line.strip("|").split("|") for line in md_path.read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| metric")]
    assert [(cells[0].strip(), cells[-1].strip() != "FAIL") for cells in rows] == \
        [(k, p) for _, k, p in expected]
    for cells, r in zip(rows, data["results"], strict=True):
        if r["metric"] != "latency_median_ms":
            assert cells[3].strip().rstrip(" B") == f"{r['actual']:,}"
    assert md_path.read_text().startswith("### ❌ mnprof check")


def test_junit_escapes_what_xml_cannot_hold():
    assert _x("a\x01b\x1fc") == "a\ufffdb\ufffdc" and _x("<&>") == "<&>"


def test_output_file_is_written_and_inputs_are_protected(run, budget, tmp_path):
    path = budget(model_yaml("macs: 80M\n"))
    out = tmp_path / "report.json"
    assert run("check", path, "-f", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["schema"] == "mnprof.check/1"
    before = Path(path).read_text()
    assert "refusing to overwrite" in error_line(run("check", path, "-o", path))
    assert Path(path).read_text() == before
    assert "same file" in error_line(run("check", path, "-o", str(out), "--report",
                                         f"junit={out}"))


def test_report_targets_are_checked_before_the_run(run, budget, tmp_path, fake_bench):
    path = budget(model_yaml("latency_median_ms: 5\n"))
    assert "is a directory" in error_line(run("check", path, "--report",
                                              f"junit={tmp_path}"))
    assert "does not exist" in error_line(run("check", path, "-o",
                                              str(tmp_path / "no" / "r.json")))
    assert fake_bench.calls == []                 # nothing measured


def test_paths_in_a_budget_are_relative_to_it(run, tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "net.yaml").write_text((builtin_dir() / "mobilenet_v1.yaml").read_text())
    cost_report(sub / "base.json", {"macs": V1["macs"]})
    (sub / "mobilenet_v1").write_text("not a spec")  # a built-in name stays the built-in
    (sub / "budget.yaml").write_text(
        "models:\n"
        "  - {spec: net.yaml, alpha: 0.5, resolution: 160, baseline: base.json,\n"
        "     limits: {macs: {max_increase: 0%}}}\n"
        "  - {spec: mobilenet_v1, alpha: 0.5, resolution: 160, name: builtin,\n"
        "     limits: {macs: 80M}}\n")
    monkeypatch.chdir(tmp_path)
    code, out = check_json(run, "sub/budget.yaml")
    assert code == 0
    assert [(r["spec"], r["actual"]) for r in out["results"]] == [
        (str(Path("sub", "net.yaml")), V1["macs"]), ("mobilenet_v1", V1["macs"])]
    assert out["results"][0]["baseline"]["file"] == str(Path("sub", "base.json"))


def test_markdown_notes_keep_their_lines(run, budget, tmp_path, fake_bench):
    (tmp_path / "bench.json").write_text(json.dumps({
        "schema": "mnprof.bench/1", "alpha": 0.5, "resolution": 160,
        "environment": {"threads": 1}, "latency_ms": {"median": 4.0, "p90": 5.0}}))
    path = budget(model_yaml("latency_median_ms: {max_increase: 25%}\n",
                             extra="    baseline: bench.json\n"))
    text = run("check", path, "-f", "markdown").stdout
    note = text[text.index("latency_median_ms: baseline"):].splitlines()
    assert note[0] == ("latency_median_ms: baseline 4.000 ms from "
                       f"{tmp_path / 'bench.json'} (change +25.00%)  ")   # a line break
    assert note[1].startswith("latency: 40 timed runs after 10 warm-up, 1 thread: median "
                              "5.000 ms, p10 4.500, p90 6.000 ms, stdev 0.250 ms (5.0% of")


def test_a_cost_only_check_never_loads_the_bench(budget):
    path = budget(model_yaml("macs: 80M\npeak_activation_bytes: 1.5MiB\n"))
    code = ("import sys; from mnprof.cli import main\n"
            f"try: main(['check', {path!r}, '-f', 'json'])\n"
            "except SystemExit as e: assert e.code in (0, None), e.code\n"
            "print(sorted(m for m in sys.modules if m.startswith(('mnprof.bench', 'onnx', "
            "'numpy')) and m not in ('mnprof.bench', 'mnprof.bench.settings')),"
            " file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert json.loads(result.stdout)["passed"] is True
    assert result.stderr.strip() == "[]"


def test_library_api(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(model_yaml(f"macs: {V1['macs']}\nparams: {V1['params'] - 1}\n"))
    report = mnprof.check_budget(path)
    assert isinstance(report, CheckReport) and not report.passed
    assert check_budget(str(path)) == report
    assert [(r.metric, r.actual, r.headroom) for r in report.results] == [
        ("macs", V1["macs"], 0), ("params", V1["params"], -1)]
    with pytest.raises(AttributeError):
        report.results[0].actual = 0   # frozen


# ---------------------------------------------------------------------------
# Errors: every bad field is one line naming file, line and field; exit 2

BAD_FIELDS = [
    # (budget text, line, field, part of the message)
    ("- 1\n", 1, None, "a budget must be a mapping"),
    ("models: []\n", 1, "models", "non-empty list"),
    ("model: []\n", 1, "model", "did you mean 'models'"),
    ("models: [3]\n", 1, "models[0]", "a model must be a mapping"),
    ("models:\n  - {spec: mobilenet_v1, alhpa: 1, limits: {macs: 1}}\n", 2, "models[0].alhpa",
     "did you mean 'alpha'"),
    ("models:\n  - {limits: {macs: 1}}\n", 2, "models[0].spec", "required"),
    ("models:\n  - {spec: 3, limits: {macs: 1}}\n", 2, "models[0].spec", "got 3"),
    ("models:\n  - spec: mobilenet_v1\n    alpha: 0\n    limits: {macs: 1}\n", 3,
     "models[0].alpha", "> 0"),
    ("models:\n  - spec: mobilenet_v1\n    alpha: .nan\n    limits: {macs: 1}\n", 3,
     "models[0].alpha", "> 0"),
    ("models:\n  - spec: mobilenet_v1\n    resolution: 1.5\n    limits: {macs: 1}\n", 3,
     "models[0].resolution", "integer from 1 to 16384"),
    ("models:\n  - spec: mobilenet_v1\n    name: ''\n    limits: {macs: 1}\n", 3,
     "models[0].name", "non-empty"),
    ("models:\n  - {spec: mobilenet_v1, baseline: 3, limits: {macs: 1}}\n", 2,
     "models[0].baseline", "path to a saved report"),
    ("models:\n  - {spec: mobilenet_v1}\n", 2, "models[0].limits", "required"),
    ("models:\n  - spec: mobilenet_v1\n    limits: [macs]\n", 3, "models[0].limits",
     "non-empty mapping"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      mac: 80M\n", 4,
     "models[0].limits.mac", "unknown metric 'mac' (did you mean 'macs'?)"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      macs: 12Q\n", 4,
     "models[0].limits.macs", "K, M, G or T"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      macs: -5M\n", 4,
     "models[0].limits.macs", "negative"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      params: .nan\n", 4,
     "models[0].limits.params", "finite"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      params: true\n", 4,
     "models[0].limits.params", "got True"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      params_framework: 1.5\n", 4,
     "models[0].limits.params_framework", "whole number"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      activations: [1]\n", 4,
     "models[0].limits.activations", "mapping with max"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      peak_activation_bytes: 1.5XB\n", 4,
     "models[0].limits.peak_activation_bytes", "KiB"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      macs:\n        maximum: 1\n", 5,
     "models[0].limits.macs.maximum", "did you mean 'max'"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      macs: {max: 1, tolerance: 5%}\n", 4,
     "models[0].limits.macs.tolerance", "latency limits"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      macs: {}\n", 4,
     "models[0].limits.macs", "max and/or max_increase"),
    ("models:\n  - spec: mobilenet_v1\n    baseline: b.json\n    limits:\n"
     "      macs:\n        max_increase: -1%\n", 6, "models[0].limits.macs.max_increase",
     "negative"),
    ("models:\n  - spec: mobilenet_v1\n    baseline: b.json\n    limits:\n"
     "      macs: {max_increase: 1 percent}\n", 5, "models[0].limits.macs.max_increase",
     "percentage"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      latency_median_ms: 0\n", 4,
     "models[0].limits.latency_median_ms", "greater than 0"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      latency_p90_ms: 5s\n", 4,
     "models[0].limits.latency_p90_ms", "milliseconds"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      latency_median_ms:\n"
     "        max: 5\n        threads: 0\n", 6,
     "models[0].limits.latency_median_ms.threads", "integer from 1 to"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      latency_median_ms:\n"
     "        max: 5\n        tolerance: 5\n", 6,
     "models[0].limits.latency_median_ms.tolerance", "percentage"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      latency_p90_ms: {max: 5, runs: 0}\n",
     4, "models[0].limits.latency_p90_ms.runs", "integer from 1 to 100000"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      latency_p90_ms:\n        max: 5\n"
     "        warmup: -1\n", 6, "models[0].limits.latency_p90_ms.warmup",
     "integer from 0 to 10000"),
    ("models:\n  - spec: mobilenet_v1\n    limits:\n      latency_p90_ms:\n        max: 5\n"
     "        min_time: x\n", 6, "models[0].limits.latency_p90_ms.min_time", "seconds"),
    ("models:\n  - {name: a, spec: mobilenet_v1, limits: {macs: 1}}\n"
     "  - {name: a, spec: mobilenet_v1, limits: {macs: 1}}\n", 3, "models[1].name",
     "'a' is used twice (first: models[0], line 2)"),
    ("models:\n  - {spec: mobilenet_v1, limits: {macs: 1}}\n"       # the default names
     "  - {spec: mobilenet_v1, limits: {params: 1}}\n", 3, "models[1].name",
     "'mobilenet_v1-1-224' is used twice (first: models[0], line 2)"),
    ("models:\n  - spec: mobilenet_v1\n    limits: {macs: 1}\n    limits: {macs: 2}\n", 4, None,
     "duplicate key 'limits'"),
]


@pytest.mark.parametrize("text, line, field, message", BAD_FIELDS)
def test_every_bad_field_is_one_line_with_file_line_and_field(run, budget, text, line, field,
                                                              message):
    path = budget(text)
    got = error_line(run("check", path))
    where = f"mnprof: error: {path}:{line}: " + (f"{field}: " if field else "")
    assert got.startswith(where) and message in got, got


def test_bad_budget_files(run, budget, tmp_path, monkeypatch):
    spec_like = budget("input: {resolution: 8}\nlayers:\n  - {kind: conv, out: 4}\n", "s.yaml")
    assert "this is a spec, not a budget" in error_line(run("check", spec_like))
    assert "invalid YAML" in error_line(run("check", budget("models: [\n", "y.yaml")))
    assert "no such budget file" in error_line(run("check", str(tmp_path / "nope.yaml")))
    monkeypatch.chdir(tmp_path)
    assert error_line(run("check")) == "mnprof: error: mnprof-budget.yaml: no such budget file"
    (tmp_path / "mnprof-budget.yaml").write_text(model_yaml("macs: 80M\n"))
    assert run("check").exit_code == 0                 # the default budget in the cwd


@pytest.mark.parametrize("spec, message", [
    ("missing.yaml", "missing.yaml: no such spec file"),
    ("mobilenet_v9", "no built-in spec 'mobilenet_v9'"),
    ("broken.yaml", "broken.yaml:3: layers[0].kernel: must be an integer"),
])
def test_a_spec_that_fails_to_load_exits_2(run, budget, tmp_path, spec, message):
    (tmp_path / "broken.yaml").write_text(
        "input: {resolution: 32}\nlayers:\n  - {kind: conv, kernel: x, out: 8}\n")
    path = budget(f"models:\n  - spec: {spec}\n    limits: {{macs: 1G}}\n")
    line = error_line(run("check", path))
    assert message in line and f"(the spec of models[0], {path}:2)" in line


def test_a_resolution_too_small_exits_2(run, budget):
    path = budget("models:\n  - {spec: mobilenet_v1, resolution: 1, alpha: 0.01, "
                  "limits: {macs: 1G}}\n")
    assert "models[0]" in error_line(run("check", path))


@pytest.mark.parametrize("args, message", [
    (["mobilenet_v1"], "is a built-in spec, not a budget file"),
    (["--alpha", "0.5"], "--alpha belongs to the one-off form"),
    (["--baseline", "b.json"], "--baseline belongs to the one-off form"),
    (["--max-macs", "12Q"], "K, M, G or T"),
    (["--max-latency-ms", "0"], "greater than 0"),
    (["--max-increase", "mac=1%"], "METRIC=AMOUNT"),
    (["--max-increase", "macs=1%"], "--max-increase needs --baseline"),
    (["--report", "xml=out.xml", "--max-macs", "1"], "FORMAT=FILE"),
    (["--threads", "0", "--max-latency-ms", "1"], "--threads"),
    (["-f", "csv"], "'csv' is not one of"),
    ([str(ROOT / "mnprof-budget.yaml"), "--max-macs", "1"], "is a budget file"),
    (["nosuch.yaml", "--max-macs", "1"], "error: nosuch.yaml: no such spec file"),
])
def test_usage_errors_exit_2(run, args, message):
    assert message in error_line(run("check", *args))


def test_help_documents_exit_codes(run):
    text = run("check", "--help").stdout
    assert "0  every limit holds" in text and "1  at least one limit is exceeded" in text
    assert "2  bad input or usage" in text


# ---------------------------------------------------------------------------
# The shipped JSON Schema


def test_shipped_budget_schema_is_current():
    shipped = ROOT / "mnprof" / "schemas" / "budget.schema.json"
    assert shipped.read_text() == budget_schema_text(), "run `make schema`"


def test_schema_accepts_good_budgets_and_rejects_bad_ones():
    import jsonschema
    import yaml

    schema = json.loads(budget_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    model = schema["$defs"]["model"]["properties"]
    assert model["limits"]["properties"]["macs"]["description"] == \
        "multiply-accumulates of conv and fc layers"
    latency = schema["$defs"]["ms_limit"]["anyOf"][1]["properties"]
    assert (latency["tolerance"]["default"], latency["runs"]["default"]) == ("5%", 50)

    good = [yaml.safe_load((ROOT / "mnprof-budget.yaml").read_text())]
    good += [yaml.safe_load(block) for block in _yaml_blocks(ROOT / "docs/ci.md")
             if "models:" in block]
    assert len(good) >= 3
    for doc in good:
        validator.validate(doc)
    # What JSON Schema cannot say: unique names, exact whole numbers, NaN (not JSON),
    # positive latencies; and duplicate keys, which yaml.safe_load drops silently.
    beyond = ("used twice", "whole number", "finite", "> 0", "greater than 0",
              "duplicate key")
    for text, _, _, message in BAD_FIELDS:
        if not any(b in message for b in beyond):
            assert list(validator.iter_errors(yaml.safe_load(text))), text
    # The patterns come from the parser's own grammar: they accept what it accepts.
    for value, unit in [("1.5MiB", "bytes"), ("800 K", "bytes"), ("4.2G", "count"),
                        (" 7 k ", "count"), ("12.5ms", "ms"), (".5e3", "count")]:
        parse_amount(value, Unit(unit))
        assert not list(validator.iter_errors(
            {"models": [{"spec": "s", "limits": {_METRIC_OF[unit]: value}}]})), value
    for value, unit in [("4MiB", "count"), ("1.5XB", "bytes"), ("5s", "ms"), ("-1", "count")]:
        with pytest.raises(ValueError):
            parse_amount(value, Unit(unit))
        assert list(validator.iter_errors(
            {"models": [{"spec": "s", "limits": {_METRIC_OF[unit]: value}}]})), value


_METRIC_OF = {"count": "macs", "bytes": "peak_activation_bytes", "ms": "latency_median_ms"}


def _yaml_blocks(path: Path) -> list[str]:
    blocks, current = [], None
    for line in path.read_text().splitlines():
        if line.startswith("```yaml"):
            current = []
        elif line.startswith("```") and current is not None:
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


# ---------------------------------------------------------------------------
# One real latency check, at a tiny size (structure only: never asserts a speed)


def test_real_latency_check(run):
    result = run("check", "-a", "0.25", "-r", "32", "--max-latency-ms", "1000",
                 "--runs", "5", "--min-time", "0", "--warmup", "1", "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    (r,) = json.loads(result.stdout)["results"]
    assert r["measurement"]["runs"] >= 5 and r["actual"] > 0
    assert r["passed"] is (r["actual"] <= r["threshold"])
