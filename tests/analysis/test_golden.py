"""The JSON contracts hold: what the first released layout wrote, mnprof still writes.

``tests/golden/`` holds the cost, sweep, specs and check JSON documents that mnprof
0.1.0 (before the package was split into stages) wrote for every built-in of the
time. They are a contract with the scripts users wrote against them: every field
they have must still be there with the same value. New fields may be added (the
documents are versioned: adding is allowed, renaming or removing is not). Do not
regenerate these files from the current code; that would test nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..paths import ROOT, TESTS

GOLDEN = TESTS / "golden"


def contains(old: Any, new: Any, where: str = "") -> list[str]:
    """Where ``new`` lacks or changes something ``old`` has (dicts may gain keys)."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{where}: was an object"]
        out = []
        for k, v in old.items():
            if k == "mnprof_version":
                continue
            here = f"{where}.{k}"
            out += [f"{here}: missing"] if k not in new else contains(v, new[k], here)
        return out
    if isinstance(old, list):
        if not isinstance(new, list) or len(new) != len(old):
            got = len(new) if isinstance(new, list) else "-"
            return [f"{where}: list length {len(old)} -> {got}"]
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True))
                for d in contains(a, b, f"{where}[{i}]")]
    return [] if old == new and type(old) is type(new) else [f"{where}: {old!r} -> {new!r}"]


def test_the_comparison_can_fail():
    assert contains({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2], "c": 3}) == []
    assert contains({"a": 1}, {"a": 1.0}) == [".a: 1 -> 1.0"]
    assert contains({"a": [1]}, {"a": [1, 2]}) == [".a: list length 1 -> 2"]
    assert contains({"a": {"b": 2}}, {"a": {}}) == [".a.b: missing"]


def cases() -> list[tuple[str, list[str]]]:
    out = []
    for path in sorted(GOLDEN.glob("*.json")):
        stem = path.stem
        if stem.startswith("cost_"):
            name, *variant = stem[len("cost_"):].split("_0.5_")
            args = ["cost", name] + (["--alpha", "0.5", "--res", "161"] if variant else [])
        elif stem.startswith("sweep_"):
            args = ["sweep", stem[len("sweep_"):], "--alpha", "1,0.75,0.35", "--res", "224,97"]
        elif stem == "specs":
            args = ["specs"]
        else:
            args = ["check", str(ROOT / "mnprof-budget.yaml")]
        out.append((path.name, args))
    return out


@pytest.mark.parametrize(("golden", "args"), cases(), ids=[c[0] for c in cases()])
def test_json_documents_keep_every_field(run, golden, args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    old = json.loads((GOLDEN / golden).read_text())
    new = json.loads(result.stdout)
    if golden == "specs.json":     # more built-ins now: the old ones keep their entries
        by_name = {s["name"]: s for s in new["specs"]}
        new = {**new, "specs": [by_name.get(s["name"]) for s in old["specs"]]}
    if golden == "check_budget.json":
        old["budget"] = new["budget"]        # the path as given on this machine
    diffs = contains(old, new)
    assert not diffs, "\n".join(diffs[:10])


def test_every_golden_file_is_used():
    assert len(cases()) == len(list(Path(GOLDEN).glob("*.json"))) >= 19
