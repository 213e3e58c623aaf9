"""MobileNetV2 and MobileNetV3 (Large, Small): exact counts from an independent calculator.

The calculator below re-derives every count in plain Python from the papers'
tables (papers.md) and the torchvision construction rules written in the specs'
header comments. It uses nothing of mnprof's: its own ``make_divisible``, its own
output-size rule (torchvision's: padding (k-1)/2, floor((h + 2p - k) / s) + 1),
and these per-layer formulas:

- KxK conv, M in, N out, output HxW: K*K*M*N*H*W MACs, K*K*M*N weights;
- depthwise KxK, M channels: K*K*M*H*W MACs, K*K*M weights;
- fully-connected M -> N: M*N MACs and weights;
- framework params add 2 per channel for each batch-norm and 1 per bias;
- elementwise ops: one per output element of each activation, residual add and
  SE channel multiply; a global average pool one per input element.
"""

from __future__ import annotations

import pytest

import mnprof
from mnprof.spec.builtins import builtin_names

from ..conftest import run_json
from ..oracles.classic import TABLE_ALPHAS
from ..oracles.efficientnet_mnasnet_mnv4 import EFFICIENTNET, MNV4
from ..oracles.efficientnet_mnasnet_mnv4 import calculate as family_calculate
from ..oracles.mobilenet import V2_ROWS, V3_ROWS, calculate, v3
from ..paths import ROOT

FAMILY_MODELS = (*EFFICIENTNET, "mnasnet1_0", *MNV4)

POINTS = [(model, alpha, res)
          for model, alphas in [("mobilenet_v2", (1.0, 0.75, 0.5, 1.4)),
                                ("mobilenet_v3_large", (1.0, 0.75, 0.5, 1.25)),
                                ("mobilenet_v3_small", (1.0, 0.75, 0.5, 1.25))]
          for alpha in alphas for res in (224, 193, 97)]


@pytest.mark.parametrize("model, alpha, res", POINTS)
def test_exact_counts_match_the_calculator(model, alpha, res):
    r = mnprof.cost(model, alpha, res)
    expected = calculate(model, alpha, res)
    assert (r.totals.macs, r.totals.params, r.totals.params_framework) == expected.totals()
    got = {k: [v.macs, v.params, v.params_framework, v.elementwise_ops]
           for k, v in r.by_type.items()}
    assert got == expected.by_type


def test_per_type_keys_at_alpha_1():
    v2_types = set(mnprof.cost("mobilenet_v2").by_type)
    assert v2_types == {"conv3x3", "conv1x1", "dw3x3", "add", "global_avgpool", "dropout",
                        "fc"}
    for model in ("mobilenet_v3_large", "mobilenet_v3_small"):
        assert set(mnprof.cost(model).by_type) == v2_types | {"dw5x5", "se"}, model


# torchvision's own parameter counts (sum of p.numel() over model.parameters(), which
# includes biases and batch-norm weight and bias), from torchvision's model documentation;
# V2 at width 1.4 from thop's count of torchvision's mobilenet_v2(width_mult=1.4)
# (Lyken17/pytorch-OpCounter issue 66).
@pytest.mark.parametrize("model, alpha, framework", [
    ("mobilenet_v2", 1.0, 3_504_872),
    ("mobilenet_v3_large", 1.0, 5_483_032),
    ("mobilenet_v3_small", 1.0, 2_542_856),
    ("mobilenet_v2", 1.4, 6_108_776),
])
def test_torchvision_parameter_counts(model, alpha, framework):
    assert mnprof.cost(model, alpha).totals.params_framework == framework
    assert calculate(model, alpha, 224).totals()[2] == framework


