"""The cache-aware roofline: cache levels from sysfs, a roof per level, each layer's
roof from its working set, sums of rows, and the cache of measured ceilings.

Every expected figure is worked out here from the fake machine's numbers; nothing
is timed except one tiny run of the streaming kernel.
"""

from __future__ import annotations

import json
import math

import pytest

from mnprof import analyze, build, load_spec
from mnprof.bench import caches, machine
from mnprof.bench.attribute import ProfiledNode, attribute
from mnprof.bench.caches import CacheLevel, MemoryRoof
from mnprof.bench.machine import Ceiling
from mnprof.bench.notes import over_roof_notes

KIB, MIB = 1024, 1024 * 1024
PEAK = 1000.0                # GMAC/s
ROOFS = (MemoryRoof("L1", 400.0, 64 * KIB, 32 * KIB), MemoryRoof("L2", 200.0, MIB, 256 * KIB),
         MemoryRoof("L3", 80.0, 32 * MIB, 6 * MIB), MemoryRoof("DRAM", 10.0, None, 512 * MIB))


def ceiling(threads: int = 1, roofs: tuple[MemoryRoof, ...] = ROOFS, **kw) -> Ceiling:
    return Ceiling(PEAK, 10.0, threads, machine.cpu_info().model, kw.pop("ort", "1.0"),
                   "fake GEMM", "fake copy", "2000-01-01T00:00:00Z", memory_roofs=roofs, **kw)


def _sysfs(root, entries):
    for i, (level, kind, size, shared) in enumerate(entries):
        d = root / f"index{i}"
        d.mkdir(parents=True)
        for name, value in (("level", level), ("type", kind), ("size", size),
                            ("shared_cpu_list", shared)):
            (d / name).write_text(f"{value}\n")
    return root


def test_cache_levels_come_from_sysfs(tmp_path):
    root = _sysfs(tmp_path / "cache", [(1, "Data", "32K", "0"), (1, "Instruction", "32K", "0"),
                                       (2, "Unified", "512K", "0"),
                                       (3, "Unified", "32768K", "0-1,4-5")])
    levels = caches.cache_levels(root)
    assert levels == (CacheLevel("L1", 32 * KIB, 1), CacheLevel("L2", 512 * KIB, 1),
                      CacheLevel("L3", 32 * MIB, 4))
    # private levels add up over the threads' cores; a shared one counts per instance
    assert [lv.capacity(2) for lv in levels] == [64 * KIB, MIB, 32 * MIB]
    assert levels[2].capacity(8) == 64 * MIB                   # two L3 instances
    assert caches.cache_levels(tmp_path / "nowhere") == ()


def test_working_sets_sit_inside_each_level():
    levels = (CacheLevel("L1", 32 * KIB, 1), CacheLevel("L2", 512 * KIB, 1),
              CacheLevel("L3", 32 * MIB, 2))
    # per thread: half of L1; then the geometric mean of the level below and this one
    assert caches.working_sets(levels, 1) == [16 * KIB, 128 * KIB, 4 * MIB]
    assert caches.working_sets(levels, 2) == [16 * KIB, 128 * KIB,
                                              int(math.sqrt(512 * KIB * 16 * MIB))]


def test_a_cache_is_never_slower_than_the_memory_behind_it(monkeypatch):
    measured = iter([50.0, 80.0, 5.0])                         # L1, L2, L3 as "measured"
    monkeypatch.setattr(caches, "_stream", lambda per_thread, threads: next(measured))
    levels = (CacheLevel("L1", 32 * KIB, 1), CacheLevel("L2", 512 * KIB, 1),
              CacheLevel("L3", 32 * MIB, 2))
    roofs = caches.measure_cache_roofs(2, levels, 12.0, 512 * MIB)
    assert [(r.level, r.bandwidth_gb_per_s) for r in roofs] == [
        ("L1", 80.0), ("L2", 80.0), ("L3", 12.0), ("DRAM", 12.0)]
    assert [r.capacity_bytes for r in roofs] == [64 * KIB, MIB, 32 * MIB, None]


def test_the_streaming_kernel_measures_something():
    bw = caches._stream(16 * KIB, 1)
    assert math.isfinite(bw) and bw > 0.1


@pytest.mark.parametrize("nbytes, level", [
    (64 * KIB, "L1"), (64 * KIB + 1, "L2"), (MIB, "L2"), (32 * MIB, "L3"),
    (32 * MIB + 1, "DRAM")])
def test_a_layer_gets_the_roof_of_the_smallest_level_holding_it(nbytes, level):
    c = ceiling()
    bw = {"L1": 400.0, "L2": 200.0, "L3": 80.0, "DRAM": 10.0}[level]
    assert c.memory_roof(nbytes).level == level
    assert c.attainable(0.1, nbytes) == pytest.approx(min(PEAK, 0.1 * bw))
    assert c.bound(0.1, nbytes) == "memory"
    assert c.bound(1000.0, nbytes) == "compute" and c.attainable(1000.0, nbytes) == PEAK


