"""This machine: what it is, and the most it can do (the roofline's two ceilings).

- ``cpu_info()``: CPU model, logical CPUs, physical cores, and the SIMD width
  onnxruntime's CPU kernels use, read from ``/proc/cpuinfo`` flags. The NCHWc
  block (16 floats with AVX-512, 8 with AVX2) is an *assumption* from those flags:
  onnxruntime picks it inside MLAS and does not expose it.
- ``machine_ceiling(threads)``: peak GMAC/s measured by an onnxruntime fp32 MatMul
  (the most comparable GEMM: the same library, kernels and thread pool as the
  model's convolutions) and memory bandwidth measured by a large numpy copy split
  over the same number of threads (bytes read + bytes written, as STREAM's Copy
  counts them). Both keep the best run: a ceiling, not a typical figure.
  Measured once per (CPU model, threads, onnxruntime version) and cached in
  ``$XDG_CACHE_HOME/mnprof/machine.json`` (default ``~/.cache/mnprof``).
- a bandwidth roof per cache level (L1, L2, L3; ``mnprof.bench.caches``) beside
  DRAM's, measured and cached with the rest (the cache schema is
  ``mnprof.machine/2``: entries written before the per-level roofs are measured again).
- ``Ceiling.attainable(intensity, working_set)``: the cache-aware roofline,
  min(peak, intensity x bandwidth of the smallest level holding the working set),
  with intensity in MACs per byte; without a working set, DRAM's roof.

onnxruntime is imported only inside the measuring function.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..core.contracts import MACHINE_SCHEMA as CACHE_SCHEMA
from ..core.errors import MnprofError
from ..core.files import atomic_write, read_text
from ..core.progress import Progress
from .caches import DRAM, MemoryRoof, cache_levels, measure_cache_roofs, pick
from .runner import OptLevel, create_session, session_options, time_runs

GEMM_SIZES = (512, 1024)    # square MatMuls; the best of both is the peak
COPY_MIB = 256              # per array: well past any last-level cache here
_GEMM_SECONDS = 0.5         # timing budget per size (after warm-up)
_COPY_REPEATS = 8
BUSY_LOAD = 0.5             # load average per usable CPU above which a machine is busy


@dataclass(frozen=True)
class CpuInfo:
    model: str
    logical_cpus: int
    physical_cores: int
    usable_cpus: int          # this process's CPU affinity
    simd: str                 # avx512 | avx2 | sse | other
    nchwc_block: int          # floats per channel block, assumed from ``simd`` (1: none)
    isa: tuple[str, ...] = () # the instruction sets that matter to its kernels


# Instruction-set flags worth naming in a report: what MLAS picks its kernels by
# (vector width, FMA, and the int8 dot-product extensions VNNI and AMX).
ISA_FLAGS = ("sse4_1", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
             "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16",
             "asimd", "asimddp", "sve", "i8mm")


def _read_cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def parse_cpuinfo(text: str) -> tuple[str, int, set[str]]:
    """(model name, physical core count or 0, flags) from /proc/cpuinfo text."""
    model, flags, cores = "", set(), set()
    phys = core = None
    for line in [*text.splitlines(), ""]:
        key, _, value = (p.strip() for p in line.partition(":"))
        if key == "model name" and not model:
            model = value
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
        elif key == "physical id":
            phys = value
        elif key == "core id":
            core = value
        elif not key:                       # a blank line ends one processor's block
            if core is not None:
                cores.add((phys, core))
            phys = core = None
    return model, len(cores), flags


def simd_of(flags: set[str]) -> tuple[str, int]:
    """The SIMD level and the NCHWc block (floats) onnxruntime would use with it."""
    if "avx512f" in flags:
        return "avx512", 16
    if "avx2" in flags and "fma" in flags:
        return "avx2", 8
    if "sse4_1" in flags or "sse2" in flags:
        return "sse", 4
    return "other", 1


def cpu_info() -> CpuInfo:
    model, cores, flags = parse_cpuinfo(_read_cpuinfo())
    logical = os.cpu_count() or 1
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = logical
    simd, block = simd_of(flags)
    return CpuInfo(model=model or platform.processor() or platform.machine() or "unknown",
                   logical_cpus=logical, physical_cores=min(cores or logical, usable),
                   usable_cpus=usable, simd=simd, nchwc_block=block,
                   isa=tuple(f for f in ISA_FLAGS if f in flags))


def default_threads() -> int:
    """Physical cores this process may run on."""
    return max(1, cpu_info().physical_cores)


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def load_average() -> float | None:
    """The 1-minute load average, or None where the system does not tell."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def is_busy(load: float | None, cpus: int | None = None) -> bool:
    """Whether a load average says other work shares the cores."""
    cpus = cpus or cpu_info().usable_cpus
    return load is not None and load > BUSY_LOAD * cpus


