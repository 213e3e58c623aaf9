"""Device profiles: the calibrated timing models of one CPU, as a versioned JSON file.

A profile is for one device: CPU model, onnxruntime version, intra-op threads and
precision (fp32). It holds the NCHWc layout onnxruntime uses there, one timing
model per kernel type, the per-node overhead model, and how it was calibrated.
Profiles of this machine live in ``$XDG_CACHE_HOME/mnprof/devices/`` (default
``~/.cache/mnprof``), one file per device, beside the machine ceiling. A profile
file can be given to ``mnprof predict --device FILE`` on any machine (a team
calibrates a target CPU once and predicts for it anywhere); importing one into
this machine's cache requires it to be of this CPU and onnxruntime.

Every problem reading one (not JSON, another schema, a missing or ill-typed field,
trees of inconsistent shapes) is a one-line error naming the file and the field.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..core.contracts import DEVICE_SCHEMA
from ..core.errors import MnprofError
from ..core.files import atomic_write, read_bytes
from ..core.version import __version__
from .fusion import Layout
from .model import Trees

PRECISION = "fp32"
MAX_PROFILE_BYTES = 64 << 20


@dataclass(frozen=True)
class Device:
    """What a profile is valid for."""

    cpu_model: str
    physical_cores: int
    logical_cpus: int
    simd: str
    onnxruntime_version: str
    threads: int
    precision: str = PRECISION
    opt_level: str = "all"

    @property
    def key(self) -> str:
        return (f"{self.cpu_model} | threads={self.threads} | "
                f"onnxruntime={self.onnxruntime_version} | {self.precision}")

    def describe(self) -> str:
        return (f"{self.cpu_model}, {self.threads} thread(s), onnxruntime "
                f"{self.onnxruntime_version}, {self.precision}")

    def same_machine(self, other: Device) -> bool:
        return (self.cpu_model, self.onnxruntime_version, self.precision) == \
            (other.cpu_model, other.onnxruntime_version, other.precision)


def this_device(threads: int, precision: str = PRECISION) -> Device:
    import onnxruntime as ort

    from ..bench.machine import cpu_info
    cpu = cpu_info()
    return Device(cpu.model, cpu.physical_cores, cpu.logical_cpus, cpu.simd, ort.__version__,
                  threads, precision)


@dataclass(frozen=True)
class KernelModel:
    kind: str
    samples: int
    cv_error_pct: float | None          # median |error| of held-out kernels, in %
    trees: Trees | None                 # None: too few samples, a fallback predicts it


@dataclass(frozen=True)
class Overhead:
    """End to end = scale x (sum of kernel times) + per_node_us x nodes + fixed_us."""

    scale: float = 1.0
    per_node_us: float = 0.0
    fixed_us: float = 0.0

    def total_us(self, kernel_sum_us: Any, nodes: Any) -> Any:
        """End to end; never under half the scaled kernel time (a negative per-node
        term, the profiler's own cost, cannot eat a model of many tiny kernels)."""
        t = self.scale * kernel_sum_us + self.per_node_us * nodes + self.fixed_us
        floor = 0.5 * self.scale * kernel_sum_us
        return (t + floor + abs(t - floor)) / 2       # max(t, floor), floats and arrays


@dataclass(frozen=True)
class DeviceProfile:
    device: Device
    layout: Layout
    kernels: dict[str, KernelModel]
    overhead: Overhead
    calibration: dict[str, Any] = field(default_factory=dict)
    path: str = ""                      # the file it was read from ("" if made here)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": DEVICE_SCHEMA, "mnprof_version": __version__,
                "device": asdict(self.device), "layout": asdict(self.layout),
                "overhead": asdict(self.overhead), "calibration": self.calibration,
                "kernels": {k: {"samples": m.samples, "cv_error_pct": m.cv_error_pct,
                                "trees": m.trees.to_dict() if m.trees else None}
                            for k, m in self.kernels.items()}}


