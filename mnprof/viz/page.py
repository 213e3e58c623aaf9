"""What an HTML report is made of, before it is HTML: a page of cards and sections.

A report kind's page module (``cost_page``, ``bench_page``, ...) builds a ``Page``
from its report; ``mnprof.viz.html`` turns any ``Page`` into one self-contained
file. Tables are the same ``core.render.Table`` objects the text and markdown
formats print, so a page never shows a number the other formats do not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.render import Table


@dataclass(frozen=True)
class Chart:
    id: str                     # the <svg> element's id (tests and links find it by this)
    title: str
    svg: str                    # inline SVG markup (mnprof.viz.figure.to_svg)
    caption: str = ""           # plain text under the chart


@dataclass(frozen=True)
class Block:
    """A table in a section; ``id`` is the <table> element's id."""

    id: str
    table: Table
    intro: str = ""
    collapsed: bool = False     # long tables: in a <details> the reader opens


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str = ""             # plain text; a blank line starts a new paragraph
    charts: tuple[Chart, ...] = ()
    tables: tuple[Block, ...] = ()
    notes: tuple[str, ...] = ()
    banner: tuple[str, str] | None = None   # (tone, text): a verdict in large type


@dataclass(frozen=True)
class Card:
    """A key figure at the top of the page."""

    label: str
    value: str
    detail: str = ""
    tone: str = ""              # "pass" | "fail" | "warn" | ""


@dataclass(frozen=True)
class Page:
    kind: str                   # "cost", "bench", ... (the command)
    title: str
    subtitle: str
    schema: str                 # the JSON document that carries the same numbers
    cards: tuple[Card, ...] = ()
    sections: tuple[Section, ...] = ()
    legend: tuple[str, ...] = field(default=())  # layer types to show in the colour key


def chart(chart_id: str, title: str, draw: Callable[..., Any], *args: Any,
          caption: str = "") -> Chart:
    """A ``Chart`` from a drawing function (called with ``args``) returning
    ``(figure, tooltips)``."""
    from .figure import to_svg
    fig, tips = draw(*args)
    return Chart(chart_id, title, to_svg(fig, chart_id, title, tips), caption)
