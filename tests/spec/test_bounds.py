"""Specs past every bound, and specs that were wrongly accepted (issue 9, sections 3-5).

Each case is a one-line ``MnprofError`` naming the file, the line, the field and,
past a bound, the bound itself; never an OverflowError, a RecursionError, minutes of
work, or a silent acceptance.
"""

from __future__ import annotations

import time

import pytest

import mnprof
from mnprof.core.errors import MnprofError, SpecError
from mnprof.core.values import (
    MAX_ALPHA,
    MAX_BLOCKS,
    MAX_CHANNELS,
    MAX_INT,
    MAX_LAYERS,
    MAX_NESTING,
    MAX_REPEAT,
    MAX_RESOLUTION,
)

from ..fresh import mnprof as fresh_mnprof

HEAD = "name: t\ninput: {resolution: 32, channels: 3}\nclasses: 10\n"


def _spec_error(write_spec, text: str) -> SpecError:
    path = write_spec(HEAD + text)
    start = time.process_time()         # CPU time: other processes may share the cores
    with pytest.raises(MnprofError) as info:
        mnprof.cost(path)
    assert time.process_time() - start < 5, "refused, but only after a long time"
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(path), str(info.value)
    return info.value


@pytest.mark.parametrize("value, words", [
    ("1e308", ["alpha", f"[0, {MAX_ALPHA:g}]", "text, not a number"]),
    ("1.0e308", ["alpha", f"[0, {MAX_ALPHA:g}]"]), ("1e200", ["alpha"]), ("11", ["alpha"]),
    (".nan", ["alpha"]), (".inf", ["alpha"]), ("-1", ["alpha"]), ("0", ["alpha"]),
    ("9" * 400, ["too large"]), ("true", ["alpha"]),
])
def test_alpha_in_a_spec(write_spec, value, words):
    err = _spec_error(write_spec, f"alpha: {value}\nlayers:\n  - {{kind: fc}}\n")
    assert ":4:" in str(err)
    for w in words:
        assert w in str(err)


@pytest.mark.parametrize("alpha", [1e308, 1e200, 10.000001, float("nan"), float("inf"), 0,
                                   -0.5, True, 10**400])
def test_alpha_through_the_library(alpha):
    with pytest.raises(MnprofError, match="alpha must be a number > 0 and <= 10"):
        mnprof.cost("mobilenet_v1", alpha, 32)


@pytest.mark.parametrize("field, value, words", [
    ("out", "9" * 400, ["too large"]),
    ("out", str(MAX_CHANNELS + 1), [f"<= {MAX_CHANNELS}"]),
    ("out", "$(int(1e308*10))", ["not a finite number"]),
    ("out", "$(floor(1e308*1e10))", ["not a finite number"]),
    ("out", "$(ceil(-1e308*1e10))", ["not a finite number"]),
    ("out", "$(round(1e300*1e300))", ["not a finite number"]),
    ("out", "$(2**4000)", ["not allowed"]),
    ("out", f"$({MAX_INT} * 4)", ["too large"]),
    ("out", "$(make_divisible(cin, 0))", ["make_divisible"]),
    ("out", "$(cin // 0)", ["division"]),
    ("out", "$(cin % 0)", ["modulo"]),
    ("out", "$(1j)", ["not allowed"]),
    ("out", "$(cin * 'ab')", ["arithmetic needs numbers"]),
    ("out", "$(ch(100000000000000000))", [f"<= {MAX_CHANNELS}"]),
    ("out", "$(int('9' * 3))", ["arithmetic needs numbers"]),
    ("out", "$(lookup(cin, 1, 2))", ["no entry"]),
    ("out", "$(max())", ["max()"]),
    ("out", "$(" + "(" * 150 + "1" + ")" * 150 + ")", ["longer than"]),
    ("out", "$(" + "-" * 191 + "1)", [">= 1"]),
    ("when", "$(cin < 'a')", ["cannot compare"]),
    ("when", "$(cin)", ["true or false"]),
    ("kernel", "$(resolution * 10**6)", ["kernel"]),
])
def test_expressions_stay_in_bounds(write_spec, field, value, words):
    base = {"out": "8", "kernel": "3"}
    base[field] = f'"{value}"' if value.startswith("$") else value
    line = "  - {kind: conv, " + ", ".join(f"{k}: {v}" for k, v in base.items()) + "}\n"
    err = _spec_error(write_spec, "layers:\n" + line)
    assert ":5:" in str(err) and "layers[0]." in str(err), str(err)
    for w in words:
        assert w in str(err), str(err)


