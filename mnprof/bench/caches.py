"""Cache levels and their bandwidth roofs: the memory side of a cache-aware roofline.

A layer whose input, weights and output fit in L2 is fed at L2's bandwidth, not
DRAM's; judging it against DRAM alone shows "efficiencies" over 100%. So, as Intel
Advisor's cache-aware roofline does, each level gets a roof of its own:

- ``cache_levels()``: the data caches of CPU 0, read from
  ``/sys/devices/system/cpu/cpu0/cache/`` (level, size, how many CPUs share one
  instance). Where that is missing, no level is known and DRAM is the only roof.
- ``measure_cache_roofs(threads, levels, dram)``: one bandwidth per level, from a
  numpy kernel streaming over a working set sized to sit in that level. Each thread
  runs ``np.add.reduce`` over a stride-0 view of its own buffer: one C call that
  reads the buffer ``passes`` times and reads and writes an output of the same
  size (3 x 4 bytes per element and pass, as STREAM's Add counts them). numpy
  releases the GIL inside it, so the threads stream in parallel. Best of several
  repeats: a ceiling, not a typical figure. The working set per thread is the
  geometric mean of the level below's capacity and this level's (half of L1 for
  L1): well inside the level, well outside the one below.
- ``MemoryRoof.capacity_bytes``: what a level holds for ``threads`` threads: a
  private cache (one per core) counts once per thread, a shared one once per
  instance the threads use. A layer's roof is the smallest level that holds its
  working set (``pick``); larger ones are DRAM's.

A cache is never slower than the memory behind it: a level measured below the next
one (a disturbed measurement) is given the next one's bandwidth.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")
DRAM = "DRAM"
_TRAFFIC_PER_THREAD = 96 << 20     # bytes a thread moves per timed repeat
_REPEATS = 7


@dataclass(frozen=True)
class CacheLevel:
    name: str                 # "L1", "L2", "L3"
    size_bytes: int           # one instance
    shared_by: int            # CPUs sharing one instance (1: private to a core)

    def capacity(self, threads: int) -> int:
        """Bytes the level holds for ``threads`` threads on distinct cores."""
        return self.size_bytes * max(1, math.ceil(threads / max(1, self.shared_by)))


@dataclass(frozen=True)
class MemoryRoof:
    level: str                        # "L1", "L2", "L3" or "DRAM"
    bandwidth_gb_per_s: float         # 10^9 bytes per second, read + written
    capacity_bytes: int | None        # what it holds at the thread count (None: DRAM)
    working_set_bytes: int            # the working set it was measured at (all threads)


def _size(text: str) -> int | None:
    text = text.strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    digits = text.rstrip("KMG")
    return int(digits) * scale if digits.isdigit() and int(digits) > 0 else None


def _cpu_count(cpu_list: str) -> int:
    """How many CPUs a sysfs list ("0-3,8-11") names."""
    n = 0
    for part in cpu_list.strip().split(","):
        lo, _, hi = part.partition("-")
        if lo.isdigit():
            n += int(hi) - int(lo) + 1 if hi.isdigit() else 1
    return max(1, n)


def cache_levels(root: Path = SYSFS) -> tuple[CacheLevel, ...]:
    """The data (and unified) caches of CPU 0, smallest level first; () if unknown."""
    levels: dict[int, CacheLevel] = {}
    try:
        entries = sorted(root.glob("index*"))
        for d in entries:
            kind = (d / "type").read_text().strip()
            if kind not in ("Data", "Unified"):
                continue
            level = int((d / "level").read_text().strip())
            size = _size((d / "size").read_text())
            shared = (d / "shared_cpu_list").read_text() if (d / "shared_cpu_list").exists() \
                else "0"
            if size:
                levels[level] = CacheLevel(f"L{level}", size, _cpu_count(shared))
    except (OSError, ValueError):
        return ()
    return tuple(levels[k] for k in sorted(levels))


def pick(roofs: Sequence[MemoryRoof], working_set: int | None) -> MemoryRoof | None:
    """The roof of the smallest level holding ``working_set`` bytes, else the last (DRAM)."""
    if not roofs:
        return None
    if working_set is not None:
        for r in roofs:
            if r.capacity_bytes is not None and working_set <= r.capacity_bytes:
                return r
    return roofs[-1]


def working_sets(levels: Sequence[CacheLevel], threads: int) -> list[int]:
    """Bytes per thread to measure each level at (see the module docstring)."""
    out, below = [], 0
    for lv in levels:
        per_thread = lv.size_bytes // max(1, min(threads, lv.shared_by))
        out.append(per_thread // 2 if not below else int(math.sqrt(below * per_thread)))
        below = per_thread
    return out


def measure_cache_roofs(threads: int, levels: Sequence[CacheLevel], dram_gb_per_s: float,
                        dram_working_set: int) -> tuple[MemoryRoof, ...]:
    """A roof per cache level (measured now) and DRAM's (``dram_gb_per_s``), smallest first."""
    dram = MemoryRoof(DRAM, dram_gb_per_s, None, dram_working_set)
    measured = [(lv, ws, _stream(ws, threads)) for lv, ws in
                zip(levels, working_sets(levels, threads), strict=True)]
    roofs: list[MemoryRoof] = [dram]
    for lv, ws, bw in reversed(measured):        # never slower than the level behind it
        roofs.insert(0, MemoryRoof(lv.name, max(bw, roofs[0].bandwidth_gb_per_s),
                                   lv.capacity(threads), ws * threads))
    return tuple(roofs)


def _stream(per_thread: int, threads: int) -> float:
    """GB/s of ``threads`` threads each streaming over ``per_thread`` bytes (best repeat)."""
    import numpy as np
    from numpy.lib.stride_tricks import as_strided

    n = max(16, per_thread // 8)                 # a source and an output of n floats each
    passes = max(1, _TRAFFIC_PER_THREAD // (12 * n))
    bufs = [(np.ones(n, np.float32), np.zeros(n, np.float32)) for _ in range(threads)]
    views = [(as_strided(src, (passes, n), (0, 4), writeable=False), dst) for src, dst in bufs]
    best = math.inf
    for _ in range(_REPEATS):
        start = threading.Barrier(threads + 1)

        def run(i: int, start: threading.Barrier = start) -> None:
            view, out = views[i]
            start.wait()
            np.add.reduce(view, axis=0, out=out)

        workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        start.wait()
        t0 = time.perf_counter()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - t0)
    return 12 * n * passes * threads / best / 1e9
