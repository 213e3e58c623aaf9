"""Rendering: format-independent tables, and one renderer per output format.

Reports become ``Table``s (raw values plus how to show them) or a JSON-able dict;
the renderers here turn those into text. ``csv`` writes raw values (exact
integers), the others human units.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    JUNIT = "junit"         # check only: one JUnit test case per budget limit
    HTML = "html"           # a self-contained page with charts (mnprof.viz)


@dataclass(frozen=True)
class Column:
    header: str
    show: Callable[[Any], str] = str     # how a raw value is shown to people
    key: str = ""                        # the csv header (default: header)
    numeric: bool = True

    @property
    def csv_key(self) -> str:
        return self.key or self.header


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    footer: tuple[Any, ...] | None = None   # a totals row, shown after a rule
    note: str = ""                          # shown under the table (lines kept)

    def shown(self, row: Sequence[Any]) -> list[str]:
        return ["" if v is None else c.show(v) for c, v in zip(self.columns, row, strict=True)]


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def to_csv(table: Table) -> str:
    import csv
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.csv_key for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else _raw(v) for v in row])
    return buf.getvalue()


def _raw(value: Any) -> Any:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(round(value, 6))
    return value


def to_markdown(header: str, tables: Sequence[Table]) -> str:
    out = [f"### {header}", ""] if header else []
    for t in tables:
        out += [f"**{t.title}**", ""]
        out.append("| " + " | ".join(c.header for c in t.columns) + " |")
        out.append("|" + "|".join("---:" if c.numeric else "---" for c in t.columns) + "|")
        rows = [*t.rows, *([t.footer] if t.footer else [])]
        for i, row in enumerate(rows):
            cells = t.shown(row)
            if t.footer and i == len(rows) - 1:
                cells = [f"**{c}**" if c else c for c in cells]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        if t.note:
            out += ["", t.note.replace("\n", "  \n")]     # a markdown line break per line
        out.append("")
    return "\n".join(out)


_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def to_text(header: str, tables: Sequence[Table], *, color: bool) -> str:
    """Tables as aligned plain text (bold titles and dim notes only when ``color``).

    Drawn here rather than by rich: the same look, a thousandth of the time, which
    is most of what a fresh ``mnprof cost`` process would otherwise spend; and cell
    text is never read as markup.
    """
    bold = (lambda t: f"{_BOLD}{t}{_RESET}") if color else (lambda t: t)
    dim = (lambda t: f"{_DIM}{t}{_RESET}") if color else (lambda t: t)
    out: list[str] = [bold(header), ""] if header else []
    for t in tables:
        head = [c.header for c in t.columns]
        body = [t.shown(row) for row in t.rows]
        foot = t.shown(t.footer) if t.footer else None
        widths = [max(len(cell) for cell in col)
                  for col in zip(head, *body, *([foot] if foot else []), strict=True)]

        rule = " " + "─" * (sum(widths) + 3 * (len(widths) - 1) + 2)
        out += [bold(t.title), "", _line(t, head, widths), rule,
                *(_line(t, r, widths) for r in body)]
        if foot:
            out += [rule, _line(t, foot, widths)]
        if t.note:
            out += ["", dim(t.note)]
        out.append("")
    return "\n".join(out) + "\n"


def _line(table: Table, cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = [cell.rjust(w) if c.numeric else cell.ljust(w)
             for c, cell, w in zip(table.columns, cells, widths, strict=True)]
    return ("  " + "   ".join(parts)).rstrip()
