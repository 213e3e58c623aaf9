"""Every report in every format: the one function the CLI (and a script) renders with.

``render(report, fmt)`` picks the report's own tables and JSON document and the
renderer of ``fmt`` (``mnprof.core.render``). Each report kind's renderers are
imported only when such a report is rendered, so ``mnprof cost`` never loads the
bench's or the gate's.
"""

from __future__ import annotations

from typing import Any

from .core.errors import MnprofError
from .core.render import Format, to_csv, to_json, to_markdown, to_text


def _unsupported(kind: str, fmt: Format) -> MnprofError:
    return MnprofError(f"format {fmt.value} is not available for a {kind} report")


def _cost(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .analysis.report import (
        block_table,
        cost_header,
        cost_tables,
        cost_to_dict,
        csv_table,
        notes_lines,
    )
    if fmt is Format.JSON:
        return to_json(cost_to_dict(r))
    if fmt is Format.CSV:
        return to_csv(block_table(r) if by == "block" else csv_table(r))
    tables = cost_tables(r, layers=layers, by=by)
    if fmt is Format.MARKDOWN:
        return to_markdown(cost_header(r), tables) + notes_lines(r, markdown=True)
    return to_text(cost_header(r), tables, color=color) + notes_lines(r)


def _sweep(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .analysis.report import sweep_table, sweep_to_dict
    table, data = sweep_table(r), sweep_to_dict(r)
    if r.latencies and r.latency_kind == "predicted":
        from .predict.report import with_prediction
        table, data = with_prediction(table, data, r)
    elif r.latencies or r.interrupted:
        # measured (or a measurement stopped before its first row): the bench's report
        # module adds the columns and says what to trust
        from .bench.report import with_latency
        table, data = with_latency(table, data, r)
    return _one_table(table, data, fmt, color)


def _compare(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .analysis.compare import compare_table, compare_to_dict
    table, data = compare_table(r), compare_to_dict(r)
    if r.latencies:
        from .bench.report import with_latency
        table, data = with_latency(table, data, r, ratios=True)
    return _one_table(table, data, fmt, color)


def _one_table(table: Any, data: Any, fmt: Format, color: bool) -> str:
    if fmt is Format.JSON:
        return to_json(data)
    if fmt is Format.CSV:
        return to_csv(table)
    if fmt is Format.MARKDOWN:
        return to_markdown("", [table])
    return to_text("", [table], color=color)


def _specs(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .analysis.report import specs_table, specs_to_dict
    if fmt is Format.JSON:
        return to_json(specs_to_dict(r))
    if fmt is Format.CSV:
        return to_csv(specs_table(r))
    if fmt is Format.MARKDOWN:
        return to_markdown("", [specs_table(r)])
    return to_text("", [specs_table(r)], color=color)


def _with_notes(fmt: Format, header: str, tables: Any, notes: Any, color: bool) -> str:
    """A report of tables and notes as markdown or text (bench and precision alike)."""
    if fmt is Format.MARKDOWN:
        return to_markdown(header, tables) + notes(markdown=True)
    return to_text(header, tables, color=color) + notes()


def _bench(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .bench.report import bench_header, bench_tables, bench_to_dict, notes_text
    if fmt is Format.JSON:
        return to_json(bench_to_dict(r))
    if fmt is Format.CSV:
        raise _unsupported("bench", fmt)
    return _with_notes(fmt, bench_header(r), bench_tables(r, layers=layers, by=by),
                       lambda **k: notes_text(r, **k), color)


def _precision(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .bench.precision_report import (
        precision_header,
        precision_notes,
        precision_tables,
        precision_to_dict,
    )
    if fmt is Format.JSON:
        return to_json(precision_to_dict(r))
    if fmt is Format.CSV:
        raise _unsupported("precision", fmt)
    return _with_notes(fmt, precision_header(r), precision_tables(r, layers=layers),
                       lambda **k: precision_notes(r, **k), color)


def _predict(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .predict.report import notes_text, predict_header, predict_tables, predict_to_dict
    if fmt is Format.JSON:
        return to_json(predict_to_dict(r))
    if fmt is Format.CSV:
        from .predict.report import layer_table
        return to_csv(layer_table(r))
    return _with_notes(fmt, predict_header(r), predict_tables(r, layers=layers, by=by),
                       lambda **k: notes_text(r, **k), color)


def _tables_only(fmt: Format, header: str, tables: list[Any], data: Any, color: bool) -> str:
    """A report of tables and no notes (validation, calibration); csv: its last table."""
    if fmt is Format.JSON:
        return to_json(data())
    if fmt is Format.CSV:
        return to_csv(tables[-1])
    if fmt is Format.MARKDOWN:
        return to_markdown(header, tables)
    return to_text(header, tables, color=color)


def _validation(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .predict.validate import validation_header, validation_tables, validation_to_dict
    return _tables_only(fmt, validation_header(r), validation_tables(r),
                        lambda: validation_to_dict(r), color)


def _calibration(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .predict.summary import calibration_header, calibration_tables, calibration_to_dict
    return _tables_only(fmt, calibration_header(r), calibration_tables(r),
                        lambda: calibration_to_dict(r), color)


def _drift(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .predict.drift import drift_header, drift_tables, drift_to_dict
    return _tables_only(fmt, drift_header(r), drift_tables(r), lambda: drift_to_dict(r), color)


def _check(r: Any, fmt: Format, layers: bool, color: bool, by: str) -> str:
    from .gate.report import (
        check_header,
        check_tables,
        check_to_dict,
        markdown_header,
        to_junit,
        verdict,
    )
    if fmt is Format.JSON:
        return to_json(check_to_dict(r))
    if fmt is Format.MARKDOWN:
        return to_markdown(markdown_header(r), check_tables(r))
    if fmt is Format.JUNIT:
        return to_junit(r)
    if fmt is Format.CSV:
        raise _unsupported("check", fmt)
    return to_text(check_header(r), check_tables(r), color=color) + verdict(r) + "\n"


_RENDERERS = {"CostReport": _cost, "SweepReport": _sweep, "CompareReport": _compare,
              "SpecsReport": _specs,
              "BenchReport": _bench, "CheckReport": _check, "PrecisionReport": _precision,
              "PredictReport": _predict, "ValidationReport": _validation,
              "CalibrationReport": _calibration, "DriftReport": _drift}


def render(report: Any, fmt: str | Format = Format.TABLE, *, layers: bool = True,
           color: bool = False, by: str = "layer") -> str:
    """``report`` as text in ``fmt`` (``layers``: include per-layer tables where optional;
    ``by="block"``: roll layers up by block instance instead)."""
    fmt = Format(fmt)
    kind = type(report).__name__
    if kind not in _RENDERERS:
        raise TypeError(f"not a report mnprof renders: {kind}")
    if fmt is Format.HTML and kind == "PrecisionReport":
        raise _unsupported("precision", fmt)
    if fmt is Format.HTML:
        try:
            from .viz.html import to_html  # type: ignore[import-not-found]
        except ImportError:
            raise MnprofError("format html is not available in this version of mnprof "
                              "(its HTML reports are not installed); use table, json or "
                              "markdown") from None
        return to_html(report)
    if fmt is Format.JUNIT and kind != "CheckReport":
        raise _unsupported(kind.removesuffix("Report").lower(), fmt)
    if by not in ("layer", "block"):
        raise MnprofError(f"by must be layer or block, got {by!r:.40}")
    return _RENDERERS[kind](report, fmt, layers, color, by)
