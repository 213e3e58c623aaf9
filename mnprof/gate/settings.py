"""What a budget's latency limits are measured or predicted with, and how those fields
parse: the bench settings (threads, runs, warm-up, minimum time, precision), the device
profile of a predicted latency, the tolerance. ``mnprof.gate.budget`` reads the rest."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..bench.settings import (  # the bench's own defaults and bounds, without the bench
    DEFAULT_MIN_TIME,
    DEFAULT_RUNS,
    DEFAULT_WARMUP,
    MAX_MIN_TIME,
    MAX_RUNS,
    MAX_WARMUP,
    max_threads,
)
from ..core.errors import MnprofError, SpecError, Where, did_you_mean
from ..core.values import check_int
from ..core.yamlsrc import LMap, line_of
from .amounts import Unit, parse_percent, parse_seconds
from .metrics import Metric

COMMAND_LINE = "<command line>"

# What a latency limit measures with unless it says otherwise.
DEFAULT_THREADS = 1
DEFAULT_TOLERANCE = Fraction(5, 100)


RULES = ("max", "max_increase")
BENCH_FIELDS = ("threads", "runs", "warmup", "min_time", "precision")
PRECISIONS = ("fp32", "int8")
LATENCY_FIELDS = (*RULES, "tolerance", *BENCH_FIELDS)
PREDICTED_FIELDS = (*RULES, "tolerance", "threads", "device")


@dataclass(frozen=True)
class BenchSettings:
    """How a latency is measured; limits with equal settings share one measurement."""

    threads: int = DEFAULT_THREADS
    runs: int = DEFAULT_RUNS
    warmup: int = DEFAULT_WARMUP
    min_time: float = DEFAULT_MIN_TIME
    precision: str = "fp32"         # int8: the model quantized by onnxruntime (its defaults)


@dataclass(frozen=True)
class PredictSettings:
    """Which device profile a predicted latency comes from: this machine's at
    ``threads``, or the profile file ``device`` (of any CPU)."""

    threads: int = DEFAULT_THREADS
    device: str | None = None



def _precision(value: Any) -> str:
    if value not in PRECISIONS:
        raise ValueError(f"must be one of {', '.join(PRECISIONS)}, got {value!r:.40}")
    return str(value)


def _device(budget_file: str) -> Any:
    """A device profile path, relative to the budget file's directory."""
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must be a path to a device profile (mnprof calibrate --export "
                             f"FILE), got {value!r}")
        if budget_file == COMMAND_LINE:
            return value.strip()
        return str(Path(budget_file).parent / value.strip())
    return parse


def known_fields(m: Metric, value: LMap, where: Where, line: int | None, field: str) -> None:
    allowed = PREDICTED_FIELDS if m.predicted else LATENCY_FIELDS if m.unit is Unit.MS \
        else RULES
    for key in value:
        if key not in allowed:
            why = " (a predicted latency runs nothing: runs, warmup, min_time and precision " \
                "are for measured ones)" if m.predicted and key in LATENCY_FIELDS else \
                " (device is for predicted_latency_ms)" if key == "device" else \
                " (tolerance and bench settings are for latency limits; counts are exact)" \
                if key in LATENCY_FIELDS else did_you_mean(key, allowed)
            raise SpecError(f"unknown field{why}; fields: {', '.join(allowed)}", file=where.file,
                            line=line_of(value, key, line), field=f"{field}.{key}")


def latency_settings(m: Metric, parsed: Any, file: str) -> tuple[
        Fraction | None, BenchSettings | None, PredictSettings | None]:
    """A limit's tolerance and how its latency is measured or predicted (counts: none)."""
    def percent(v: Any) -> Fraction:
        return parse_percent(v, maximum=1000) / 100

    def threads(v: Any) -> int:
        return parse_int(v, 1, max_threads())

    if m.predicted:
        return parsed("tolerance", percent, None), None, PredictSettings(
            threads=parsed("threads", threads, DEFAULT_THREADS),
            device=parsed("device", _device(file), None))
    if m.unit is not Unit.MS:
        return None, None, None
    return parsed("tolerance", percent, DEFAULT_TOLERANCE), BenchSettings(
        threads=parsed("threads", threads, DEFAULT_THREADS),
        runs=parsed("runs", lambda v: parse_int(v, 1, MAX_RUNS), DEFAULT_RUNS),
        warmup=parsed("warmup", lambda v: parse_int(v, 0, MAX_WARMUP), DEFAULT_WARMUP),
        min_time=parsed("min_time", lambda v: parse_seconds(v, MAX_MIN_TIME),
                        DEFAULT_MIN_TIME),
        precision=parsed("precision", _precision, "fp32")), None


def parse_int(value: Any, low: int, high: int) -> int:
    try:
        return check_int("x", value, low, high)
    except MnprofError as exc:
        raise ValueError(str(exc).removeprefix("x ")) from None
