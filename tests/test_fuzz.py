"""A seeded fuzz test (issue 9): mutated specs, budgets and ONNX files, through the
library and the CLI in-process.

The invariant, for every input: success, or a ``MnprofError`` (library) / exit 2 with
exactly one ``mnprof: error:`` line that is not an "unexpected" one (CLI). Never
another exception, never exit 1 outside a check that ran and found a limit exceeded,
never a hang (every example runs under a deadline). hypothesis derives its examples
from a fixed seed (``derandomize``), so a run is repeatable, and shrinks a failure to
a small input. The longer, subprocess-based fuzzer is ``benchmarks/fuzz.py``.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnprof
from mnprof.cli import main
from mnprof.core.errors import MnprofError
from mnprof.onnxio.load import load_model
from mnprof.onnxio.reader import count
from mnprof.spec.builtins import builtin_dir

from .bench.onnx_files import conv_model

FUZZ = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
SECONDS_PER_EXAMPLE = 10

SPECS = {p.stem: p.read_text() for p in sorted(builtin_dir().glob("*.yaml"))}
BUDGET = """models:
  - name: m
    spec: mobilenet_v1
    alpha: 0.25
    resolution: 32
    limits:
      macs: 1.2M
      params: {max: 500K}
      params_framework: 480K
      activations: 30K
      peak_activation_bytes: 24KiB
"""

# Values that broke things before: huge, tiny, non-finite, non-ASCII, tagged, expressions.
NASTY = ["0", "-1", "1e308", "1.0e308", "-1.0e308", ".nan", ".inf", "-.inf", "9" * 400,
         "9" * 5000, "4611686018427387905", "0.0000001K", "1e999", '"1e-999"', "８０M",
         "١٤٠٠K", "!!bool relu", "!!float x", "!!int 3", "!!binary aGk=", "[" * 80, "{",
         "~", "true", "''", '"$(int(1e308*10))"', '"$(make_divisible(cin, 0))"',
         '"$(cin < \'a\')"', '"$(floor(1e308*1e10))"', '"$(ch(10**8))"', '"$(1j)"',
         "3000000", "10000", "16385", "1048577", "\x01", "\x7f", "\u2028", "x" * 300,
         "&a [*a]", "*nosuch", "1.5", "0.5", "2", "1", "3", "224", "-0.0", '"\\ud800"']


@contextmanager
def deadline(seconds: int):
    """A hang is a failure, not a stuck test run."""
    def expired(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: a hang")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _mutate(text: str, data: st.DataObject) -> str:
    """1-3 edits of one kind or another, at places drawn from ``data``."""
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(data.draw(st.integers(1, 3), "edits")):
        i = data.draw(st.integers(0, len(lines) - 1), "line")
        line = lines[i]
        op = data.draw(st.sampled_from(["value", "value", "value", "drop", "dup", "chars",
                                        "cut", "key"]), "op")
        if op == "value" and ":" in line:
            head, _, _ = line.partition(":")
            value = data.draw(st.sampled_from(NASTY), "value")
            lines[i] = f"{head}: {value}\n"
        elif op == "drop":
            lines.pop(i)
        elif op == "dup":
            lines.insert(i, line)
        elif op == "chars":
            at = data.draw(st.integers(0, len(line)), "at")
            junk = data.draw(st.text(min_size=1, max_size=4), "junk")
            lines[i] = line[:at] + junk + line[at:]
        elif op == "cut":
            lines = lines[: i + 1]
            lines[-1] = line[: data.draw(st.integers(0, len(line)), "cut at")]
        elif op == "key" and ":" in line:
            lines[i] = line.replace(":", data.draw(st.sampled_from(
                ["s:", "x:", ": ", "::", "_:"]), "key"), 1)
        lines = lines or [""]
    return "".join(lines)


def _cli(*args: str) -> tuple[int, str, str]:
    with deadline(SECONDS_PER_EXAMPLE):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _assert_clean(code: int, out: str, err: str, *, check: bool = False) -> None:
    errors = [x for x in err.splitlines() if x.startswith("mnprof: error:")]
    others = [x for x in err.splitlines() if not x.startswith(("mnprof: error:",
                                                               "mnprof: warning:",
                                                               "mnprof check:"))]
    assert not others, err                              # no traceback, no stray output
    if code == 0:
        assert not errors, err
    elif code == 1:
        assert check and ("FAILED" in out or "<failure" in out) and not errors, (code, out, err)
    else:
        assert code == 2, (code, err)
        assert len(errors) == 1 and "(a bug in mnprof;" not in errors[0], err
        assert errors[0] not in ("mnprof: error: out of memory",
                                 "mnprof: error: the input nests too deeply (recursion limit)")


def _library(call, *args, **kwargs) -> None:
    try:
        with deadline(SECONDS_PER_EXAMPLE):
            call(*args, **kwargs)
    except MnprofError as exc:
        assert "\n" not in str(exc)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(SPECS)),
       alpha=st.sampled_from(["1", "0.25", "0.35", "10", "1e-9"]),
       res=st.sampled_from(["32", "1", "7", "97", "224"]))
def test_mutated_specs(folder, data, name, alpha, res):
    path = folder / "spec.yaml"
    path.write_text(_mutate(SPECS[name], data), encoding="utf-8", errors="surrogatepass")
    _assert_clean(*_cli("cost", str(path), "-a", alpha, "-r", res, "-f", "json"))
    _library(lambda: mnprof.cost(mnprof.load_spec(str(path)), float(alpha), int(res)))
    _assert_clean(*_cli("sweep", str(path), "-a", f"{alpha},0.5", "-r", res))


@FUZZ
@given(data=st.data())
def test_mutated_budgets(folder, data):
    path = folder / "budget.yaml"
    path.write_text(_mutate(BUDGET, data), encoding="utf-8", errors="surrogatepass")
    _assert_clean(*_cli("check", str(path)), check=True)
    _assert_clean(*_cli("check", str(path), "-f", "junit"), check=True)


@FUZZ
@given(option=st.sampled_from(["--max-macs", "--max-params", "--max-peak-bytes",
                               "--max-activations", "--alpha", "--res", "--tolerance"]),
       value=st.sampled_from(NASTY + ["80M", "1.4M", "2MiB", "5%"]))
def test_one_off_check_options(option, value):
    args = ["check", "mobilenet_v1", "-a", "0.25", "-r", "32", option, value]
    if not option.startswith("--max-"):
        args += ["--max-macs", "80M"]
    _assert_clean(*_cli(*args), check=True)


@pytest.fixture(scope="module")
def onnx_bytes(tmp_path_factory) -> bytes:
    return conv_model(tmp_path_factory.mktemp("onnx") / "conv.onnx").read_bytes()


@FUZZ
@given(data=st.data())
def test_mutated_onnx_files(folder, onnx_bytes, data):
    """Truncations, flipped and inserted bytes of a valid model: the counter and the
    loader either read a model or say in one line why not."""
    raw = bytearray(onnx_bytes)
    for _ in range(data.draw(st.integers(1, 4), "edits")):
        at = data.draw(st.integers(0, len(raw)), "at")
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "zero"]), "op")
        if op == "flip" and at < len(raw):
            raw[at] ^= data.draw(st.integers(1, 255), "mask")
        elif op == "cut":
            raw = raw[:at]
        elif op == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8), "bytes")
        elif op == "zero":
            raw[at:at + 16] = bytes(len(raw[at:at + 16]))
    path = folder / "m.onnx"
    path.write_bytes(bytes(raw))
    _library(count, str(path))
    _library(load_model, str(path))