# ---------------------------------------------------------------------------
# The ceiling


@dataclass(frozen=True)
class Ceiling:
    peak_gmacs_per_s: float
    bandwidth_gb_per_s: float
    threads: int
    cpu_model: str
    onnxruntime_version: str
    gemm_method: str
    copy_method: str
    measured_at: str           # UTC, ISO 8601
    cached: bool = False       # read from the cache rather than measured now
    load_average: float | None = None     # 1-minute load average when it was measured
    # One roof per cache level, smallest first, DRAM's last (``bandwidth_gb_per_s``);
    # empty: DRAM is the only roof (cache sizes unknown).
    memory_roofs: tuple[MemoryRoof, ...] = ()
    cache_method: str = ""

    def memory_roof(self, working_set: int | None = None) -> MemoryRoof:
        """The roof of the smallest level holding ``working_set`` bytes (None: DRAM's)."""
        return pick(self.memory_roofs, working_set) or \
            MemoryRoof(DRAM, self.bandwidth_gb_per_s, None, COPY_MIB * 2**21)

    def attainable(self, intensity: float, working_set: int | None = None) -> float:
        """Roofline GMAC/s at ``intensity`` MACs per byte, for data of ``working_set``
        bytes (the level that holds it feeds it; None: from DRAM)."""
        bandwidth = self.memory_roof(working_set).bandwidth_gb_per_s
        return min(self.peak_gmacs_per_s, intensity * bandwidth)

    def bound(self, intensity: float, working_set: int | None = None) -> str:
        """The roof that limits a layer of this intensity: "memory" or "compute"."""
        bandwidth = self.memory_roof(working_set).bandwidth_gb_per_s
        return "memory" if intensity * bandwidth < self.peak_gmacs_per_s else "compute"

    @property
    def age_days(self) -> float | None:
        try:
            then = time.mktime(time.strptime(self.measured_at, "%Y-%m-%dT%H:%M:%SZ"))
        except (ValueError, OverflowError):
            return None
        return max(0.0, (time.mktime(time.gmtime()) - then) / 86400)

    @property
    def measured_busy(self) -> bool:
        return is_busy(self.load_average)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mnprof" / "machine.json"


def cache_key(cpu_model: str, threads: int, ort_version: str) -> str:
    return f"{cpu_model} | threads={threads} | onnxruntime={ort_version}"


def _load_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(path, what="machine cache", max_bytes=1 << 20))
    except (MnprofError, ValueError, RecursionError):
        return {}           # missing, unreadable or foreign: measured again
    if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA \
            or not isinstance(data.get("entries"), dict):
        return {}
    return data["entries"]


def _from_entry(entry: Any) -> Ceiling | None:
    try:
        roofs = tuple(MemoryRoof(**r) for r in entry.get("memory_roofs", ()))
        c = Ceiling(**{**entry, "cached": True, "memory_roofs": roofs})
    except (TypeError, AttributeError):
        return None         # an older or foreign entry: measured again
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
             for v in (c.peak_gmacs_per_s, c.bandwidth_gb_per_s))
    return c if ok else None


def machine_ceiling(threads: int, *, remeasure: bool = False, progress: Progress | None = None,
                    path: Path | None = None) -> Ceiling:
    """This machine's ceiling at ``threads``: from the cache, or measured (and cached)."""
    import onnxruntime as ort

    path = path or cache_path()
    model = cpu_info().model
    key = cache_key(model, threads, ort.__version__)
    entries = _load_cache(path)
    if not remeasure and key in entries:
        cached = _from_entry(entries[key])
        if cached is not None:
            return cached
    ceiling = measure_ceiling(threads, progress=progress)
    entries[key] = {k: v for k, v in ceiling.to_dict().items() if k != "cached"}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps({"schema": CACHE_SCHEMA, "entries": entries},
                                      indent=2).encode())
    except (OSError, MnprofError):
        pass        # an unwritable cache only costs a re-measurement next time
    return ceiling


