"""Reading and writing the user's files (issue 9, sections 3 and 6), in fresh processes.

Inputs: only regular files are read, and never past a size cap, so a device, a FIFO
or a path the user cannot reach is one line and exit 2, never a hang or a
MemoryError. Outputs: a symlink is followed to its target; a target that is not a
regular file, or that the user could not write, is refused before any work; the old
file survives every failure.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mnprof.core.errors import MnprofError
from mnprof.core.files import atomic_write, check_target, read_bytes, read_text

from .. import fresh
from ..fresh import mnprof, mnprof_many, one_error_line

SPEC = "name: t\ninput: {resolution: 8, channels: 3}\nclasses: 4\nlayers:\n  - {kind: fc}\n"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


# ---------------------------------------------------------------------------
# Special files as every kind of input: never read, never waited on


SPECIAL = ["/dev/zero", "/dev/urandom", "/dev/null", "FIFO"]


def _as(args: tuple[str, ...], path: str) -> list[str]:
    return [a.replace("PATH", path) for a in args]


def test_special_files_are_refused_at_once(tmp_path, fifo):
    commands = [("cost", "PATH"),                                 # a spec
                ("check", "PATH"),                                # a budget
                ("check", "mobilenet_v1", "--max-increase", "macs=1%", "--baseline", "PATH"),
                ("sweep", "PATH", "-a", "1", "-r", "32"),
                ("export", "PATH", "-o", "out.onnx")]
    paths = [str(fifo) if s == "FIFO" else s for s in SPECIAL]
    cases = [_as(c, p) for c in commands for p in paths]
    for case, result in zip(cases, mnprof_many(cases, cwd=tmp_path, timeout=60), strict=True):
        path = next(p for p in paths if p in case)
        one_error_line(result, path, "not a regular file")


def test_special_files_as_onnx_models(tmp_path):
    """As ``bench X.onnx`` and as the library's ONNX counter: symlinks named .onnx to
    devices and to a FIFO (the name alone makes it an ONNX path)."""
    os.mkfifo(tmp_path / "fifo")
    names = []
    for target in ("/dev/zero", "/dev/urandom", str(tmp_path / "fifo")):
        names.append(f"{Path(target).name}.onnx")
        (tmp_path / names[-1]).symlink_to(target)
    for name, result in zip(names, mnprof_many([["bench", n] for n in names], cwd=tmp_path),
                            strict=True):
        one_error_line(result, name, "not a regular file")
    code = ("import sys, mnprof.onnxio.reader as r\n"
            "for name in sys.argv[1:]:\n"
            "    try: r.count(name)\n"
            "    except Exception as e: print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code, *names], cwd=tmp_path, text=True,
                         capture_output=True, timeout=30)
    assert out.stdout.splitlines() == [
        f"MnprofError {n}: not a regular file (a FIFO, device or socket); an ONNX model "
        "must be a file" for n in names], out.stderr


def test_read_bytes_caps_the_size(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 2049)
    with pytest.raises(MnprofError, match="2049 bytes; a spec may be at most 2048"):
        read_bytes(big, what="spec", max_bytes=2048)
    assert read_bytes(big, what="spec", max_bytes=2049) == b"#" * 2049
    (tmp_path / "bad.yaml").write_bytes(b"a: \xff\n")
    with pytest.raises(MnprofError, match="not UTF-8 text"):
        read_text(tmp_path / "bad.yaml")


def test_a_spec_over_the_size_cap_is_one_line(tmp_path):
    (tmp_path / "huge.yaml").write_bytes(b"# " + b"x" * (1 << 20) + b"\n" + SPEC.encode())
    one_error_line(mnprof("cost", "huge.yaml", cwd=tmp_path), "huge.yaml", "at most 1048576")


# ---------------------------------------------------------------------------
# Paths that cannot be used: too long, unreachable, odd names


def test_300_character_names(tmp_path):
    name = "n" * 300
    cases = [[name + a[1:] if a.startswith("N") else a for a in args] for args in (
        ("cost", "N.yaml"), ("cost", "-o", "N.txt"), ("export", "-o", "N.onnx"),
        ("check", "N.yaml"), ("check", "mobilenet_v1", "--max-macs", "1G", "-o", "N.txt"),
        ("bench", "N.onnx"), ("sweep", "-a", "1", "-r", "32", "-o", "N.json"),
        ("cost", "N"), ("check", "N", "--max-macs", "1G"), ("export", "N", "-o", "m.onnx"))]
    (tmp_path / "b.yaml").write_text(f"models:\n  - spec: {name}\n    limits: {{macs: 1G}}\n")
    cases.append(["check", "b.yaml"])
    for result in mnprof_many(cases, cwd=tmp_path):
        line = one_error_line(result, name[:50])
        assert "too long" in line or "no built-in spec" in line, line


def test_a_spec_named_with_300_characters_is_a_name_not_a_file(tmp_path):
    """The spec's own `name:` appears in reports and in the check's model label; it is
    never used as a file name, so any length works."""
    (tmp_path / "s.yaml").write_text(SPEC.replace("name: t", "name: " + "m" * 300))
    result = mnprof("check", "s.yaml", "--max-macs", "1K", "-f", "junit", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "m" * 300 in result.stdout


def _without_root_override() -> list[str]:
    """As root, chmod 000 hides nothing: run without the capabilities that bypass file
    permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so the error is real."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def test_a_path_in_a_directory_the_user_cannot_enter(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "s.yaml").write_text(SPEC)
    locked.chmod(0)
    cases = [["cost", "locked/s.yaml"], ["check", "locked/b.yaml"],
             ["cost", "-o", "locked/out.txt"],
             ["export", "-a", "0.25", "-r", "32", "-o", "locked/m.onnx"],
             ["bench", "locked/m.onnx"],
             ["check", "mobilenet_v1", "--max-increase", "macs=1%", "--baseline",
              "locked/b.json"]]
    try:
        proc = subprocess.run([*_without_root_override(), sys.executable, "-c", fresh._MANY,
                               json.dumps(cases)], cwd=tmp_path, text=True,
                              capture_output=True, timeout=60, env=fresh.env_for(tmp_path))
        assert proc.returncode == 0, proc.stderr
        for args, (code, _, err) in zip(cases, json.loads(proc.stdout), strict=True):
            one_error_line(subprocess.CompletedProcess(args, code, "", err), "locked/",
                           "Permission denied")
    finally:
        locked.chmod(0o755)


