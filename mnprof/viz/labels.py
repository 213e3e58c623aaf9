"""Labels next to points that keep clear of each other, of the points and of lines.

A ``Labeller`` works in an approximate point grid of the axes (linear or log, as the
axes are): each label is tried right of its point, then left, then moved up or
down in small steps until its box is free; a label moved away from its point gets a
leader line. Approximate sizes are enough: the aim is no overlap, not typesetting.
"""

from __future__ import annotations

import math
from typing import Any

from .colors import INK, MUTED

Box = tuple[float, float, float, float]       # left, right, bottom, top (points)


class Labeller:
    def __init__(self, ax: Any, width_pt: float = 720.0, height_pt: float = 400.0) -> None:
        self.ax = ax
        self.size = (width_pt, height_pt)
        self.lims = (ax.get_xlim(), ax.get_ylim())
        self.logs = (ax.get_xscale() == "log", ax.get_yscale() == "log")
        self.taken: list[Box] = []

    def pt(self, x: float, y: float) -> tuple[float, float]:
        out = []
        for v, (lo, hi), log, size in zip((x, y), self.lims, self.logs, self.size,
                                          strict=True):
            if log:
                v, lo, hi = (math.log10(max(t, 1e-300)) for t in (v, lo, hi))
            out.append((v - lo) / (hi - lo) * size if hi != lo else 0.0)
        return out[0], out[1]

    def block_point(self, x: float, y: float, radius: float = 6.0) -> None:
        px, py = self.pt(x, y)
        self.taken.append((px - radius, px + radius, py - radius, py + radius))

    def block_diagonal(self, x: float, y: float, chars: int) -> None:
        """A label drawn along a 45-degree line from (x, y)."""
        px, py = self.pt(x, y)
        self.taken += [(px + k * 10, px + k * 10 + 12, py + k * 10 - 4, py + k * 10 + 14)
                       for k in range(max(1, chars * 5 // 14))]

    def _free(self, box: Box) -> bool:
        w, h = self.size
        if box[0] < 0 or box[1] > w or box[2] < 0 or box[3] > h:
            return False
        return not any(b[0] < box[1] and box[0] < b[1] and b[2] < box[3] and box[2] < b[3]
                       for b in self.taken)

    def place(self, x: float, y: float, text: str, *, fontsize: float = 9.5,
              bold: bool = True, color: str = INK, move: bool = True, **kw: Any) -> bool:
        """Put ``text`` near (x, y); ``move`` False: only right beside it, or not at all."""
        lines = text.split("\n")
        w = fontsize * (0.63 if bold else 0.58) * max(len(t) for t in lines)
        h = fontsize * 1.3 * len(lines)
        px, py = self.pt(x, y)
        steps = [0.0] + ([k * s * 7.0 for k in range(1, 30) for s in (-1, 1)] if move else [])
        for dy in steps:
            for right in (True, False):
                left = px + 10 if right else px - 10 - w
                box = (left, left + w, py + dy - h / 2, py + dy + h / 2)
                if self._free(box):
                    self.taken.append(box)
                    self._draw(x, y, text, 10 if right else -10, dy, right, fontsize, bold,
                               color, **kw)
                    return True
        if move:        # nowhere free: beside the point all the same
            self._draw(x, y, text, 10, 0.0, True, fontsize, bold, color, **kw)
            return True
        return False

    def _draw(self, x: float, y: float, text: str, dx: float, dy: float, right: bool,
              fontsize: float, bold: bool, color: str, **kw: Any) -> None:
        self.ax.annotate(
            text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
            color=color, fontweight="bold" if bold else "normal", va="center",
            ha="left" if right else "right", zorder=6,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
            arrowprops={"arrowstyle": "-", "color": MUTED, "linewidth": 0.8, "shrinkA": 0,
                        "shrinkB": 4} if abs(dy) > 4 else None, **kw)
