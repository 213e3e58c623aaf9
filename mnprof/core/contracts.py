"""Names of the versioned JSON documents mnprof writes (and reads back as baselines).

Add fields to a document freely; never rename or remove one without bumping its
version. They are named here, apart from the code that writes them, so that a
reader (``mnprof check`` reading a saved bench report) need not load the writer.
"""

COST_SCHEMA = "mnprof.cost/1"
SWEEP_SCHEMA = "mnprof.sweep/1"
SPECS_SCHEMA = "mnprof.specs/1"
BENCH_SCHEMA = "mnprof.bench/1"
CHECK_SCHEMA = "mnprof.check/1"
COMPARE_SCHEMA = "mnprof.compare/1"
PREDICT_SCHEMA = "mnprof.predict/1"
MACHINE_SCHEMA = "mnprof.machine/2"   # /2: per-cache-level roofs
PRECISION_SCHEMA = "mnprof.precision/1"
DEVICE_SCHEMA = "mnprof.device/1"
VALIDATION_SCHEMA = "mnprof.validation/1"
DRIFT_SCHEMA = "mnprof.drift/1"