def test_a_file_name_with_a_newline_gives_one_line(tmp_path):
    (tmp_path / "a\nb.yaml").write_text(SPEC + "  - {kind: nope}\n")
    line = one_error_line(mnprof("cost", "a\nb.yaml", cwd=tmp_path), "unknown kind")
    assert line.startswith("mnprof: error: a\\nb.yaml:6: layers[1].kind")
    line = one_error_line(mnprof("cost", "c\nd.yaml", cwd=tmp_path))
    assert line == "mnprof: error: c\\nd.yaml: no such spec file"


# ---------------------------------------------------------------------------
# Output targets


def test_empty_output_path(tmp_path):
    cases = [[*args, "-o", ""] for args in (
        ("cost",), ("export", "-a", "0.25", "-r", "32"), ("sweep",),
        ("check", "mobilenet_v1", "--max-macs", "1G"))]
    for result in mnprof_many(cases, cwd=tmp_path):
        one_error_line(result, "the output path is empty")


def test_fifo_device_and_symlinks_to_them_are_not_replaced(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "to-stdout").symlink_to("/proc/self/fd/1")
    (tmp_path / "to-null").symlink_to("/dev/null")
    cases = [[*command, "-o", target]
             for command in (("cost",), ("export", "-a", "0.25", "-r", "32"),
                             ("check", "mobilenet_v1", "--max-macs", "1G"))
             for target in ("fifo", "to-stdout", "to-null", "/dev/null")]
    for result in mnprof_many(cases, cwd=tmp_path, timeout=60):
        one_error_line(result, "not a regular file")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
    assert os.readlink(tmp_path / "to-stdout") == "/proc/self/fd/1"
    assert os.readlink(tmp_path / "to-null") == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_to_a_regular_file_is_followed(tmp_path):
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to("real.json")
    result = mnprof("cost", "-f", "json", "-o", "link.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.readlink(tmp_path / "link.json") == "real.json"
    assert '"schema": "mnprof.cost/1"' in (tmp_path / "real.json").read_text()


def test_a_read_only_file_is_not_replaced(tmp_path):
    ro = tmp_path / "ro.txt"
    ro.write_text("keep me")
    ro.chmod(0o444)
    cases = [["cost", "-o", "ro.txt"], ["export", "-a", "0.25", "-r", "32", "-o", "ro.txt"],
             ["check", "mobilenet_v1", "--max-macs", "1G", "--report", "junit=ro.txt"]]
    for result in mnprof_many(cases, cwd=tmp_path):
        one_error_line(result, "ro.txt", "read-only")
    assert ro.read_text() == "keep me"
    with pytest.raises(MnprofError, match="read-only"):
        check_target(ro)


def test_output_never_overwrites_the_input(tmp_path):
    (tmp_path / "s.yaml").write_text(SPEC)
    one_error_line(mnprof("cost", "s.yaml", "-o", "s.yaml", cwd=tmp_path),
                   "refusing to overwrite an input file")
    assert (tmp_path / "s.yaml").read_text() == SPEC


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def broken(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(MnprofError, match="No space left on device"):
        atomic_write(target, b"new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
