"""Bad input: one line on stderr naming file, line and field; exit 2; no traceback."""

from __future__ import annotations

import re

import pytest

GOOD = """\
input: {resolution: 32, channels: 3}
blocks:
  sep:
    params: {out: null, stride: 1}
    layers:
      - {name: dw, kind: dwconv, kernel: 3, stride: $stride}
      - {name: pw, kind: pwconv, out: $out}
layers:
  - {kind: conv, kernel: 3, stride: 2, out: 8}
  - {block: sep, out: 16}
"""


def check_error(run, args, *, line: int | None, field: str | None, words: str):
    result = run("cost", *args)
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert result.stdout == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("mnprof: error: ")
    if line is not None:
        assert re.search(rf"\.yaml:{line}: ", err), err
    if field is not None:
        assert f"{field}: " in err, err
    assert re.search(words, err), err
    return err


CASES = {
    "invalid YAML": ("layers: [\n  - {kind: conv,\n", 2, None, "invalid YAML"),
    "unknown kind": (GOOD.replace("kind: conv,", "kind: convv,"), 9, "layers[0].kind",
                     r"unknown kind 'convv' \(did you mean 'conv'\?\)"),
    "unknown field (typo)": (GOOD.replace("stride: 2,", "strid: 2,"), 9, "layers[0].strid",
                             "unknown field .*did you mean 'stride'"),
    "unknown top-level field": (GOOD + "clases: 10\n", 11, "clases", "unknown field"),
    "widths not a list": (GOOD + "widths: 0.5\n", 11, "widths", "must be a list of 1 to "
                                                                 "100 width multipliers"),
    "widths empty": (GOOD + "widths: []\n", 11, "widths", "must be a list"),
    "a width of zero": (GOOD + "widths: [0.5, 0]\n", 11, "widths", "must be numbers > 0"),
    "a width twice": (GOOD + "widths: [1, 1.0]\n", 11, "widths", "each once"),
    "a width not a number": (GOOD + "widths: [0.5, big]\n", 11, "widths", "number"),
    "a width too large": (GOOD + "widths: [0.5, 11]\n", 11, "widths", "10"),
    "missing required field": (GOOD.replace(" out: 8}", "}"), 9, "layers[0].out",
                               "required by kind conv"),
    "wrong type": (GOOD.replace("kernel: 3, stride: 2", "kernel: three, stride: 2"), 9,
                   "layers[0].kernel",
                   "must be an integer from 1 to 1024 or a pair .*, got 'three'"),
    "zero channels": (GOOD.replace("out: 8}", "out: 0}"), 9, "layers[0].out", ">= 1"),
    "negative kernel": (GOOD.replace("kernel: 3, stride: 2", "kernel: -3, stride: 2"), 9,
                        "layers[0].kernel", "from 1 to 1024"),
    "zero stride": (GOOD.replace("stride: 2,", "stride: 0,"), 9, "layers[0].stride",
                    "from 1 to 1024"),
    "zero stride via a block parameter": (GOOD.replace("out: 16}", "out: 16, stride: 0}"), 6,
                                          "blocks.sep.layers[0].stride", r"in sep1"),
    "zero channels via a block parameter": (GOOD.replace("out: 16}", "out: 0}"), 7,
                                            "blocks.sep.layers[1].out", ">= 1"),
    "bool is not an int": (GOOD.replace("out: 8}", "out: true}"), 9, "layers[0].out",
                           "integer"),
    "undefined block": (GOOD.replace("{block: sep,", "{block: sepp,"), 10, "layers[1].block",
                        "undefined block 'sepp'"),
    "unknown block parameter": (GOOD.replace("out: 16}", "out: 16, strde: 2}"), 10,
                                "layers[1].strde", "no parameter 'strde'"),
    "missing block parameter": (GOOD.replace("{block: sep, out: 16}", "{block: sep}"), 10,
                                "layers[1].out", "required by block sep"),
    "recursive block": (GOOD.replace("      - {name: pw, kind: pwconv, out: $out}",
                                     "      - {block: sep, out: 4}"), 3, "blocks.sep",
                        "recursive block reference: sep -> sep"),
    "channel mismatch at add": (GOOD + "  - {kind: add, inputs: [conv1, sep1]}\n", 11,
                                "layers[2]", r"same shape, got 8x16x16 and 16x16x16"),
    "unknown input name": (GOOD + "  - {kind: add, inputs: [conv1, sepp]}\n", 11,
                           "layers[2].inputs", "no earlier layer named 'sepp'"),
    "python object tag": ("input: !!python/object/apply:os.system ['true']\nlayers: []\n", 1,
                          None, r"tag !!python/object/apply:os.system is not allowed"),
    "timestamp is not a value": (GOOD.replace("input:", "description: 2024-01-01\ninput:"), 1,
                                 None, "tag !!timestamp is not allowed"),
    "duplicate key": (GOOD.replace("kernel: 3, stride: 2", "kernel: 3, kernel: 2"), 9, None,
                      "duplicate key 'kernel'"),
    "recursive alias": ("a: &x [1, *x]\n", 1, None, "recursive alias"),
    "bad expression": (GOOD.replace("stride: $stride", "stride: $(stride +)"), 6,
                       "blocks.sep.layers[0].stride", "cannot parse expression"),
    "unsafe expression": (GOOD.replace("stride: $stride", "stride: $(__import__('os'))"), 6,
                          "blocks.sep.layers[0].stride", "may be called"),
    "unknown name in expression": (GOOD.replace("stride: $stride", "stride: $strid"), 6,
                                   "blocks.sep.layers[0].stride", "unknown name 'strid'"),
    "empty layers": ("input: {resolution: 8}\nlayers: []\n", 2, "layers", "non-empty list"),
    "not a mapping": ("- 1\n- 2\n", 1, None, "must be a mapping"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_spec(run, write_spec, case):
    text, line, field, words = CASES[case]
    check_error(run, [write_spec(text)], line=line, field=field, words=words)


def test_alias_bomb(run, write_spec):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = write_spec("\n".join(lines) + "\ninput: {resolution: 8}\nlayers: *a8\n")
    check_error(run, [path], line=None, field=None, words="alias bomb")


def test_resolution_that_collapses_a_layer(run, write_spec):
    # Table 1's literal 7x7 average pool (valid padding) needs at least a 7x7 map:
    # here the map is res/2, so 12 gives 6x6.
    path = write_spec(GOOD + "  - {name: pool, kind: avgpool, kernel: 7}\n")
    assert run("cost", path, "--res", "224").exit_code == 0
    check_error(run, [path, "--res", "12"], line=11, field="layers[2]",
                words=r"collapses to zero .*resolution 12 is too small")


@pytest.mark.parametrize(("args", "words"), [
    (["--alpha", "0"], r"alpha must be a number > 0 and <= 10, got '0'"),
    (["--alpha", "-1"], r"alpha must be a number > 0"),
    (["--alpha", "nan"], r"alpha must be a number > 0"),
    (["--alpha", "1e308"], r"alpha must be a number > 0 and <= 10, got '1e308'"),
    (["--alpha", "٠٫٥"], r"alpha must be a number > 0"),
    (["--res", "0"], r"resolution must be an integer from 1 to 16384, got '0'"),
    (["--res", "1.5"], r"resolution must be an integer from 1 to 16384, got '1.5'"),
    (["--res", "100000"], r"resolution must be an integer from 1 to 16384"),
    (["--format", "xml"], r"'xml' is not one of"),
    (["no_such_builtin"], r"no built-in spec 'no_such_builtin'"),
])
def test_bad_options(run, args, words):
    check_error(run, args, line=None, field=None, words=words)


def test_missing_file_directory_and_empty_file(run, write_spec, tmp_path):
    check_error(run, [str(tmp_path / "nope.yaml")], line=None, field=None,
                words="nope.yaml: no such spec file")
    check_error(run, [str(tmp_path)], line=None, field=None, words="is a directory")
    check_error(run, [write_spec("")], line=None, field=None, words="empty file")
    check_error(run, [write_spec("# only a comment\n")], line=None, field=None,
                words="empty file")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00layers")
    check_error(run, [str(binary)], line=None, field=None, words="not UTF-8")


def test_merge_keys_work_and_alpha_above_one_is_fine(run, write_spec):
    path = write_spec("""\
        input: {resolution: 32}
        layers:
          - &c {kind: conv, kernel: 3, out: 8}
          - {<<: *c, out: 16}
        """)
    result = run("cost", path, "--alpha", "1.4", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"output_shape": [\n        22,' in result.stdout     # int(16 * 1.4) = 22


def test_lookup_picks_a_table_row_and_names_what_it_missed(run, write_spec):
    # A per-width table: alpha 0.5 -> 12 channels, 2 -> 40; no channel count is scaled.
    path = write_spec("""\
        input: {resolution: 8}
        layers:
          - {kind: conv, kernel: 3, scale: false, out: "$(lookup(alpha, 0.5, 12, 2.0, 40))"}
        """)
    for alpha, channels in (("0.5", 12), ("2", 40)):
        result = run("cost", path, "--alpha", alpha, "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert f'"output_shape": [\n        {channels},' in result.stdout
    check_error(run, [path, "--alpha", "0.75"], line=3, field="layers[0].out",
                words=r"lookup\(\): no entry for alpha = 0\.75 \(entries: 0\.5, 2\)$")
    check_error(run, [path], line=3, field="layers[0].out",
                words=r"no entry for alpha = 1\.0 \(entries: 0\.5, 2\)")