# Google's MobileNetV2 checkpoint table (tensorflow/models research/slim/nets/mobilenet
# README, also in keras' applications/mobilenet_v2.py): (alpha, res) -> (MACs in
# millions, params in millions). Its MACs are the exact count truncated to millions
# (rounding would differ in 8 of these 22 rows, e.g. 300.77M printed as 300); its
# params are rounded to 0.01M.
TF_V2_TABLE = {
    (1.4, 224): (582, 6.06), (1.3, 224): (509, 5.34), (1.0, 224): (300, 3.47),
    (1.0, 192): (221, 3.47), (1.0, 160): (154, 3.47), (1.0, 128): (99, 3.47),
    (1.0, 96): (56, 3.47), (0.75, 224): (209, 2.61), (0.75, 192): (153, 2.61),
    (0.75, 160): (107, 2.61), (0.75, 128): (69, 2.61), (0.75, 96): (39, 2.61),
    (0.5, 224): (97, 1.95), (0.5, 192): (71, 1.95), (0.5, 160): (50, 1.95),
    (0.5, 128): (32, 1.95), (0.5, 96): (18, 1.95), (0.35, 224): (59, 1.66),
    (0.35, 192): (43, 1.66), (0.35, 160): (30, 1.66), (0.35, 128): (20, 1.66),
    (0.35, 96): (11, 1.66),
}


@pytest.mark.parametrize("alpha, res", sorted(TF_V2_TABLE))
def test_v2_matches_googles_checkpoint_table(alpha, res):
    macs_m, params_m = TF_V2_TABLE[alpha, res]
    t = mnprof.cost("mobilenet_v2", alpha, res).totals
    assert t.macs // 10**6 == macs_m
    assert round(t.params / 10**4) == round(params_m * 100)


