"""One self-contained HTML file per report: inline SVG charts, inline CSS, no network.

``to_html(report)`` asks the registry (``mnprof.viz.registry``) for the report
kind's page and renders it. Nothing in the page is fetched: no external script,
stylesheet, font or image; it opens from disk and as a CI artifact. Text uses the
system font stack. A print stylesheet lays it out for paper (A4 landscape).

Every table cell carries its raw value in ``data-value`` (exact integers, floats
to 6 decimals, as the csv and JSON formats write them) beside the text people
read, so a script, or a test, can compare the page with the JSON report.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from ..core.render import Table
from ..core.version import __version__
from .colors import color_of
from .page import Block, Card, Chart, Page, Section
from .style import CSS, SCRIPT


def to_html(report: Any) -> str:
    """``report`` as a complete HTML document."""
    from .registry import page_of
    return render_page(page_of(report))


def render_page(p: Page) -> str:
    nav = "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in p.sections)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="mnprof {escape(__version__)}">',
        f"<title>{escape(p.title)} · mnprof</title>", f"<style>{CSS}</style>", "</head>",
        f'<body class="report-{escape(p.kind)}">', "<header>",
        f'<p class="kicker">mnprof {escape(p.kind)}</p>', f"<h1>{escape(p.title)}</h1>",
        f'<p class="subtitle">{escape(p.subtitle)}</p>',
        f'<nav aria-label="sections">{nav}</nav>' if len(p.sections) > 1 else "",
        "</header>", "<main>",
    ]
    if p.cards:
        parts.append('<div class="cards">' + "".join(_card(c) for c in p.cards) + "</div>")
    if p.legend:
        parts.append(_legend(p.legend))
    parts += [_section(s) for s in p.sections]
    parts += ["</main>", "<footer>",
              f"<p>mnprof {escape(__version__)} · the same figures, exact, in "
              f"<code>--format json</code> ({escape(p.schema)}). Charts are inline SVG: "
              "hover a bar or point for its figures; click a table heading to sort.</p>",
              "</footer>", f"<script>{SCRIPT}</script>", "</body>", "</html>", ""]
    return "\n".join(x for x in parts if x)


def _card(c: Card) -> str:
    tone = f" {c.tone}" if c.tone else ""
    return (f'<div class="card{tone}"><div class="label">{escape(c.label)}</div>'
            f'<div class="value{" long" if len(c.value) > 11 else ""}">{_breakable(c.value)}</div>'
            + (f'<div class="detail">{escape(c.detail)}</div>' if c.detail else "") + "</div>")


def _breakable(text: str) -> str:
    """Escaped, with a line-break opportunity after _ : , / and a dot before a letter (long
    layer and model names; never inside a number)."""
    return re.sub(r"([_:,/]|\.(?=[A-Za-z]))", r"\1<wbr>", escape(text))


def swatch(type_key: str) -> str:
    return f'<span class="sw" style="background:{color_of(type_key)}"></span>'


def _legend(types: tuple[str, ...]) -> str:
    items = "".join(f'<span class="key">{swatch(t)}{escape(t)}</span>' for t in types)
    return (f'<div class="legend" aria-label="layer type colours"><span class="legend-title">'
            f"Layer types</span>{items}</div>")


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def _section(s: Section) -> str:
    out = [f'<section id="{escape(s.id)}">', f"<h2>{escape(s.title)}</h2>"]
    if s.banner:
        tone, text = s.banner
        out.append(f'<div class="banner {escape(tone)}">{escape(text)}</div>')
    out.append(_paragraphs(s.intro))
    out += [_chart(c) for c in s.charts]
    out += [_block(b) for b in s.tables]
    if s.notes:
        out.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in s.notes)
                   + "</ul>")
    out.append("</section>")
    return "\n".join(x for x in out if x)


def _chart(c: Chart) -> str:
    caption = f"<figcaption>{escape(c.caption)}</figcaption>" if c.caption else ""
    return f'<figure class="chart-box">{c.svg}{caption}</figure>'


def raw_value(v: Any) -> str:
    """A cell's raw value as csv and JSON write it: exact ints, floats to 6 decimals."""
    if isinstance(v, tuple):
        return "x".join(str(x) for x in v)
    if isinstance(v, float):
        return repr(round(v, 6))
    return str(v)


def _cell(tag: str, table: Table, i: int, v: Any, shown: str, foot: bool = False) -> str:
    col = table.columns[i]
    cls = ("num" if col.numeric else "txt") + (" fail" if shown == "FAIL" else "")
    attrs = f' class="{cls}" data-key="{escape(col.csv_key)}"'
    if v is None:
        return f"<{tag}{attrs}></{tag}>"
    attrs += f' data-value="{escape(raw_value(v))}"'
    text = escape(shown)
    if col.csv_key == "type" and isinstance(v, str) and not foot:
        text = swatch(v) + text
    return f"<{tag}{attrs}>{text}</{tag}>"


def table_html(block: Block) -> str:
    t = block.table
    head = "".join(f'<th class="{"num" if c.numeric else "txt"}" data-key="'
                   f'{escape(c.csv_key)}" scope="col">{escape(c.header)}</th>'
                   for c in t.columns)
    rows = "".join("<tr>" + "".join(_cell("td", t, i, v, s) for i, (v, s) in
                                    enumerate(zip(row, t.shown(row), strict=True))) + "</tr>"
                   for row in t.rows)
    foot = ""
    if t.footer:
        foot = "<tfoot><tr>" + "".join(_cell("td", t, i, v, s, True) for i, (v, s) in enumerate(
            zip(t.footer, t.shown(t.footer), strict=True))) + "</tr></tfoot>"
    return (f'<div class="table-wrap"><table id="{escape(block.id)}" class="sortable">'
            f"<caption>{escape(t.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody>{foot}</table></div>")


def _block(b: Block) -> str:
    note = f'<p class="table-note">{escape(b.table.note)}</p>' if b.table.note else ""
    body = _paragraphs(b.intro) + table_html(b) + note
    if b.collapsed:
        return (f"<details><summary>{escape(b.table.title)} ({len(b.table.rows)} rows)"
                f"</summary>{body}</details>")
    return body
