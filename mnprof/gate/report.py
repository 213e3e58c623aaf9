"""Check reports as data and text: the ``mnprof.check/1`` JSON, tables, JUnit XML.

The JSON document is a versioned contract that CI scripts parse: add fields
freely; never rename or remove one without bumping the version. The table and
markdown formats show one table per model (a row per limit); JUnit XML has one
test case per limit, so CI systems list every limit as a test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ..core.contracts import CHECK_SCHEMA
from ..core.render import Column, Table
from ..core.version import __version__
from .amounts import Unit
from .baseline import BaselineValue
from .budget import METRICS, Rule
from .check import CheckReport, CheckResult, Measurement, Prediction

# ---------------------------------------------------------------------------
# Numbers as people read them (exact: a gate's figures must not round away a failure)


def show(value: int | float, metric: str) -> str:
    unit = METRICS[metric].unit
    if unit is Unit.MS:
        return f"{value:.3f} ms" + (" (predicted)" if METRICS[metric].predicted else "")
    return f"{value:,}" + (" B" if unit is Unit.BYTES else "")


def rule_text(r: CheckResult) -> str:
    unit = METRICS[r.metric].unit
    amount = f"{r.text} ms" if unit is Unit.MS and not r.text.endswith(("ms", "%")) else r.text
    text = f"max {amount}" if r.rule is Rule.MAX else f"max +{amount} vs baseline"
    if r.tolerance is not None:
        text += f" (+{_short_pct(100 * r.tolerance)} tolerance)"
    return text


def verdict(report: CheckReport) -> str:
    n = len(report.results)
    if not report.n_failed:
        return "PASSED: the 1 limit holds" if n == 1 else f"PASSED: all {n} limits hold"
    return f"FAILED: {report.n_failed} of {n} limit{'s' if n != 1 else ''} exceeded"


def _short_pct(v: float) -> str:
    """5.0 -> "5%", 0.5 -> "0.5%": as a budget writes it. Not ``units.pct`` ("5.00%"):
    this text is part of each limit's JUnit test name, which CI keeps history by."""
    return f"{v:.2f}".rstrip("0").rstrip(".") + "%"


def _signed_pct(v: float) -> str:
    return f"{v:+.2f}%"


def _headroom(r: CheckResult) -> str:
    pct = r.headroom_pct
    return show(r.headroom, r.metric) + (f" ({_signed_pct(pct)})" if pct is not None else "")


def _baseline(r: CheckResult, b: BaselineValue) -> str:
    change = f" (change {_signed_pct(r.change_pct)})" if r.change_pct is not None else ""
    return f"baseline {show(b.value, r.metric)} from {b.file}{change}"


def _result(r: CheckResult) -> str:
    if r.passed and r.actual > r.limit:
        return "pass (within tolerance)"
    return "pass" if r.passed else "FAIL"


def detail(r: CheckResult) -> str:
    """One line saying what was compared with what (JUnit output and failure messages)."""
    verb = "holds" if r.passed else "exceeded"
    text = (f"{r.model}: {r.metric} {show(r.actual, r.metric)}, limit {rule_text(r)} = "
            f"{show(r.limit, r.metric)}")
    if r.tolerance is not None:
        text += f", threshold {show(r.threshold, r.metric)}"
    text += f": {verb}, headroom {_headroom(r)}"
    if r.baseline is not None:
        text += f"; {_baseline(r, r.baseline)}"
    if r.measurement is not None:
        text += f"; {measurement_text(r.measurement)}"
    if r.prediction is not None:
        text += f"; {prediction_text(r.prediction)}"
    return text


def prediction_text(p: Prediction) -> str:
    return (f"PREDICTED (not measured) from the device profile of {p.device} "
            f"({p.profile})")


def measurement_text(m: Measurement) -> str:
    s, threads = m.stats, m.settings.threads
    model = "int8 model, " if m.settings.precision == "int8" else ""
    return (f"{model}{s.runs} timed runs after {m.settings.warmup} warm-up, {threads} thread"
            f"{'s' if threads != 1 else ''}: median {s.median:.3f} ms, p10 {s.p10:.3f}, "
            f"p90 {s.p90:.3f} ms, stdev {s.stdev:.3f} ms ({100 * s.stdev / s.median:.1f}% of "
            "median)")


# ---------------------------------------------------------------------------
# JSON


def _num(v: int | float | None) -> int | float | None:
    return round(v, 6) if isinstance(v, float) else v


