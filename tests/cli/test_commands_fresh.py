"""Every command of the README and docs/ci.md, each in a fresh ``python -m mnprof``
process in an empty folder, as a new user would type it (issue 9, section 1).

The latency gate never ran for users (`'function' object has no attribute
'measure_latency'`) while the tests passed, because they imported the bench package
before the check did. A fresh process per command has nothing imported for it.
The files the documents use are made from the documents themselves: the README's
spec example becomes my_net.yaml, docs/ci.md's budgets are written as shown. Bench
and latency commands keep their options but time a tiny model briefly; a default
`mnprof bench` (50 runs, 2 s at 224) would take the test's whole budget.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..fresh import QUICK, env_for, mnprof
from ..paths import ROOT

README = (ROOT / "README.md").read_text()
CI_DOC = (ROOT / "docs" / "ci.md").read_text()


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


@pytest.fixture(scope="module")
def cwd(tmp_path_factory) -> Path:
    """An empty folder holding what the documents tell the user to create."""
    d = tmp_path_factory.mktemp("user")
    spec = next(b for b in _yaml_blocks(README) if "blocks:" in b and "layers:" in b)
    (d / "my_net.yaml").write_text(spec)
    shutil.copy(ROOT / "mnprof-budget.yaml", d / "mnprof-budget.yaml")
    return d


def _ok(result: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert result.returncode == code, (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    return result.stdout


# (arguments, exit status, what stdout must hold): the README's commands in its order.
README_COMMANDS = [
    (["cost", "--alpha", "0.5", "--res", "160"], 0, ["mobilenet_v1", "alpha 0.5", "Per layer"]),
    (["cost", "--alpha", "0.5", "--res", "160", "--no-layers"], 0, ["Totals"]),
    (["cost"], 0, ["alpha 1", "224"]),
    (["cost", "my_net.yaml", "--format", "json"], 0, ['"schema": "mnprof.cost/1"']),
    (["cost", "mobilenet_v1_shallow"], 0, ["mobilenet_v1_shallow"]),
    (["specs"], 0, ["mobilenet_v2", "mobilenet_v3_large"]),
    (["sweep", "--alpha", "1,0.75,0.5,0.25", "--res", "224,192,160,128"], 0, ["0.75", "192"]),
    (["schema"], 0, ['"$schema"']),
    (["check", "mobilenet_v1", "--alpha", "0.5", "--res", "160", "--max-macs", "80M",
      "--max-params", "1.4M"], 0, ["PASSED: all 2 limits hold"]),
    (["check"], 0, ["PASSED"]),
    (["check", "mobilenet_v1", "--alpha", "0.5", "--res", "160", "--max-macs", "76M"], 1,
     ["FAILED: 1 of 1 limit exceeded"]),
    (["--version"], 0, ["mnprof"]),
    (["--help"], 0, ["Exit status"]),
]


@pytest.mark.parametrize("args, code, words", README_COMMANDS,
                         ids=[" ".join(a)[:40] for a, _, _ in README_COMMANDS])
def test_readme_command(cwd, args, code, words):
    out = _ok(mnprof(*args, cwd=cwd), code)
    for w in words:
        assert w in out, (w, out[-2000:])


def test_the_readme_shows_the_commands_tested_here():
    for args, _, _ in README_COMMANDS[:10]:
        shown = "mnprof " + " ".join(args)
        assert shown.strip() in README or args == ["cost", "--alpha", "0.5", "--res", "160",
                                                   "--no-layers"], shown


def test_readme_export_and_bench(cwd):
    """export as the README writes it (every option), the file it writes timed by
    `bench model.onnx`, a spec timed per layer, and `sweep --bench`."""
    out = cwd / "v2.onnx"
    result = mnprof("export", "mobilenet_v2", "--alpha", "0.5", "--res", "32", "-o", "v2.onnx",
                    "--opset", "17", "--batch", "2", "--seed", "0", "--fold-bn", cwd=cwd)
    _ok(result)
    assert result.stderr.startswith("wrote v2.onnx: mobilenet_v2 alpha 0.5 resolution 32")
    assert out.stat().st_size > 0
    _ok(mnprof("export", "mobilenet_v2", "-a", "0.5", "-r", "32", "-o", "dyn.onnx",
               "--dynamic-batch", cwd=cwd))
    report = json.loads(_ok(mnprof("bench", "v2.onnx", *QUICK, "-f", "json", cwd=cwd)))
    assert report["source"] == "onnx" and report["environment"]["batch"] == 2
    text = _ok(mnprof("bench", "mobilenet_v3_large", "--alpha", "0.75", "--res", "32",
                      "--per-layer", "--threads", "1", *QUICK, cwd=cwd))
    for w in ("Latency", "Per layer type", "Per layer (measured vs theory)", "Machine ceiling",
              "Environment"):
        assert w in text
    text = _ok(mnprof("sweep", "--alpha", "1,0.5", "--res", "32", "--bench", *QUICK, cwd=cwd))
    assert "median ms" in text and text.count(" 32 ") >= 2


def test_latency_gate_in_a_fresh_process(cwd):
    """The gate that never ran: both forms, pass (exit 0) and fail (exit 1)."""
    base = ["check", "mobilenet_v1", "-a", "0.25", "-r", "32", *QUICK]
    assert "PASSED" in _ok(mnprof(*base, "--max-latency-ms", "10000", cwd=cwd))
    assert "FAILED" in _ok(mnprof(*base, "--max-latency-ms", "0.0001", "--tolerance", "0%",
                                  cwd=cwd), 1)
    (cwd / "latency.yaml").write_text(
        "models:\n  - spec: mobilenet_v1\n    alpha: 0.25\n    resolution: 32\n    limits:\n"
        "      latency_median_ms: {max: 10000, threads: 1, runs: 3, warmup: 1, min_time: 0}\n"
        "      latency_p90_ms: {max: 0.0001, tolerance: 0%, runs: 3, warmup: 1, min_time: 0}\n")
    result = mnprof("check", "latency.yaml", "-f", "json", cwd=cwd)
    data = json.loads(_ok(result, 1))
    assert [r["passed"] for r in data["results"]] == [True, False]
    assert data["results"][0]["measurement"]["runs"] >= 3


def test_ci_doc_budgets(cwd):
    """Every budget docs/ci.md shows, written as shown (latency limits timed briefly),
    with the baseline it tells the user to save."""
    baseline = re.search(r"```sh\n(mnprof cost [^\n]*--output baseline.json)\n```", CI_DOC)
    assert baseline, "docs/ci.md no longer shows how to save a baseline"
    _ok(mnprof(*baseline.group(1).split()[1:], cwd=cwd))
    budgets = [b for b in _yaml_blocks(CI_DOC) if b.lstrip().startswith(("description",
                                                                          "models"))]
    assert len(budgets) >= 3, budgets
    for i, text in enumerate(budgets):
        text = re.sub(r"runs: \d+, warmup: \d+, min_time: \d+", "runs: 3, warmup: 1, "
                      "min_time: 0", text)
        # every other latency limit timed briefly too
        text = re.sub(r"(latency_\w+_ms: \{(?:(?!runs)[^}])*)\}",
                      r"\1, runs: 3, warmup: 1, min_time: 0}", text)
        for onnx_path in re.findall(r"model: (\S+\.onnx)", text):    # an exported model
            (cwd / onnx_path).parent.mkdir(parents=True, exist_ok=True)
            _ok(mnprof("export", "mobilenet_v2", "-o", onnx_path, "--dynamic-batch", cwd=cwd))
        (cwd / f"ci{i}.yaml").write_text(text)
        result = mnprof("check", f"ci{i}.yaml", cwd=cwd)
        assert result.returncode in (0, 1), result.stderr      # a verdict, whatever it is
        assert "Traceback" not in result.stderr


def test_ci_doc_one_off_forms_and_the_workflow_command(cwd):
    _ok(mnprof("cost", "my_net.yaml", "--format", "json", "--output", "my_baseline.json",
               cwd=cwd))
    out = _ok(mnprof("check", "my_net.yaml", "--max-peak-bytes", "2MiB", "--max-latency-ms",
                     "10000", "--threads", "2", *QUICK, "-r", "32", cwd=cwd))
    assert "peak_activation_bytes" in out and "latency_median_ms" in out
    out = _ok(mnprof("check", "my_net.yaml", "--baseline", "my_baseline.json",
                     "--max-increase", "macs=1%", cwd=cwd))
    assert "PASSED" in out
    workflow = re.search(r"run: >\n\s+(mnprof check [^>]+?)\s*>>", CI_DOC)
    assert workflow, "docs/ci.md's workflow command moved"
    args = workflow.group(1).split()[1:]
    md = _ok(mnprof(*args, cwd=cwd))
    assert md.startswith("### ") and "| macs |" in md
    assert (cwd / "mnprof-check.xml").read_text().startswith("<?xml")


def test_readme_library_example(cwd):
    block = re.search(r"```python\n(import mnprof\n.*?)```", README, flags=re.S)
    assert block, "the README's library example moved"
    code = block.group(1) + "print(report.totals.macs, len(grid.rows))\n"
    if "model.onnx" in code:            # the example's ONNX file: one of mnprof's exports
        _ok(mnprof("export", "mobilenet_v1", "--alpha", "0.25", "--res", "64", "-o",
                   "model.onnx", "--dynamic-batch", cwd=cwd))
    env = env_for(cwd)
    if "predict_latency" in code:       # a tiny fake device profile stands in for calibrate
        from mnprof.predict.device import this_device

        from ..predict.fake import fake_profile, install
        install(fake_profile(this_device(1)), Path(env["XDG_CACHE_HOME"]))
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                         text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    macs, n = out.stdout.split("\n")[-2].split()       # the last line: what was added here
    assert int(macs) > 0 and n == "4"


def test_a_traceback_only_on_request(cwd):
    """An unexpected error (a bug: here one planted in the cost engine) is one line and
    exit 2; --debug or MNPROF_DEBUG=1 add the traceback before that line."""
    code = ("import sys, mnprof.api\n"
            "def bug(*a, **k): raise ZeroDivisionError('planted')\n"
            "mnprof.api.cost = bug\n"
            "from mnprof.cli import main\n"
            "main(sys.argv[1:], prog_name='mnprof')\n")
    line = ("mnprof: error: unexpected ZeroDivisionError: planted (a bug in mnprof; "
            "MNPROF_DEBUG=1 shows the traceback)")
    for args, env, traceback in ((["cost"], {}, False), (["--debug", "cost"], {}, True),
                                 (["cost"], {"MNPROF_DEBUG": "1"}, True)):
        result = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, text=True,
                                capture_output=True, timeout=60, env=env_for(cwd, **env))
        assert result.returncode == 2
        lines = result.stderr.splitlines()
        assert lines[-1] == line
        assert (lines[0] == "Traceback (most recent call last):") == traceback, lines
        assert (len(lines) == 1) == (not traceback)
