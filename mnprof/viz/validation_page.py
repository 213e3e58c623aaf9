"""The page of ``mnprof predict --validate``: predicted against measured for every
configuration (log-log, the identity line and the +-10% band, one colour per spec)
and the error tables."""

from __future__ import annotations

from typing import Any

from ..core.contracts import VALIDATION_SCHEMA
from ..predict.validate import ValidationReport, summary, validation_header, validation_tables
from .colors import BLUE, BROWN, GREEN, INK, MUTED, ORANGE, PINK, PURPLE, RED, TEAL
from .draw import plain_log_axis
from .figure import figure
from .page import Block, Card, Page, Section, chart

SERIES = (BLUE, ORANGE, GREEN, RED, PURPLE, TEAL, BROWN, PINK)


def scatter(r: ValidationReport) -> tuple[Any, dict[str, str]]:
    """Predicted against measured, log-log, with the identity line and a +-10% band."""
    fig, ax = figure(5.2)
    pts = list(r.points)
    tips = {}
    lo = min([p.measured_ms for p in pts] + [p.predicted_ms for p in pts] + [1.0]) / 1.2
    hi = max([p.measured_ms for p in pts] + [p.predicted_ms for p in pts] + [1.0]) * 1.2
    ax.fill_between([lo, hi], [lo * 0.9, hi * 0.9], [lo * 1.1, hi * 1.1], color=MUTED,
                    alpha=0.15, linewidth=0, label="within 10%")
    ax.plot([lo, hi], [lo, hi], color=INK, linewidth=0.8, label="predicted = measured")
    for i, spec in enumerate(dict.fromkeys(p.spec for p in pts)):
        mine = [p for p in pts if p.spec == spec]
        dots = ax.scatter([p.measured_ms for p in mine], [p.predicted_ms for p in mine], s=22,
                          color=SERIES[i % len(SERIES)], label=spec, zorder=3)
        dots.set_gid(f"vs-{spec}")
        tips[f"vs-{spec}"] = spec
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_axis(ax.xaxis)
    plain_log_axis(ax.yaxis)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured median, ms")
    ax.set_ylabel("predicted, ms")
    ax.legend(loc="upper left", fontsize=8, labelcolor=MUTED)
    s = summary(pts)
    if s["points"]:
        ax.set_title(f"Predicted vs measured: {100 * s['within_10pct']:.0f}% within 10%, "
                     f"Kendall tau {s['kendall_tau'] or 0:.3f} ({s['points']} configurations)")
    return fig, tips


def page(r: ValidationReport) -> Page:
    first, every = validation_tables(r)
    s = summary(r.points)
    cards = () if not s["points"] else (
        Card("within 10%", f"{100 * s['within_10pct']:.0f}%", f"of {s['points']} configurations"),
        Card("within 5%", f"{100 * s['within_5pct']:.0f}%", f"MAPE {s['mape_pct']:.1f}%"),
        Card("Kendall tau", f"{s['kendall_tau'] or 0:.3f}", "rank correlation"),
        Card("worst", f"{s['max_ape_pct']:.1f}%", "absolute error"),
        *((Card("machine drift", f"{100 * r.drift:+.1f}%", "since calibration (anchors)"),)
          if r.drift is not None else ()))
    sections = (
        Section("scatter", "Predicted against measured", charts=(
            chart("chart-validation", "Predicted vs measured", scatter, r),) if r.points else (),
            tables=(Block("table-validation-summary", first),)),
        Section("points", "Every configuration", tables=(Block("table-validation-points",
                                                                 every),)))
    return Page("validation", "Latency predictions validated", validation_header(r),
                VALIDATION_SCHEMA, cards, sections)


def main_figure(r: ValidationReport) -> Any:
    """``--plot``: predicted against measured."""
    return scatter(r)[0]