def test_multiple_of_8_rounding_at_a_huge_alpha_is_bounded(write_spec):
    """``ch()`` under multiple_of_8 at alpha 1e307 overflowed; alpha is capped first,
    and the largest alpha still gives an exact, finite count."""
    path = write_spec(HEAD + "rounding: multiple_of_8\nlayers:\n"
                      "  - {kind: conv, kernel: 1, out: \"$(ch(100000))\", scale: false}\n")
    with pytest.raises(MnprofError, match="alpha"):
        mnprof.cost(path, 1e307)
    # 100000 * 10 = 1,000,000 is a multiple of 8: under MAX_CHANNELS, conv 1x1 from 3
    assert mnprof.cost(path, 10).totals.macs == 3 * 1_000_000 * 32 * 32


@pytest.mark.parametrize("resolution", [0, MAX_RESOLUTION + 1, 100_000, 10**400])
def test_resolution_bounds(resolution):
    with pytest.raises(MnprofError, match=f"resolution must be an integer from 1 to "
                                          f"{MAX_RESOLUTION}"):
        mnprof.cost("mobilenet_v1", 1, resolution)


def test_repeat_is_refused_before_expanding(write_spec):
    err = _spec_error(write_spec, "layers:\n  - {kind: relu, repeat: 3000000}\n")
    assert f"<= {MAX_REPEAT}" in str(err) and "layers[0].repeat" in str(err)
    err = _spec_error(write_spec, "layers:\n  - {kind: relu, repeat: \"$(10**7)\"}\n")
    assert "layers[0].repeat" in str(err)


@pytest.mark.parametrize("levels, repeat", [(7, 10), (5, 10), (3, 30), (12, 3)])
def test_nested_repeats_are_capped_at_the_graph_size(write_spec, levels, repeat):
    """7 nested blocks x repeat 10 is 10^7 layers: refused at the MAX_LAYERS-th layer,
    in well under a second, not after minutes of expansion."""
    blocks = [f"  b0: {{layers: [{{kind: relu, repeat: {repeat}}}]}}"]
    blocks += [f"  b{i}: {{layers: [{{block: b{i - 1}, repeat: {repeat}}}]}}"
               for i in range(1, levels)]
    text = "blocks:\n" + "\n".join(blocks) + f"\nlayers:\n  - {{block: b{levels - 1}}}\n"
    if repeat ** levels <= MAX_LAYERS:
        assert mnprof.cost(write_spec(HEAD + text)).totals.layers == repeat ** levels
        return
    err = _spec_error(write_spec, text)
    assert f"more than {MAX_LAYERS:,} layers" in str(err)


def test_depth_multiplier_cannot_blow_the_graph_up(write_spec):
    path = write_spec(HEAD + "layers:\n  - {kind: relu, repeat: 5000}\n")
    assert mnprof.cost(path).totals.layers == 5000
    with pytest.raises(MnprofError, match=f"more than {MAX_LAYERS:,} layers"):
        mnprof.cost(path, depth=10)


@pytest.mark.parametrize("n", [MAX_NESTING + 1, 1500])
def test_a_long_chain_of_blocks(write_spec, n):
    """A chain of 1,500 blocks crashed the cycle check (recursion); now the number of
    blocks and their nesting are bounded, and the check is iterative."""
    blocks = ["  b0: {layers: [{kind: relu}]}"]
    blocks += [f"  b{i}: {{layers: [{{block: b{i - 1}}}]}}" for i in range(1, n)]
    err = _spec_error(write_spec, "blocks:\n" + "\n".join(blocks)
                      + f"\nlayers:\n  - {{block: b{n - 1}}}\n")
    bound = f"at most {MAX_BLOCKS}" if n > MAX_BLOCKS else f"more than {MAX_NESTING} deep"
    assert bound in str(err)