def test_without_levels_dram_is_the_only_roof():
    c = ceiling(roofs=())
    assert c.memory_roof(1).level == "DRAM" and c.attainable(2.0, 1) == 20.0


NET = """
name: tiny
input: {resolution: 8, channels: 8}
classes: 10
layers:
  - {name: dw, kind: dwconv, kernel: 3, bn: true, act: relu}
  - {name: pw, kind: pwconv, out: 16, bn: true, act: relu}
  - {name: pool, kind: global_avgpool}
  - {name: fc, kind: fc}
"""


def test_rows_use_their_own_roofs_and_types_sum_the_time_at_the_roofs(write_spec):
    costs = analyze(build(load_spec(write_spec(NET)), 1.0, 8))
    times_us = {"dw": 40.0, "pw": 20.0, "pool": 5.0, "fc": 10.0}
    nodes = [ProfiledNode(n, "Op", t, (n,), None) for n, t in times_us.items()]
    att = attribute(costs, nodes, e2e_median_ms=0.075, batch=1, ceiling=ceiling())
    rows = {r.name: r for r in att.layers}
    for c in costs.layers:                      # all fit in L1 (64 KiB) here
        if c.macs:
            assert c.bytes <= 64 * KIB
            r = rows[c.name]
            attainable = min(PEAK, c.macs / c.bytes * 400.0)
            assert r.attainable_gmacs_per_s == pytest.approx(attainable)
            assert r.roof == ("L1" if r.bound == "memory" else "")
    # dw: 9 MACs per output element, 8x8x8 outputs; in + weights + bias + out, fp32
    dw = rows["dw"]
    assert dw.macs == 9 * 8 * 8 * 8 and dw.bytes == 4 * (512 + 72 + 8 + 512)
    assert (dw.roof, dw.roof_bandwidth_gb_per_s, dw.bound) == ("L1", 400.0, "memory")
    # the sum: MACs over the time the layers would take at their own roofs
    at_roof = sum(r.macs / (r.attainable_gmacs_per_s * 1e6) for r in att.layers if r.macs)
    total = sum(r.macs for r in att.layers)
    assert att.total.attainable_gmacs_per_s == pytest.approx(total / (at_roof * 1e6))
    assert att.total.efficiency == pytest.approx(at_roof / 0.075)
    assert att.by_type["dw3x3"].attainable_gmacs_per_s == pytest.approx(
        dw.attainable_gmacs_per_s)


def test_layers_above_their_roof_are_named_with_a_reason(write_spec):
    costs = analyze(build(load_spec(write_spec(NET)), 1.0, 8))
    nodes = [ProfiledNode(n, "Op", 0.001, (n,), None) for n in ("dw", "pw", "pool", "fc")]
    roofs = (MemoryRoof("L1", 1.0, 4 * KIB, KIB), MemoryRoof("DRAM", 0.5, None, MIB))
    att = attribute(costs, nodes, e2e_median_ms=0.004, batch=1, ceiling=ceiling(roofs=roofs))
    # each layer gets 1 us. dw: 4,608 MACs over 4,416 bytes (over L1's 4 KiB: DRAM's
    # 0.5 GB/s), 4.6 GMAC/s achieved against 0.52; pw: 8,192 MACs over 4 x (512 + 128 +
    # 16 + 1,024) = 6,720 bytes, 8.2 against 0.61; fc: 80 MACs in 432 bytes (L1,
    # 1 GB/s), 0.08 against 0.185, under its roof
    over = [r for r in att.layers if r.efficiency and r.efficiency > 1]
    assert [r.name for r in over] == ["dw", "pw"]
    assert over[0].efficiency == pytest.approx((4608 / 1e3) / (4608 / 4416 * 0.5))
    (note,) = over_roof_notes(att.layers, ceiling(roofs=roofs))
    assert note.startswith("2 layer(s) run above their roof: pw ")
    assert note.count("within 2x of what L1 holds (4.00 KiB)") == 2
    busy = ceiling(roofs=roofs, load_average=1000.0)
    assert "measured on a busy machine" in over_roof_notes(att.layers, busy)[0]


def test_old_cache_entries_are_measured_again(tmp_path, monkeypatch):
    import onnxruntime as ort
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def measure(threads, progress=None):
        calls.append(threads)
        return ceiling(threads, ort=ort.__version__)
    monkeypatch.setattr(machine, "measure_ceiling", measure)
    path = machine.cache_path()
    path.parent.mkdir(parents=True)
    key = machine.cache_key(machine.cpu_info().model, 1, ort.__version__)
    old = {k: v for k, v in ceiling(1, roofs=()).to_dict().items()
           if k not in ("cached", "memory_roofs", "cache_method")}
    path.write_text(json.dumps({"schema": "mnprof.machine/1", "entries": {key: old}}))
    first = machine.machine_ceiling(1)
    assert calls == [1] and not first.cached                 # the /1 entry was not used
    assert json.loads(path.read_text())["schema"] == machine.CACHE_SCHEMA == "mnprof.machine/2"
    again = machine.machine_ceiling(1)
    assert calls == [1] and again.cached and again.memory_roofs == ROOFS
    assert again.memory_roof(MIB).level == "L2"