def result_to_dict(r: CheckResult) -> dict[str, Any]:
    m = r.measurement
    return {
        "model": r.model, "spec": r.spec, "alpha": r.alpha, "resolution": r.resolution,
        "metric": r.metric, "unit": r.unit, "rule": r.rule.value, "rule_text": rule_text(r),
        "limit": _num(r.limit), "tolerance": r.tolerance, "threshold": _num(r.threshold),
        "actual": _num(r.actual), "headroom": _num(r.headroom),
        "headroom_pct": _num(r.headroom_pct), "passed": r.passed,
        "baseline": None if r.baseline is None else {
            "file": r.baseline.file, "value": r.baseline.value,
            "change_pct": _num(r.change_pct)},
        "measurement": None if m is None else {
            "threads": m.settings.threads, "runs": m.stats.runs, "warmup": m.settings.warmup,
            "min_time_s": m.settings.min_time, "median_ms": m.stats.median,
            "p10_ms": m.stats.p10, "p90_ms": m.stats.p90, "stdev_ms": m.stats.stdev,
            **({"precision": m.settings.precision}
               if m.settings.precision != "fp32" else {})},
        "predicted": r.predicted,
        "prediction": None if r.prediction is None else {
            "threads": r.prediction.settings.threads, "device": r.prediction.device,
            "profile": r.prediction.profile, "median_ms": r.prediction.median_ms},
        "budget_line": r.line, "field": r.field,
    }


def check_to_dict(report: CheckReport) -> dict[str, Any]:
    return {
        "schema": CHECK_SCHEMA, "mnprof_version": __version__, "budget": report.budget,
        "passed": report.passed, "summary": {"limits": len(report.results),
                                             "passed": report.n_passed,
                                             "failed": report.n_failed},
        "rule": "a limit holds when actual <= threshold; threshold = limit, plus the "
                "tolerance for latency limits; headroom = limit - actual",
        "predicted": "a result with predicted: true comes from a device profile (mnprof "
                     "calibrate), not a measurement",
        "results": [result_to_dict(r) for r in report.results],
    }


# ---------------------------------------------------------------------------
# Tables (text and markdown)


def _by_model(report: CheckReport) -> dict[str, list[CheckResult]]:
    groups: dict[str, list[CheckResult]] = {}
    for r in report.results:
        groups.setdefault(r.model, []).append(r)
    return groups


def check_header(report: CheckReport) -> str:
    return f"mnprof check · {report.budget}"


def check_tables(report: CheckReport) -> list[Table]:
    cols = (Column("metric", numeric=False), Column("rule", numeric=False), Column("limit"),
            Column("actual"), Column("headroom"), Column("result", numeric=False))
    tables = []
    for model, results in _by_model(report).items():
        first = results[0]
        rows = tuple((r.metric, rule_text(r), show(r.limit, r.metric), show(r.actual, r.metric),
                      _headroom(r), _result(r)) for r in results)
        notes = [f"{r.metric}: {_baseline(r, r.baseline)}" for r in results
                 if r.baseline is not None]
        seen: list[Measurement | Prediction] = []
        for r in results:
            if r.measurement is not None and r.measurement not in seen:
                seen.append(r.measurement)
                notes.append(f"latency: {measurement_text(r.measurement)}")
            if r.prediction is not None and r.prediction not in seen:
                seen.append(r.prediction)
                notes.append(f"{r.metric}: {prediction_text(r.prediction)}")
        width = "ONNX" if first.spec.lower().endswith(".onnx") else f"alpha {first.alpha:g}"
        title = f"{model} ({first.spec}, {width}, resolution {first.resolution})"
        tables.append(Table(title, cols, rows, note="\n".join(notes)))
    return tables


def markdown_header(report: CheckReport) -> str:
    mark = "✅" if report.passed else "❌"
    return f"{mark} mnprof check · {report.budget} · {verdict(report)}"


# ---------------------------------------------------------------------------
# JUnit XML

# Characters XML 1.0 cannot hold at all (escaping does not help): replaced.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _seconds(results: Any) -> str:
    """JUnit's ``time``: seconds, with a dot, as every reader of the format parses them."""
    return f"{sum(r.seconds for r in results):.3f}"


def to_junit(report: CheckReport) -> str:
    """JUnit XML: a test suite per model, a test case per limit (ElementTree escapes)."""
    root = ET.Element("testsuites", name=_x(f"mnprof check {report.budget}"),
                      tests=str(len(report.results)), failures=str(report.n_failed),
                      errors="0", skipped="0", time=_seconds(report.results))
    for model, results in _by_model(report).items():
        fails = sum(not r.passed for r in results)
        suite = ET.SubElement(root, "testsuite", name=_x(model), tests=str(len(results)),
                              failures=str(fails), errors="0", skipped="0",
                              time=_seconds(results))
        props = ET.SubElement(suite, "properties")
        first = results[0]
        for key, value in (("spec", first.spec), ("alpha", f"{first.alpha:g}"),
                           ("resolution", first.resolution), ("budget", report.budget)):
            ET.SubElement(props, "property", name=key, value=_x(value))
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=_x(f"mnprof.check.{model}"),
                                 name=_x(f"{r.metric} {rule_text(r)}"), time=_seconds([r]))
            if not r.passed:
                failure = ET.SubElement(
                    case, "failure", type="BudgetExceeded",
                    message=_x(f"{r.metric} {show(r.actual, r.metric)} exceeds "
                               f"{show(r.threshold, r.metric)} by "
                               f"{show(r.actual - r.threshold, r.metric)}"))
                failure.text = _x(detail(r))
            else:
                ET.SubElement(case, "system-out").text = _x(detail(r))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"