def _field(data: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise MnprofError(f"{where}: missing field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise MnprofError(f"{where}: field {key!r} has the wrong type")
    return value


def _checked(trees: Trees) -> Trees:
    """A model whose numbers can be used: feature columns that exist, finite leaves,
    thresholds and coefficients (a hand-edited or damaged profile is refused, never
    turned into infinite or NaN latencies)."""
    import numpy as np

    from .features import FEATURES
    cols = [*trees.features.ravel().tolist(), *trees.linear]
    if cols and (min(cols) < 0 or max(cols) >= len(FEATURES)):
        raise ValueError("a tree or power law names a feature that does not exist")
    numbers = np.concatenate([trees.leaves.ravel(), [trees.base], np.asarray(trees.coef)])
    if not np.isfinite(numbers).all() or np.isnan(trees.thresholds).any():
        raise ValueError("a model holds a number that is not finite")
    if np.abs(numbers).max(initial=0.0) > 1e6:
        raise ValueError("a model holds an absurd number")
    return trees


def profile_from_dict(data: Any, where: str) -> DeviceProfile:
    """A profile from its JSON document; a one-line error naming the field if it is not."""
    if not isinstance(data, dict) or data.get("schema") != DEVICE_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise MnprofError(f"{where}: not a mnprof device profile (schema {found!r}, expected "
                          f"{DEVICE_SCHEMA!r})")
    d = _field(data, "device", dict, where)
    num = (int, float)
    try:
        device = Device(**{k: _field(d, k, (int if k.endswith(("cores", "cpus", "threads"))
                                            else str), f"{where}: device")
                           for k in Device.__dataclass_fields__})
        lay = _field(data, "layout", dict, where)
        layout = Layout(_field(lay, "block", int, f"{where}: layout"),
                        _field(lay, "align", int, f"{where}: layout"))
        o = _field(data, "overhead", dict, where)
        overhead = Overhead(*(float(_field(o, k, num, f"{where}: overhead"))
                              for k in ("scale", "per_node_us", "fixed_us")))
        kernels = {}
        for kind, m in _field(data, "kernels", dict, where).items():
            at = f"{where}: kernels.{kind}"
            trees = _field(m, "trees", (dict, type(None)), at)
            err = _field(m, "cv_error_pct", (int, float, type(None)), at)
            kernels[kind] = KernelModel(kind, _field(m, "samples", int, at),
                                        None if err is None else float(err),
                                        _checked(Trees.from_dict(trees)) if trees else None)
    except (TypeError, ValueError, KeyError, OverflowError, IndexError) as exc:
        raise MnprofError(f"{where}: malformed device profile ({exc})") from None
    if device.threads < 1 or layout.block < 1 or layout.align < 1 or not (
            0.01 < overhead.scale < 100 and abs(overhead.per_node_us) < 1e6
            and abs(overhead.fixed_us) < 1e9):        # nan fails these too
        raise MnprofError(f"{where}: device profile with impossible values")
    calibration = data.get("calibration") if isinstance(data.get("calibration"), dict) else {}
    return DeviceProfile(device, layout, kernels, overhead, calibration, where)


def load_profile(path: str | os.PathLike[str]) -> DeviceProfile:
    raw = read_bytes(path, what="device profile", max_bytes=MAX_PROFILE_BYTES)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise MnprofError(f"{os.fspath(path)}: not a mnprof device profile (not JSON)") \
            from None
    return profile_from_dict(data, os.fspath(path))


def profile_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mnprof" / "devices"


def _slug(device: Device) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", device.cpu_model).strip("-").lower() or "cpu"
    return (f"{text[:60]}-t{device.threads}-ort{device.onnxruntime_version}-"
            f"{device.precision}")


def profile_path(device: Device, suffix: str = ".json") -> Path:
    return profile_dir() / (_slug(device) + suffix)


def save_profile(profile: DeviceProfile, path: str | os.PathLike[str] | None = None) -> Path:
    target = Path(path) if path is not None else profile_path(profile.device)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, json.dumps(profile.to_dict(), separators=(",", ":")).encode())
    return target


def calibrate_command(device: Device) -> str:
    return f"mnprof calibrate --threads {device.threads}"


def find_profile(device: Device) -> DeviceProfile:
    """This device's cached profile; a one-line error with the command to make one."""
    path = profile_path(device)
    if not path.exists():
        raise MnprofError(f"no device profile for {device.describe()}: run "
                          f"`{calibrate_command(device)}` (about 10 minutes) or give one "
                          "with --device FILE")
    profile = load_profile(path)
    if profile.device.key != device.key:
        raise MnprofError(f"{path}: holds a profile of {profile.device.describe()}, not of "
                          f"{device.describe()}: run `{calibrate_command(device)}`")
    return profile


def import_profile(path: str | os.PathLike[str], here: Device) -> Path:
    """Install a profile file into this machine's cache (it must be of this CPU)."""
    profile = load_profile(path)
    if not profile.device.same_machine(here):
        raise MnprofError(f"{os.fspath(path)}: a profile of {profile.device.describe()}, not "
                          f"of this machine ({here.cpu_model}, onnxruntime "
                          f"{here.onnxruntime_version}); predict for that CPU with "
                          f"`mnprof predict --device {os.fspath(path)}`")
    return save_profile(profile)


def resolve_profile(threads: int | None, device_file: str | None) -> tuple[DeviceProfile,
                                                                            Device]:
    """The profile a prediction uses, and this machine's device at those threads.

    ``device_file``: a profile file (of any CPU: predicting for a target device);
    otherwise this machine's cached profile at ``threads`` (default: its physical
    cores), or a one-line error naming the command that makes one.
    """
    from ..bench.machine import default_threads
    if device_file is not None:
        profile = load_profile(device_file)
        if threads is not None and threads != profile.device.threads:
            raise MnprofError(f"{device_file}: a profile for {profile.device.threads} "
                              f"thread(s); --threads {threads} asks for another")
        return profile, this_device(profile.device.threads)
    here = this_device(default_threads() if threads is None else threads)
    return find_profile(here), here