def test_a_cycle_of_blocks(write_spec):
    text = ("blocks:\n  a: {layers: [{block: b}]}\n  b: {layers: [{block: c}]}\n"
            "  c: {layers: [{block: a}]}\nlayers:\n  - {block: a}\n")
    err = _spec_error(write_spec, text)
    assert "recursive block reference" in str(err)


@pytest.mark.parametrize("p", [".nan", ".inf", "-.inf", "1", "1.5", "-0.1", "true", "x"])
def test_dropout_probability(write_spec, p):
    err = _spec_error(write_spec, f"layers:\n  - {{kind: dropout, p: {p}}}\n  - {{kind: fc}}\n")
    assert "layers[0].p: must be a number in [0, 1)" in str(err)


def test_an_unused_block_parameter_is_a_warning(tmp_path):
    """The attack's mutations declared parameters nothing used (372 of 410 accepted in
    silence): a warning naming the file, line and parameter, as linters do; exit 0."""
    (tmp_path / "s.yaml").write_text(
        HEAD + "blocks:\n  b:\n    params: {out: null, strid: 2, t: 6}\n    layers:\n"
        "      - {kind: conv, kernel: 3, out: \"$(out * t)\"}\nlayers:\n  - {block: b, out: 8}\n"
        "  - {kind: fc}\n")
    for command in ("cost", "sweep", "export"):
        extra = ["-o", "m.onnx"] if command == "export" else ["-a", "1", "-r", "32"] \
            if command == "sweep" else []
        result = fresh_mnprof(command, "s.yaml", *extra, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        warnings = [x for x in result.stderr.splitlines() if x.startswith("mnprof: warning:")]
        assert warnings == ["mnprof: warning: s.yaml:5: blocks.b.params.strid: parameter "
                            "'strid' is declared but no layer of block b uses it"], \
            result.stderr
    spec = mnprof.load_spec(str(tmp_path / "s.yaml"))
    assert len(spec.warnings) == 1 and "'strid'" in spec.warnings[0]


@pytest.mark.parametrize("second", [
    "  - {kind: conv, kernel: 1, out: 4, name: x}\n",
    "  - {block: b, name: x, out: 4}\n",
    "  - {kind: relu, name: x, repeat: 2}\n  - {kind: relu, name: x_1}\n",
])
def test_a_name_used_twice_in_one_scope(write_spec, second):
    """A block instance and a later layer both named x were accepted, and references
    went to the later one; now any second use of a name in a scope is an error."""
    text = ("blocks:\n  b:\n    params: {out: null}\n    layers:\n"
            "      - {kind: conv, kernel: 3, out: $out}\nlayers:\n"
            "  - {block: b, name: x, out: 8}\n" + second + "  - {kind: fc, input: x}\n")
    if "x_1" in second:
        text = text.replace("  - {block: b, name: x, out: 8}\n", "")
    err = _spec_error(write_spec, text)
    assert "is used twice" in str(err) and ".name" in str(err)


@pytest.mark.parametrize("cli_args, words", [
    (["--alpha", "1e308"], ["--alpha", "<= 10"]),
    (["--alpha", "nan"], ["--alpha"]),
    (["--alpha", "１"], ["--alpha"]),           # a full-width digit is not a number here
    (["--res", "100000"], ["--res", "16384"]),
    (["--res", "٣٢"], ["--res"]),
    (["--depth", "1e9"], ["--depth"]),
    (["--classes", "99999999999"], ["--classes"]),
])
def test_cli_values_out_of_bounds(run, cli_args, words):
    result = run("cost", *cli_args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mnprof: error:")
    for w in words:
        assert w in lines[0]
