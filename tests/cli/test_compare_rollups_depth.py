"""`mnprof compare`, roll-ups by block (`--by block`) and the depth multiplier.

Every expected figure is worked out here from MobileNetV1's Table 1 (papers.md):
a separable block with M inputs, N outputs and an H x W output costs
9*M*H*W (depthwise) + M*N*H*W (pointwise) MACs and 9*M + M*N weights.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mnprof

from ..paths import ROOT

# (M, N, output H) of the 13 separable blocks at alpha 1, 224 (Table 1's rows 2-27).
SEPARABLE = [(32, 64, 112), (64, 128, 56), (128, 128, 56), (128, 256, 28), (256, 256, 28),
             (256, 512, 14)] + [(512, 512, 14)] * 5 + [(512, 1024, 7), (1024, 1024, 7)]
CONV1 = 3 * 3 * 3 * 32 * 112 * 112
FC = 1024 * 1000


def separable_macs(m: int, n: int, h: int) -> int:
    return 9 * m * h * h + m * n * h * h


V1_MACS = CONV1 + sum(separable_macs(*row) for row in SEPARABLE) + FC


def test_v1_by_hand_is_the_papers_total():
    assert V1_MACS == 568_740_352      # and Table 1 printed 569M


def test_cost_by_block_rolls_up_each_separable_block():
    r = mnprof.cost("mobilenet_v1")
    blocks = dict(r.by_block)
    assert list(blocks)[:2] == ["conv1", "separable1"] and list(blocks)[-2:] == ["fc", "softmax"]
    assert blocks["conv1"].macs == CONV1 and blocks["fc"].macs == FC
    for i, row in enumerate(SEPARABLE, 1):
        assert blocks[f"separable{i}"].macs == separable_macs(*row), i
        assert blocks[f"separable{i}"].layers == 2
    assert sum(b.macs for b in blocks.values()) == V1_MACS


def test_cli_by_block_in_every_format(run):
    table = run("cost", "--by", "block")
    assert table.exit_code == 0 and "Per block" in table.stdout and "separable13" in table.stdout
    assert "separable13.dw" not in table.stdout               # blocks, not layers
    doc = json.loads(run("cost", "--format", "json").stdout)
    assert doc["by_block"]["separable7"]["macs"] == separable_macs(512, 512, 14)
    csv_rows = run("cost", "--by", "block", "--format", "csv").stdout.splitlines()
    assert csv_rows[0].startswith("index,name,layers,macs") and len(csv_rows) == 1 + 17
    assert run("cost", "--by", "type").exit_code == 2


def test_depth_scales_every_written_repeat():
    # Depth 2: the entry `repeat: 5` (rows 14-23) becomes 10 blocks; every other entry
    # has no `repeat:` and is built once.
    r = mnprof.cost("mobilenet_v1", depth=2)
    assert r.totals.macs == V1_MACS + 5 * separable_macs(512, 512, 14)
    assert mnprof.cost("mobilenet_v1", depth=1.2).totals.macs == \
        V1_MACS + 1 * separable_macs(512, 512, 14)            # ceil(5 * 1.2) = 6
    assert r.depth == 2.0


def test_classes_option_changes_only_the_classifier(run):
    doc = json.loads(run("cost", "--classes", "10", "--format", "json").stdout)
    assert doc["totals"]["macs"] == V1_MACS - FC + 1024 * 10
    assert run("cost", "--classes", "0").exit_code == 2


def test_compare_ratios_to_the_first_model():
    r = mnprof.compare(["mobilenet_v1", ("mobilenet_v1", {"alpha": 0.5, "resolution": 160})])
    first, second = r.rows
    # 0.5 MobileNet-160 by the same rule: channels halved, maps at 160/224 the size
    half = [(m // 2, n // 2, h * 160 // 224) for m, n, h in SEPARABLE]
    half_macs = (27 * 16 * 80 * 80 + sum(separable_macs(*x) for x in half) + 512 * 1000)
    assert (first.totals.macs, second.totals.macs) == (V1_MACS, half_macs)
    assert half_macs == 76_524_800                 # the project's budget says the same
    doc = mnprof.render(r, "json")
    rows = json.loads(doc)["rows"]
    assert rows[0]["macs_ratio"] == 1.0 and rows[1]["macs_ratio"] == half_macs / V1_MACS
    assert json.loads(doc)["schema"] == "mnprof.compare/1"


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_compare_cli_formats(run, fmt):
    result = run("compare", "mobilenet_v1", "mobilenet_v1:alpha=0.5,res=160", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    assert "mobilenet_v1:alpha=0.5,res=160" in result.stdout


@pytest.mark.parametrize("args", [["mobilenet_v1:alpha=0"], ["mobilenet_v1:res=1.5"],
                                  ["no_such_model"], []])
def test_compare_bad_input_is_one_line(run, args):
    result = run("compare", *args)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_compare_bench_in_a_fresh_process(tmp_path):
    out = tmp_path / "c.json"
    done = subprocess.run(
        [sys.executable, "-m", "mnprof", "compare", "mobilenet_v1:alpha=0.25,res=32",
         "mobilenet_v2:alpha=0.35,res=32", "--bench", "--runs", "3", "--min-time", "0",
         "--warmup", "1", "--threads", "1", "-f", "json", "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["rows"]
    assert all(r["latency_ms"]["runs"] == 3 and r["latency_ms"]["median"] > 0 for r in rows)
