"""The one progress callback type: ``progress(label, done, total)``.

Long operations (the bench, the gate's latency limits, calibration) call it; the
CLI draws it on stderr. ``total`` 0 means the amount of work is not known.
"""

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
