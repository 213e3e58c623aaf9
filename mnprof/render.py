"""Rendering: format-independent tables, and one renderer per output format.

Reports become ``Table``s (raw values plus how to show them) or a JSON-able dict;
the renderers here turn those into text. ``csv`` writes raw values (exact
integers), the others human units.
"""

from __future__ import annotations

import io
import json
import os
import sys
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


def write_output(text: str, output: str | None, *, protect: Sequence[str | Path] = ()) -> None:
    """Print to stdout, or write ``output`` atomically (never over a file in ``protect``)."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write(output, text.encode("utf-8"), protect=protect)


def check_target(output: str | os.PathLike[str]) -> Path:
    """The directory an output file would be written in; an error if it cannot be.

    Called by ``atomic_write``, and by a slow command before it starts, so that a
    wrong path fails at once rather than after the work.
    """
    path = Path(output)
    if path.is_dir():
        raise MnprofError(f"{output}: is a directory; an output needs a file path")
    if not path.parent.is_dir():        # a bare name's parent is "."
        raise MnprofError(f"{output}: directory {str(path.parent)!r} does not exist")
    return path.parent


def atomic_write(output: str | os.PathLike[str], data: bytes, *,
                 protect: Sequence[str | Path] = ()) -> None:
    """Write a file so that readers see the old content or the new, never a part.

    The data goes to a temporary file beside the target, is flushed to disk,
    then renamed over it. An existing directory, an unwritable place, or one of
    the user's input files (``protect``) is an error and nothing is written.
    """
    path = Path(output)
    parent = check_target(output)
    for other in protect:
        try:
            if path.exists() and os.path.samefile(path, other):
                raise MnprofError(f"{output}: refusing to overwrite an input file")
        except OSError:
            pass
    import tempfile
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
