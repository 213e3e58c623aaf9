"""matplotlib, set up once, and a figure turned into inline SVG or PNG bytes.

matplotlib is imported here, inside ``pyplot()``, and only on the paths that draw
(``--format html``, ``--plot``): ``mnprof cost`` never loads it. The backend is
forced to Agg (no display, no GUI toolkit); SVG text stays text
(``svg.fonttype: none``) so it is sharp at any zoom, searchable and selectable,
and is shown in the page's system font stack. Each chart salts matplotlib's SVG
ids with its own id, so several charts in one page never share a clip path, and
the output is the same bytes for the same report.

Tooltips: an artist given ``gid`` (``set_gid``) becomes ``<g id=gid>`` in the SVG;
``to_svg`` puts the text of ``tips[gid]`` into it as a ``<title>``, which browsers
show on hover.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from html import escape
from typing import Any

from .colors import GRID, INK, MUTED

FONT_STACK = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
              "'Liberation Sans', 'DejaVu Sans', sans-serif")
WIDTH_IN = 11.0             # inches at 100 dpi: about the page's 1100 px content width

_STYLE = {
    "svg.fonttype": "none", "font.family": "sans-serif", "font.size": 10.5,
    "axes.titlesize": 12, "axes.titleweight": "bold", "axes.titlelocation": "left",
    "axes.labelsize": 10.5, "axes.edgecolor": MUTED, "axes.labelcolor": INK,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": GRID, "grid.linewidth": 0.8, "axes.axisbelow": True,
    "xtick.color": MUTED, "ytick.color": MUTED, "xtick.labelcolor": INK,
    "ytick.labelcolor": INK, "legend.frameon": False, "legend.fontsize": 9.5,
    "figure.dpi": 100, "savefig.dpi": 100, "figure.facecolor": "white",
    "text.color": INK, "svg.image_inline": True,
}


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend, with mnprof's style."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(_STYLE)
    return plt


def figure(height_in: float, *, ncols: int = 1, nrows: int = 1, **kwargs: Any) -> Any:
    """A new figure (and its axes) of the page's width."""
    plt = pyplot()
    return plt.subplots(nrows, ncols, figsize=(WIDTH_IN, height_in), layout="constrained",
                        **kwargs)


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_XMLNS = re.compile(r' xmlns(:xlink)?="[^"]*"')
_FONT = re.compile(r"font-family: [^;\"]*")
_SIZE = re.compile(r'<svg ([^>]*?)width="([\d.]+)pt" height="([\d.]+)pt"')


def to_svg(fig: Any, chart_id: str, title: str, tips: Mapping[str, str] | None = None) -> str:
    """The figure as an ``<svg>`` element for an HTML page (then closed)."""
    plt = pyplot()
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": chart_id}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = _METADATA.sub("", _PROLOG.sub("", buf.getvalue(), count=1), count=1)
    svg = _XMLNS.sub("", svg)          # inline in HTML, an <svg> needs no namespace URLs
    svg = _FONT.sub(f"font-family: {FONT_STACK}", svg)
    svg = _SIZE.sub(lambda m: f'<svg id="{chart_id}" class="chart" role="img" '
                              f'aria-labelledby="{chart_id}-title" {m.group(1)}'
                              f'width="{m.group(2)}pt" height="{m.group(3)}pt"', svg, count=1)
    svg = svg.replace(">", f'><title id="{chart_id}-title">{escape(title)}</title>', 1) \
        if svg.startswith("<svg") else svg
    for gid, text in (tips or {}).items():
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{escape(text)}</title>', 1)
    return svg.strip()


def to_bytes(fig: Any, fmt: str) -> bytes:
    """The figure as a standalone ``svg`` or ``png`` file's bytes."""
    plt = pyplot()
    buf = io.BytesIO()
    meta = {"Date": None} if fmt == "svg" else {"Software": None}
    with plt.rc_context({"svg.hashsalt": "mnprof"}):
        fig.savefig(buf, format=fmt, metadata=meta, dpi=150 if fmt == "png" else 100)
    plt.close(fig)
    return buf.getvalue()


def short(name: str, width: int = 28) -> str:
    """A layer name cut to fit a label, in the middle: imported names share long
    prefixes (/features/features.2/...), so the end is kept (the tooltip has it all)."""
    if len(name) <= width:
        return name
    head = max(4, (width - 1) // 3)
    return name[:head] + "…" + name[len(name) - (width - 1 - head):]
