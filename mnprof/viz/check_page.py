"""The page of a budget check: the verdict, each limit's headroom as a bar, the tables."""

from __future__ import annotations

from typing import Any

from ..core.contracts import CHECK_SCHEMA
from ..core.render import Column, Table
from ..gate.check import CheckReport, CheckResult
from ..gate.report import check_header, check_tables, rule_text, show, verdict
from .colors import FAIL, INK, MUTED, PASS, WARN
from .figure import figure
from .page import Block, Card, Page, Section, chart

CAP = 200.0                 # % of a limit beyond which a bar is cut (and says so)


def used_pct(r: CheckResult) -> float:
    """The actual value as a % of the limit (a limit of 0: 0, or the cap when exceeded)."""
    if r.limit:
        return 100.0 * r.actual / r.limit
    return 0.0 if r.actual <= 0 else CAP


def tone(r: CheckResult) -> str:
    return "fail" if not r.passed else "warn" if r.actual > r.limit else "pass"


def headroom(report: CheckReport) -> tuple[Any, dict[str, str]]:
    """Each limit: the actual value as a share of the limit, pass or fail."""
    results = report.results
    n = max(1, len(results))
    fig, ax = figure(1.1 + 0.42 * n)
    colors = {"pass": PASS, "warn": WARN, "fail": FAIL}
    tips = {}
    texts = []
    for i, r in enumerate(results):
        value = used_pct(r)
        bar = ax.barh(i, min(value, CAP), height=0.62, color=colors[tone(r)], alpha=0.9)
        bar.patches[0].set_gid(f"hr-{i}")
        tips[f"hr-{i}"] = (f"{r.model}: {r.metric} {show(r.actual, r.metric)}, limit "
                           f"{rule_text(r)} = {show(r.limit, r.metric)}"
                           + ("" if r.passed else " (EXCEEDED)"))
        if r.threshold != r.limit and r.limit:
            t = 100.0 * r.threshold / r.limit
            ax.plot([t, t], [i - 0.38, i + 0.38], color=INK, linewidth=1.2,
                    linestyle=(0, (2, 1.5)))
        pct = r.headroom_pct
        texts.append((f"{show(r.actual, r.metric)} of {show(r.limit, r.metric)}"
                      + (f" · headroom {pct:+.1f}%" if pct is not None else "")
                      + ("" if r.passed else " · FAIL") + (" (cut)" if value > CAP else ""),
                      r.passed))
    ax.axvline(100, color=INK, linewidth=1.6)
    ax.text(100, -0.75, "limit", ha="center", va="bottom", fontsize=9, color=MUTED)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{r.model} · {r.metric}" for r in results] or ["(no limits)"])
    ax.invert_yaxis()
    top = max([used_pct(r) for r in results] + [100.0])
    ax.set_xlim(0, min(CAP, top) * 1.12)
    right = ax.twinx()               # each limit's figures in a column right of the bars
    right.set_ylim(ax.get_ylim())
    right.set_yticks(range(len(texts)), [t for t, _ in texts], fontsize=9.5)
    for label, (_, ok) in zip(right.get_yticklabels(), texts, strict=True):
        label.set_color(INK if ok else FAIL)
        label.set_fontweight("normal" if ok else "bold")
    right.tick_params(axis="y", length=0)
    right.grid(False)
    right.spines["right"].set_visible(False)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("actual value, % of the limit (dashed: the limit plus its latency tolerance)")
    ax.set_title(f"Budget: {verdict(report)}")
    return fig, tips


def _result(r: CheckResult) -> str:
    return {"pass": "pass", "warn": "pass (within tolerance)", "fail": "FAIL"}[tone(r)]


def limits_table(report: CheckReport) -> Table:
    """Every limit of every model, with the JSON report's raw figures."""
    def number(v: int | float) -> str:
        return f"{v:,}" if isinstance(v, int) else f"{v:.3f}"

    rows = []
    for r in report.results:
        rows.append((r.model, r.metric, rule_text(r), r.limit, r.threshold, r.actual,
                     r.headroom, r.headroom_pct, _result(r)))
    cols = (Column("model", numeric=False), Column("metric", numeric=False),
            Column("rule", numeric=False, key="rule_text"),
            Column("limit", number), Column("threshold", number), Column("actual", number),
            Column("headroom", number),
            Column("headroom %", lambda v: f"{v:+.2f}%", "headroom_pct"),
            Column("result", numeric=False, key="passed"))
    return Table("Every limit", cols, tuple(rows),
                 note="limit, threshold, actual and headroom in each metric's unit (counts, "
                      "bytes, milliseconds)")


def page(report: CheckReport) -> Page:
    models = list(dict.fromkeys(r.model for r in report.results))
    ok = report.passed
    cards = (Card("verdict", "PASSED" if ok else "FAILED", verdict(report),
                  "pass" if ok else "fail"),
             Card("limits", str(len(report.results)), f"over {len(models)} model(s)"),
             Card("passed", str(report.n_passed)),
             Card("failed", str(report.n_failed), "", "fail" if report.n_failed else ""))
    notes = tuple(line for t in check_tables(report) if t.note for line in t.note.split("\n"))
    sections = (
        Section("verdict", "Limits and headroom", banner=("pass" if ok else "fail",
                                                          verdict(report)),
                intro="Each bar is the model's actual value as a share of its limit: under "
                      "the line it holds. Exit status: 0 every limit holds, 1 a limit is "
                      "exceeded.",
                charts=(chart("chart-check", "Headroom per limit", headroom, report),)),
        Section("limits", "Every limit", tables=(Block("table-check-limits",
                                                        limits_table(report)),),
                notes=notes),
    )
    return Page("check", "Budget check", check_header(report), CHECK_SCHEMA, cards, sections)


def main_figure(report: CheckReport) -> Any:
    return headroom(report)[0]
