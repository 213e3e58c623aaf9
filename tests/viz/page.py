"""An HTML report read back with the standard library's parser, as a test sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Cell:
    key: str
    value: str | None        # data-value: the raw figure (None: an empty cell)
    text: str                # what a reader sees


@dataclass
class ParsedTable:
    id: str
    keys: list[str] = field(default_factory=list)
    rows: list[dict[str, Cell]] = field(default_factory=list)
    footer: dict[str, Cell] | None = None


@dataclass
class ParsedPage:
    svg_ids: list[str] = field(default_factory=list)
    svg_titles: dict[str, str] = field(default_factory=dict)
    tables: dict[str, ParsedTable] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    attrs: list[tuple[str, str, str]] = field(default_factory=list)   # (tag, name, value)
    text: str = ""

    def rows(self, table_id: str) -> list[dict[str, Cell]]:
        return self.tables[table_id].rows

    def values(self, table_id: str, key: str) -> list[str | None]:
        return [r[key].value if key in r else None for r in self.rows(table_id)]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self.table: ParsedTable | None = None
        self.section = ""             # thead | tbody | tfoot
        self.row: dict[str, Cell] | None = None
        self.cell: Cell | None = None
        self.svg_stack: list[str] = []
        self.title_of: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.page.tags.add(tag)
        self.page.attrs += [(tag, k, v) for k, v in a.items()]
        if tag == "svg":
            self.svg_stack.append(a.get("id", ""))
            if a.get("id"):
                self.page.svg_ids.append(a["id"])
        elif tag == "title" and self.svg_stack and a.get("id", "").endswith("-title"):
            self.title_of = self.svg_stack[-1]
        elif tag == "table":
            self.table = ParsedTable(a.get("id", ""))
            self.page.tables[self.table.id] = self.table
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif tag == "tr" and self.table is not None:
            self.row = {}
        elif tag in ("td", "th") and self.row is not None:
            self.cell = Cell(a.get("data-key", ""), a.get("data-value"), "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self.svg_stack:
            self.svg_stack.pop()
        elif tag == "title":
            self.title_of = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.cell.text = self.cell.text.strip()
            if self.section == "thead":
                assert self.table is not None
                self.table.keys.append(self.cell.key)
            else:
                self.row[self.cell.key] = self.cell
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            if self.section == "tbody":
                self.table.rows.append(self.row)
            elif self.section == "tfoot":
                self.table.footer = self.row
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.cell is not None:
            self.cell.text += data
        if self.title_of:
            self.page.svg_titles[self.title_of] = \
                self.page.svg_titles.get(self.title_of, "") + data


def parse(html: str) -> ParsedPage:
    p = _Parser()
    p.feed(html)
    p.close()
    p.page.text = "".join(p.text)
    return p.page


def external_references(html: str, page: ParsedPage) -> list[str]:
    """Anything that would make a browser fetch: URLs, src, link, @import, url(...)."""
    bad = [f"{tag} {name}={value!r}" for tag, name, value in page.attrs
           if name in ("src", "srcset", "data", "action", "poster")
           or (name in ("href", "xlink:href") and not value.startswith("#"))]
    bad += [t for t in ("link", "img", "iframe", "object", "embed", "base") if t in page.tags]
    low = html.lower()
    bad += [w for w in ("http://", "https://", "//cdn", "@import", "@font-face") if w in low]
    i = low.find("url(")
    while i >= 0:
        if not low.startswith("url(#", i):
            bad.append(low[i:i + 40])
        i = low.find("url(", i + 1)
    return bad
