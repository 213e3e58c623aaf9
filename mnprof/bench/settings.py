"""How a measurement is taken: the defaults and the bounds, shared by bench and check.

Free of heavy imports, so that reading a budget (which needs only these numbers)
never loads onnxruntime. Past a bound a setting is refused with a one-line error
naming it: ten thousand threads or a billion runs would only ever be a mistake.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from ..core.errors import MnprofError
from ..core.values import check_int

DEFAULT_RUNS = 50           # timed runs, at least ...
DEFAULT_WARMUP = 10         # ... after this many untimed ones ...
DEFAULT_MIN_TIME = 2.0      # ... and for at least this many seconds
DEFAULT_PROFILE_RUNS = 20   # runs of the separate profiled session

MAX_RUNS = 100_000
MAX_WARMUP = 10_000
MAX_MIN_TIME = 3600.0       # seconds
MAX_PROFILE_RUNS = 1_000
MAX_BATCH = 4096


def max_threads() -> int:
    """Four threads per logical CPU: enough to study oversubscription, no more."""
    return 4 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class Timing:
    """How long to time: at least ``runs`` runs and ``min_time`` seconds, after ``warmup``."""

    runs: int = DEFAULT_RUNS
    warmup: int = DEFAULT_WARMUP
    min_time: float = DEFAULT_MIN_TIME

    def __post_init__(self) -> None:
        check_int("runs", self.runs, 1, MAX_RUNS)
        check_int("warmup", self.warmup, 0, MAX_WARMUP)
        check_seconds("min-time", self.min_time)


def check_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value <= MAX_MIN_TIME:
        raise MnprofError(f"{name} must be a number of seconds from 0 to {MAX_MIN_TIME:g}, "
                          f"got {value!r:.40}")
    return float(value)


def check_settings(*, threads: int, runs: int, warmup: int, min_time: float, batch: int,
                   profile_runs: int = 1) -> None:
    """Every bench setting within its bound; a one-line error naming the first that is not."""
    check_int("threads", threads, 1, max_threads())
    Timing(runs, warmup, min_time)
    check_int("batch", batch, 1, MAX_BATCH)
    check_int("profile runs", profile_runs, 1, MAX_PROFILE_RUNS)
