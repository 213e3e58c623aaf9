"""The bounds the README states are the code's (issue 9 asked for them to be stated)."""

from __future__ import annotations

import re

from mnprof.bench import settings
from mnprof.core import files, values, yamlsrc
from mnprof.gate import amounts, baseline
from mnprof.onnxio import load
from mnprof.spec import expr

from ..paths import ROOT


def _bounds_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text().split("**Bounds.**", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[1:3] for line in text.splitlines() if line.startswith("| ")]
    return {what.strip(): limit.strip() for what, limit in rows[1:]}


def test_the_readme_states_every_bound_as_the_code_has_it():
    t = _bounds_table()
    assert t["width multiplier alpha, depth multiplier"].startswith(
        f"{values.MAX_ALPHA:g} ") and values.MAX_DEPTH == values.MAX_ALPHA
    assert t["input resolution"] == str(values.MAX_RESOLUTION)
    assert t["channels (or features) of one layer"] == f"{values.MAX_CHANNELS:,} (2^20)"
    assert values.MAX_CHANNELS == 2**20 and values.MAX_CLASSES == 2**24
    assert t["kernel, stride, dilation, padding"] == str(values.MAX_KERNEL)
    assert t["classes"] == f"{values.MAX_CLASSES:,} (2^24)"
    assert t["`repeat` of one entry"] == f"{values.MAX_REPEAT:,}"
    assert t["layers of a built graph (repeats and blocks expanded)"] == f"{values.MAX_LAYERS:,}"
    assert t["block definitions in a spec; blocks nested in blocks"] == \
        f"{values.MAX_BLOCKS:,}; {values.MAX_NESTING} deep"
    assert t["any integer in a spec, an expression or a budget"] == \
        f"2^62 ({values.MAX_INT:,})" and values.MAX_INT == 2**62
    assert t["an expression's length"] == f"{expr.MAX_LENGTH} characters"
    assert t["YAML nesting; values after expanding aliases"] == \
        f"{values.MAX_YAML_DEPTH} levels; {yamlsrc.MAX_NODES:,}"
    assert t["a spec or budget file; a saved report (baseline)"] == \
        f"{files.MAX_TEXT_BYTES >> 20} MiB; {baseline.MAX_REPORT_BYTES >> 20} MiB"
    assert t["an ONNX model; its external data"] == \
        f"{(load.MAX_MODEL_BYTES + 1) >> 30} GiB; {load.MAX_EXTERNAL_BYTES >> 30} GiB"
    assert t["bench `--runs`; `--warmup`; `--min-time`; `--batch`"] == (
        f"{settings.MAX_RUNS:,}; {settings.MAX_WARMUP:,}; {settings.MAX_MIN_TIME:g} s; "
        f"{settings.MAX_BATCH}")
    assert t["bench `--threads`"] == "4 x the logical CPUs"
    assert settings.max_threads() == 4 * (__import__("os").cpu_count() or 1)
    from mnprof.bench import measure, runner
    assert t["generated input data; a bench's estimated memory"].startswith(
        f"{runner.MAX_FEED_BYTES >> 30} GiB; {int(100 * measure.MEMORY_HEADROOM)}% of")
    assert t["a latency limit"] == f"{amounts.MAX_MS:,.0f} ms (and > 0)"
    assert t["points of one sweep (alphas x resolutions)"] == f"{values.MAX_SWEEP_POINTS:,}"
    assert len(t) == 18 and not re.search(r"\?\?", str(t))
