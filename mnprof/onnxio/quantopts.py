"""The options of an int8 export, without importing anything heavy (the CLI reads them).

Their defaults are onnxruntime's recommended CPU setting for static quantization:
QDQ format, per-channel weights, S8S8 (int8 activations and weights), MinMax
calibration; ``mnprof.onnxio.quantize`` runs the quantizer with them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..core.errors import MnprofError
from ..core.values import check_int

FORMATS = ("qdq", "qoperator")
CALIBRATIONS = ("minmax", "entropy", "percentile")
ACTIVATION_TYPES = ("int8", "uint8")
DEFAULT_SAMPLES = 16
MAX_SAMPLES = 10_000


@dataclass(frozen=True)
class QuantOptions:
    """How a model is quantized: onnxruntime's ``quantize_static`` options that matter."""

    per_channel: bool = True            # one scale per output channel of each weight
    reduce_range: bool = False          # 7-bit weights (avoids u8s8 saturation without VNNI)
    format: str = "qdq"                 # qdq | qoperator
    calibration: str = "minmax"         # minmax | entropy | percentile
    samples: int = DEFAULT_SAMPLES      # synthetic calibration inputs
    activations: str = "int8"           # int8 (S8S8) | uint8 (U8S8); weights are int8

    def __post_init__(self) -> None:
        for name, value, allowed in (("quantization format", self.format, FORMATS),
                                     ("calibration method", self.calibration, CALIBRATIONS),
                                     ("activation type", self.activations, ACTIVATION_TYPES)):
            if value not in allowed:
                raise MnprofError(f"{name} must be one of {', '.join(allowed)}, "
                                  f"got {value!r:.40}")
        check_int("calibration samples", self.samples, 1, MAX_SAMPLES)

    @property
    def scheme(self) -> str:
        return "S8S8" if self.activations == "int8" else "U8S8"

    def describe(self) -> str:
        """One line: ``QDQ, per-channel, S8S8, minmax calibration on 16 synthetic inputs``."""
        return (f"{self.format.upper() if self.format == 'qdq' else 'QOperator'}, "
                f"{'per-channel' if self.per_channel else 'per-tensor'} weights, "
                f"{self.scheme}{', reduced range' if self.reduce_range else ''}, "
                f"{self.calibration} calibration on {self.samples} synthetic input"
                f"{'s' if self.samples != 1 else ''}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "weights": "int8", "scheme": self.scheme}
