"""Device profiles: what makes one valid, where it lives, import and export, and the
one-line errors for everything else."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mnprof.core.contracts import DEVICE_SCHEMA
from mnprof.core.errors import MnprofError
from mnprof.predict.device import (
    Device,
    find_profile,
    import_profile,
    load_profile,
    profile_path,
    save_profile,
)

from .fake import fake_profile

HERE = Device("Test CPU 9000", 2, 4, "avx2", "1.32.0", 1)
OTHER = replace(HERE, cpu_model="Another CPU")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def profile():
    return fake_profile(HERE)


def test_round_trip_keeps_device_layout_models_and_overhead(profile, tmp_path):
    path = save_profile(profile, tmp_path / "p.json")
    again = load_profile(path)
    assert again.device == profile.device and again.layout == profile.layout
    assert again.overhead == profile.overhead
    assert again.kernels.keys() == profile.kernels.keys()
    data = json.loads(path.read_text())
    assert data["schema"] == DEVICE_SCHEMA
    assert data["device"]["cpu_model"] == "Test CPU 9000" and data["device"]["threads"] == 1


def test_cache_holds_one_profile_per_device(cache, profile):
    path = save_profile(profile)
    assert path == profile_path(HERE) and str(path).startswith(str(cache))
    assert find_profile(HERE).device == HERE
    assert profile_path(replace(HERE, threads=2)) != path


def test_missing_profile_names_the_command_that_makes_one(cache):
    with pytest.raises(MnprofError, match=r"no device profile for Test CPU 9000, 1 thread.*"
                                          r"mnprof calibrate --threads 1"):
        find_profile(HERE)


@pytest.mark.parametrize("text,message", [
    ("{not json", "not JSON"),
    ("[]", "not a mnprof device profile"),
    ('{"schema": "mnprof.cost/1"}', "schema 'mnprof.cost/1'"),
    ('{"schema": "' + DEVICE_SCHEMA + '"}', "missing field 'device'"),
])
def test_bad_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(MnprofError, match=message) as exc:
        load_profile(path)
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


@pytest.mark.parametrize("edit,message", [
    (lambda d: d["device"].update(threads="one"), "'threads' has the wrong type"),
    (lambda d: d["layout"].pop("align"), "missing field 'align'"),
    (lambda d: d["kernels"]["pw.nchwc"]["trees"].update(leaves=[[1.0]]), "malformed"),
    (lambda d: d["overhead"].update(scale=None), "'scale' has the wrong type"),
    (lambda d: d["device"].update(threads=0), "impossible"),
    # found by mutating a real profile: each once crashed or gave an infinite latency
    (lambda d: d["kernels"]["pw.nchwc"]["trees"]["features"][0].__setitem__(0, 10 ** 30),
     "malformed"),
    (lambda d: d["kernels"]["pw.nchwc"]["trees"]["features"][0].__setitem__(0, 99),
     "feature that does not exist"),
    (lambda d: d["kernels"]["pw.nchwc"]["trees"]["leaves"][0].__setitem__(0, 1e308),
     "absurd number"),
    (lambda d: d["kernels"]["pw.nchwc"]["trees"].update(base=float("nan")), "not finite"),
    (lambda d: d["overhead"].update(scale=float("nan")), "impossible"),
    (lambda d: d["overhead"].update(per_node_us=1e300), "impossible"),
])
def test_damaged_fields_are_named(profile, tmp_path, edit, message):
    data = profile.to_dict()
    edit(data)
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data))
    with pytest.raises(MnprofError, match=message):
        load_profile(path)


def test_import_installs_a_profile_of_this_cpu(cache, profile, tmp_path):
    file = save_profile(profile, tmp_path / "shared.json")
    installed = import_profile(file, replace(HERE, threads=4))   # any threads: its own
    assert installed == profile_path(HERE) and find_profile(HERE).device == HERE


def test_import_refuses_a_profile_of_another_cpu(cache, tmp_path):
    file = save_profile(fake_profile(OTHER), tmp_path / "other.json")
    with pytest.raises(MnprofError, match="a profile of Another CPU.*not of this machine.*"
                                          "--device"):
        import_profile(file, HERE)
    assert not profile_path(OTHER).exists()


def test_a_cached_file_of_another_device_is_refused(cache, profile):
    path = save_profile(fake_profile(OTHER), profile_path(HERE))
    with pytest.raises(MnprofError, match="holds a profile of Another CPU"):
        find_profile(HERE)
    assert path.exists()
