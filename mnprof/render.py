"""Rendering: format-independent tables, and one renderer per output format.

Reports become ``Table``s (raw values plus how to show them) or a JSON-able dict;
the renderers here turn those into text. ``csv`` writes raw values (exact
integers), the others human units. rich is imported only to draw tables.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import MnprofError


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    JUNIT = "junit"         # check only: one JUnit test case per budget limit


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
    note: str = ""                          # one line shown under the table

    def shown(self, row: Sequence[Any]) -> list[str]:
        return ["" if v is None else c.show(v) for c, v in zip(self.columns, row, strict=True)]


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def to_csv(table: Table) -> str:
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
            out += ["", t.note]
        out.append("")
    return "\n".join(out)


def to_rich_text(header: str, tables: Sequence[Table], *, color: bool) -> str:
    """Tables drawn by rich, as text (ANSI colour only when ``color``)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable

    buf = io.StringIO()
    width = 200 if not color else None
    console = Console(file=buf, force_terminal=color, no_color=not color, width=width,
                      highlight=False, soft_wrap=False)
    if color:
        console.width = max(console.width, 120)
    if header:
        console.print(header, style="bold")
    for t in tables:
        rt = RichTable(title=t.title, title_justify="left", box=box.SIMPLE_HEAD,
                       show_footer=t.footer is not None, title_style="bold")
        footer = t.shown(t.footer) if t.footer else [""] * len(t.columns)
        for c, f in zip(t.columns, footer, strict=True):
            rt.add_column(c.header, justify="right" if c.numeric else "left", footer=f,
                          no_wrap=True)
        for row in t.rows:
            rt.add_row(*t.shown(row))
        console.print(rt)
        if t.note:
            console.print(t.note, style="dim")
    return _rstrip_lines(buf.getvalue())


def _rstrip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def write_output(text: str, output: str | None, *, protect: Sequence[str | Path] = ()) -> None:
    """Print to stdout, or write ``output`` atomically (never over a file in ``protect``)."""
    if output is None or output == "-":
        import sys
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write(output, text.encode("utf-8"), protect=protect)


def atomic_write(output: str | os.PathLike[str], data: bytes, *,
                 protect: Sequence[str | Path] = ()) -> None:
    """Write a file so that readers see the old content or the new, never a part.

    The data goes to a temporary file beside the target, is flushed to disk,
    then renamed over it. An existing directory, an unwritable place, or one of
    the user's input files (``protect``) is an error and nothing is written.
    """
    path = Path(output)
    if path.is_dir():
        raise MnprofError(f"{output}: is a directory; --output needs a file path")
    for other in protect:
        try:
            if path.exists() and os.path.samefile(path, other):
                raise MnprofError(f"{output}: refusing to overwrite an input file")
        except OSError:
            pass
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise MnprofError(f"{output}: directory {str(parent)!r} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise MnprofError(f"{output}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise MnprofError(f"{output}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