def measure_ceiling(threads: int, *, progress: Progress | None = None) -> Ceiling:
    import onnxruntime as ort

    load = load_average()
    if progress:
        progress("machine ceiling: GEMM", 0, 3)
    peak, size, gemm_runs = max(_gemm_peak(n, threads) for n in GEMM_SIZES)
    if progress:
        progress("machine ceiling: memory copy", 1, 3)
    bandwidth = _copy_bandwidth(threads)
    if progress:
        progress("machine ceiling: cache bandwidths", 2, 3)
    levels = cache_levels()
    roofs = measure_cache_roofs(threads, levels, bandwidth, 2 * COPY_MIB * 2**20)
    if progress:
        progress("machine ceiling", 3, 3)
    return Ceiling(
        peak_gmacs_per_s=peak, bandwidth_gb_per_s=bandwidth, threads=threads,
        cpu_model=cpu_info().model, onnxruntime_version=ort.__version__,
        gemm_method=f"onnxruntime fp32 MatMul, square {' and '.join(map(str, GEMM_SIZES))}, "
                    f"{threads} intra-op thread(s); best: {size}, fastest of {gemm_runs} runs",
        copy_method=f"numpy copy of {COPY_MIB} MiB fp32 split over {threads} thread(s), "
                    f"bytes read + written, best of {_COPY_REPEATS} runs",
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), load_average=load,
        memory_roofs=roofs, cache_method=_cache_method(levels, threads))


def _cache_method(levels: Any, threads: int) -> str:
    if not levels:
        return ("cache sizes unknown (no /sys/devices/system/cpu/cpu0/cache): DRAM is the "
                "only memory roof")
    sizes = ", ".join(f"{lv.name} {lv.size_bytes // 1024} KiB"
                      + (f" shared by {lv.shared_by} CPUs" if lv.shared_by > 1 else "")
                      for lv in levels)
    return (f"{sizes} (sysfs); per level, numpy add.reduce streaming a working set sized "
            f"to it, {threads} thread(s), bytes read + written, best of several runs; a "
            "level measured slower than the one behind it gets that one's bandwidth")


def _gemm_peak(n: int, threads: int) -> tuple[float, int, int]:
    """GMAC/s of the fastest n x n x n MatMul run, n, and the number of runs."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    b = numpy_helper.from_array(rng.standard_normal((n, n), dtype=np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["C"], name="gemm")], "ceiling",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("C", TensorProto.FLOAT, [n, n])], [b])
    opset = helper.make_opsetid("", 13)
    model = helper.make_model(graph, opset_imports=[opset],
                              ir_version=helper.find_min_ir_version_for([opset]))
    session = create_session(model.SerializeToString(), session_options(threads, OptLevel.ALL),
                             what="the GEMM micro-benchmark")
    feed = {"A": rng.standard_normal((n, n), dtype=np.float32)}
    try:
        timing = time_runs(session, feed, warmup=3, runs=5, min_time=_GEMM_SECONDS)
    finally:
        del session
        gc.collect()
    if timing.interrupted:
        raise KeyboardInterrupt
    best = min(timing.samples_ms) / 1000.0
    return n ** 3 / best / 1e9, n, len(timing.samples_ms)


def _copy_bandwidth(threads: int) -> float:
    import numpy as np

    n = COPY_MIB * 2**20 // 4
    src = np.ones(n, dtype=np.float32)
    dst = np.zeros(n, dtype=np.float32)          # touched: no page faults while timing
    step = -(-n // threads)
    spans = [(i, min(i + step, n)) for i in range(0, n, step)]

    def copy(lo: int, hi: int) -> None:
        np.copyto(dst[lo:hi], src[lo:hi])       # numpy releases the GIL for the copy

    best = float("inf")
    for _ in range(_COPY_REPEATS):
        workers = [threading.Thread(target=copy, args=span) for span in spans]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - t0)
    return 2 * n * 4 / best / 1e9