def test_paper_headlines():
    """The papers' rounded figures against the exact counts (computed above, not copied).

    The printed figures are the exact counts truncated to the printed digit, except
    V2 at 1.4 and V3-Large's MACs, which no count of these architectures gives.
    """
    def exact(model, alpha=1.0):
        t = mnprof.cost(model, alpha).totals
        assert (t.macs, t.params, t.params_framework) == calculate(model, alpha, 224).totals()
        return t

    # V2: "300M, 3.4M". Exact 300,774,272 MACs and 3,469,760 weights: truncated, 300M and
    # 3.4M; rounded they would be 301M and 3.5M (Google's table prints 3.47M).
    t = exact("mobilenet_v2")
    assert (t.macs, t.params) == (300_774_272, 3_469_760)
    assert (t.macs // 10**6, t.params // 10**5) == (300, 34)

    # V2 1.4: "585M, 6.9M". Exact 582,195,824 MACs and 6,059,840 weights (6,108,776 with
    # biases and batch-norm): neither figure is reachable. Google's own checkpoint
    # table prints 582M and 6.06M for this network, so the paper's pair is a misprint.
    t = exact("mobilenet_v2", 1.4)
    assert (t.macs, t.params) == (582_195_824, 6_059_840)
    assert t.macs // 10**6 == 582 and round(t.params / 10**4) == 606

    # V3-Large: "219M, 5.4M". Exact 216,589,760 MACs: 216.6M, 1.1% below the paper's 219M
    # (Google's released-checkpoint table prints 217M). Weights 5,451,272: 5.4M truncated.
    t = exact("mobilenet_v3_large")
    assert (t.macs, t.params) == (216_589_760, 5_451_272)
    assert t.macs < 219 * 10**6 and round(t.macs / 10**6) == 217
    assert t.params // 10**5 == 54

    # V3-Small: "56M, 2.5M". Exact 56,510,400 MACs (truncated 56M; rounded 57M) and
    # 2,525,832 weights (2.5M either way).
    t = exact("mobilenet_v3_small")
    assert (t.macs, t.params) == (56_510_400, 2_525_832)
    assert (t.macs // 10**6, t.params // 10**5) == (56, 25)


@pytest.mark.parametrize("model", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_v3_structure_follows_the_table(model):
    """Kernel, NL and SE columns, the omitted expansions and the linear projections."""
    g = mnprof.build(mnprof.load_spec(model))
    nodes = {n.name: n for n in g.nodes}
    rows = V3_ROWS[model]
    acts = {"RE": "relu", "HS": "hswish"}
    cin = 16
    for i, (k, exp, out, se, nl, s) in enumerate(rows, 1):
        dw = nodes[f"bneck{i}.dw"]
        assert (dw.attrs["kernel"][0], dw.attrs["stride"][0], dw.attrs["act"]) == (
            k, s, acts[nl]), i
        assert (f"bneck{i}.se.fc1" in nodes) == se, i
        assert nodes[f"bneck{i}.project"].attrs["act"] == "none", i
        assert (f"bneck{i}.expand" in nodes) == (exp != cin), i    # omitted when exp == in
        if exp != cin:
            assert nodes[f"bneck{i}.expand"].attrs["act"] == acts[nl], i
        cin = out
    assert "bneck1.expand" not in nodes              # exp 16 == in 16, in both models
    assert sum(1 for n in nodes if n.endswith(".se.fc2")) == sum(r[3] for r in rows)
    assert all(n.attrs["act"] == "hsigmoid" for name, n in nodes.items()
               if name.endswith(".se.fc2"))
    assert nodes["conv1"].attrs["act"] == nodes["conv_last"].attrs["act"] \
        == nodes["fc1"].attrs["act"] == "hswish"


def test_v2_structure_follows_the_table():
    g = mnprof.build(mnprof.load_spec("mobilenet_v2"))
    acts = {n.name: n.attrs["act"] for n in g.nodes if "act" in n.attrs}
    assert "bottleneck1.expand" not in acts          # t = 1
    assert {a for name, a in acts.items() if name.endswith(".project")} == {"none"}
    assert {a for name, a in acts.items()
            if not name.endswith(".project") and name != "fc"} == {"relu6"}
    adds = [n.name for n in g.nodes if n.kind == "add"]
    # residuals: every repetition after the first of each row with n > 1
    assert len(adds) == sum(n - 1 for _t, _c, n, _s in V2_ROWS) == 10


def test_cli_cost_v3_large(run):
    doc = run_json(run, "cost", "mobilenet_v3_large", "--alpha", "0.75", "--res", "192")
    assert (doc["model"], doc["alpha"], doc["resolution"]) == ("mobilenet_v3_large", 0.75, 192)
    t = doc["totals"]
    assert (t["macs"], t["params"], t["params_framework"]) == v3(
        "mobilenet_v3_large", 0.75, 192).totals()
    assert {"dw3x3", "dw5x5", "se", "conv1x1"} <= set(doc["by_type"])


# The independent calculators by built-in (tests/oracles), for the CLI tests below.
CALCULATORS = {"mobilenet_v2": calculate, **{m: calculate for m in V3_ROWS},
               **{m: family_calculate for m in FAMILY_MODELS}}


@pytest.mark.parametrize("model", builtin_names())
def test_cli_sweep_every_builtin(run, model):
    # the default grid (4 alphas x 4 resolutions), or a width table's 4 rows
    widths = ("--alpha", ",".join(map(str, TABLE_ALPHAS[model]))) if model in TABLE_ALPHAS \
        else ()
    doc = run_json(run, "sweep", model, *widths)
    assert doc["model"] == model
    assert len(doc["rows"]) == 16                   # default grid: 4 alphas x 4 resolutions
    if model in CALCULATORS:
        for row in doc["rows"]:
            assert (row["macs"], row["params"], row["params_framework"]) == CALCULATORS[
                model](model, row["alpha"], row["resolution"]).totals()


def test_cli_specs_lists_every_builtin(run):
    doc = run_json(run, "specs")
    names = [s["name"] for s in doc["specs"]]
    # every YAML file shipped in mnprof/specs, each under its own file name
    assert sorted(names) == sorted(p.stem for p in (ROOT / "mnprof" / "specs").glob("*.yaml"))
    assert {"mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", *FAMILY_MODELS} <= set(names)
    for s in doc["specs"]:
        if s["name"] in CALCULATORS:
            assert (s["macs"], s["params"], s["params_framework"]) == CALCULATORS[
                s["name"]](s["name"], 1.0, s["resolution"]).totals()
