"""Budgets and one-off checks of ONNX models (``model: net.onnx``, ``mnprof check net.onnx``).

Expected MACs are worked out from the shapes of the hand-built files.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from mnprof.gate.schema import budget_schema_text

from ..cli.test_onnx import LEGACY_MACS, symbolic
from ..onnxio.foreign import legacy_style


def test_check_one_off(run, tmp_path):
    path = str(legacy_style(tmp_path))
    assert run("check", path, "--max-macs", str(LEGACY_MACS)).exit_code == 0
    over = run("check", path, "--max-macs", str(LEGACY_MACS - 1), "--format", "json")
    assert over.exit_code == 1
    assert json.loads(over.stdout)["results"][0]["actual"] == LEGACY_MACS
    assert run("check", path, "--max-macs", "1M", "--alpha", "0.5").exit_code == 2


def test_budget_with_an_onnx_model(run, tmp_path):
    import jsonschema
    import yaml

    legacy_style(tmp_path)
    sym = symbolic(tmp_path)
    text = textwrap.dedent(f"""\
        models:
          - model: legacy.onnx            # relative to this file
            limits: {{macs: {LEGACY_MACS}, params: 896}}
          - name: sym-10
            model: {sym}
            dims: {{n: 1}}
            resolution: 10
            limits: {{macs: {10 * 10 * 4 * 27}}}
        """)
    budget = tmp_path / "budget.yaml"
    budget.write_text(text)
    jsonschema.validate(yaml.safe_load(text), json.loads(budget_schema_text()))
    result = run("check", str(budget), "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    labels = {r["model"] for r in json.loads(result.stdout)["results"]}
    assert labels == {"legacy-16", "sym-10"}
    for bad, why in (("  - {spec: legacy.onnx, limits: {macs: 1}}", "write it as `model:"),
                     ("  - {model: legacy.onnx, alpha: 0.5, limits: {macs: 1}}",
                      "alpha: applies to specs"),
                     ("  - {model: legacy.yaml, limits: {macs: 1}}", "ending in .onnx"),
                     ("  - {spec: mobilenet_v1, model: legacy.onnx, limits: {macs: 1}}",
                      "not both"),
                     ("  - {model: legacy.onnx, dims: {batch: 0}, limits: {macs: 1}}",
                      "integers >= 1")):
        budget.write_text("models:\n" + bad + "\n")
        result = run("check", str(budget))
        assert result.exit_code == 2 and why in result.stderr, (bad, result.stderr)


@pytest.mark.parametrize("doc", [
    {"models": [{"model": "a.onnx", "alpha": 0.5, "limits": {"macs": 1}}]},
    {"models": [{"model": "a.yaml", "limits": {"macs": 1}}]},
    {"models": [{"spec": "x", "model": "a.onnx", "limits": {"macs": 1}}]},
])
def test_budget_schema_rejects_bad_onnx_entries(doc):
    import jsonschema
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json.loads(budget_schema_text()))
