"""Timing defaults shared by ``mnprof bench`` and latency limits in ``mnprof check``.

Kept apart from ``mnprof.bench`` (and free of imports) so that reading a budget,
which needs only these numbers, never loads the bench.
"""

DEFAULT_RUNS = 50           # timed runs, at least ...
DEFAULT_WARMUP = 10         # ... after this many untimed ones ...
DEFAULT_MIN_TIME = 2.0      # ... and for at least this many seconds
