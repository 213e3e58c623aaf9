"""The layout holds: stages import one way, nothing imports in a cycle, files stay small.

Every module's imports are read with ``ast`` (at any depth: type-only imports under
``TYPE_CHECKING`` and imports inside functions count too), resolved to mnprof's
modules, and checked against the stage order of docs/architecture.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

import mnprof

PACKAGE = Path(mnprof.__file__).resolve().parent
# docs/architecture.md's order; a module may import its own stage and earlier ones.
STAGES = ["core", "model", "spec", "analysis", "onnxio", "bench", "predict", "gate", "viz",
          "api", "cli"]
TOP_LEVEL = {"api": "api", "budgets": "api", "output": "api", "__init__": "api", "__main__": "cli"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = modules()


def stage_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    if parts[1] in TOP_LEVEL:
        return TOP_LEVEL[parts[1]]
    return parts[1]


def imports_of(module: str, path: Path, known: Iterable[str] = MODULES) -> set[str]:
    """mnprof modules ``module`` imports, resolved (a package's submodule when named)."""
    known = set(known)
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "mnprof"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "mnprof":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return out - {module}


GRAPH = {m: imports_of(m, p) for m, p in MODULES.items()}


def test_stages_are_the_documented_ones():
    found = {stage_of(m) for m in MODULES}
    assert found <= set(STAGES), found - set(STAGES)
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    for stage in STAGES[:-2]:
        assert f"`{stage}/`" in doc, stage


def test_every_import_goes_to_the_same_or_an_earlier_stage():
    bad = []
    for module, targets in GRAPH.items():
        rank = STAGES.index(stage_of(module))
        for target in targets:
            if target == "mnprof" and module != "mnprof.__main__":
                bad.append(f"{module} imports the package root (import the module instead)")
            elif STAGES.index(stage_of(target)) > rank:
                bad.append(f"{module} ({stage_of(module)}) imports {target} "
                           f"({stage_of(target)})")
    assert not bad, "\n".join(bad)


def find_cycles(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycles.append(" -> ".join([*path[path.index(t):], t]))
            elif t not in state and t in graph:
                visit(t, [*path, t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    return cycles


def test_no_import_cycles():
    cycles = find_cycles(GRAPH)
    assert not cycles, "\n".join(cycles)


def test_the_checker_finds_a_cycle_and_a_backward_import(tmp_path):
    """The checks above can fail: made-up modules with a backward import and a
    type-only cycle trip them."""
    known = {*MODULES, "mnprof.core.a", "mnprof.core.b"}
    a = tmp_path / "a.py"
    a.write_text("from ..cli import main\nfrom . import b\n")
    b = tmp_path / "b.py"
    b.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from .a import x\n")
    graph = {"mnprof.core.a": imports_of("mnprof.core.a", a, known),
             "mnprof.core.b": imports_of("mnprof.core.b", b, known)}
    assert graph == {"mnprof.core.a": {"mnprof.cli", "mnprof.core.b"},
                     "mnprof.core.b": {"mnprof.core.a"}}
    assert STAGES.index(stage_of("mnprof.cli")) > STAGES.index(stage_of("mnprof.core.a"))
    assert find_cycles(graph) == ["mnprof.core.a -> mnprof.core.b -> mnprof.core.a"]


def test_no_public_name_of_the_package_is_a_subpackage():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    clash = subpackages & set(mnprof.__all__)
    assert not clash, clash


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_stay_small(module):
    path = MODULES[module]
    lines = path.read_text().count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module}: {lines} lines"
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{module}: {', '.join(long)}"
