"""The gate's verdicts (issue 9, sections 2 and 5): exit 1 means exactly "the check ran
and a limit was exceeded"; everything else that is not a pass is exit 2 with one line.

Expected counts are MobileNetV1's, worked out by hand in ``test_check.v1_figures``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

import mnprof
from mnprof.core.errors import MnprofError
from mnprof.core.values import MAX_INT
from mnprof.gate.amounts import Unit, parse_amount

from .test_check import V1, error_line, model_yaml, v1_figures

TINY = v1_figures(0.25, 32)


@pytest.mark.parametrize("limit", [f'"{MAX_INT}"', str(MAX_INT), '"4611686018427387K"',
                                   '"9e15"', '"4.6E"'])
@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit", "html"])
def test_a_huge_limit_passes_in_every_format(run, budget, limit, fmt):
    """`macs: "1e999"` passed the limit, then crashed rendering the headroom (exit 1:
    a passing gate reported as failing). Any limit up to the bound renders; a format
    this installation lacks is one line, exit 2, never a crash."""
    path = budget(model_yaml(f"macs: {limit}\n"))
    result = run("check", path, "-f", fmt)
    if limit == '"4.6E"':                               # E is no suffix mnprof reads
        assert "K, M, G or T" in error_line(result)
    elif fmt == "html" and result.exit_code:
        assert "format html is not available" in error_line(result)
    else:
        assert result.exit_code == 0, result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text", ['"1e999"', '"1e308"', "1.0e999", ".inf", f"{MAX_INT + 1}",
                                  "9" * 400, '"' + "9" * 5000 + '"', "-1", ".nan", '"-0"'])
def test_limits_past_the_bound_are_errors_not_crashes(run, budget, text):
    line = error_line(run("check", budget(model_yaml(f"macs: {text}\n"))))
    assert "models[0].limits.macs" in line or ":6:" in line, line


@pytest.mark.parametrize("text", ["８０M", "١٤٠٠K", "१४००K", "80Ｍ", "²", "1,400K", "1_400K",
                                  "0x50M", "80m", "80MM", "80M!"])
def test_only_ascii_digits_are_numbers(run, budget, text):
    """Non-ASCII digits ("８０M", "١٤٠٠K") were read as numbers; now only 0-9."""
    line = error_line(run("check", budget(model_yaml(f"macs: {json.dumps(text)}\n"))))
    assert "models[0].limits.macs" in line, line
    with pytest.raises(ValueError):
        parse_amount(text, Unit.COUNT)


@pytest.mark.parametrize("text", ["0.0000001K", "0.5", "1.0000001M", "0.0001", "1e-9K",
                                  "0.1", "12.3456K"])
def test_fractional_counts_are_refused_not_floored(run, budget, text):
    """"0.0000001K" floored to a limit of 0; a count must come out whole."""
    line = error_line(run("check", budget(model_yaml(f"macs: {json.dumps(text)}\n"))))
    assert "models[0].limits.macs" in line
    assert "whole number" in line or "suffix" in line, line


@pytest.mark.parametrize("text, message", [
    ('"1e999"', "at most"), ('"1e308"', "at most"), (".inf", "finite"),
    ('"1e-999"', "too small"), ("0", "greater than 0"), ("-5", "negative"),
    (".nan", "ms"), ('"10 s"', "ms"), ('"٥"', "ms"),
])
def test_latency_limits_that_could_never_fail_or_never_pass(run, budget, fake_bench, text,
                                                            message):
    """A latency max of "1e999" was inf (a gate that can never fail), "1e-999" was 0."""
    path = budget(model_yaml(f"latency_median_ms: {{max: {text}}}\n"))
    line = error_line(run("check", path))
    assert "models[0].limits.latency_median_ms.max" in line and message in line, line
    assert not fake_bench.calls           # refused before any measuring


@pytest.mark.parametrize("option, value", [
    ("--max-latency-ms", "1e999"), ("--max-latency-ms", "1e-999"), ("--max-latency-ms", "inf"),
    ("--max-p90-ms", "nan"), ("--max-macs", "1e999"), ("--max-macs", "0.0000001K"),
    ("--max-params", "８０M"), ("--max-peak-bytes", "1.5XiB"), ("--tolerance", "1e999%"),
    ("--threads", "10000"), ("--runs", "1000000000"), ("--warmup", "10000000"),
    ("--min-time", "1e9"), ("--min-time", "nan"),
])
def test_one_off_options_past_their_bounds(run, fake_bench, option, value):
    args = ["check", "mobilenet_v1", "--max-latency-ms", "5", option, value]
    if option == "--max-latency-ms":
        args = ["check", "mobilenet_v1", option, value]
    line = error_line(run(*args))
    assert option in line, line
    assert not fake_bench.calls


@pytest.mark.parametrize("field, value, message", [
    ("runs", "1000000000", "from 1 to 100000"), ("runs", "0", "from 1"),
    ("threads", "10000", "threads"), ("warmup", "100000", "from 0 to 10000"),
    ("min_time", "1e9", "seconds"), ("min_time", "-1", "seconds"),
    ("tolerance", '"1e999%"', "tolerance"), ("tolerance", '"-5%"', "tolerance"),
])
def test_budget_bench_settings_past_their_bounds(run, budget, fake_bench, field, value, message):
    """A budget accepted `runs: 10**9` (a check that never ends)."""
    path = budget(model_yaml(f"latency_median_ms: {{max: 5, {field}: {value}}}\n"))
    line = error_line(run("check", path))
    assert f"models[0].limits.latency_median_ms.{field}" in line and message in line, line
    assert not fake_bench.calls


@pytest.mark.parametrize("other, words", [
    (("mobilenet_v2", 0.5, 160), ["model 'mobilenet_v2'", "this model is 'mobilenet_v1'"]),
    (("mobilenet_v1", 0.75, 160), ["alpha"]),
    (("mobilenet_v1", 0.5, 128), ["resolution"]),
])
def test_a_baseline_of_another_model_is_refused(run, budget, tmp_path, other, words):
    """mobilenet_v1 against a mobilenet_v2 report said PASSED, exit 0."""
    spec, alpha, res = other
    baseline = tmp_path / "base.json"
    baseline.write_text(mnprof.render(mnprof.cost(spec, alpha, res), "json"))
    path = budget(model_yaml("macs: {max_increase: 1%}\n", extra="    baseline: base.json\n"))
    line = error_line(run("check", path))
    assert "models[0].baseline" in line and "base.json" in line, line
    for w in words:
        assert w in line, line
    one_off = run("check", "mobilenet_v1", "-a", "0.5", "-r", "160", "--baseline",
                  str(baseline), "--max-increase", "macs=1%")
    assert words[0] in error_line(one_off)


def test_exit_1_only_for_a_limit_exceeded(run, budget):
    exact = budget(model_yaml(f"macs: {V1['macs']}\nparams: {V1['params']}\n"))
    assert run("check", exact).exit_code == 0
    over = budget(model_yaml(f"macs: {V1['macs'] - 1}\n"), "over.yaml")
    assert run("check", over).exit_code == 1


def test_an_unexpected_failure_inside_the_check_is_exit_2_naming_the_limit(
        run, budget, fake_bench):
    """Errors raised inside the check name the file, line and field like every other
    error, never "the check could not run: <Exception>", and never exit 1."""
    fake_bench.state["error"] = OverflowError("cannot convert float infinity to integer")
    path = budget(model_yaml("macs: 80M\nlatency_median_ms: {max: 5}\n"))
    line = error_line(run("check", path))
    assert line.startswith(f"mnprof: error: {path}:7: models[0].limits.latency_median_ms.max"
                           ": the latency could not be measured: OverflowError"), line


def test_an_unexpected_failure_after_the_check_is_exit_2(run, budget, monkeypatch):
    """A bug while rendering a verdict (as the headroom's OverflowError was) must not
    turn into exit 1: the CLI's one handler makes it one line and exit 2."""
    import mnprof.gate.report as report

    def broken(*args, **kwargs):
        raise OverflowError("integer division result too large for a float")

    monkeypatch.setattr(report, "check_tables", broken)
    result = run("check", budget(model_yaml("macs: 80M\n")))
    line = error_line(result)
    assert "unexpected OverflowError" in line and "MNPROF_DEBUG=1" in line


def test_junit_cases_carry_a_time(run, budget, fake_bench, tmp_path):
    path = budget(model_yaml("macs: 80M\nparams: 1\nlatency_median_ms: {max: 5}\n"
                             "latency_p90_ms: {max: 7}\n"))
    out = tmp_path / "check.xml"
    assert run("check", path, "--report", f"junit={out}").exit_code == 1
    root = ET.parse(out).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 4
    times = [float(c.get("time")) for c in cases]
    assert all(t >= 0 for t in times)
    suite = root.find("testsuite")
    assert float(suite.get("time")) == pytest.approx(sum(times), abs=0.002)
    assert float(root.get("time")) == pytest.approx(sum(times), abs=0.002)
    assert times[3] == 0.0            # the p90 limit shares the median's measurement


def test_a_junit_report_parses_in_every_outcome(run, budget):
    for limits, code in ((f"macs: {TINY['macs']}\n", 0), (f"macs: {TINY['macs'] - 1}\n", 1)):
        text = ("models:\n  - spec: mobilenet_v1\n    alpha: 0.25\n    resolution: 32\n"
                "    limits:\n      " + limits)
        result = run("check", budget(text), "-f", "junit")
        assert result.exit_code == code
        case = ET.fromstring(result.stdout).find(".//testcase")
        assert float(case.get("time")) >= 0
        assert (case.find("failure") is not None) == (code == 1)


def test_library_errors_are_mnprof_errors(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(model_yaml('macs: "８０M"\n'))
    with pytest.raises(MnprofError, match="models\\[0\\].limits.macs"):
        mnprof.check_budget(path)


@pytest.mark.parametrize("model, line, words", [
    ("spec: !!bool mobilenet_v1", 2, ["!!bool value 'mobilenet_v1' cannot be read"]),
    ("spec: mobilenet_v1\n    alpha: " + "9" * 400, 3, ["too large"]),
    ("spec: mobilenet_v1\n    alpha: " + "9" * 5000, 3, ["cannot be read"]),
    ("spec: mobilenet_v1\n    alpha: 1e308", 3, ["alpha"]),
    ("spec: mobilenet_v1\n    resolution: 100000", 3, ["resolution"]),
    ("spec: " + "[" * 400, 2, ["invalid YAML"]),
    ("spec: /dev/zero", 2, ["not a regular file"]),
])
def test_bad_model_entries_are_one_line(run, budget, model, line, words):
    """KeyError, MemoryError and RecursionError escaped from these with exit 1."""
    path = budget(f"models:\n  - {model}\n    limits: {{macs: 1G}}\n")
    got = error_line(run("check", path))
    assert got.startswith(f"mnprof: error: {path}:{line}:") or path in got, got
    for w in words:
        assert w in got, got
